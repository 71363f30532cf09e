"""The WhatsApp pages as people use them: templates with Meta's rules and a live preview, notification rules,
the connection (secrets never shown back), the message list and its figures, a message's timeline, the
order page's panel for staff, roles and tenants."""
import re
import uuid
from datetime import datetime, timezone

import pytest

from tests.conftest import csrf_token, owner_execute, owner_rows

TEMPLATE = {"name": "order_ready", "language": "ar", "category": "UTILITY", "status": "APPROVED",
            "body": "مرحبا {{customer_name}}، طلبك رقم {{order_number}} جاهز للاستلام.", "rejection_reason": ""}


def _templates(conninfo, company_id):
    return owner_rows(conninfo, "SELECT name, language, status, variables FROM whatsapp_templates "
                                "WHERE company_id = %s ORDER BY name, language", company_id)


def add_template(conninfo, company_id, name="order_ready", language="ar", status="APPROVED", body=None):
    template_id = uuid.uuid4()
    owner_execute(conninfo, "INSERT INTO whatsapp_templates (id, company_id, name, language, category, body, "
                            "variables, status) VALUES (%s, %s, %s, %s, 'UTILITY', %s, '[\"order_number\"]', %s)",
                  template_id, company_id, name, language, body or "Order {{order_number}} is ready.", status)
    return template_id


def add_message(conninfo, company_id, template_id=None, status="DELIVERED", phone="+966501234567", created=None,
                order_id=None, error_code=None, error_message=None, event="ORDER_READY"):
    message_id = uuid.uuid4()
    created = created or datetime.now(timezone.utc)
    sent = created if status in ("SENT", "DELIVERED", "READ") else None
    delivered = created if status in ("DELIVERED", "READ") else None
    read = created if status == "READ" else None
    failed = created if status == "FAILED" else None
    owner_execute(conninfo, "INSERT INTO whatsapp_messages (id, company_id, recipient_phone, message_content, "
                            "message_type, template_id, status, event, order_id, dedupe_key, created_at, sent_at, "
                            "delivered_at, read_at, failed_at, error_code, error_message, language) VALUES "
                            "(%s, %s, %s, 'Order 1042 is ready.', 'TEMPLATE', %s, %s, %s, %s, %s, %s, %s, %s, %s, "
                            "%s, %s, %s, 'ar')",
                  message_id, company_id, phone, template_id, status, event, order_id, f"k:{message_id}", created,
                  sent, delivered, read, failed, error_code, error_message)
    return message_id


def _field_block(page, field):
    """The rendered field (label, input, errors) named `field`."""
    match = re.search(rf'<div class="field[^"]*">\s*<label for="{field}".*?</div>', page, re.S)
    assert match, f"no field {field}"
    return match.group(0)


@pytest.fixture
def company(make_company):
    return make_company("Alpha Kitchen")


# --- Templates ------------------------------------------------------------------------------------

def test_manager_adds_edits_and_removes_a_template(client, auth, company, owner_conninfo):
    auth.login(company.email("MANAGER"))
    page = client.get("/messages/templates").get_data(as_text=True)
    assert "No templates yet" in page

    response = auth.post("/messages/templates", TEMPLATE, page="/messages/templates/new")
    assert response.status_code == 302
    assert _templates(owner_conninfo, company.id) == [("order_ready", "ar", "APPROVED",
                                                       ["customer_name", "order_number"])]
    page = client.get("/messages/templates").get_data(as_text=True)
    assert "order_ready" in page and "Approved" in page and "طلبك رقم" in page
    template_id = owner_rows(owner_conninfo, "SELECT id FROM whatsapp_templates")[0][0]

    edited = {**TEMPLATE, "status": "REJECTED", "rejection_reason": "INVALID_FORMAT",
              "body": "طلبك {{order_number}} جاهز"}
    response = auth.post(f"/messages/templates/{template_id}", edited, page="/messages/templates")
    assert response.status_code == 302
    assert _templates(owner_conninfo, company.id) == [("order_ready", "ar", "REJECTED", ["order_number"])]
    assert "INVALID_FORMAT" in client.get("/messages/templates").get_data(as_text=True)

    response = auth.post(f"/messages/templates/{template_id}/delete", page="/messages/templates")
    assert response.status_code == 302
    assert _templates(owner_conninfo, company.id) == []


