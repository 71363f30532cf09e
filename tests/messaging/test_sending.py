"""Order and loyalty events send their WhatsApp message once, through the worker, by the rules."""
import threading
import uuid
from datetime import datetime, timezone

import pytest

from portal.extensions import db
from portal.messaging import services
from portal.messaging.events import NotificationEvent
from portal.models import DeliveryOrder, User, WhatsappContact, WhatsappTemplate
from portal.orders.services import perform
from portal.queue import run_worker
from portal.tenancy import tenant
from tests.conftest import owner_execute, owner_rows
from tests.messaging.whatsapp import TOKEN, FakeMeta, connect, meta, meta_error  # noqa: F401  (fixture)
from tests.orders.helpers import add_order


@pytest.fixture
def shop(app, make_company, make_integration, meta):  # noqa: F811
    company = make_company("Kabsa House")
    integration_id = make_integration(company, "NASHMI", base_url="http://127.0.0.1:9/nashmi")
    connection_id = connect(app, company, meta.base_url)
    return company, integration_id, connection_id


def accept(app, company, order_id, minutes=20):
    with app.app_context(), tenant(company.id):
        perform(order_id, "accept", db.session.get(User, company.user_id("USER")), preparation_minutes=minutes)


def messages(conninfo):
    return owner_rows(conninfo, "SELECT event, status::text, recipient_phone, language, message_content, attempts,"
                                " error_code FROM whatsapp_messages ORDER BY created_at")


def test_accepting_an_order_sends_the_template_through_the_worker(app, shop, meta, owner_conninfo):  # noqa: F811
    company, integration_id, _ = shop
    order_id = add_order(app, company, integration_id, order_type="PICKUP")
    accept(app, company, order_id)
    [(event, status, phone, language, content, attempts, _)] = messages(owner_conninfo)
    assert (event, status, phone, language, attempts) == ("ORDER_ACCEPTED", "PENDING", "+966551234567", "en", 0)
    assert content.startswith("Hi Noura, Kabsa House accepted order #N")

    run_worker(app, concurrency=1, wait=False)

    [(path, body, headers)] = FakeMeta.received
    assert path == "/v23.0/109999999999999/messages"
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert body["type"] == "template" and body["to"] == "+966551234567"
    assert body["template"]["name"] == "order_accepted" and body["template"]["language"] == {"code": "en"}
    parameters = {p["parameter_name"]: p["text"] for p in body["template"]["components"][0]["parameters"]}
    assert parameters["customer_name"] == "Noura" and parameters["restaurant"] == "Kabsa House"
    assert len(parameters["eta"]) == 5  # HH:MM in the company's time zone
    assert body["biz_opaque_callback_data"]  # the message id, echoed in every status webhook
    rows = owner_rows(owner_conninfo, "SELECT status::text, whatsapp_message_id, sent_at IS NOT NULL, attempts"
                                      " FROM whatsapp_messages")
    assert rows == [("SENT", "wamid.TEST" + rows[0][1].removeprefix("wamid.TEST"), True, 1)]


def test_an_event_sends_once_however_often_it_happens(app, shop, owner_conninfo):
    company, integration_id, _ = shop
    order_id = add_order(app, company, integration_id, status="ACCEPTED", accepted_at=datetime.now(timezone.utc))
    with app.app_context(), tenant(company.id):
        order = db.session.get(DeliveryOrder, order_id)
        first = services.notify_order(order, NotificationEvent.ORDER_ACCEPTED)
        again = services.notify_order(order, NotificationEvent.ORDER_ACCEPTED)  # a replayed webhook, a second click
        db.session.commit()
    assert first is not None and again is None
    assert len(messages(owner_conninfo)) == 1
    jobs = owner_rows(owner_conninfo, "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'send_whatsapp_message'")
    assert jobs == [(1,)]


def test_concurrent_deliveries_of_one_event_record_one_message(app, shop, owner_conninfo):
    company, integration_id, _ = shop
    order_id = add_order(app, company, integration_id, status="ACCEPTED", accepted_at=datetime.now(timezone.utc))
    barrier, results = threading.Barrier(4), []

    def deliver():
        with app.app_context(), tenant(company.id):
            order = db.session.get(DeliveryOrder, order_id)
            barrier.wait()
            results.append(services.notify_order(order, NotificationEvent.ORDER_ACCEPTED) is not None)
            db.session.commit()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert len(messages(owner_conninfo)) == 1


def test_two_workers_on_one_message_send_it_once(app, shop, meta, owner_conninfo):  # noqa: F811
    company, integration_id, _ = shop
    order_id = add_order(app, company, integration_id, status="ACCEPTED", accepted_at=datetime.now(timezone.utc))
    with app.app_context(), tenant(company.id):
        message = services.notify_order(db.session.get(DeliveryOrder, order_id), NotificationEvent.ORDER_ACCEPTED)
        db.session.commit()
        message_id = message.id
    barrier = threading.Barrier(3)

    def work():
        with app.app_context(), tenant(company.id):
            barrier.wait()
            services.send_message(message_id)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(FakeMeta.received) == 1
    assert owner_rows(owner_conninfo, "SELECT status::text FROM whatsapp_messages") == [("SENT",)]


