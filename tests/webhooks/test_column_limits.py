"""A signed order is only acknowledged when the database takes it: lengths and ranges are checked
against the model's columns before the answer, and a webhook the portal stopped on is retried."""
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from portal.extensions import db
from portal.models import DeliveryOrder
from portal.platforms import parsing
from portal.queue import run_worker
from portal.webhooks import services
from tests.webhooks.test_poison_bodies import generic_order


def _rows(conninfo, sql, params=()):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchall()


@pytest.fixture
def nashmi(make_integration, alpha):
    return make_integration(alpha, "NASHMI")


def test_the_limits_come_from_the_model():
    money = DeliveryOrder.__table__.columns["total_amount"].type
    assert 10 ** (money.precision - money.scale) == parsing.MONEY_LIMIT


def test_an_overlong_customer_name_is_cut_and_said_on_the_order(webhooks, nashmi, owner_conninfo):
    limit = DeliveryOrder.__table__.columns["customer_name"].type.length
    response = webhooks.send("NASHMI", nashmi, generic_order(customer={"name": "N" * (limit + 50)}))
    assert response.status_code == 200, response.get_data(as_text=True)
    (name,), = _rows(owner_conninfo, "SELECT customer_name FROM delivery_orders")
    assert len(name) == limit and name.endswith("…")
    (reason,), = _rows(owner_conninfo, "SELECT reason FROM order_status_history")
    assert f"customer name cut to {limit} characters" in reason
    assert _rows(owner_conninfo, "SELECT outcome, error_message FROM webhook_logs") == [
        ("PROCESSED", f"customer name cut to {limit} characters")]


def test_an_overlong_email_is_left_out_and_item_names_cut(webhooks, nashmi, owner_conninfo):
    items = [{"id": "p1", "name": "Tea " * 100, "quantity": 1, "unit_price": "5.00"}]
    body = generic_order(customer={"email": "a" * 300 + "@example.com"}, items=items,
                         totals={"subtotal": "5.00", "total": "5.00"})
    assert webhooks.send("NASHMI", nashmi, body).status_code == 200
    (email, order_items), = _rows(owner_conninfo, "SELECT customer_email, order_items FROM delivery_orders")
    assert email is None and len(order_items[0]["name"]) == parsing.ITEM_NAME_LENGTH


@pytest.mark.parametrize("field, value, where", [
    ("totals", {"total": "1000000000.00"}, "total_amount"),
    ("totals", {"delivery_fee": "-1000000000", "total": "20.00"}, "order.totals.delivery_fee"),
    ("items", [{"name": "Gold", "quantity": 1, "unit_price": "999999999.99", "total": "1999999999.98"}],
     "items[0].line_total"),
    ("discounts", [{"name": "A", "amount": "600000000"}, {"name": "B", "amount": "600000000"}], "discounts"),
])
def test_amounts_beyond_the_money_columns_are_422_before_the_answer(webhooks, nashmi, owner_conninfo,
                                                                    field, value, where):
    response = webhooks.send("NASHMI", nashmi, generic_order(**{field: value}))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert where in response.get_json()["error"]
    assert _rows(owner_conninfo, "SELECT outcome, status_code FROM webhook_logs") == [("INVALID", 422)]
    assert _rows(owner_conninfo, "SELECT count(*) FROM delivery_orders") == [(0,)]


def test_an_overlong_order_id_is_422_not_cut(webhooks, nashmi, owner_conninfo):
    response = webhooks.send("NASHMI", nashmi, generic_order(id="x" * 150))
    assert response.status_code == 422
    assert "platform_order_id" in response.get_json()["error"]
    status = {"event": "order.status_changed", "event_id": "evt-2", "order": {"id": "y" * 150, "status": "cancelled"}}
    assert webhooks.send("NASHMI", nashmi, status).status_code == 422
    assert _rows(owner_conninfo, "SELECT count(*) FROM delivery_orders") == [(0,)]


def _crash_while_processing(webhooks, integration_id, monkeypatch, body):
    def crash(*args, **kwargs):
        raise SystemExit("the portal stopped")

    with monkeypatch.context() as patch:
        patch.setattr(services, "process_log", crash)
        with pytest.raises(SystemExit):
            webhooks.send("NASHMI", integration_id, body)


def test_a_webhook_left_received_by_a_crash_is_retried_by_the_worker(app, webhooks, nashmi, owner_conninfo,
                                                                     monkeypatch, make_integration, alpha):
    _crash_while_processing(webhooks, nashmi, monkeypatch, generic_order())
    assert _rows(owner_conninfo, "SELECT outcome FROM webhook_logs") == [("RECEIVED",)]
    with app.app_context():
        assert services.recover_unfinished_webhooks() == 0  # still young: maybe still being processed
    with psycopg.connect(owner_conninfo, autocommit=True) as connection:
        connection.execute("UPDATE webhook_logs SET created_at = now() - interval '10 minutes'")
    # An unsigned body is stored UNAUTHORIZED from the start, never RECEIVED: nothing to recover there.
    webhooks.send("NASHMI", nashmi, generic_order(id="ord-2"), sign=False)
    with app.app_context():
        assert services.recover_unfinished_webhooks() == 1
        assert services.recover_unfinished_webhooks() == 0  # handed over once
        db.session.remove()
    run_worker(app, concurrency=1, wait=False)
    assert sorted(_rows(owner_conninfo, "SELECT outcome, retry_count FROM webhook_logs")) == [
        ("PROCESSED", 1), ("UNAUTHORIZED", 0)]
    assert _rows(owner_conninfo, "SELECT platform_order_id FROM delivery_orders") == [("ord-1",)]


def test_the_periodic_task_recovers_every_company(app, webhooks, make_integration, two_companies, owner_conninfo,
                                                 monkeypatch):
    from portal.tasks import recover_webhooks_task

    for company in two_companies:
        _crash_while_processing(webhooks, make_integration(company, "NASHMI"), monkeypatch, generic_order())
    later = datetime.now(UTC) + timedelta(minutes=10)
    with app.app_context():
        recover_webhooks_task(later.timestamp())
    assert _rows(owner_conninfo, "SELECT outcome FROM webhook_logs") == [("FAILED",), ("FAILED",)]
    jobs = _rows(owner_conninfo, "SELECT args ->> 'company_id' FROM procrastinate_jobs"
                                 " WHERE task_name = 'retry_webhook'")
    assert sorted(job[0] for job in jobs) == sorted(str(company.id) for company in two_companies)
