"""POST /webhooks/whatsapp/<connection_id>: signed, stored first, statuses forward only, opt-out by reply."""
import json
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from portal.extensions import db
from portal.models import WhatsappMessage
from portal.tenancy import tenant
from portal.webhooks.services import replay_webhook
from tests.conftest import owner_execute, owner_rows
from tests.messaging.whatsapp import (VERIFY_TOKEN, connect, inbound_webhook, post_webhook, sign,
                                      status_webhook)

MESSAGE_WAMID = "wamid.HBgNN5NzAzMDkTUyNzkzNhUEjA1MjUwNCAUIyNEYUQ0OTVGNTY0MwA="


@pytest.fixture
def shop(app, make_company):
    company = make_company("Kabsa House")
    return company, connect(app, company, "http://127.0.0.1:9/v23.0")


def sent_message(app, company, wamid=MESSAGE_WAMID, status="SENT"):
    with app.app_context(), tenant(company.id):
        message = WhatsappMessage(company_id=company.id, recipient_phone="+966551234567", message_content="Hi",
                                  message_type="TEMPLATE", status=status, whatsapp_message_id=wamid,
                                  dedupe_key=f"test:{uuid.uuid4()}")
        db.session.add(message)
        db.session.commit()
        return message.id


def state(conninfo, message_id):
    return owner_rows(conninfo, "SELECT status::text, sent_at IS NOT NULL, delivered_at IS NOT NULL,"
                                " read_at IS NOT NULL, error_code FROM whatsapp_messages WHERE id = %s", message_id)[0]


def test_meta_verifies_the_url_with_the_verify_token(client, shop):
    _, connection_id = shop
    url = f"/webhooks/whatsapp/{connection_id}?hub.mode=subscribe&hub.challenge=1158201444"
    answer = client.get(url + f"&hub.verify_token={VERIFY_TOKEN}")
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "1158201444")
    assert client.get(url + "&hub.verify_token=wrong").status_code == 403
    assert client.get(f"/webhooks/whatsapp/{uuid.uuid4()}?hub.mode=subscribe&hub.verify_token=x").status_code == 404


def test_statuses_move_a_message_forward(app, client, shop, owner_conninfo):
    company, connection_id = shop
    message_id = sent_message(app, company)
    for status, expected in (("sent", ("SENT", True, False, False, None)),
                             ("delivered", ("DELIVERED", True, True, False, None)),
                             ("read", ("READ", True, True, True, None))):
        assert post_webhook(client, connection_id, status_webhook(MESSAGE_WAMID, status)).status_code == 200
        assert state(owner_conninfo, message_id) == expected
    logs = owner_rows(owner_conninfo, "SELECT channel, platform, event_type, outcome FROM webhook_logs")
    assert logs == [("whatsapp", None, "whatsapp.statuses", "PROCESSED")] * 3


def test_out_of_order_and_repeated_statuses_never_move_it_back(app, client, shop, owner_conninfo):
    company, connection_id = shop
    message_id = sent_message(app, company)
    post_webhook(client, connection_id, status_webhook(MESSAGE_WAMID, "read", "1765000300"))  # read without delivered
    assert state(owner_conninfo, message_id) == ("READ", True, True, True, None)
    for late in ("delivered", "sent", "read", "failed"):
        assert post_webhook(client, connection_id, status_webhook(MESSAGE_WAMID, late, "1765000100")).status_code == 200
    assert state(owner_conninfo, message_id) == ("READ", True, True, True, None)


def test_a_failed_status_records_the_code_and_the_reason(app, client, shop, owner_conninfo):
    company, connection_id = shop
    message_id = sent_message(app, company)
    post_webhook(client, connection_id, status_webhook(MESSAGE_WAMID, "failed", error_code=131026))
    assert state(owner_conninfo, message_id)[0::4] == ("FAILED", "131026")
    [(reason,)] = owner_rows(owner_conninfo, "SELECT error_message FROM whatsapp_messages")
    assert "24 hours" in reason  # the example's title and Meta's details
    post_webhook(client, connection_id, status_webhook(MESSAGE_WAMID, "delivered"))  # failed is final
    assert state(owner_conninfo, message_id)[0] == "FAILED"


