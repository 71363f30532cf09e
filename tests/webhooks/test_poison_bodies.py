"""Bodies the platforms should never send, but may: stored exactly, answered 4xx with the reason, never 500.

A 500 makes a platform retry the same body forever; a 4xx tells it the body itself is wrong.
"""
import psycopg
import pytest

from tests.integration_fixtures import load_payload


def _rows(conninfo, sql, params=()):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchall()


def _stored(conninfo):
    return [(outcome, bytes(raw)) for outcome, raw in _rows(conninfo, "SELECT outcome, raw_body FROM webhook_logs")]


def generic_order(**changes):
    """A valid order.created body of the generic format (NASHMI), with `changes` merged into `order`."""
    order = {"id": "ord-1", "number": "1001", "status": "new", "type": "delivery", "currency": "SAR",
             "customer": {"name": "Sara", "phone": "+966501234567"},
             "delivery": {"address": "Olaya St 1", "notes": "Ring twice"},
             "items": [{"id": "p1", "name": "Shawarma", "quantity": 2, "unit_price": "10.00", "total": "20.00"}],
             "totals": {"subtotal": "20.00", "total": "20.00"}}
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(order.get(key), dict):
            order[key] = {**order[key], **value}
        else:
            order[key] = value
    return {"event": "order.created", "event_id": "evt-1", "occurred_at": "2026-01-01T10:00:00Z", "order": order}


POISON = {
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "nesting just past the limit": b'{"a": ' + b"[" * 200 + b"]" * 200 + b"}",
    "a number beyond float": b'{"event": "order.created", "total": 1e400}',
    "NaN": b'{"event": "order.created", "total": NaN}',
    "Infinity": b'{"total": -Infinity}',
    "NUL bytes": b'\x00{"event": "order.created"}\x00',
    "invalid UTF-8": b'{"event": "order.created", "name": "\xff\xfe"}',
    "too many digits": b'{"total": ' + b"9" * 5000 + b"}",
}


@pytest.mark.parametrize("platform", ["NASHMI", "CAREEM", "TALABAT"])
@pytest.mark.parametrize("name", list(POISON))
def test_a_poison_body_is_stored_exactly_and_refused_with_the_reason(webhooks, make_integration, alpha,
                                                                     owner_conninfo, platform, name):
    integration_id = make_integration(alpha, platform)
    body = POISON[name]
    response = webhooks.send(platform, integration_id, body, path="order/vendor-1")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]
    (log,) = _rows(owner_conninfo, "SELECT outcome, status_code, error_message, payload, raw_body FROM webhook_logs")
    assert log[0:2] == ("INVALID", 400) and log[2]
    assert log[3] is None and bytes(log[4]) == body  # kept byte for byte, not as (lossy) JSONB
    assert _rows(owner_conninfo, "SELECT count(*) FROM delivery_orders") == [(0,)]


@pytest.mark.parametrize("name", ["deep nesting", "a number beyond float", "NUL bytes"])
def test_an_unsigned_poison_body_is_stored_and_refused_not_500(webhooks, make_integration, alpha, owner_conninfo,
                                                               name):
    integration_id = make_integration(alpha, "NASHMI")
    assert webhooks.send("NASHMI", integration_id, POISON[name], sign=False).status_code == 401
    assert _stored(owner_conninfo) == [("UNAUTHORIZED", POISON[name])]


def test_a_poison_body_for_no_integration_is_stored_too(client, owner_conninfo):
    import uuid
    body = POISON["a number beyond float"]
    assert client.post(f"/webhooks/nashmi/{uuid.uuid4()}", data=body).status_code == 404
    assert _stored(owner_conninfo) == [("UNKNOWN_INTEGRATION", body)]


