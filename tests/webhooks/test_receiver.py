"""POST /webhooks/<platform>/<integration_id>: stored first, verified, idempotent, tenant-safe."""
import json
import threading
import time
import uuid
from decimal import Decimal

import jwt
import psycopg
import pytest

from tests.integration_fixtures import load_payload


def _rows(conninfo, sql, params=()):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchall()


def test_talabat_order_is_stored_and_answered(webhooks, make_integration, alpha, owner_conninfo):
    integration_id = make_integration(alpha, "TALABAT")
    response = webhooks.send("TALABAT", integration_id, load_payload("talabat-order-example.json"),
                             path="order/vendor-1")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"remoteResponse": {"remoteOrderId": "n0s1-w0k1"}}
    (order,) = _rows(owner_conninfo, "SELECT company_id, status, total_amount, commission_amount, short_code, "
                                     "order_type, platform_token, vendor_discount FROM delivery_orders")
    assert order[0] == alpha.id
    assert order[1] == "PENDING"
    assert order[2] == Decimal("25.500")
    assert order[3] == Decimal("5.100")  # 20 % of 25.50
    assert order[4:7] == ("42", "PICKUP", "5f373562-591a-4db9-8609-7eec7880f28d")
    assert order[7] == Decimal("1.000")
    (log,) = _rows(owner_conninfo, "SELECT outcome, status_code, headers, payload ->> 'code', ip_address, "
                                   "latency_ms, order_id IS NOT NULL FROM webhook_logs")
    assert log[0:2] == ("PROCESSED", 200)
    assert log[2]["Authorization"].startswith("[redacted")
    assert log[3] == "n0s1-w0k1" and log[4] is not None and log[5] >= 0 and log[6]


def test_a_discount_without_a_payer_is_stored_as_payer_not_given(webhooks, make_integration, alpha,
                                                                  owner_conninfo):
    integration_id = make_integration(alpha, "TALABAT")
    payload = load_payload("talabat-order-example.json")
    payload["discounts"] = [{"name": "Weekend", "amount": "5.00",
                             "sponsorships": [{"sponsor": "VENDOR", "amount": "2.00"}]}]
    assert webhooks.send("TALABAT", integration_id, payload, path="order/vendor-1").status_code == 200
    rows = _rows(owner_conninfo, "SELECT discount_amount, platform_discount, vendor_discount, third_party_discount "
                                 "FROM delivery_orders")
    # 3.00 of the 5.00 has no sponsor: in the total, in none of the payers' columns ("payer not given").
    assert rows == [(Decimal("5.000"), Decimal("0.000"), Decimal("2.000"), Decimal("0.000"))]


def test_careem_created_then_status_updates_never_go_backwards(webhooks, make_integration, alpha, owner_conninfo):
    integration_id = make_integration(alpha, "CAREEM")
    created = load_payload("careem-order-created-example.json")
    assert webhooks.send("CAREEM", integration_id, created).status_code == 200
    order_id = created["details"]["id"]

    def status_event(status, updated_at):
        event = load_payload("careem-order-status-updated-example.json")
        event["details"].update(id=order_id, status=status, updated_at=updated_at)
        return event

    assert webhooks.send("CAREEM", integration_id, status_event("trip_ended", "2024-07-25T15:40:00Z")).status_code == 200
    # A late "accepted" arrives after "delivered": acknowledged, but the order does not move back.
    assert webhooks.send("CAREEM", integration_id, status_event("accepted", "2024-07-25T15:00:00Z")).status_code == 200
    assert _rows(owner_conninfo, "SELECT status, total_amount FROM delivery_orders") == [("DELIVERED", Decimal("77.800"))]
    outcomes = [row[0] for row in _rows(owner_conninfo, "SELECT outcome FROM webhook_logs ORDER BY created_at")]
    assert outcomes == ["PROCESSED", "PROCESSED", "IGNORED"]
    history = [row[0] for row in _rows(owner_conninfo, "SELECT to_status FROM order_status_history "
                                                       "ORDER BY created_at")]
    assert history == ["PENDING", "DELIVERED"]


