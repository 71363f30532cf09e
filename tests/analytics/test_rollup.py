"""The daily rollup: kept current from dirty days only, equal to the live aggregation, per tenant."""
import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from portal.analytics.forms import ReportRange
from portal.analytics.rollup import pending_days, refresh_all, refresh_company
from portal.extensions import db
from portal.models import AnalyticsDaily, DeliveryOrder
from portal.tenancy import tenant
from tests.analytics.helpers import add_integration, add_order, item
from tests.analytics.test_figures import report_for

ROLLUPS = {
    "analytics_daily": ("analytics_daily_live", "day, platform"),
    "analytics_daily_items": ("analytics_items_live", "day, platform, kind, name"),
    "analytics_daily_customers": ("analytics_customers_live", "day, platform, customer_key"),
}


def rollup_and_live(app, company_id, days):
    """(rolled-up rows, live rows) of every rollup table over `days`, refreshed_at left out."""
    result = {}
    with app.app_context(), tenant(company_id):
        for table, (function, key) in ROLLUPS.items():
            columns = "*" if table != "analytics_daily" else "day, platform, orders, sold_orders, accepted_orders, " \
                "rejected_orders, cancelled_orders, delivered_orders, gross_sales, revenue, platform_discount, " \
                "vendor_discount, third_party_discount, other_discount, delivery_fees, service_fees, tax, tips, " \
                "commission, accept_seconds, ready_seconds, hourly_orders, mismatched_orders"
            rolled = db.session.execute(text(f"SELECT {columns} FROM {table} WHERE company_id = :c"
                                             f" AND day = ANY(CAST(:d AS date[])) ORDER BY {key}"),
                                        {"c": company_id, "d": days}).all()
            live = db.session.execute(text(f"SELECT {columns} FROM {function}(:c, CAST(:d AS date[])) ORDER BY {key}"),
                                      {"c": company_id, "d": days}).all()
            result[table] = (rolled, live)
        db.session.rollback()
    return result


def random_orders(app, company_id, integrations, rng, count, today_utc):
    phones = [f"+9665000001{n:02d}" for n in range(25)] + [None]
    ids = []
    for _ in range(count):
        created = today_utc - timedelta(days=rng.randint(0, 20), minutes=rng.randint(0, 1439))
        status = rng.choice(["DELIVERED"] * 6 + ["CANCELLED", "REJECTED", "ACCEPTED", "PENDING"])
        lines = [item(rng.choice(["Burger", "Fries", "Kabsa", "Tea"]), rng.randint(1, 3),
                      Decimal(rng.randint(500, 5000)) / 100, [("Cheese", "1.50")] if rng.random() < .3 else [])
                 for _ in range(rng.randint(1, 3))]
        subtotal = sum(Decimal(line["line_total"]) for line in lines) + (Decimal(1) if rng.random() < .1 else 0)
        discount = Decimal(rng.choice([0, 0, 0, 2, 5]))
        ids.append(add_order(
            app, company_id, rng.choice(integrations), created, status=status, subtotal=subtotal,
            vendor_discount=discount, delivery_fee=Decimal(rng.choice([0, 7])), total=subtotal - discount,
            commission_amount=None if rng.random() < .3 else (subtotal * Decimal("0.18")).quantize(Decimal("0.01")),
            accepted_after=rng.randint(5, 600) if status not in ("PENDING", "REJECTED") else None,
            ready_after=rng.randint(300, 2400) if status == "DELIVERED" else None,
            phone=rng.choice(phones), items=lines, is_test=rng.random() < .05))
    return ids


def test_rollup_equals_the_live_query_after_random_changes(app, make_company):
    rng = random.Random(7)
    company = make_company("Random Kitchen", timezone="Asia/Dubai")
    integrations = [add_integration(app, company.id, "TALABAT", "18"), add_integration(app, company.id, "CAREEM", "15")]
    now = datetime.now(timezone.utc)
    today = now.astimezone(ZoneInfo("Asia/Dubai")).date()
    ids = random_orders(app, company.id, integrations, rng, 150, now)
    days = [today - timedelta(days=n) for n in range(23)]
    ranges = [ReportRange(today - timedelta(days=6), today, today), ReportRange(today - timedelta(days=20), today, today),
              ReportRange(today - timedelta(days=9), today - timedelta(days=3), today, platform="CAREEM")]

    with app.app_context():
        refresh_company(company.id)
    assert pending_days_of(app, company.id) <= {today}  # today is never rolled up: it is always read live

    # Changes of every kind, through the app under the tenant (the trigger marks their days).
    with app.app_context(), tenant(company.id):
        orders = db.session.scalars(select(DeliveryOrder).where(DeliveryOrder.id.in_(rng.sample(ids, 60)))).all()
        for order in orders[:15]:
            order.status, order.cancelled_at = "CANCELLED", now
        for order in orders[15:25]:
            order.total_amount += Decimal("3.25")
            order.commission_amount = None
        for order in orders[25:32]:
            order.created_at -= timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 12))  # moves to another day
        for order in orders[32:38]:
            order.is_test = not order.is_test
        for order in orders[38:44]:
            order.customer_phone = "+966500000999"
            order.order_items = [item("Shawarma", 2, "30.00")]
        for order in orders[44:50]:
            db.session.delete(order)
        for order in orders[50:]:
            order.last_push_status = "SUCCEEDED"  # not a figure: marks nothing
        db.session.commit()
    random_orders(app, company.id, integrations, rng, 40, now)

    before = [report_for(app, company.id, r) for r in ranges]  # dirty days read live
    with app.app_context():
        assert refresh_company(company.id) > 0
    after = [report_for(app, company.id, r) for r in ranges]  # the same days from the rollup
    for live, rolled in zip(before, after, strict=True):
        assert [(f.key, f.value, f.previous) for f in live.figures] == [(f.key, f.value, f.previous) for f in rolled.figures]
        assert {name: (t.rows, t.footer) for name, t in live.tables.items()} == {
            name: (t.rows, t.footer) for name, t in rolled.tables.items()}
        assert live.heatmap == rolled.heatmap and live.money_current == rolled.money_current
    past = [day for day in days if day != today]
    for table, (rolled, live) in rollup_and_live(app, company.id, past).items():
        assert rolled == live, table
        assert rolled, table


