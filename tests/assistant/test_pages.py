"""The web chat and the Inbox as people use them, with a fake classifier (the real one is another branch's):
the widget page and its messages, proving an order with its number and phone digits, handoff to staff,
a staff reply reaching the widget's poll, WhatsApp replies inside and outside the 24-hour window, close and
give back, the rate limits, isolation between browsers and companies, and the Inbox's figures."""
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from portal.assistant import services
from portal.extensions import limiter
from tests.conftest import csrf_token, owner_execute, owner_rows
from tests.orders.helpers import add_order

INTENTS = {"وين طلبي": ("order_status", 0.95), "where is my order": ("order_status", 0.95),
           "ابي اكلم موظف": ("human", 0.97), "hello": ("greeting", 0.9)}


def fake_classify(text):
    """Known phrases by a lookup; "<number> <4 digits>" is an order question; anything else is not understood."""
    if text in INTENTS:
        return services.Classified(*INTENTS[text])
    if re.fullmatch(r"#?\w+\s+\d{4}", text.strip()):
        return services.Classified("order_status", 0.9)
    return services.Classified("other", 0.2)


@pytest.fixture(autouse=True)
def classifier(monkeypatch):
    monkeypatch.setattr(services, "classify_message", fake_classify)


@pytest.fixture
def company(make_company):
    return make_company("Alpha Kitchen")


def public_id(conninfo, company):
    return owner_rows(conninfo, "SELECT public_chat_id FROM companies WHERE id = %s", company.id)[0][0]


class Widget:
    """One browser on one company's chat."""

    def __init__(self, client, chat_id):
        self.client, self.chat_id = client, chat_id

    @property
    def url(self):
        return f"/chat/{self.chat_id}"

    def open(self):
        return self.client.get(self.url)

    def say(self, text, htmx=True):
        token = csrf_token(self.client, self.url)
        headers = {"HX-Request": "true", "X-CSRFToken": token} if htmx else {}
        return self.client.post(f"{self.url}/messages", data={"text": text, "csrf_token": token}, headers=headers)

    def poll(self, after=""):
        return self.client.get(f"{self.url}/messages", query_string={"after": after}, headers={"HX-Request": "true"})


@pytest.fixture
def widget(app, company, owner_conninfo):
    return Widget(app.test_client(), public_id(owner_conninfo, company))


def sessions_of(conninfo, company):
    return owner_rows(conninfo, "SELECT id, status, handoff_reason, order_id, channel FROM ai_chatbot_sessions "
                                "WHERE company_id = %s ORDER BY started_at", company.id)


# --- The widget --------------------------------------------------------------------------------------

def test_the_widget_shows_the_company_and_answers(widget, company, owner_conninfo):
    page = widget.open()
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Alpha Kitchen" in html and 'name="csrf-token"' in html and "X-CSRFToken" in html
    assert "mainnav" not in html  # no staff navigation
    assert "Content-Security-Policy" in page.headers
    assert sessions_of(owner_conninfo, company) == []  # opening the page stores nothing

    answer = widget.say("hello")
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert 'id="chat-thread"' in text and "hello" in text and "I can tell you where your order is" in text
    assert len(sessions_of(owner_conninfo, company)) == 1


def test_without_javascript_the_form_posts_and_redirects_back(widget):
    response = widget.say("hello", htmx=False)
    assert response.status_code == 302 and response.headers["Location"].endswith(widget.url)
    assert "I can tell you where your order is" in widget.open().get_data(as_text=True)


def test_a_message_over_2000_characters_is_refused_clearly(widget, company, owner_conninfo):
    response = widget.say("x" * 2001)
    assert response.status_code == 422
    assert "too long" in response.get_data(as_text=True)
    assert sessions_of(owner_conninfo, company) == []


@pytest.mark.parametrize("state", ["suspended", "deleted", "unknown"])
def test_an_unknown_suspended_or_deleted_company_has_no_chat(client, company, owner_conninfo, state):
    chat_id = public_id(owner_conninfo, company)
    if state == "suspended":
        owner_execute(owner_conninfo, "UPDATE companies SET is_active = false WHERE id = %s", company.id)
    elif state == "deleted":
        owner_execute(owner_conninfo, "UPDATE companies SET deleted_at = now() WHERE id = %s", company.id)
    else:
        chat_id = uuid.uuid4().hex
    assert client.get(f"/chat/{chat_id}").status_code == 404