@pytest.mark.parametrize("tamper", ["missing", "wrong_secret", "stale", "wrong_claim"])
def test_bad_signatures_are_refused_and_logged(webhooks, make_integration, alpha, owner_conninfo, tamper):
    integration_id = make_integration(alpha, "TALABAT")
    body = json.dumps(load_payload("talabat-order-example.json")).encode()
    if tamper == "missing":
        response = webhooks.send("TALABAT", integration_id, body, sign=False)
    elif tamper == "wrong_secret":
        response = webhooks.send("TALABAT", integration_id, body, secret="not-the-secret")
    elif tamper == "stale":
        token = jwt.encode({"service": "middleware", "exp": int(time.time()) - 3600}, "webhook-secret-123",
                           algorithm="HS512")
        response = webhooks.send("TALABAT", integration_id, body, sign=False,
                                 headers={"Authorization": f"Bearer {token}"})
    else:
        token = jwt.encode({"service": "pos", "exp": int(time.time()) + 60}, "webhook-secret-123",
                           algorithm="HS512")
        response = webhooks.send("TALABAT", integration_id, body, sign=False,
                                 headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert _rows(owner_conninfo, "SELECT count(*) FROM delivery_orders") == [(0,)]
    assert _rows(owner_conninfo, "SELECT outcome FROM webhook_logs") == [("UNAUTHORIZED",)]


@pytest.mark.parametrize("platform", ["CAREEM", "NASHMI"])
def test_other_families_refuse_bad_signatures(webhooks, make_integration, alpha, owner_conninfo, platform):
    integration_id = make_integration(alpha, platform)
    body = b'{"event_type": "ORDER_CREATED", "details": {}}'
    assert webhooks.send(platform, integration_id, body, secret="wrong").status_code == 401
    assert webhooks.send(platform, integration_id, body, sign=False).status_code == 401
    if platform == "NASHMI":  # the generic signature covers the body: another body is not authentic
        from portal.platforms import adapter_for
        headers = adapter_for(platform).sign(b'{"other": true}', "webhook-secret-123")
        assert webhooks.send(platform, integration_id, body, sign=False, headers=headers).status_code == 401
    assert {row[0] for row in _rows(owner_conninfo, "SELECT outcome FROM webhook_logs")} == {"UNAUTHORIZED"}


def test_garbage_and_unreadable_bodies_are_logged_with_the_reason(webhooks, make_integration, alpha, owner_conninfo):
    integration_id = make_integration(alpha, "CAREEM")
    assert webhooks.send("CAREEM", integration_id, b"\x00\xffnot json{").status_code == 400
    assert webhooks.send("CAREEM", integration_id, {"event_type": "ORDER_CREATED",
                                                    "details": {"id": None}}).status_code == 422
    assert webhooks.send("CAREEM", integration_id, [1, 2, 3]).status_code == 422
    logs = _rows(owner_conninfo, "SELECT outcome, status_code, error_message, payload FROM webhook_logs "
                                 "ORDER BY created_at")
    assert [(outcome, code) for outcome, code, *_ in logs] == [("INVALID", 400), ("INVALID", 422), ("INVALID", 422)]
    assert logs[0][3] is None and all(row[2] for row in logs)  # not JSON: kept as bytes in raw_body
    assert _rows(owner_conninfo, "SELECT count(*) FROM delivery_orders") == [(0,)]


def test_oversize_bodies_get_413(webhooks, make_integration, alpha, app):
    integration_id = make_integration(alpha, "CAREEM")
    big = b'{"x": "' + b"a" * (app.config["WEBHOOK_MAX_BYTES"] + 10) + b'"}'
    assert webhooks.send("CAREEM", integration_id, big).status_code == 413


def test_unknown_disabled_or_mismatched_integrations_look_the_same(webhooks, make_integration, alpha,
                                                                   owner_conninfo):
    disabled = make_integration(alpha, "CAREEM", enabled=False)
    talabat = make_integration(alpha, "TALABAT")
    body = load_payload("careem-order-created-example.json")
    answers = [webhooks.send("CAREEM", disabled, body), webhooks.send("CAREEM", uuid.uuid4(), body),
               webhooks.send("CAREEM", talabat, body), webhooks.send("CAREEM", "not-a-uuid", body),
               webhooks.send("CAREEM", disabled, body, path="x/y")]
    assert {(answer.status_code, answer.get_data(as_text=True)) for answer in answers} == {
        (404, answers[0].get_data(as_text=True))}
    assert _rows(owner_conninfo, "SELECT count(*) FROM delivery_orders") == [(0,)]
    stored = _rows(owner_conninfo, "SELECT company_id, outcome FROM webhook_logs")
    assert len(stored) == 5 and {outcome for _, outcome in stored} == {"UNKNOWN_INTEGRATION"}
    assert sum(1 for company_id, _ in stored if company_id is None) == 2  # nobody's: operators only


def test_unknown_platform_is_404(webhooks, client):
    assert client.post(f"/webhooks/ubereats/{uuid.uuid4()}", data=b"{}").status_code == 404


def test_duplicate_delivery_ten_times_five_at_once_makes_one_order(app, make_integration, alpha, owner_conninfo):
    from tests.integration_fixtures import WebhookSender

    integration_id = make_integration(alpha, "TALABAT")
    body = load_payload("talabat-order-example.json")
    statuses = []

    def deliver():
        statuses.append(WebhookSender(app.test_client()).send("TALABAT", integration_id, body,
                                                              path="order/vendor-1").status_code)

    for _ in range(2):  # two waves of five concurrent deliveries
        threads = [threading.Thread(target=deliver) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [200] * 10
    assert _rows(owner_conninfo, "SELECT count(*) FROM delivery_orders") == [(1,)]
    outcomes = sorted(row[0] for row in _rows(owner_conninfo, "SELECT outcome FROM webhook_logs"))
    assert outcomes == ["DUPLICATE"] * 9 + ["PROCESSED"]
    assert _rows(owner_conninfo, "SELECT count(*) FROM order_status_history") == [(1,)]


def test_a_webhook_for_company_a_never_touches_company_b(webhooks, make_integration, two_companies,
                                                         owner_conninfo):
    alpha, beta = two_companies
    alpha_integration = make_integration(alpha, "CAREEM", secret="alpha-secret")
    make_integration(beta, "CAREEM", secret="beta-secret")
    body = load_payload("careem-order-created-example.json")
    # B's secret on A's URL is not authentic.
    assert webhooks.send("CAREEM", alpha_integration, body, secret="beta-secret").status_code == 401
    assert webhooks.send("CAREEM", alpha_integration, body, secret="alpha-secret").status_code == 200
    assert _rows(owner_conninfo, "SELECT company_id FROM delivery_orders") == [(alpha.id,)]
    assert {row[0] for row in _rows(owner_conninfo, "SELECT company_id FROM webhook_logs")} == {alpha.id}
    # The same platform order id at B is B's own order, not a duplicate of A's.
    beta_integration = _rows(owner_conninfo, "SELECT id FROM integration_configs WHERE company_id = %s",
                             (beta.id,))[0][0]
    assert webhooks.send("CAREEM", beta_integration, body, secret="beta-secret").status_code == 200
    assert sorted(str(row[0]) for row in _rows(owner_conninfo, "SELECT company_id FROM delivery_orders")) == \
        sorted([str(alpha.id), str(beta.id)])


def test_delivery_hero_test_orders_are_stored_but_marked(webhooks, make_integration, alpha, owner_conninfo):
    integration_id = make_integration(alpha, "TALABAT")
    body = load_payload("talabat-order-example.json") | {"test": True}
    assert webhooks.send("TALABAT", integration_id, body, path="order/vendor-1").status_code == 200
    assert _rows(owner_conninfo, "SELECT is_test FROM delivery_orders") == [(True,)]


def test_careem_items_are_named_from_the_catalog(app, webhooks, make_integration, alpha, owner_conninfo):
    from portal.extensions import db
    from portal.models import Product
    from portal.tenancy import tenant

    integration_id = make_integration(alpha, "CAREEM")
    created = load_payload("careem-order-created-example.json")
    local_id = created["details"]["items"][0]["id"]
    with app.app_context(), tenant(alpha.id):
        db.session.add(Product(company_id=alpha.id, local_product_id=local_id, name="Chicken Kabsa",
                               name_ar="كبسة دجاج", price=Decimal("11")))
        db.session.commit()
    assert webhooks.send("CAREEM", integration_id, created).status_code == 200
    (items,), = _rows(owner_conninfo, "SELECT order_items FROM delivery_orders")
    assert items[0]["name"] == "Chicken Kabsa" and items[0]["name_ar"] == "كبسة دجاج"
    assert items[1]["name"].startswith("Item ")  # not in the catalog: the platform's id stays visible