def pending_days_of(app, company_id):
    with app.app_context():
        return set(pending_days(company_id))


def test_only_changed_days_are_rolled_up_again(app, make_company):
    company = make_company("Quiet Kitchen")
    talabat = add_integration(app, company.id, "TALABAT", "18")
    riyadh = ZoneInfo("Asia/Riyadh")
    today = datetime.now(riyadh).date()
    at = lambda days_ago, hour: datetime.combine(today - timedelta(days=days_ago), datetime.min.time(), riyadh) + \
        timedelta(hours=hour)  # noqa: E731
    first = add_order(app, company.id, talabat, at(5, 12), subtotal="10.00")
    add_order(app, company.id, talabat, at(3, 12), subtotal="20.00")
    add_order(app, company.id, talabat, at(0, 0), subtotal="30.00")
    assert pending_days_of(app, company.id) == {today - timedelta(days=5), today - timedelta(days=3), today}
    with app.app_context():
        assert refresh_company(company.id) == 2
        assert refresh_company(company.id) == 0  # nothing changed: nothing re-read
    with app.app_context(), tenant(company.id):
        stamps = dict(db.session.execute(select(AnalyticsDaily.day, AnalyticsDaily.refreshed_at)).all())
        db.session.get(DeliveryOrder, first).status = "CANCELLED"
        db.session.commit()
    assert pending_days_of(app, company.id) == {today - timedelta(days=5), today}
    with app.app_context():
        assert refresh_company(company.id) == 1
    with app.app_context(), tenant(company.id):
        rows = {row.day: row for row in db.session.scalars(select(AnalyticsDaily))}
        assert rows[today - timedelta(days=3)].refreshed_at == stamps[today - timedelta(days=3)]  # untouched
        assert rows[today - timedelta(days=5)].refreshed_at > stamps[today - timedelta(days=5)]
        assert (rows[today - timedelta(days=5)].cancelled_orders, rows[today - timedelta(days=5)].revenue) == (1, 0)
        assert today not in rows
        db.session.rollback()


def test_the_periodic_job_rolls_up_every_company_under_its_own_tenant(app, two_companies):
    alpha, beta = two_companies
    for company, currency in ((alpha, "SAR"), (beta, "KWD")):
        integration = add_integration(app, company.id, "TALABAT", "18")
        add_order(app, company.id, integration, datetime(2025, 3, 1, 12, tzinfo=timezone.utc), subtotal="5.000",
                  currency=currency, commission_amount="0.900")
    with app.app_context():
        done = refresh_all()
        assert done == {alpha.id: 1, beta.id: 1}
        assert refresh_all() == {}
        from portal.queue import job_app
        assert "refresh_analytics" in job_app.tasks
        periodic = job_app.periodic_registry.periodic_tasks[("refresh_analytics", "analytics_rollup")]
        assert periodic.cron == "* * * * *" and periodic.task.queue == "scheduled"
    with app.app_context(), tenant(alpha.id):
        days = db.session.execute(text("SELECT company_id, day FROM analytics_daily")).all()
        assert days == [(alpha.id, date(2025, 3, 1))]  # beta's row is there, and invisible
        db.session.rollback()


def test_a_tenant_cannot_roll_up_or_read_another_companys_days(app, two_companies, owner_conninfo):
    import psycopg
    alpha, beta = two_companies
    integration = add_integration(app, beta.id, "TALABAT", "18")
    add_order(app, beta.id, integration, datetime(2025, 3, 1, 12, tzinfo=timezone.utc), subtotal="5.000",
              currency="KWD")
    with app.app_context(), tenant(alpha.id):
        assert db.session.scalar(text("SELECT analytics_refresh_company(:c)"), {"c": beta.id}) == 0
        assert db.session.execute(text("SELECT * FROM analytics_daily_live(:c, ARRAY[DATE '2025-03-01'])"),
                                  {"c": beta.id}).all() == []
        db.session.commit()
    with psycopg.connect(owner_conninfo) as connection:
        assert connection.execute("SELECT count(*) FROM analytics_dirty_days WHERE company_id = %s",
                                  (beta.id,)).fetchone() == (1,)
        assert connection.execute("SELECT count(*) FROM analytics_daily").fetchone() == (0,)