def test_an_order_is_shown_only_with_the_right_phone_digits(app, widget, company, make_integration, owner_conninfo):
    integration_id = make_integration(company, "NASHMI")
    add_order(app, company, integration_id, status="ACCEPTED", order_number="1042")  # phone +966551234567
    asked = widget.say("وين طلبي").get_data(as_text=True)
    assert "last 4 digits" in asked or "آخر" in asked
    wrong = widget.say("1042 9999").get_data(as_text=True)
    assert "could not find" in wrong or "ما لقيت" in wrong or "لم أجد" in wrong
    assert "#1042" not in wrong
    assert sessions_of(owner_conninfo, company)[0][3] is None
    right = widget.say("1042 4567").get_data(as_text=True)
    assert "#1042" in right
    assert sessions_of(owner_conninfo, company)[0][3] is not None


# --- Handoff and staff -------------------------------------------------------------------------------

def test_a_handoff_shows_in_the_inbox_and_the_reply_reaches_the_widget_poll(widget, company, auth, client,
                                                                           owner_conninfo):
    widget.say("hello")
    thread = widget.say("ابي اكلم موظف").get_data(as_text=True)
    after = re.search(r'after=([^"&]+)', thread).group(1).replace("%3A", ":").replace("%2B", "+")
    assert widget.poll(after).status_code == 204  # nothing new: cheap empty answer

    session_id, status, reason, *_ = sessions_of(owner_conninfo, company)[0]
    assert (status, reason) == ("STAFF", "asked_for_person")
    auth.login(company.email("USER"))
    inbox = client.get("/inbox/?tab=staff").get_data(as_text=True)
    assert "Web visitor" in inbox and "Asked for a person" in inbox and f"/inbox/{session_id}" in inbox
    assert '<span class="nav-badge"' in inbox

    page = client.get(f"/inbox/{session_id}")
    assert page.status_code == 200
    response = auth.post(f"/inbox/{session_id}/reply", {"text": "أهلاً، معك سارة من الفريق"}, page=f"/inbox/{session_id}")
    assert response.status_code == 302

    polled = widget.poll(after)
    assert polled.status_code == 200
    assert "معك سارة" in polled.get_data(as_text=True) and "Team" in polled.get_data(as_text=True)
    # While staff hold it the assistant stays quiet.
    widget.say("شكرا")
    rows = owner_rows(owner_conninfo, "SELECT sender FROM chat_messages WHERE chatbot_session_id = %s "
                                      "ORDER BY created_at DESC LIMIT 1", session_id)
    assert rows[0][0] == "CUSTOMER"


def test_the_inbox_list_answers_204_while_nothing_changed(widget, company, auth, client):
    widget.say("hello")
    auth.login(company.email("USER"))
    page = client.get("/inbox/").get_data(as_text=True)
    version = re.search(r"since=([0-9a-f]{16})", page).group(1)
    assert client.get("/inbox/conversations", query_string={"since": version},
                      headers={"HX-Request": "true"}).status_code == 204
    widget.say("ابي اكلم موظف")
    changed = client.get("/inbox/conversations", query_string={"since": version}, headers={"HX-Request": "true"})
    assert changed.status_code == 200 and 'id="inbox-list"' in changed.get_data(as_text=True)


def test_close_and_give_back(widget, company, auth, client, owner_conninfo):
    widget.say("ابي اكلم موظف")
    session_id = sessions_of(owner_conninfo, company)[0][0]
    auth.login(company.email("USER"))
    page = f"/inbox/{session_id}"
    assert auth.post(f"/inbox/{session_id}/give-back", page=page).status_code == 302
    assert sessions_of(owner_conninfo, company)[0][1] == "ASSISTANT"
    assert "I can tell you" in widget.say("hello").get_data(as_text=True)  # the assistant answers again
    assert auth.post(f"/inbox/{session_id}/close", page=page).status_code == 302
    assert sessions_of(owner_conninfo, company)[0][1] == "CLOSED"
    refused = auth.post(f"/inbox/{session_id}/reply", {"text": "hi"}, page=page)
    assert refused.status_code == 422 and "closed" in refused.get_data(as_text=True)
    widget.say("hello")  # writing again reopens it, with the assistant
    assert sessions_of(owner_conninfo, company)[0][1] == "ASSISTANT"