@pytest.mark.parametrize("signature", [False, "sha256=" + "0" * 64, "sha1=abc", "sha256="])
def test_a_missing_or_wrong_signature_is_refused_and_logged(app, client, shop, owner_conninfo, signature):
    company, connection_id = shop
    message_id = sent_message(app, company)
    answer = post_webhook(client, connection_id, status_webhook(MESSAGE_WAMID, "read"), signature=signature)
    assert answer.status_code == 401
    assert state(owner_conninfo, message_id)[0] == "SENT"
    assert owner_rows(owner_conninfo, "SELECT channel, outcome, status_code FROM webhook_logs") == [
        ("whatsapp", "UNAUTHORIZED", 401)]


def test_the_signature_is_over_the_exact_bytes(app, client, shop, owner_conninfo):
    """Non-ASCII signed as sent (not re-serialized): Arabic and escaped forms both verify as they came."""
    _, connection_id = shop
    body = inbound_webhook("إيقاف")
    for raw in (json.dumps(body, ensure_ascii=False).encode(), json.dumps(body).encode()):
        assert post_webhook(client, connection_id, raw).status_code == 200
    tampered = json.dumps(body).encode()
    assert post_webhook(client, connection_id, tampered.replace(b"966", b"967"), signature=sign(tampered)).status_code \
        == 401


@pytest.mark.parametrize("stop, start", [("STOP", "START"), ("إيقاف", "بدء"), ("الغاء الاشتراك", "start"),
                                         (" Stop. ", "اشتراك")])
def test_stop_opts_a_customer_out_and_start_back_in(app, client, shop, owner_conninfo, stop, start):
    _, connection_id = shop
    now = int(time.time())
    post_webhook(client, connection_id, inbound_webhook(stop, timestamp=now))
    assert owner_rows(owner_conninfo, "SELECT phone, opted_out_at IS NOT NULL FROM whatsapp_contacts") == [
        ("+966551234567", True)]
    post_webhook(client, connection_id, inbound_webhook(start, timestamp=now + 1))
    assert owner_rows(owner_conninfo, "SELECT opted_out_at IS NULL, opted_in_at IS NOT NULL FROM whatsapp_contacts") \
        == [(True, True)]
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM whatsapp_inbound_messages") == [(2,)]


def test_an_ordinary_reply_opens_the_window_and_is_kept_once(app, client, shop, owner_conninfo):
    _, connection_id = shop
    body = inbound_webhook("مرحبا، وين طلبي رقم ١٠٤٢؟", wamid="wamid.ONE", timestamp=int(time.time()))
    assert post_webhook(client, connection_id, body).status_code == 200
    assert post_webhook(client, connection_id, body).status_code == 200  # Meta delivers twice sometimes
    assert owner_rows(owner_conninfo, "SELECT count(*), min(body) FROM whatsapp_inbound_messages") == [
        (1, "مرحبا، وين طلبي رقم ١٠٤٢؟")]
    assert owner_rows(owner_conninfo, "SELECT language, opted_out_at, last_inbound_at > now() - interval '1 minute',"
                                      " profile_name FROM whatsapp_contacts") == [("ar", None, True, "Sheena Nelson")]