def test_nul_and_lone_surrogates_in_strings_are_cleaned_and_the_order_kept(webhooks, make_integration, alpha,
                                                                           owner_conninfo):
    """JSONB and text columns cannot hold \\u0000 or a lone surrogate; the order is kept without them."""
    integration_id = make_integration(alpha, "NASHMI")
    body = (b'{"event": "order.created", "event_id": "evt-1", "order": {"id": "ord-1", "currency": "SAR",'
            b' "customer": {"name": "Sa\\u0000ra \\ud800"}, "items": [{"name": "Tea", "quantity": 1,'
            b' "unit_price": "5.00"}], "totals": {"total": "5.00"}}}')
    response = webhooks.send("NASHMI", integration_id, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _rows(owner_conninfo, "SELECT customer_name FROM delivery_orders") == [("Sara \ufffd",)]
    (log,) = _rows(owner_conninfo, "SELECT outcome, payload -> 'order' -> 'customer' ->> 'name', raw_body"
                                   " FROM webhook_logs")
    assert log[0] == "PROCESSED" and log[1] == "Sara \ufffd" and bytes(log[2]) == body


def test_the_generic_order_of_these_tests_is_accepted(webhooks, make_integration, alpha, owner_conninfo):
    integration_id = make_integration(alpha, "NASHMI")
    assert webhooks.send("NASHMI", integration_id, generic_order()).status_code == 200
    assert _rows(owner_conninfo, "SELECT total_amount FROM delivery_orders") == [(20,)]


@pytest.mark.parametrize("amount", ["1e999999", "9" * 40, "1E+30", "-1e999999"])
def test_amounts_beyond_the_decimal_context_are_422_not_500(webhooks, make_integration, alpha, owner_conninfo,
                                                            amount):
    integration_id = make_integration(alpha, "NASHMI")
    response = webhooks.send("NASHMI", integration_id, generic_order(totals={"total": amount}))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "order.totals.total" in response.get_json()["error"]
    assert _rows(owner_conninfo, "SELECT outcome, status_code FROM webhook_logs") == [("INVALID", 422)]


@pytest.mark.parametrize("count", ["1e999999999", 1e30, 10 ** 40])
def test_quantities_beyond_reason_are_422_not_500(webhooks, make_integration, alpha, owner_conninfo, count):
    integration_id = make_integration(alpha, "NASHMI")
    items = [{"id": "p1", "name": "Shawarma", "quantity": count, "unit_price": "10.00", "total": "20.00"}]
    response = webhooks.send("NASHMI", integration_id, generic_order(items=items))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "order.items[0].quantity" in response.get_json()["error"]


def test_a_nul_in_a_header_or_path_does_not_break_storage(webhooks, make_integration, alpha, owner_conninfo):
    integration_id = make_integration(alpha, "CAREEM")
    response = webhooks.send("CAREEM", integration_id, load_payload("careem-order-created-example.json"),
                             path="a%00b", headers={"X-Trace": "a\x01b"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _rows(owner_conninfo, "SELECT request_path FROM webhook_logs") == [("ab",)]


def test_a_careem_poison_amount_is_422(webhooks, make_integration, alpha, owner_conninfo):
    integration_id = make_integration(alpha, "CAREEM")
    body = load_payload("careem-order-created-example.json")
    body["details"]["price"]["original_total_price"] = "9" * 40
    response = webhooks.send("CAREEM", integration_id, body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert _rows(owner_conninfo, "SELECT outcome FROM webhook_logs") == [("INVALID",)]


def test_an_unexpected_failure_while_reading_is_422_and_never_left_received(webhooks, make_integration, alpha,
                                                                            owner_conninfo, monkeypatch):
    from portal.platforms.generic import GenericAdapter

    def broken(self, payload, context):
        raise ArithmeticError("an adapter tripped over this body")

    monkeypatch.setattr(GenericAdapter, "parse_webhook", broken)
    integration_id = make_integration(alpha, "NASHMI")
    response = webhooks.send("NASHMI", integration_id, generic_order())
    assert response.status_code == 422
    (log,) = _rows(owner_conninfo, "SELECT outcome, error_message FROM webhook_logs")
    assert log[0] == "INVALID" and "ArithmeticError" in log[1]


def test_the_log_shows_a_poison_body_as_received_and_replay_reads_it_again(auth, client, webhooks, make_integration,
                                                                           alpha, owner_conninfo):
    integration_id = make_integration(alpha, "NASHMI")
    webhooks.send("NASHMI", integration_id, b'{"total": 1e400, "name": "<b>\xff</b>"}')
    (log_id,), = _rows(owner_conninfo, "SELECT id FROM webhook_logs")
    auth.login(alpha.email("COMPANY_ADMIN"))
    page = f"/webhooks/log/{log_id}"
    html = client.get(page).get_data(as_text=True)
    assert "1e400" in html and "&lt;b&gt;\\xff&lt;/b&gt;" in html and "shown exactly as received" in html
    assert auth.post(f"{page}/replay", page=page, follow_redirects=True).status_code == 200
    assert _rows(owner_conninfo, "SELECT outcome, status_code FROM webhook_logs") == [("INVALID", 400)]