def _whatsapp_conversation(app, company, phone):
    from portal.extensions import db
    from portal.tenancy import tenant
    with app.app_context(), tenant(company.id):
        session = services.whatsapp_session(company.id, phone)
        services.customer_says(session, "ابي اكلم موظف", classify=fake_classify)
        db.session.commit()
        return session.id


@pytest.mark.parametrize("window_open", [True, False])
def test_a_staff_reply_on_whatsapp_needs_the_24_hour_window(app, company, auth, client, owner_conninfo, window_open):
    from tests.messaging.whatsapp import connect
    phone = "+966501234567"
    connect(app, company, "http://127.0.0.1:9/v23.0")
    last = datetime.now(timezone.utc) - (timedelta(minutes=5) if window_open else timedelta(hours=30))
    owner_execute(owner_conninfo, "INSERT INTO whatsapp_contacts (id, company_id, phone, last_inbound_at) "
                                  "VALUES (%s, %s, %s, %s)", uuid.uuid4(), company.id, phone, last)
    session_id = _whatsapp_conversation(app, company, phone)
    owner_execute(owner_conninfo, "DELETE FROM whatsapp_messages WHERE company_id = %s", company.id)
    auth.login(company.email("USER"))
    inbox = client.get("/inbox/").get_data(as_text=True)
    assert "+9665•••••567" in inbox and phone not in inbox  # staff see the number masked
    response = auth.post(f"/inbox/{session_id}/reply", {"text": "We are on it"}, page="/inbox/")
    queued = owner_rows(owner_conninfo, "SELECT message_type, message_content, recipient_phone FROM whatsapp_messages "
                                        "WHERE company_id = %s", company.id)
    if window_open:
        assert response.status_code == 302
        assert [tuple(row) for row in queued] == [("TEXT", "We are on it", phone)]
    else:
        assert response.status_code == 422
        assert "24 hours" in response.get_data(as_text=True)
        assert queued == []


# --- Limits and isolation ----------------------------------------------------------------------------

@pytest.fixture
def limits(app):
    app.config.update(CHAT_RATE_LIMIT_ADDRESS="4 per minute", CHAT_RATE_LIMIT_CONVERSATION="2 per minute")
    limiter.enabled = True
    yield
    app.config.update(CHAT_RATE_LIMIT_ADDRESS="30 per minute", CHAT_RATE_LIMIT_CONVERSATION="10 per minute")


def test_one_conversation_may_send_only_so_many_messages(app, widget, limits):
    assert [widget.say("hello").status_code for _ in range(3)] == [200, 200, 429]
    assert "very quickly" in widget.say("hello").get_data(as_text=True)
    other = Widget(app.test_client(), widget.chat_id)  # another browser from the same address still may
    assert other.say("hello").status_code == 200


def test_one_address_may_send_only_so_many_messages(app, widget, limits):
    browsers = [Widget(app.test_client(), widget.chat_id) for _ in range(3)]
    codes = [browser.say("hello").status_code for browser in browsers for _ in range(2)]
    assert codes.count(429) == 2 and codes[:4] == [200, 200, 200, 200]


def test_two_browsers_never_see_each_others_messages(app, widget):
    other = Widget(app.test_client(), widget.chat_id)
    widget.say("my secret order question")
    other.say("hello")
    assert "my secret order question" not in other.open().get_data(as_text=True)
    assert "my secret order question" not in other.poll().get_data(as_text=True)
    assert "my secret order question" in widget.open().get_data(as_text=True)