def test_a_rate_limit_is_retried_with_backoff_and_then_sent(app, shop, meta, owner_conninfo):  # noqa: F811
    company, integration_id, _ = shop
    FakeMeta.answers = [meta_error(130429, "Rate limit hit", status=400)]  # Meta sends 130429 with HTTP 400
    order_id = add_order(app, company, integration_id, order_type="PICKUP")
    accept(app, company, order_id)
    run_worker(app, concurrency=1, wait=False)
    [row] = owner_rows(owner_conninfo, "SELECT status::text, attempts, error_code, next_attempt_at > now(), id"
                                       " FROM whatsapp_messages")
    assert row[:4] == ("PENDING", 1, "130429", True)
    queued = owner_rows(owner_conninfo, "SELECT count(*) FROM procrastinate_jobs WHERE task_name ="
                                        " 'send_whatsapp_message' AND status = 'todo' AND scheduled_at > now()")
    assert queued == [(1,)]
    with app.app_context(), tenant(company.id):  # the retry, when it is due
        services.send_message(row[4])
    assert owner_rows(owner_conninfo, "SELECT status::text, attempts, error_code FROM whatsapp_messages") == [
        ("SENT", 2, None)]


@pytest.mark.parametrize("code", [131026, 132001, 131051, 190])
def test_an_error_that_retrying_cannot_fix_fails_at_once(app, shop, meta, owner_conninfo, code):  # noqa: F811
    company, integration_id, _ = shop
    FakeMeta.answers = [meta_error(code)]
    order_id = add_order(app, company, integration_id, order_type="PICKUP")
    accept(app, company, order_id)
    run_worker(app, concurrency=1, wait=False)
    assert len(FakeMeta.received) == 1
    assert owner_rows(owner_conninfo, "SELECT status::text, attempts, error_code, failed_at IS NOT NULL"
                                      " FROM whatsapp_messages") == [("FAILED", 1, str(code), True)]


def test_an_opted_out_customer_gets_nothing(app, shop, meta, owner_conninfo):  # noqa: F811
    company, integration_id, _ = shop
    with app.app_context(), tenant(company.id):
        db.session.add(WhatsappContact(company_id=company.id, phone="+966551234567",
                                       opted_out_at=datetime.now(timezone.utc)))
        db.session.commit()
    accept(app, company, add_order(app, company, integration_id, order_type="PICKUP"))
    run_worker(app, concurrency=1, wait=False)
    assert FakeMeta.received == []
    [row] = messages(owner_conninfo)
    assert row[1] == "SKIPPED"


def test_opting_out_after_the_message_was_queued_still_stops_it(app, shop, meta, owner_conninfo):  # noqa: F811
    company, integration_id, _ = shop
    accept(app, company, add_order(app, company, integration_id, order_type="PICKUP"))
    owner_execute(owner_conninfo, "INSERT INTO whatsapp_contacts (company_id, phone, opted_out_at)"
                                  " VALUES (%s, '+966551234567', now())", company.id)
    run_worker(app, concurrency=1, wait=False)
    assert FakeMeta.received == []
    assert owner_rows(owner_conninfo, "SELECT status::text, error_message FROM whatsapp_messages") == [
        ("SKIPPED", "The customer asked not to receive messages (STOP).")]


def test_the_customers_language_picks_the_template(app, shop, meta, owner_conninfo):  # noqa: F811
    company, integration_id, _ = shop
    owner_execute(owner_conninfo, "INSERT INTO whatsapp_contacts (company_id, phone, language)"
                                  " VALUES (%s, '+966551234567', 'ar')", company.id)
    accept(app, company, add_order(app, company, integration_id, order_type="PICKUP"))
    [(_, _, _, language, content, _, _)] = messages(owner_conninfo)
    assert language == "ar" and content.startswith("أهلاً Noura، قبل Kabsa House طلبك رقم")


def test_no_approved_template_or_no_number_is_recorded_not_sent(app, shop, owner_conninfo):
    company, integration_id, _ = shop
    with app.app_context(), tenant(company.id):
        for template in db.session.scalars(db.select(WhatsappTemplate).where(WhatsappTemplate.name == "order_ready")):
            template.status = "PENDING"
        db.session.commit()
    order_id = add_order(app, company, integration_id, status="IN_PREPARATION", order_type="PICKUP")
    with app.app_context(), tenant(company.id):
        perform(order_id, "ready", db.session.get(User, company.user_id("USER")))
    assert owner_rows(owner_conninfo, "SELECT event, status::text, error_message FROM whatsapp_messages") == [
        ("ORDER_READY", "SKIPPED", "No approved template named order_ready.")]
    owner_execute(owner_conninfo, "UPDATE delivery_orders SET customer_phone = '0000' WHERE id = %s", order_id)
    other = add_order(app, company, integration_id, status="PENDING", order_type="PICKUP")
    owner_execute(owner_conninfo, "UPDATE delivery_orders SET customer_phone = NULL WHERE id = %s", other)
    accept(app, company, other)
    assert owner_rows(owner_conninfo, "SELECT status::text, error_message FROM whatsapp_messages"
                                      " WHERE event = 'ORDER_ACCEPTED'") == [
        ("SKIPPED", "No WhatsApp number is known for this customer.")]


