"""The webhook address and secret: shown once when generated, stored encrypted, never audited in clear."""
import json
import re
from html.parser import HTMLParser

import pytest

from tests.integrations.conftest import integration_row, owner_rows
from tests.integrations.test_forms import FORMS, decrypt, form, save

NEW_SECRET = re.compile(r'<input type="text" id="new-webhook-secret" value="([^"]+)"')


def generate(admin, platform):
    """Generate a secret and follow the redirect to the page that shows it."""
    return admin.post(f"/integrations/{platform}/webhook-secret", page=f"/integrations/{platform}/",
                      follow_redirects=True)


def test_a_generated_secret_is_shown_once_and_stored_encrypted(app, admin, client, company, owner_conninfo, pages):
    save(admin, "careem", form("careem"))

    response = generate(admin, "careem")

    assert response.status_code == 200
    assert response.request.path == "/integrations/careem/"  # redirected: the POST URL is not left open
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    secret = NEW_SECRET.search(page).group(1)
    assert len(secret) >= 43  # token_urlsafe(32)
    assert "Copy the new webhook secret now" in page and 'data-copy="new-webhook-secret"' in page
    row = integration_row(owner_conninfo, company.id, "careem")
    assert secret not in row["webhook_secret"]
    assert decrypt(app, company.id, row["webhook_secret"]) == secret

    again = client.get("/integrations/careem/").get_data(as_text=True)
    assert secret not in again
    assert "Regenerate webhook secret" in again and "data-confirm=" in again
    assert [page for page in pages if secret in page] == [page]  # that one response, nothing else


def test_regenerating_replaces_the_secret(app, admin, company, owner_conninfo):
    first = NEW_SECRET.search(generate(admin, "nashmi").get_data(as_text=True)).group(1)
    second = NEW_SECRET.search(generate(admin, "nashmi").get_data(as_text=True)).group(1)
    assert first != second
    row = integration_row(owner_conninfo, company.id, "nashmi")
    assert decrypt(app, company.id, row["webhook_secret"]) == second


def test_generating_before_saving_creates_a_disabled_draft(admin, company, owner_conninfo):
    response = generate(admin, "dhub")
    assert response.status_code == 200
    row = integration_row(owner_conninfo, company.id, "dhub")
    assert row["is_enabled"] is False and row["webhook_secret"]
    assert f"/webhooks/dhub/{row['id']}" in response.get_data(as_text=True)


@pytest.mark.parametrize("platform, plugin", [("talabat", True), ("hungerstation", True), ("careem", False),
                                              ("nashmi", False)])
def test_the_page_shows_the_webhook_address_to_copy(admin, client, company, owner_conninfo, platform, plugin):
    assert "Save the form, or generate a webhook secret" in client.get(f"/integrations/{platform}/").get_data(
        as_text=True)
    save(admin, platform, form(platform if platform in FORMS else "talabat", is_enabled=None))
    row = integration_row(owner_conninfo, company.id, platform)

    page = client.get(f"/integrations/{platform}/").get_data(as_text=True)

    url = f"http://localhost/webhooks/{platform}/{row['id']}"
    assert re.search(rf'<textarea id="webhook-url"[^>]*>{re.escape(url)}</textarea>', page)
    assert 'data-copy="webhook-url"' in page
    assert ('id="plugin-url"' in page) is plugin
    if plugin:
        assert "/order/{remoteId}" in page


def test_the_webhook_address_is_the_receivers_route(app, admin, company, owner_conninfo):
    """Built with url_for("webhooks.receive"), so it follows the receiver's route if that ever moves."""
    from portal.integrations.services import webhook_url
    from portal.models import DeliveryPlatform, IntegrationConfig

    save(admin, "careem", form("careem"))
    row = integration_row(owner_conninfo, company.id, "careem")
    integration = IntegrationConfig(id=row["id"], platform=DeliveryPlatform.CAREEM, company_id=company.id)
    with app.test_request_context(base_url="https://portal.example.test/"):
        assert webhook_url(integration) == f"https://portal.example.test/webhooks/careem/{row['id']}"
    with app.app_context():
        assert webhook_url(integration, public_url="https://merchants.example.test") == \
            f"https://merchants.example.test/webhooks/careem/{row['id']}"


