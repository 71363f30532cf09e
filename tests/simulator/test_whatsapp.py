"""The simulator plays Meta: the Cloud API's send endpoint, then signed status and inbound webhooks to the real portal."""
import hmac
import json
import random

import pytest

from portal.extensions import db
from portal.messaging import services
from portal.messaging.events import NotificationEvent
from portal.models import WhatsappNotificationRule, WhatsappTemplate
from portal.queue import run_worker
from portal.simulator.meta import FAILURES, Meta, WhatsappLine, sign, status_webhook
from portal.simulator.recorder import Journal, create_app as create_recorder
from portal.simulator.targets import load_whatsapp_lines
from portal.tenancy import tenant
from tests.conftest import owner_rows
from tests.simulator.test_end_to_end import client_transport, serve  # noqa: F401  (serve: a fixture)

NUMBER = "106540352242922"
TOKEN, APP_SECRET = "sim-token-123", "sim-app-secret-456"
CUSTOMER = "+966512345678"
SEND = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "Hello"}}


class Later:
    """Collects the simulator's delayed work (like Simulation.later) so a test runs it one step at a time."""

    def __init__(self):
        self.due = []

    def __call__(self, seconds, description, action):
        self.due.append((description, action))

    def run_next(self):
        description, action = self.due.pop(0)
        return description, action()


@pytest.fixture
def kitchen(app, make_company):
    """Alpha Kitchen with a WhatsApp connection, an approved English template and a rule for accepted orders."""
    company = make_company("Alpha Kitchen")
    with app.app_context(), tenant(company.id):
        connection = services.save_connection(company.id, phone_number_id=NUMBER, token=TOKEN, app_secret=APP_SECRET,
                                              verify_token="verify", base_url="http://127.0.0.1:9/v23.0")
        db.session.add(WhatsappTemplate(company_id=company.id, name="order_accepted", language="en",
                                        category="UTILITY", status="APPROVED", variables=["order_number"],
                                        body="Your order #{{order_number}} was accepted."))
        db.session.add(WhatsappNotificationRule(company_id=company.id, event="ORDER_ACCEPTED",
                                                template_name="order_accepted"))
        db.session.commit()
        company.connection_id = str(connection.id)
    return company


@pytest.fixture
def meta_for(app, client, kitchen, serve):  # noqa: F811  (the fixture)
    """Serve the simulator with Meta playing Alpha's number; the connection sends there; webhooks go to the portal."""
    def make(**options):
        later = Later()
        journal = Journal()
        line = WhatsappLine(NUMBER, kitchen.connection_id, TOKEN, APP_SECRET)
        meta = Meta([line], "http://localhost", transport=client_transport(client), later=later, journal=journal,
                    rng=random.Random(options.pop("seed", 1)), **options)
        base = serve(create_recorder(journal, meta=meta))
        with app.app_context(), tenant(kitchen.id):
            services.current_connection().base_url = f"{base}/v23.0"
            db.session.commit()
        meta.later_queue, meta.base = later, base
        return meta
    return make


def queue_message(app, company, key="order-1"):
    with app.app_context(), tenant(company.id):
        message = services.queue_event(NotificationEvent.ORDER_ACCEPTED, phone=CUSTOMER,
                                       values={"order_number": "1042"}, dedupe_key=key)
        db.session.commit()
        return message.id


def message_row(conninfo, message_id):
    (row,) = owner_rows(conninfo, "SELECT status, whatsapp_message_id, error_code, sent_at, delivered_at, read_at, "
                                  "failed_at, next_attempt_at FROM whatsapp_messages WHERE id = %s", message_id)
    return row


# ------------------------------------------------------------------ the send endpoint

