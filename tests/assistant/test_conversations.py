"""The assistant answers from real rows in the customer's language, proves who is asking, and hands off.

The classifier is replaced here by a fixed intent per test (its own tests measure it): these tests are
about what the assistant does with an intent.
"""
import time
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from portal.assistant import services
from portal.assistant.services import Classified, ConversationError
from portal.extensions import db
from portal.models import AiChatbotSession, Product, User
from portal.tenancy import tenant
from tests.conftest import owner_execute, owner_rows
from tests.messaging.whatsapp import connect, inbound_webhook, post_webhook
from tests.orders.helpers import add_order

PHONE = "+966551234567"  # the helpers' orders are placed from this number


def says(intent, confidence=0.9):
    return lambda text: Classified(intent, confidence)


@pytest.fixture
def shop(app, make_company, make_integration):
    company = make_company("Kabsa House")
    integration_id = make_integration(company, "NASHMI", base_url="http://127.0.0.1:9/nashmi")
    return company, integration_id


def whatsapp(app, company, phone=PHONE):
    with app.app_context(), tenant(company.id):
        session = services.whatsapp_session(company.id, phone)
        db.session.commit()
        return session.id


def widget(app, company, token="browser-one"):
    with app.app_context(), tenant(company.id):
        session = services.widget_session(company.id, token)
        db.session.commit()
        return session.id


def ask(app, company, session_id, text, intent, confidence=0.9):
    """The customer writes; returns (the assistant's reply or None, the session's status)."""
    with app.app_context(), tenant(company.id):
        session = db.session.get(AiChatbotSession, session_id)
        reply = services.customer_says(session, text, classify=says(intent, confidence))
        db.session.commit()
        return (reply.content if reply else None), session.status


def test_where_is_my_order_on_whatsapp_answers_from_the_latest_order(app, shop):
    company, integration_id = shop
    add_order(app, company, integration_id, status="DELIVERED", order_number="OLD1", minutes_ago=600)
    add_order(app, company, integration_id, status="ACCEPTED", order_number="NEW2",
              accepted_at=datetime.now(timezone.utc), preparation_minutes=20)
    session_id = whatsapp(app, company)
    reply, status = ask(app, company, session_id, "وين طلبي", "order_status")
    assert reply.startswith("الطلب رقم NEW2") or "NEW2" in reply
    assert "مقبول" in reply and status == "ASSISTANT"
    english, _ = ask(app, company, session_id, "wheres my order", "order_status")
    assert english.startswith("Order #NEW2 is accepted. Expected by ")


def test_the_widget_needs_the_order_number_and_the_last_four_digits(app, shop):
    company, integration_id = shop
    add_order(app, company, integration_id, status="READY_FOR_PICKUP", order_number="A7042")
    session_id = widget(app, company)
    asked, _ = ask(app, company, session_id, "where is my order", "order_status")
    assert "last 4 digits" in asked
    alone, _ = ask(app, company, session_id, "my order is A7042", "order_status")  # the number alone proves nothing
    assert "A7042" not in alone and "last 4 digits" in alone
    wrong, _ = ask(app, company, session_id, "A7042 1111", "order_status")
    assert "could not find" in wrong and "ready" not in wrong
    right, _ = ask(app, company, session_id, "A7042 ٤٥٦٧", "order_status")  # Arabic-Indic digits too
    assert right == "Order #A7042 is ready."
    again, _ = ask(app, company, session_id, "and now?", "order_status")  # proved once for this conversation
    assert "A7042" in again


def test_another_browser_or_company_learns_nothing(app, shop, make_company, owner_conninfo):
    company, integration_id = shop
    add_order(app, company, integration_id, order_number="A7042")
    mine = widget(app, company, "browser-one")
    ask(app, company, mine, "A7042 4567", "order_status")
    theirs = widget(app, company, "browser-two")
    answer, _ = ask(app, company, theirs, "where is it", "order_status")
    assert "A7042" not in answer
    other = make_company("Beta Grill")
    elsewhere = widget(app, other, "browser-one")
    answer, _ = ask(app, other, elsewhere, "A7042 4567", "order_status")
    assert "could not find" in answer
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM ai_chatbot_sessions") == [(3,)]