def test_audit_rows_of_every_change_hold_no_secret(app, admin, runner, company, owner_conninfo):
    """The audit trigger redacts credentials: no plaintext, no ciphertext, not even the column names."""
    save(admin, "talabat", form("talabat"))
    save(admin, "talabat", form("talabat", api_key="replaced-user-PLAIN-3", commission_rate="12"))
    secret = NEW_SECRET.search(generate(admin, "talabat").get_data(as_text=True)).group(1)
    admin.post("/integrations/talabat/disable", page="/integrations/talabat/")
    with app.app_context():
        assert runner.invoke(args=["rotate-keys"]).exit_code == 0
    row = integration_row(owner_conninfo, company.id, "talabat")

    audits = owner_rows(owner_conninfo, "SELECT operation, old_values, new_values, user_id FROM audit_logs"
                                        " WHERE table_name = 'integration_configs' ORDER BY created_at")
    assert [audit["operation"] for audit in audits][:4] == ["INSERT", "UPDATE", "UPDATE", "UPDATE"]
    assert audits[0]["user_id"] == company.user_id("COMPANY_ADMIN")
    text = json.dumps([[audit["old_values"], audit["new_values"]] for audit in audits])
    for value in ("talabat-user-PLAIN-1", "talabat-pass-PLAIN-2", "replaced-user-PLAIN-3", secret,
                  row["api_key"], row["api_secret"], row["webhook_secret"]):
        assert value not in text
    for values in [audit["new_values"] for audit in audits] + [audit["old_values"] for audit in audits[1:]]:
        assert not {"api_key", "api_secret", "webhook_secret"} & set(values)
    assert any(audit["new_values"]["commission_rate"] == 12 for audit in audits)  # the rest is recorded

    page = admin.client.get("/audit/").get_data(as_text=True)
    for value in ("talabat-user-PLAIN-1", "replaced-user-PLAIN-3", secret, row["api_key"]):
        assert value not in page


def test_without_the_receiver_the_address_follows_the_stable_name(app, monkeypatch):
    """If the webhooks blueprint is missing, the URL falls back to docs/DESIGN.md's POST /webhooks/<platform>/<id>."""
    import uuid

    from werkzeug.routing import BuildError

    from portal.integrations import services
    from portal.models import DeliveryPlatform, IntegrationConfig

    def missing(endpoint, **values):
        raise BuildError(endpoint, values, "GET")

    monkeypatch.setattr(services, "url_for", missing)
    integration = IntegrationConfig(id=uuid.uuid4(), platform=DeliveryPlatform.TOP_DELIVERY)
    with app.test_request_context(base_url="https://portal.example.test/"):
        assert services.webhook_url(integration) == \
            f"https://portal.example.test/webhooks/top_delivery/{integration.id}"
    with app.app_context():
        assert services.webhook_url(integration, public_url="http://127.0.0.1:5000/") == \
            f"http://127.0.0.1:5000/webhooks/top_delivery/{integration.id}"


class _Form(HTMLParser):
    """The values a browser would submit from the connection form, untouched."""

    def __init__(self):
        super().__init__()
        self.inside, self.values = False, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = "integration-form" in (attrs.get("class") or "")
        elif self.inside and tag == "input" and attrs.get("name"):
            if attrs.get("type") == "checkbox":
                if "checked" in attrs:
                    self.values[attrs["name"]] = attrs.get("value") or "on"
            else:
                self.values[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def untouched(page):
    parser = _Form()
    parser.feed(page)
    return parser.values


def test_regenerating_then_saving_the_page_as_shown_keeps_every_setting(admin, client, company, owner_conninfo):
    save(admin, "careem", form("careem"))
    generate(admin, "careem")
    before = integration_row(owner_conninfo, company.id, "careem")
    assert before["is_enabled"] is True

    response = admin.post("/integrations/careem/webhook-secret", page="/integrations/careem/")
    assert response.status_code == 302 and response.headers["Location"] == "/integrations/careem/"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    values = untouched(page)
    assert values["is_enabled"] == "y" and values["auto_accept_enabled"] == "y"  # "Receive orders" still ticked

    assert admin.post("/integrations/careem/", values, page="/integrations/careem/").status_code == 302
    after = integration_row(owner_conninfo, company.id, "careem")
    for column in ("is_enabled", "commission_rate", "base_url", "auto_accept", "merchant_id", "store_id", "api_key",
                   "api_secret"):
        assert after[column] == before[column], column
    assert after["webhook_secret"] != before["webhook_secret"]  # the regenerated one, kept by the save


def test_a_reveal_ticket_shows_only_the_secret_it_names(app, admin, client, company, owner_conninfo):
    """A ticket is void once the secret changed again, or for another connection."""
    from portal.integrations.services import reveal_ticket, revealed_secret
    from portal.models import IntegrationConfig

    generate(admin, "careem")
    generate(admin, "nashmi")
    careem = integration_row(owner_conninfo, company.id, "careem")
    nashmi = integration_row(owner_conninfo, company.id, "nashmi")
    with app.app_context():
        first = IntegrationConfig(id=careem["id"], company_id=company.id, webhook_secret=careem["webhook_secret"])
        other = IntegrationConfig(id=nashmi["id"], company_id=company.id, webhook_secret=nashmi["webhook_secret"])
        ticket = reveal_ticket(first)
        assert revealed_secret(first, ticket) == decrypt(app, company.id, careem["webhook_secret"])
        assert revealed_secret(other, ticket) is None
        assert revealed_secret(first, {**ticket, "at": ticket["at"] - 3600}) is None
        first.webhook_secret = nashmi["webhook_secret"]
        assert revealed_secret(first, ticket) is None