def test_the_cloud_api_answers_sends_and_refuses_bad_tokens_and_payloads(kitchen):
    later = Later()
    meta = Meta([WhatsappLine(NUMBER, kitchen.connection_id, TOKEN, APP_SECRET)], "http://localhost",
                transport=lambda *a: (200, ""), later=later, rng=random.Random(2))
    client = create_recorder(Journal(), meta=meta).test_client()
    url = f"/v23.0/{NUMBER}/messages"

    answer = client.post(url, json=SEND, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER[1:]}]
    assert body["messages"][0]["id"].startswith("wamid.")
    assert [description.split()[1] for description, _ in later.due] == ["sent", "delivered", "read"]

    for headers in ({"Authorization": "Bearer wrong"}, {}, {"Authorization": TOKEN}):
        refused = client.post(url, json=SEND, headers=headers)
        assert refused.status_code == 401
        assert refused.get_json()["error"]["type"] == "OAuthException"
        assert refused.get_json()["error"]["code"] == 190
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post("/v23.0/999/messages", json=SEND, headers=auth).get_json()["error"]["code"] == 100
    for payload, code in (({**SEND, "messaging_product": None}, 100), ({**SEND, "to": "12"}, 100),
                          ({**SEND, "text": {"body": " "}}, 100), ({**SEND, "type": "sticker"}, 131051),
                          ({**SEND, "type": "template", "template": {"name": "x"}}, 100)):
        refused = client.post(url, json=payload, headers=auth)
        assert (refused.status_code, refused.get_json()["error"]["code"]) == (400, code), payload
    assert len(later.due) == 3   # refused sends get no statuses
    # The platforms' endpoints are still the platforms': only /v<version>/<number>/messages is Meta's.
    assert client.post("/careem/orders/messages", json={}).get_json() == {"ok": True}


def test_rate_limited_sends_are_retried_by_the_portal(app, kitchen, meta_for, owner_conninfo):
    meta = meta_for(error_rate=1.0)
    message_id = queue_message(app, kitchen)
    run_worker(app, concurrency=1, wait=False)

    status, wamid, code, *_, next_attempt_at = message_row(owner_conninfo, message_id)
    assert (status, wamid, code) == ("PENDING", None, "130429") and next_attempt_at is not None
    assert meta.later_queue.due == []
    assert meta.journal.calls[-1]["status"] == 400 and meta.journal.calls[-1]["answer"]["error"]["code"] == 130429


# ------------------------------------------------------------------ status webhooks to the real portal

def test_status_webhooks_move_a_message_sent_delivered_read(app, kitchen, meta_for, owner_conninfo):
    meta = meta_for()
    message_id = queue_message(app, kitchen)
    run_worker(app, concurrency=1, wait=False)
    status, wamid, *_ = message_row(owner_conninfo, message_id)
    assert status == "SENT" and wamid.startswith("wamid.")
    call = meta.journal.calls[-1]
    assert call["path"] == f"/v23.0/{NUMBER}/messages" and call["headers"]["Authorization"] == "Bearer [redacted]"
    assert call["json"]["biz_opaque_callback_data"] == str(message_id)

    seen = []
    for expected in ("SENT", "DELIVERED", "READ"):
        description, (answer_status, answer) = meta.later_queue.run_next()
        assert answer_status == 200 and json.loads(answer)["statuses"] == 1, answer
        seen.append(message_row(owner_conninfo, message_id)[0])
        assert seen[-1] == expected, description
    status, _, _, sent_at, delivered_at, read_at, failed_at, _ = message_row(owner_conninfo, message_id)
    assert sent_at <= delivered_at <= read_at and failed_at is None

    sent = [entry for entry in meta.journal.sent if entry["platform"] == "whatsapp"]
    assert [entry["event"] for entry in sent] == ["status:sent", "status:delivered", "status:read"]
    assert {entry["path"] for entry in sent} == {f"/webhooks/whatsapp/{kitchen.connection_id}"}
    # The portal checked each X-Hub-Signature-256 over the exact bytes (PROCESSED), and kept each body.
    logs = owner_rows(owner_conninfo, "SELECT outcome, payload, signature FROM webhook_logs ORDER BY created_at")
    assert [row[0] for row in logs] == ["PROCESSED"] * 3
    for _, body, signature in logs:
        assert signature.startswith("sha256=") and len(signature) == 71
        change = body["entry"][0]["changes"][0]
        assert change["field"] == "messages" and change["value"]["metadata"]["phone_number_id"] == NUMBER
        (item,) = change["value"]["statuses"]
        assert item["id"] == wamid and item["recipient_id"] == CUSTOMER[1:] and item["timestamp"].isdigit()
        assert item["biz_opaque_callback_data"] == str(message_id)
    raw = json.dumps(logs[0][1]).encode()
    assert sign(raw, APP_SECRET) == "sha256=" + hmac.new(APP_SECRET.encode(), raw, "sha256").hexdigest()
    forged = Meta([WhatsappLine(NUMBER, kitchen.connection_id, TOKEN, "not-the-app-secret")], "http://localhost",
                  transport=meta.transport)
    assert forged.post(forged.line(NUMBER), logs[0][1], "status:read")[0] == 401


