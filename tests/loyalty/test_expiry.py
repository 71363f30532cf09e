"""Expiry: points older than the program's expiry go first-in-first-out, lot by lot."""
from datetime import datetime, timedelta, timezone

import pytest

from portal.extensions import db
from portal.loyalty.ledger import accrue_order, expire_points, find_member_by_phone, redeem
from portal.models import DeliveryOrder, User
from portal.tenancy import tenant
from tests.loyalty.helpers import add_order, check, ledger, make_program, member, owner_rows

START = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
PHONE = "+966551234567"


def _earn(app, shop, total, at):
    order_id = add_order(app, shop.company, shop.integration, total=total, status="DELIVERED")
    with app.app_context(), tenant(shop.company.id):
        accrue_order(db.session.get(DeliveryOrder, order_id), now=at)
        db.session.commit()
    return order_id


def _expire(app, shop, at):
    with app.app_context(), tenant(shop.company.id):
        return expire_points(now=at)


def test_fifo_expiry_across_several_earn_batches(app, shop, owner_conninfo):
    make_program(app, shop.company, expiration_days=30, min_redemption_points=10,
                 max_redemption_percentage=100)
    _earn(app, shop, "100", START)                              # lot 1: 100, expires day 30
    _earn(app, shop, "50", START + timedelta(days=10))          # lot 2: 50, expires day 40
    _earn(app, shop, "70", START + timedelta(days=20))          # lot 3: 70, expires day 50
    spend_on = add_order(app, shop.company, shop.integration, total="1000", status="ACCEPTED")
    with app.app_context(), tenant(shop.company.id):
        user = db.session.get(User, shop.company.user_id("USER"))
        redeem(spend_on, find_member_by_phone(PHONE).id, 120, user,
               now=START + timedelta(days=25))      # uses all of lot 1 and 20 of lot 2
    assert [row[2] for row in ledger(owner_conninfo) if row[0] == "EARN"] == [0, 30, 70]

    assert _expire(app, shop, START + timedelta(days=29)) == 0
    assert _expire(app, shop, START + timedelta(days=30, minutes=1)) == 0   # lot 1 was spent: nothing left
    assert _expire(app, shop, START + timedelta(days=40, minutes=1)) == 30  # what is left of lot 2
    assert member(owner_conninfo)[0] == 70
    assert _expire(app, shop, START + timedelta(days=40, minutes=2)) == 0   # and only once
    assert _expire(app, shop, START + timedelta(days=60)) == 70
    assert member(owner_conninfo)[:3] == (0, 220, 120)
    assert [row[:2] for row in ledger(owner_conninfo)] == [
        ("EARN", 100), ("EARN", 50), ("EARN", 70), ("REDEEM", -120), ("EXPIRE", -30), ("EXPIRE", -70)]
    assert check(app, shop.company).ok


def test_points_without_expiry_never_expire(app, shop, owner_conninfo):
    make_program(app, shop.company, expiration_days=None)
    _earn(app, shop, "100", START)
    assert _expire(app, shop, START + timedelta(days=5000)) == 0
    assert member(owner_conninfo)[0] == 100


def test_expiry_job_runs_every_company_in_its_own_tenant(app, shop, other_shop, owner_conninfo):
    """The periodic sweep defers one job per company; each job sees only its company's points."""
    from portal.loyalty.jobs import companies_to_sweep, expire_company_points, sweep
    make_program(app, shop.company, expiration_days=30)
    make_program(app, other_shop.company, expiration_days=30)
    _earn(app, shop, "100", START)
    kuwait_order = add_order(app, other_shop.company, other_shop.integration, phone="+96555123456", total="10",
                             status="DELIVERED", currency="KWD")
    with app.app_context(), tenant(other_shop.company.id):
        accrue_order(db.session.get(DeliveryOrder, kuwait_order), now=START)
        db.session.commit()

    later = START + timedelta(days=31)
    with app.app_context():
        assert set(companies_to_sweep(later)) == {shop.company.id, other_shop.company.id}
        assert expire_company_points(shop.company.id, now=later) == 100
    assert member(owner_conninfo)[0] == 0
    assert member(owner_conninfo, "+96555123456")[0] == 10  # the other company's points are untouched
    with app.app_context():
        assert companies_to_sweep(later) == [other_shop.company.id]
        assert sweep(later) == 1
    jobs = owner_rows(owner_conninfo, "SELECT task_name, queue_name, args FROM procrastinate_jobs")
    assert [(task, queue, args["company_id"]) for task, queue, args in jobs] == [
        ("expire_loyalty_points", "scheduled", str(other_shop.company.id))]
    # The look across companies goes through the narrow scheduler role, not the audited super-admin path.
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM audit_logs WHERE operation = 'CROSS_TENANT_ACCESS'"
                                      " AND new_values ->> 'reason' = 'loyalty expiry and tier sweep'") == [(0,)]


def test_the_loyalty_look_across_companies_reads_only_the_columns_it_needs(app, shop, owner_conninfo):
    import psycopg
    make_program(app, shop.company, expiration_days=30)
    _earn(app, shop, "100", START)
    with psycopg.connect(owner_conninfo) as connection:
        connection.execute("SET ROLE portal_scheduler")
        assert connection.execute("SELECT count(*) FROM loyalty_transactions WHERE remaining_points > 0").fetchone() == (1,)
        for column, table in (("points", "loyalty_transactions"), ("customer_loyalty_id", "loyalty_transactions"),
                              ("name", "loyalty_programs"), ("name", "loyalty_tiers")):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute(f"SELECT {column} FROM {table}")
            connection.rollback()
            connection.execute("SET ROLE portal_scheduler")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("SELECT * FROM customer_loyalty")


def test_the_worker_tasks_run_the_sweep_and_the_company_job(app, shop, owner_conninfo):
    """The procrastinate tasks as the worker calls them: the periodic one gets a timestamp."""
    from portal.queue import job_app
    from portal.tasks import expire_loyalty_points_task, loyalty_sweep_task
    make_program(app, shop.company, expiration_days=30)
    _earn(app, shop, "100", START)
    later = START + timedelta(days=31)
    with app.app_context():
        loyalty_sweep_task(int(later.timestamp()))
        (args,), = owner_rows(owner_conninfo, "SELECT args FROM procrastinate_jobs WHERE task_name = 'expire_loyalty_points'")
        expire_loyalty_points_task(**args)
    assert member(owner_conninfo)[0] == 0
    schedule = {(periodic.task.name, periodic.task.queue, periodic.cron)
                for periodic in job_app.periodic_registry.periodic_tasks.values()}
    assert ("loyalty_sweep", "scheduled", "7 * * * *") in schedule  # hourly, on the scheduled queue