@pytest.mark.parametrize("changes, field, message", [
    ({"body": "Hello {{nickname}}, your order is ready"}, "body", "Unknown variable {{nickname}}"),
    ({"body": "   "}, "body", "Write the message."),
    ({"body": "x" * 1025}, "body", "At most 1024 characters (this has 1025)"),
    ({"body": "{{customer_name}} your order is ready"}, "body", "starts or ends with a variable"),
    ({"name": "Order Ready"}, "name", "lowercase letters, digits and _ only"),
])
def test_a_template_meta_would_refuse_is_shown_next_to_its_field(client, auth, company, owner_conninfo, changes,
                                                                  field, message):
    auth.login(company.email("MANAGER"))
    response = auth.post("/messages/templates", {**TEMPLATE, **changes}, page="/messages/templates/new")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in _field_block(page, field)
    assert _templates(owner_conninfo, company.id) == []


def test_the_same_name_and_language_twice_is_a_field_error_not_a_500(client, auth, company, owner_conninfo):
    auth.login(company.email("MANAGER"))
    assert auth.post("/messages/templates", TEMPLATE, page="/messages/templates/new").status_code == 302
    response = auth.post("/messages/templates", TEMPLATE, page="/messages/templates/new")
    assert response.status_code == 422
    assert "already exists in this language" in _field_block(response.get_data(as_text=True), "name")
    english = {**TEMPLATE, "language": "en", "body": "Hi {{customer_name}}, order {{order_number}} is ready."}
    assert auth.post("/messages/templates", english, page="/messages/templates/new").status_code == 302
    assert [row[:2] for row in _templates(owner_conninfo, company.id)] == [("order_ready", "ar"),
                                                                           ("order_ready", "en")]
    # Renaming the English one onto the Arabic one's key is refused the same way.
    template_id = owner_rows(owner_conninfo, "SELECT id FROM whatsapp_templates WHERE language = 'en'")[0][0]
    response = auth.post(f"/messages/templates/{template_id}", {**english, "language": "ar"},
                         page="/messages/templates")
    assert response.status_code == 422
    assert "already exists in this language" in response.get_data(as_text=True)