def test_one_companys_webhook_never_touches_anothers_messages(app, client, make_company, owner_conninfo):
    alpha, beta = make_company("Alpha Kitchen"), make_company("Beta Grill")
    alpha_connection = connect(app, alpha, "http://127.0.0.1:9/v23.0", phone_number_id="111")
    connect(app, beta, "http://127.0.0.1:9/v23.0", phone_number_id="222")
    beta_message = sent_message(app, beta, wamid="wamid.BETA")
    # Alpha's connection, Alpha's signature, Beta's message id (and Beta's number in the metadata, or Alpha's).
    for number in ("222", "111"):
        body = status_webhook("wamid.BETA", "read", phone_number_id=number)
        assert post_webhook(client, alpha_connection, body).status_code == 200
    assert state(owner_conninfo, beta_message)[0] == "SENT"
    assert owner_rows(owner_conninfo, "SELECT DISTINCT company_id FROM webhook_logs") == [(alpha.id,)]
    body = inbound_webhook("STOP", phone_number_id="111")
    post_webhook(client, alpha_connection, body)
    assert owner_rows(owner_conninfo, "SELECT company_id FROM whatsapp_contacts") == [(alpha.id,)]


def test_a_stored_webhook_can_be_replayed_from_the_log(app, client, shop, owner_conninfo):
    company, connection_id = shop
    body = status_webhook(MESSAGE_WAMID, "delivered")
    post_webhook(client, connection_id, body)  # the message was not recorded yet: nothing to move
    [(log_id, outcome)] = owner_rows(owner_conninfo, "SELECT id, outcome FROM webhook_logs")
    assert outcome == "IGNORED"
    message_id = sent_message(app, company)
    with app.app_context(), tenant(company.id):
        assert replay_webhook(log_id).status_code == 200
    assert state(owner_conninfo, message_id)[0] == "DELIVERED"


def test_a_suspended_company_is_told_to_retry_later(app, client, shop, owner_conninfo):
    company, connection_id = shop
    owner_execute(owner_conninfo, "UPDATE companies SET is_active = false WHERE id = %s", company.id)
    answer = post_webhook(client, connection_id, status_webhook(MESSAGE_WAMID, "read"))
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert owner_rows(owner_conninfo, "SELECT outcome FROM webhook_logs") == [("IGNORED",)]


def test_an_unknown_connection_is_stored_unclaimed(client, owner_conninfo):
    answer = post_webhook(client, uuid.uuid4(), status_webhook(MESSAGE_WAMID, "read"))
    assert answer.status_code == 404
    assert owner_rows(owner_conninfo, "SELECT channel, company_id, outcome FROM webhook_logs") == [
        ("whatsapp", None, "UNKNOWN_INTEGRATION")]


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children,
                                                                                       max_size=4), max_leaves=20)
ENVELOPES = st.fixed_dictionaries({"object": st.just("whatsapp_business_account"), "entry": st.lists(
    st.fixed_dictionaries({"id": st.text(max_size=5), "changes": st.lists(st.fixed_dictionaries({
        "field": st.just("messages"), "value": st.fixed_dictionaries({
            "metadata": st.fixed_dictionaries({"phone_number_id": st.sampled_from(["109999999999999", "x"])}),
            "statuses": st.lists(st.fixed_dictionaries({"id": st.sampled_from([MESSAGE_WAMID, "wamid.other", ""]),
                                                        "status": st.sampled_from(["sent", "read", "failed", "x"]),
                                                        "timestamp": JSON, "errors": JSON}), max_size=3),
            "messages": st.lists(st.fixed_dictionaries({"from": JSON, "id": JSON, "type": JSON, "text": JSON,
                                                        "timestamp": JSON}), max_size=2),
            "contacts": JSON})}), max_size=2)}), max_size=2)})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(ENVELOPES, JSON, st.binary(max_size=60),
                     st.fixed_dictionaries({"entry": JSON | st.lists(st.fixed_dictionaries({"changes": JSON}))})))
def test_any_signed_body_is_stored_and_never_a_server_error(app, client, shop, owner_conninfo, body):
    _, connection_id = shop
    before = owner_rows(owner_conninfo, "SELECT count(*) FROM webhook_logs")[0][0]
    answer = post_webhook(client, connection_id, body if isinstance(body, bytes) else json.dumps(body).encode())
    assert answer.status_code in (200, 202, 400)
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM webhook_logs")[0][0] == before + 1