def add_product(owner_conninfo, company, name, name_ar, price, available=True):
    product_id = uuid.uuid4()
    owner_execute(owner_conninfo, "INSERT INTO products (id, company_id, local_product_id, name, name_ar, price,"
                                  " is_available) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                  product_id, company.id, f"P-{product_id.hex[:6]}", name, name_ar, price, available)
    return product_id


def test_menu_questions_get_prices_and_what_is_sold_out(app, shop, owner_conninfo):
    company, _ = shop
    add_product(owner_conninfo, company, "Chicken Shawarma", "شاورما دجاج", "18.00")
    kunafa = add_product(owner_conninfo, company, "Kunafa", "كنافة", "22.50")
    session_id = whatsapp(app, company)
    arabic, _ = ask(app, company, session_id, "كم سعر الشاورما؟", "menu")
    assert "شاورما دجاج" in arabic and "18.00" in arabic
    english, _ = ask(app, company, session_id, "do u have shawrma", "menu")  # a typo still finds it
    assert english.startswith("Chicken Shawarma costs SAR") and "available now" in english
    with app.app_context(), tenant(company.id):
        from portal.menu.availability import sell_out
        sell_out(_company(company), db.session.get(Product, kunafa), "INDEFINITE")
        db.session.commit()
    sold, _ = ask(app, company, session_id, "kunafa?", "menu")
    assert sold == "Sorry, Kunafa is sold out right now."
    unknown, _ = ask(app, company, session_id, "do you have sushi", "menu")
    assert unknown.startswith("I couldn't find that on our menu") and "Chicken Shawarma" in unknown


def _company(company):
    from portal.models import Company
    return db.session.get(Company, company.id)


def test_opening_hours_come_from_company_settings(app, shop, owner_conninfo):
    company, _ = shop
    session_id = whatsapp(app, company)
    always, _ = ask(app, company, session_id, "r u open", "opening_hours")
    assert always == "We are open now."
    local = datetime.now(ZoneInfo("Asia/Riyadh"))
    opens, closes = (local + timedelta(hours=2)).replace(second=0, microsecond=0), None
    closes = opens + timedelta(minutes=30)
    for weekday in range(7):  # open every day for half an hour, starting two hours from now
        owner_execute(owner_conninfo, "INSERT INTO opening_hours (company_id, weekday, opens_at, closes_at)"
                                      " VALUES (%s, %s, %s, %s)", company.id, weekday, opens.time(), closes.time())
    closed, _ = ask(app, company, session_id, "when do you open", "opening_hours")
    assert closed.startswith("We are closed now. We open again ") and opens.strftime("%H:%M") in closed
    owner_execute(owner_conninfo, "UPDATE opening_hours SET opens_at = %s, closes_at = %s",
                  (local - timedelta(minutes=5)).time(), (local + timedelta(minutes=40)).time())
    open_now, _ = ask(app, company, session_id, "مفتوحين الحين؟", "opening_hours")
    assert (local + timedelta(minutes=40)).strftime("%H:%M") in open_now


def test_points_and_what_expires_soon(app, shop, owner_conninfo):
    from tests.loyalty.helpers import make_program
    company, _ = shop
    program_id = make_program(app, company)
    member = uuid.uuid4()
    owner_execute(owner_conninfo, "INSERT INTO customer_loyalty (id, company_id, loyalty_program_id, customer_phone,"
                                  " current_points) VALUES (%s, %s, %s, %s, 340)", member, company.id, program_id, PHONE)
    owner_execute(owner_conninfo, "INSERT INTO loyalty_transactions (company_id, customer_loyalty_id, transaction_type,"
                                  " points, remaining_points, expires_at) VALUES (%s, %s, 'EARN', 100, 80,"
                                  " now() + interval '10 days')", company.id, member)
    session_id = whatsapp(app, company)
    reply, _ = ask(app, company, session_id, "kam no8a6i", "loyalty_balance")
    assert reply.startswith("You have 340 points; 80 of them expire on ")
    web = widget(app, company)
    asked, _ = ask(app, company, web, "how many points do i have", "loyalty_balance")
    assert "last 4 digits" in asked and "340" not in asked


@pytest.mark.parametrize("intent, reason", [("complaint", "complaint"), ("human", "asked_for_person")])
def test_a_complaint_or_a_person_asked_for_goes_to_staff(app, shop, owner_conninfo, intent, reason):
    company, _ = shop
    session_id = whatsapp(app, company)
    reply, status = ask(app, company, session_id, "my food is cold", intent)
    assert status == "STAFF" and "passing you to our team" in reply
    assert owner_rows(owner_conninfo, "SELECT handoff_reason, handed_off_at IS NOT NULL FROM ai_chatbot_sessions") == [
        (reason, True)]
    quiet, status = ask(app, company, session_id, "hello??", "greeting")  # staff hold it: the assistant waits
    assert quiet is None and status == "STAFF"


def test_low_confidence_or_two_misunderstandings_go_to_staff(app, shop, owner_conninfo):
    company, _ = shop
    session_id = whatsapp(app, company)
    first, status = ask(app, company, session_id, "blorp", "menu", confidence=0.2)
    assert status == "ASSISTANT" and "didn't understand" in first
    second, status = ask(app, company, session_id, "franchise?", "other")
    assert status == "STAFF"
    [(reason, misunderstood)] = owner_rows(owner_conninfo, "SELECT handoff_reason, misunderstood FROM"
                                                           " ai_chatbot_sessions")
    assert reason in ("misunderstood_twice", "low_confidence") and misunderstood == 0
    understood = whatsapp(app, company, "+966500000001")
    ask(app, company, understood, "blorp", "other")
    _, status = ask(app, company, understood, "hi", "greeting")  # understood in between: the count restarts
    _, status = ask(app, company, understood, "blorp", "other")
    assert status == "ASSISTANT"


def test_staff_reply_close_and_give_back(app, shop, owner_conninfo):
    company, _ = shop
    session_id = widget(app, company)
    ask(app, company, session_id, "ابي اكلم موظف", "human")
    with app.app_context(), tenant(company.id):
        session = db.session.get(AiChatbotSession, session_id)
        staff = db.session.get(User, company.user_id("USER"))
        services.staff_reply(session, staff, "أهلاً، كيف نقدر نساعدك؟")
        services.give_back(session, staff)
        db.session.commit()
    reply, status = ask(app, company, session_id, "hi", "greeting")
    assert status == "ASSISTANT" and reply
    with app.app_context(), tenant(company.id):
        session = db.session.get(AiChatbotSession, session_id)
        services.close(session)
        db.session.commit()
        with pytest.raises(ConversationError):
            services.staff_reply(session, db.session.get(User, company.user_id("USER")), "still there?")
    _, status = ask(app, company, session_id, "hello again", "greeting")  # writing again reopens it
    assert status == "ASSISTANT"
    senders = owner_rows(owner_conninfo, "SELECT sender, user_id IS NOT NULL FROM chat_messages ORDER BY created_at")
    assert ("STAFF", True) in senders and senders[0] == ("CUSTOMER", False)
    assert owner_rows(owner_conninfo, "SELECT messages_count FROM ai_chatbot_sessions") == [(len(senders),)]


def test_a_staff_reply_on_whatsapp_needs_the_24_hour_window(app, shop, owner_conninfo):
    company, _ = shop
    connect(app, company, "http://127.0.0.1:9/v23.0")
    session_id = whatsapp(app, company)
    with app.app_context(), tenant(company.id):
        session = db.session.get(AiChatbotSession, session_id)
        with pytest.raises(ConversationError, match="24 hours"):
            services.staff_reply(session, db.session.get(User, company.user_id("USER")), "Hello")
        db.session.rollback()
    owner_execute(owner_conninfo, "INSERT INTO whatsapp_contacts (company_id, phone, last_inbound_at)"
                                  " VALUES (%s, %s, now())", company.id, PHONE)
    with app.app_context(), tenant(company.id):
        session = db.session.get(AiChatbotSession, session_id)
        services.staff_reply(session, db.session.get(User, company.user_id("USER")), "Your order is on its way")
        db.session.commit()
    assert owner_rows(owner_conninfo, "SELECT message_type::text, message_content, status::text FROM"
                                      " whatsapp_messages") == [("TEXT", "Your order is on its way", "PENDING")]


def test_a_whatsapp_question_is_answered_on_whatsapp(app, client, shop, owner_conninfo, monkeypatch):
    company, integration_id = shop
    connection_id = connect(app, company, "http://127.0.0.1:9/v23.0")
    add_order(app, company, integration_id, status="ACCEPTED", order_number="W77",
              accepted_at=datetime.now(timezone.utc))
    monkeypatch.setattr(services, "classify_message", says("order_status"))
    body = inbound_webhook("وين طلبي", timestamp=int(time.time()))
    assert post_webhook(client, connection_id, body).status_code == 200
    assert post_webhook(client, connection_id, body).status_code == 200  # a duplicate delivery is answered once
    rows = owner_rows(owner_conninfo, "SELECT sender, content FROM chat_messages ORDER BY created_at")
    assert [sender for sender, _ in rows] == ["CUSTOMER", "ASSISTANT"] and "W77" in rows[1][1]
    assert owner_rows(owner_conninfo, "SELECT message_type::text, recipient_phone FROM whatsapp_messages") == [
        ("TEXT", PHONE)]


def test_the_session_records_intent_confidence_and_ending(app, shop, owner_conninfo):
    company, _ = shop
    session_id = whatsapp(app, company)
    ask(app, company, session_id, "hi", "greeting", confidence=0.87)
    with app.app_context(), tenant(company.id):
        services.close(db.session.get(AiChatbotSession, session_id))
        db.session.commit()
    assert owner_rows(owner_conninfo, "SELECT intent, confidence::float, messages_count, ended_at IS NOT NULL,"
                                      " status FROM ai_chatbot_sessions") == [("greeting", 0.87, 2, True, "CLOSED")]


def test_the_real_classifier_follows_a_widget_conversation(app, shop):
    """No fake here: "وين طلبي", then just the number and the digits, then a person."""
    company, integration_id = shop
    add_order(app, company, integration_id, status="ACCEPTED", order_number="1042",
              accepted_at=datetime.now(timezone.utc), preparation_minutes=25)
    session_id = widget(app, company)
    with app.app_context(), tenant(company.id):
        session = db.session.get(AiChatbotSession, session_id)
        first = services.customer_says(session, "وين طلبي")
        assert first.answer_key == "order_ask_identity" and first.intent == "order_status"
        second = services.customer_says(session, "1042 ٤٥٦٧")
        assert second.answer_key == "order_status_eta" and "1042" in second.content
        third = services.customer_says(session, "ابي اكلم موظف")
        assert third.answer_key in ("handoff", "handoff_closed") and session.status == "STAFF"
        db.session.commit()


def test_conversation_replies_are_labelled_as_such_on_the_messages_page(app, shop, owner_conninfo):
    company, _ = shop
    connect(app, company, "http://127.0.0.1:9/v23.0")
    owner_execute(owner_conninfo, "INSERT INTO whatsapp_contacts (company_id, phone, last_inbound_at)"
                                  " VALUES (%s, %s, now())", company.id, PHONE)
    session_id = whatsapp(app, company)
    with app.app_context(), tenant(company.id):
        services.staff_reply(db.session.get(AiChatbotSession, session_id),
                             db.session.get(User, company.user_id("USER")), "On its way")
        db.session.commit()
    assert owner_rows(owner_conninfo, "SELECT event FROM whatsapp_messages") == [("CONVERSATION",)]


def test_with_the_assistant_off_people_answer_everything(app, shop, owner_conninfo):
    company, _ = shop
    owner_execute(owner_conninfo, "UPDATE companies SET assistant_enabled = false WHERE id = %s", company.id)
    session_id = whatsapp(app, company)
    reply, status = ask(app, company, session_id, "hi", "greeting")
    assert reply is None and status == "STAFF"
    assert owner_rows(owner_conninfo, "SELECT handoff_reason FROM ai_chatbot_sessions") == [("assistant_off",)]
    with app.app_context(), tenant(company.id), pytest.raises(ConversationError, match="turned off"):
        services.give_back(db.session.get(AiChatbotSession, session_id))