def test_out_of_order_statuses_never_move_a_message_back(app, kitchen, meta_for, owner_conninfo):
    meta = meta_for()
    message_id = queue_message(app, kitchen)
    run_worker(app, concurrency=1, wait=False)
    wamid = message_row(owner_conninfo, message_id)[1]
    line = meta.line(NUMBER)

    for status, expected in (("delivered", "DELIVERED"), ("sent", "DELIVERED"), ("read", "READ"),
                             ("delivered", "READ"), ("sent", "READ")):
        answer_status, _ = meta.post(line, status_webhook(line, wamid, status, CUSTOMER[1:], 1_750_000_000),
                                     f"status:{status}")
        assert answer_status == 200
        assert message_row(owner_conninfo, message_id)[0] == expected, status

    # A plan's out-of-order shapes, from the simulator's own draw: read without delivered ends READ too.
    other = queue_message(app, kitchen, key="order-2")
    meta.disorder_rate = 1.0
    run_worker(app, concurrency=1, wait=False)
    arrivals = [description.split()[1] for description, _ in meta.later_queue.due[3:]]
    assert arrivals in (["delivered", "sent", "read"], ["sent", "read"])
    del meta.later_queue.due[:3]
    while meta.later_queue.due:
        meta.later_queue.run_next()
    assert message_row(owner_conninfo, other)[0] == "READ"


def test_a_failed_status_records_meta_s_code(app, kitchen, meta_for, owner_conninfo):
    meta = meta_for(fail_rate=1.0, seed=4)
    message_id = queue_message(app, kitchen)
    run_worker(app, concurrency=1, wait=False)
    while meta.later_queue.due:
        meta.later_queue.run_next()
    status, _, code, *_, failed_at, _ = message_row(owner_conninfo, message_id)
    assert status == "FAILED" and failed_at is not None
    assert int(code) in {failure[0] for failure in FAILURES}
    (error_message,) = owner_rows(owner_conninfo, "SELECT error_message FROM whatsapp_messages")[0]
    assert error_message


def test_the_draws_are_reproducible_and_cover_every_shape(kitchen):
    def plans(seed):
        meta = Meta([], "http://localhost", rng=random.Random(seed), fail_rate=0.3, disorder_rate=0.5)
        return [meta._plan() for _ in range(300)]

    first = plans(11)
    assert first == plans(11) and first != plans(12)
    shapes = {tuple(status for status, _, _ in plan) for plan in first}
    assert {("sent", "delivered", "read"), ("delivered", "sent", "read"), ("sent", "read"),
            ("sent", "failed"), ("failed",)} <= shapes
    assert {error[0] for plan in first for _, _, error in plan if error} == {131026, 131047, 130429}


# ------------------------------------------------------------------ customers write

def test_inbound_stop_and_arabic_stop_opt_out_and_start_opts_back_in(app, client, kitchen, owner_conninfo):
    meta = Meta([WhatsappLine(NUMBER, kitchen.connection_id, TOKEN, APP_SECRET)], "http://localhost",
                transport=client_transport(client), rng=random.Random(5))
    simulator = create_recorder(Journal(), meta=meta).test_client()

    def write(text):
        answer = simulator.post("/whatsapp/inbound", json={"from": CUSTOMER, "text": text, "name": "Sara"})
        assert answer.status_code == 200 and answer.get_json()["portal_status"] == 200, answer.get_json()
        (row,) = owner_rows(owner_conninfo, "SELECT opted_out_at IS NOT NULL, profile_name, language "
                                            "FROM whatsapp_contacts WHERE phone = %s", CUSTOMER)
        return row

    assert write("STOP") == (True, "Sara", "en")
    assert write("START") == (False, "Sara", "en")
    assert write("إيقاف") == (True, "Sara", "ar")
    assert simulator.post("/whatsapp/inbound", json={"from": "12", "text": "hi"}).status_code == 400
    assert simulator.post("/whatsapp/inbound", json={"from": CUSTOMER, "text": "hi",
                                                     "phone_number_id": "999"}).status_code == 404
    inbound = owner_rows(owner_conninfo, "SELECT body, from_phone FROM whatsapp_inbound_messages ORDER BY sent_at")
    assert sorted(body for body, _ in inbound) == sorted(["STOP", "START", "إيقاف"])
    with app.app_context(), tenant(kitchen.id):
        assert services.is_opted_out(CUSTOMER)
        assert services.queue_event(NotificationEvent.ORDER_ACCEPTED, phone=CUSTOMER, values={"order_number": "7"},
                                    dedupe_key="after-stop").status == "SKIPPED"
        db.session.rollback()