def test_another_companys_chat_is_a_new_empty_conversation(app, widget, make_company, owner_conninfo):
    beta = make_company("Beta Grill")
    widget.say("alpha only words")
    elsewhere = Widget(widget.client, public_id(owner_conninfo, beta))
    page = elsewhere.open().get_data(as_text=True)
    assert "Beta Grill" in page and "alpha only words" not in page
    assert elsewhere.poll().status_code == 204
    elsewhere.say("hello")
    assert "alpha only words" not in elsewhere.open().get_data(as_text=True)
    assert len(sessions_of(owner_conninfo, beta)) == 1


def test_a_user_of_one_company_cannot_open_anothers_conversation(app, widget, company, make_company, auth, client,
                                                                 owner_conninfo):
    beta = make_company("Beta Grill")
    Widget(app.test_client(), public_id(owner_conninfo, beta)).say("ابي اكلم موظف")
    beta_session = sessions_of(owner_conninfo, beta)[0][0]
    auth.login(company.email("USER"))
    assert client.get(f"/inbox/{beta_session}").status_code == 404
    assert client.get(f"/inbox/{beta_session}/messages").status_code == 404
    assert auth.post(f"/inbox/{beta_session}/reply", {"text": "hi"}, page="/inbox/").status_code == 404
    assert "Beta" not in client.get("/inbox/").get_data(as_text=True)


# --- Answers and figures -----------------------------------------------------------------------------

def test_the_answers_page_shows_every_template_in_both_languages(company, auth, client):
    auth.login(company.email("USER"))
    assert client.get("/inbox/answers").status_code == 403
    auth.logout()
    auth.login(company.email("MANAGER"))
    page = client.get("/inbox/answers").get_data(as_text=True)
    assert "Order status with ETA" in page and "order_status_eta" in page
    assert page.count('class="card answer-card"') == len(services.answer_texts("en"))


def test_the_inbox_figures(app, company, auth, client, owner_conninfo):
    from portal.assistant import queries
    from portal.tenancy import tenant
    now = datetime.now(timezone.utc)
    for days_ago, handed in ((0, False), (0, True), (3, False), (40, False)):
        session_id = uuid.uuid4()
        owner_execute(owner_conninfo, "INSERT INTO ai_chatbot_sessions (id, company_id, session_id, channel, started_at,"
                                      " handed_off_at, messages_count) VALUES (%s, %s, %s, 'WEB_WIDGET', %s, %s, 1)",
                      session_id, company.id, f"web:{session_id}", now - timedelta(days=days_ago),
                      now if handed else None)
        owner_execute(owner_conninfo, "INSERT INTO chat_messages (company_id, chatbot_session_id, sender, content, "
                                      "intent, created_at) VALUES (%s, %s, 'CUSTOMER', 'x', %s, %s)",
                      company.id, session_id, "menu" if days_ago else "order_status", now - timedelta(days=days_ago))
    with app.app_context(), tenant(company.id):
        figures = queries.figures("Asia/Riyadh", now=now)
    assert (figures.total, figures.without_staff, figures.without_staff_share) == (3, 2, 67)
    assert len(figures.days) == 30 and figures.days[-1][1] == 2 and sum(count for _, count in figures.days) == 3
    assert dict(figures.intents) == {"order_status": 2, "menu": 1}
    auth.login(company.email("MANAGER"))
    page = client.get("/inbox/").get_data(as_text=True)
    assert "inbox-chart-data" in page and "67 %" in page and "/chat/" in page
    auth.logout()
    auth.login(company.email("USER"))
    assert "inbox-chart-data" not in client.get("/inbox/").get_data(as_text=True)


def test_the_inbox_shows_fifty_conversations_then_older_ones_on_request(company, auth, client, owner_conninfo):
    from tests.conftest import owner_execute
    owner_execute(owner_conninfo, "INSERT INTO ai_chatbot_sessions (company_id, session_id, channel, messages_count,"
                                  " last_message_at) SELECT %s, 'older-' || n, 'WEB_WIDGET', 1,"
                                  " now() - make_interval(mins => n) FROM generate_series(1, 60) n", company.id)
    auth.login(company.email("USER"))
    first = client.get("/inbox/").get_data(as_text=True)
    assert first.count('<li class="inbox-row card') == 50 and "Show older conversations" in first
    older = client.get("/inbox/?page=2").get_data(as_text=True)
    assert older.count('<li class="inbox-row card') == 60 and "Show older conversations" not in older