def test_a_status_that_overtakes_the_send_waits_for_it(app, client, shop, owner_conninfo):
    """Meta can post `sent` before the worker has committed the wamid: the callback data finds the message."""
    import threading

    from sqlalchemy import select

    company, connection_id = shop
    message_id = sent_message(app, company, wamid=None, status="PENDING")
    locked, release = threading.Event(), threading.Event()

    def slow_send():  # the worker: row locked, Meta answered, commit a little later
        with app.app_context(), tenant(company.id):
            message = db.session.scalar(select(WhatsappMessage).where(WhatsappMessage.id == message_id)
                                        .with_for_update())
            locked.set()
            release.wait(5)
            message.whatsapp_message_id, message.status = "wamid.RACE", "SENT"
            db.session.commit()

    worker = threading.Thread(target=slow_send)
    worker.start()
    locked.wait(5)
    body = status_webhook("wamid.RACE", "delivered")
    body["entry"][0]["changes"][0]["value"]["statuses"][0]["biz_opaque_callback_data"] = str(message_id)
    threading.Timer(0.3, release.set).start()
    assert post_webhook(client, connection_id, body).status_code == 200
    worker.join()
    assert state(owner_conninfo, message_id)[0] == "DELIVERED"


@pytest.mark.parametrize("event, reason, status, kept_reason", [
    ("APPROVED", "NONE", "APPROVED", None), ("REJECTED", "INVALID_FORMAT", "REJECTED", "INVALID_FORMAT"),
    ("PAUSED", "Low quality", "PAUSED", "Low quality"), ("FLAGGED", "x", "APPROVED", None)])
def test_meta_reports_a_templates_review(app, client, shop, owner_conninfo, event, reason, status, kept_reason):
    _, connection_id = shop
    body = {"object": "whatsapp_business_account", "entry": [{"id": "0", "changes": [{
        "field": "message_template_status_update",
        "value": {"event": event, "message_template_id": 594425479261596, "message_template_name": "order_ready",
                  "message_template_language": "ar", "reason": reason}}]}]}
    assert post_webhook(client, connection_id, body).status_code == 200
    rows = owner_rows(owner_conninfo, "SELECT language, status, rejection_reason, external_template_id"
                                      " FROM whatsapp_templates WHERE name = 'order_ready' ORDER BY language")
    expected_id = None if event == "FLAGGED" else "594425479261596"
    assert rows == [("ar", status, kept_reason, expected_id), ("en", "APPROVED", None, None)]


def test_a_job_for_another_companys_message_does_nothing(app, make_company, owner_conninfo):
    from portal.messaging.services import send_message
    alpha, beta = make_company("Alpha Kitchen"), make_company("Beta Grill")
    connect(app, alpha, "http://127.0.0.1:9/v23.0", phone_number_id="111")
    connect(app, beta, "http://127.0.0.1:9/v23.0", phone_number_id="222")
    beta_message = sent_message(app, beta, wamid=None, status="PENDING")
    with app.app_context(), tenant(alpha.id):  # a job whose company argument was tampered with
        assert send_message(beta_message) is None
    assert owner_rows(owner_conninfo, "SELECT status::text, attempts FROM whatsapp_messages") == [("PENDING", 0)]


@pytest.mark.parametrize("body", [
    {"entry": 5}, {"entry": [{"changes": 3}]}, {"entry": "x"},
    {"entry": [{"changes": [{"field": "messages", "value": {"metadata": "x", "statuses": {"a": 1}, "messages": 7,
                                                            "contacts": "y"}}]}]},
])
def test_an_envelope_of_the_wrong_shape_is_stored_and_answered(client, shop, owner_conninfo, body):
    _, connection_id = shop
    assert post_webhook(client, connection_id, body).status_code == 200
    assert owner_rows(owner_conninfo, "SELECT channel, outcome FROM webhook_logs") == [("whatsapp", "IGNORED")]