def test_the_inbound_command_posts_over_http(app, runner, kitchen, owner_conninfo, serve):  # noqa: F811
    portal_url = serve(app)
    with app.app_context():
        result = runner.invoke(args=["simulate-whatsapp-inbound", "--company", "Alpha Kitchen", "--from", CUSTOMER,
                                     "--text", "stop", "--portal-url", portal_url])
    assert result.exit_code == 0, result.output
    assert f"/webhooks/whatsapp/{kitchen.connection_id} → 200" in result.output
    assert owner_rows(owner_conninfo, "SELECT opted_out_at IS NOT NULL FROM whatsapp_contacts") == [(True,)]
    with app.app_context():
        unknown = runner.invoke(args=["simulate-whatsapp-inbound", "--company", "Nobody", "--from", CUSTOMER,
                                      "--text", "hi"])
    assert unknown.exit_code != 0 and "No single company is named 'Nobody'" in unknown.output


# ------------------------------------------------------------------ the demo

def test_the_demo_seed_wires_whatsapp_to_the_simulator_idempotently(app, runner, client, owner_conninfo, serve):  # noqa: F811
    from portal.demo import SAMPLE_COMPANY_ID, WHATSAPP_PHONE_NUMBER_ID, simulator_whatsapp_url
    from portal.messaging.templates import check_template
    from portal.models import DeliveryOrder, OrderStatus
    from portal.orders.lifecycle import apply_status

    tables = ("whatsapp_connections", "whatsapp_templates", "whatsapp_notification_rules")

    def snapshot():
        return {table: owner_rows(owner_conninfo, f"SELECT * FROM {table} ORDER BY id") for table in tables}

    with app.app_context():
        assert runner.invoke(args=["seed-demo"]).exit_code == 0
    first = snapshot()
    with app.app_context():
        assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert snapshot() == first
    assert [len(first[table]) for table in tables] == [1, 12, 6]
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM whatsapp_messages") == [(0,)]  # the seed sends nothing
    (connection,) = owner_rows(owner_conninfo, "SELECT company_id, phone_number_id, base_url FROM whatsapp_connections")
    assert connection == (SAMPLE_COMPANY_ID, WHATSAPP_PHONE_NUMBER_ID, simulator_whatsapp_url())
    templates = owner_rows(owner_conninfo, "SELECT name, language, category, body, status FROM whatsapp_templates")
    assert {(name, language) for name, language, *_ in templates} == {
        (name, language) for name in ("order_accepted", "order_ready", "order_out_for_delivery", "order_delivered",
                                      "points_earned", "points_expiring") for language in ("en", "ar")}
    with app.app_context():
        assert all(check_template(name, language, category, body).ok and status == "APPROVED"
                   for name, language, category, body, status in templates)

    # Staff accept a demo order on the board: the simulator (reading the demo connection) answers, then reads it.
    with app.app_context():
        (line,) = load_whatsapp_lines("Sample Restaurant")
    later = Later()
    meta = Meta([line], "http://localhost", transport=client_transport(client), later=later, rng=random.Random(9))
    base = serve(create_recorder(Journal(), meta=meta))
    with app.app_context(), tenant(SAMPLE_COMPANY_ID):
        services.current_connection().base_url = f"{base}/v23.0"
        order = db.session.scalar(db.select(DeliveryOrder).where(DeliveryOrder.status == OrderStatus.PENDING)
                                  .order_by(DeliveryOrder.created_at.desc()).limit(1).with_for_update())
        apply_status(order, OrderStatus.ACCEPTED)
        db.session.commit()
        order_id = order.id
    run_worker(app, concurrency=1, wait=False)
    answers = []
    while later.due:
        answers.append(later.run_next()[1])
    assert all(status == 200 for status, _ in answers), answers
    rows = owner_rows(owner_conninfo, "SELECT status, event, message_content FROM whatsapp_messages "
                                      "WHERE order_id = %s", order_id)
    assert len(rows) == 1 and rows[0][:2] == ("READ", "ORDER_ACCEPTED"), rows
    assert "accepted order #" in rows[0][2] or "قبل طلبك" in rows[0][2]