def test_free_text_only_inside_the_24_hour_window(app, shop, meta, owner_conninfo):  # noqa: F811
    company, _, _ = shop
    with app.app_context(), tenant(company.id):
        with pytest.raises(services.SendRefused, match="24 hours"):
            services.send_test(company.id, "+966551234567", text="Your table is ready")
        db.session.rollback()
    owner_execute(owner_conninfo, "INSERT INTO whatsapp_contacts (company_id, phone, last_inbound_at)"
                                  " VALUES (%s, '+966551234567', now() - interval '23 hours')", company.id)
    with app.app_context(), tenant(company.id):
        services.send_test(company.id, "+966 55 123 4567", text="Your table is ready")
        db.session.commit()
    run_worker(app, concurrency=1, wait=False)
    assert FakeMeta.received[0][1]["type"] == "text"
    assert FakeMeta.received[0][1]["text"]["body"] == "Your table is ready"
    # The window closed between queueing and sending: the worker refuses too.
    with app.app_context(), tenant(company.id):
        message = services.send_test(company.id, "+966551234567", text="Still there?")
        db.session.commit()
        message_id = message.id
    owner_execute(owner_conninfo, "UPDATE whatsapp_contacts SET last_inbound_at = now() - interval '25 hours'")
    with app.app_context(), tenant(company.id):
        services.send_message(message_id)
    assert owner_rows(owner_conninfo, "SELECT status::text FROM whatsapp_messages WHERE id = %s", message_id) == [
        ("SKIPPED",)]


def test_a_delivered_order_sends_its_points(app, make_company, make_integration, meta, owner_conninfo):  # noqa: F811
    from tests.loyalty.helpers import add_order as add_loyalty_order, make_program
    company = make_company("Kabsa House")
    integration_id = make_integration(company, "TALABAT", base_url="http://127.0.0.1:9/talabat")
    connect(app, company, meta.base_url, events=("POINTS_EARNED",))
    make_program(app, company)
    order_id = add_loyalty_order(app, company, integration_id)
    with app.app_context(), tenant(company.id):
        perform(order_id, "deliver", db.session.get(User, company.user_id("USER")))
    rows = owner_rows(owner_conninfo, "SELECT event, status::text, variables ->> 'points' FROM whatsapp_messages")
    assert rows and rows[0][0] == "POINTS_EARNED" and rows[0][1] == "PENDING" and int(rows[0][2]) > 0


def test_points_about_to_expire_are_announced_once(app, make_company, meta, owner_conninfo):  # noqa: F811
    from portal.tenancy import companies_with_expiry_reminders
    from tests.loyalty.helpers import make_program
    company = make_company("Kabsa House")
    make_company("Gulf Grill")  # a company without the rule is not asked
    connect(app, company, meta.base_url, events=("POINTS_EXPIRING",))
    program_id = make_program(app, company)
    owner_execute(owner_conninfo, "INSERT INTO whatsapp_templates (company_id, name, language, body, variables, status)"
                                  " VALUES (%s, 'points_expiring', 'en', 'Hi {{customer_name}}, {{points}} points"
                                  " expire on {{expiry_date}}. Use them soon!', '[\"customer_name\", \"points\","
                                  " \"expiry_date\"]', 'APPROVED')", company.id)
    owner_execute(owner_conninfo, "UPDATE whatsapp_notification_rules SET template_name = 'points_expiring'")
    member = uuid.uuid4()
    owner_execute(owner_conninfo, "INSERT INTO customer_loyalty (id, company_id, loyalty_program_id, customer_phone,"
                                  " customer_name, current_points) VALUES (%s, %s, %s, '+966551234567', 'Noura A', 90)",
                  member, company.id, program_id)
    for points, days in ((50, 3), (40, 5), (70, 30)):  # the last is beyond the week's notice
        owner_execute(owner_conninfo, "INSERT INTO loyalty_transactions (company_id, customer_loyalty_id,"
                                      " transaction_type, points, remaining_points, expires_at) VALUES"
                                      " (%s, %s, 'EARN', %s, %s, now() + make_interval(days => %s))",
                      company.id, member, points, points, days)
    with app.app_context():
        assert companies_with_expiry_reminders() == [company.id]
        with tenant(company.id):
            assert services.remind_expiring_points() == 1
            assert services.remind_expiring_points() == 0  # the next day's run: already told for that date
    [(event, content)] = owner_rows(owner_conninfo, "SELECT event, message_content FROM whatsapp_messages")
    assert event == "POINTS_EXPIRING" and content.startswith("Hi Noura, 90 points expire on ")