def test_live_preview_fills_the_arabic_body_right_to_left(client, auth, company):
    auth.login(company.email("MANAGER"))
    token = csrf_token(client, "/messages/templates/new")
    response = client.post("/messages/templates/preview", data={**TEMPLATE, "csrf_token": token},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<section class="card wa-preview" id="template-preview"')
    assert re.search(r'<p class="wa-bubble" dir="rtl" lang="ar">مرحبا سارة، طلبك رقم 1042', fragment)
    assert re.search(r'<p class="wa-bubble" dir="ltr" lang="en">مرحبا Sara', fragment)
    assert f"{len(TEMPLATE['body'])} of 1024 characters" in fragment
    refused = client.post("/messages/templates/preview", data={**TEMPLATE, "body": "Hi {{nope}} there",
                                                               "csrf_token": token}, headers={"HX-Request": "true"})
    assert "Unknown variable {{nope}}" in refused.get_data(as_text=True)


def test_a_template_messages_were_sent_with_stays(client, auth, company, owner_conninfo):
    template_id = add_template(owner_conninfo, company.id)
    add_message(owner_conninfo, company.id, template_id)
    auth.login(company.email("MANAGER"))
    response = auth.post(f"/messages/templates/{template_id}/delete", page="/messages/templates",
                         follow_redirects=True)
    assert "Set its status to Disabled instead" in response.get_data(as_text=True)
    assert len(_templates(owner_conninfo, company.id)) == 1


# --- Notification rules ---------------------------------------------------------------------------

def _rules(conninfo, company_id):
    return owner_rows(conninfo, "SELECT event, template_name, is_enabled FROM whatsapp_notification_rules "
                                "WHERE company_id = %s ORDER BY event", company_id)


def test_rules_are_created_updated_and_removed(client, auth, company, owner_conninfo):
    add_template(owner_conninfo, company.id, "order_ready")
    add_template(owner_conninfo, company.id, "order_ready", language="en")
    add_template(owner_conninfo, company.id, "on_the_way", status="PENDING")
    auth.login(company.email("MANAGER"))
    page = client.get("/messages/notifications").get_data(as_text=True)
    assert page.count('<option value="order_ready">') == 6  # distinct names, once per event
    form = {"template_ORDER_READY": "order_ready", "enabled_ORDER_READY": "y",
            "template_ORDER_OUT_FOR_DELIVERY": "on_the_way"}
    assert auth.post("/messages/notifications", form, page="/messages/notifications").status_code == 302
    assert _rules(owner_conninfo, company.id) == [("ORDER_OUT_FOR_DELIVERY", "on_the_way", False),
                                                  ("ORDER_READY", "order_ready", True)]
    page = client.get("/messages/notifications").get_data(as_text=True)
    assert "No approved template has this name yet" in page  # on_the_way is still in review

    form = {"template_ORDER_READY": "", "template_ORDER_OUT_FOR_DELIVERY": "on_the_way",
            "enabled_ORDER_OUT_FOR_DELIVERY": "y"}
    assert auth.post("/messages/notifications", form, page="/messages/notifications").status_code == 302
    assert _rules(owner_conninfo, company.id) == [("ORDER_OUT_FOR_DELIVERY", "on_the_way", True)]

    response = auth.post("/messages/notifications", {"template_ORDER_READY": "not_a_template"},
                         page="/messages/notifications")
    assert response.status_code == 422
    assert _rules(owner_conninfo, company.id) == [("ORDER_OUT_FOR_DELIVERY", "on_the_way", True)]


# --- The connection -------------------------------------------------------------------------------

CONNECTION = {"phone_number_id": "106540352242922", "display_phone": "+966 50 123 4567",
              "access_token": "EAAG-secret-token-123", "app_secret": "app-secret-456",
              "verify_token": "verify-token-789", "base_url": "", "is_enabled": "y"}
SECRETS = ("EAAG-secret-token-123", "app-secret-456", "verify-token-789")


def test_connection_is_saved_and_its_secrets_never_come_back(client, auth, company, owner_conninfo):
    auth.login(company.email("COMPANY_ADMIN"))
    page = client.get("/messages/connection").get_data(as_text=True)
    assert "Not connected" in page

    response = auth.post("/messages/connection", CONNECTION, page="/messages/connection", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Saved the WhatsApp connection." in page
    connection_id, stored_token = owner_rows(owner_conninfo, "SELECT id, access_token FROM whatsapp_connections")[0]
    assert f"/webhooks/whatsapp/{connection_id}" in page and 'data-copy="webhook-url"' in page
    assert not any(secret in page for secret in SECRETS)
    assert stored_token not in page and "EAAG" not in stored_token  # sealed at rest

    # Blank secrets keep the stored ones; the other fields change.
    response = auth.post("/messages/connection", {**CONNECTION, "access_token": "", "app_secret": "",
                                                  "verify_token": "", "display_phone": "+966 55 000 0000"},
                         page="/messages/connection")
    assert response.status_code == 302
    assert owner_rows(owner_conninfo, "SELECT access_token, display_phone FROM whatsapp_connections")[0] == (
        stored_token, "+966 55 000 0000")
    audit = owner_rows(owner_conninfo, "SELECT coalesce(old_values::text, '') || coalesce(new_values::text, '') "
                                       "FROM audit_logs WHERE table_name = 'whatsapp_connections'")
    assert audit and not any(secret in row[0] or stored_token in row[0] for row in audit for secret in SECRETS)


def test_a_refused_connection_changes_nothing(client, auth, company, owner_conninfo):
    auth.login(company.email("COMPANY_ADMIN"))
    response = auth.post("/messages/connection", {**CONNECTION, "app_secret": ""}, page="/messages/connection")
    assert response.status_code == 422
    assert "are all needed to connect" in response.get_data(as_text=True)
    response = auth.post("/messages/connection", {**CONNECTION, "phone_number_id": "abc"},
                         page="/messages/connection")
    assert response.status_code == 422
    assert "digits only" in response.get_data(as_text=True)
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM whatsapp_connections")[0][0] == 0


def test_test_message_refusals_are_shown_and_a_template_is_queued(client, auth, company, owner_conninfo):
    auth.login(company.email("COMPANY_ADMIN"))
    auth.post("/messages/connection", CONNECTION, page="/messages/connection")
    template_id = add_template(owner_conninfo, company.id)

    response = auth.post("/messages/connection/test", {"phone": "+966501234567", "text": "Hello"},
                         page="/messages/connection")
    assert response.status_code == 422
    assert "only allowed within 24 hours" in response.get_data(as_text=True)
    response = auth.post("/messages/connection/test", {"phone": "12", "template_id": str(template_id)},
                         page="/messages/connection")
    assert response.status_code == 422
    assert "not a phone number WhatsApp can reach" in response.get_data(as_text=True)
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM whatsapp_messages")[0][0] == 0

    response = auth.post("/messages/connection/test", {"phone": "0501234567", "template_id": str(template_id)},
                         page="/messages/connection")
    assert response.status_code == 302
    assert owner_rows(owner_conninfo, "SELECT recipient_phone, status::text, message_content FROM "
                                      "whatsapp_messages") == [("+966501234567", "PENDING", "Order 1042 is ready.")]
    assert "/messages/" in response.headers["Location"]


# --- Messages -------------------------------------------------------------------------------------

def test_messages_list_filters_by_status_template_and_company_days(client, auth, company, owner_conninfo):
    ready = add_template(owner_conninfo, company.id, "order_ready")
    on_way = add_template(owner_conninfo, company.id, "on_the_way")
    # 22:30 UTC on 1 March is already 2 March in Riyadh (UTC+3).
    late = datetime(2026, 3, 1, 22, 30, tzinfo=timezone.utc)
    add_message(owner_conninfo, company.id, ready, status="READ", phone="+966500000001", created=late)
    add_message(owner_conninfo, company.id, on_way, status="FAILED", phone="+966500000002",
                created=datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc), error_code="131047")
    add_message(owner_conninfo, company.id, ready, status="DELIVERED", phone="+966500000003")
    auth.login(company.email("MANAGER"))

    def phones(query=""):
        page = client.get("/messages/" + query).get_data(as_text=True)
        return re.findall(r'class="phone">(\+\d+)</a>', page)

    assert phones() == ["+966500000003", "+966500000001", "+966500000002"]  # newest first
    assert phones("?status=FAILED") == ["+966500000002"]
    assert phones(f"?template={ready}") == ["+966500000003", "+966500000001"]
    assert phones("?from=2026-03-02&to=2026-03-02") == ["+966500000001"]
    assert phones("?from=2026-03-01&to=2026-03-01") == ["+966500000002"]
    assert phones("?status=NOPE&template=x&from=soon") == phones()  # nonsense filters are ignored
    page = client.get("/messages/?status=FAILED").get_data(as_text=True)
    assert "More than 24 hours since the customer last wrote" in page


def test_messages_come_fifty_a_page_with_figures_per_template(client, auth, company, owner_conninfo):
    template_id = add_template(owner_conninfo, company.id)
    owner_execute(owner_conninfo, """
        INSERT INTO whatsapp_messages (company_id, recipient_phone, message_content, message_type, template_id,
                                       status, sent_at, delivered_at, read_at, created_at, dedupe_key)
        SELECT %s, '+9665000' || lpad(n::text, 5, '0'), 'x', 'TEMPLATE', %s,
               (CASE WHEN n %% 4 = 0 THEN 'READ' ELSE 'DELIVERED' END)::whatsapp_message_status,
               now(), now(), CASE WHEN n %% 4 = 0 THEN now() END, now() - n * interval '1 minute', 'k' || n
        FROM generate_series(1, 60) n""", company.id, template_id)
    auth.login(company.email("MANAGER"))
    first = client.get("/messages/").get_data(as_text=True)
    assert first.count('class="phone">') == 50 and "Page 1 of 2" in first and "60 messages" in first
    assert "+966500000001<" in first and "+966500000060<" not in first
    second = client.get("/messages/?page=2").get_data(as_text=True)
    assert second.count('class="phone">') == 10 and "+966500000060<" in second
    # The 30-day figures: 60 sent, all delivered, 15 read (25 %).
    assert re.search(r'data-label="Sent" class="num">60<', first)
    assert ">100.0 %<" in first and ">25.0 %<" in first
    assert 'id="wa-chart-data"' in first and 'vendor/chart-4.6.1.umd.min.js' in first


def test_no_messages_is_an_empty_state(client, auth, company):
    auth.login(company.email("MANAGER"))
    page = client.get("/messages/").get_data(as_text=True)
    assert "No messages yet" in page and "wa-chart" not in page


def test_a_failed_message_shows_its_timeline_and_reason(client, auth, company, owner_conninfo):
    template_id = add_template(owner_conninfo, company.id)
    message_id = add_message(owner_conninfo, company.id, template_id, status="FAILED", error_code="131026",
                             error_message="Message undeliverable")
    auth.login(company.email("MANAGER"))
    page = client.get(f"/messages/{message_id}").get_data(as_text=True)
    assert "The number cannot receive WhatsApp messages" in page
    assert "131026" in page and "Message undeliverable" in page
    assert "Order ready for pickup" in page and "order_ready" in page
    assert client.get(f"/messages/{uuid.uuid4()}").status_code == 404
    assert client.get("/messages/not-an-id").status_code == 404


# --- The order page, roles and tenants ------------------------------------------------------------

@pytest.fixture
def order_id(app, company, make_integration):
    from tests.loyalty.helpers import add_order
    integration_id = make_integration(company, "TALABAT", base_url="http://127.0.0.1:9/talabat")
    return add_order(app, company, integration_id, phone="+966501234567")


def test_staff_see_an_orders_messages_with_the_number_masked(client, auth, company, owner_conninfo, order_id):
    template_id = add_template(owner_conninfo, company.id)
    add_message(owner_conninfo, company.id, template_id, order_id=order_id, phone="+966501234567")
    auth.login(company.email("USER"))
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    panel = re.search(r'<section class="card wa-order-panel".*?</section>', page, re.S).group(0)
    assert "+9665•••••567" in panel and "+966501234567" not in panel and "Delivered" in panel
    auth.logout()
    auth.login(company.email("MANAGER"))
    panel = re.search(r'<section class="card wa-order-panel".*?</section>', client.get(
        f"/orders/{order_id}").get_data(as_text=True), re.S).group(0)
    assert "+966501234567" in panel
    messages = client.get("/messages/").get_data(as_text=True)
    assert "+966501234567" in messages and f"/orders/{order_id}" in messages


@pytest.mark.parametrize("role, path, status", [
    ("USER", "/messages/templates", 403), ("USER", "/messages/", 403), ("USER", "/messages/notifications", 403),
    ("USER", "/messages/templates/new", 403), ("MANAGER", "/messages/connection", 403),
    ("MANAGER", "/messages/templates", 200), ("COMPANY_ADMIN", "/messages/connection", 200),
])
def test_roles(client, auth, company, role, path, status):
    auth.login(company.email(role))
    assert client.get(path).status_code == status


def test_navigation_shows_messages_to_managers_and_whatsapp_to_admins(client, auth, company):
    auth.login(company.email("MANAGER"))
    page = client.get("/").get_data(as_text=True)
    assert 'href="/messages/"' in page and 'href="/messages/connection"' not in page
    auth.logout()
    auth.login(company.email("COMPANY_ADMIN"))
    assert 'href="/messages/connection"' in client.get("/").get_data(as_text=True)


def test_a_company_never_sees_anothers_templates_or_messages(client, auth, two_companies, owner_conninfo):
    alpha, beta = two_companies
    beta_template = add_template(owner_conninfo, beta.id, "beta_secret_template")
    beta_message = add_message(owner_conninfo, beta.id, beta_template, phone="+96550000999")
    add_template(owner_conninfo, alpha.id, "alpha_template")
    auth.login(alpha.email("MANAGER"))
    assert "beta_secret_template" not in client.get("/messages/templates").get_data(as_text=True)
    assert "beta_secret_template" not in client.get("/messages/notifications").get_data(as_text=True)
    assert "+96550000999" not in client.get("/messages/").get_data(as_text=True)
    assert client.get(f"/messages/{beta_message}").status_code == 404
    assert client.get(f"/messages/templates/{beta_template}/edit").status_code == 404
    assert client.get(f"/messages/?template={beta_template}").status_code == 200
    response = auth.post(f"/messages/templates/{beta_template}/delete", page="/messages/templates")
    assert response.status_code == 404
    assert len(_templates(owner_conninfo, beta.id)) == 1


def test_loyalty_customer_page_shows_the_whatsapp_opt_out(app, client, auth, company, owner_conninfo):
    from portal.extensions import db
    from portal.loyalty import ledger, programs
    from portal.tenancy import tenant
    from tests.loyalty.helpers import make_program
    make_program(app, company)
    with app.app_context(), tenant(company.id):
        member_id = ledger.add_member(programs.active_program(), "0501234567", name="Sara").id
        db.session.commit()
    auth.login(company.email("MANAGER"))
    assert "WhatsApp: has not written to you" in client.get(f"/loyalty/customers/{member_id}").get_data(as_text=True)
    owner_execute(owner_conninfo, "INSERT INTO whatsapp_contacts (company_id, phone, opted_out_at) "
                                  "VALUES (%s, '+966501234567', now())", company.id)
    assert "WhatsApp: opted out" in client.get(f"/loyalty/customers/{member_id}").get_data(as_text=True)
