"""Saving a platform's connection: credentials per platform, validation, encryption at rest, replace semantics."""
from decimal import Decimal

import pytest

from tests.integrations.conftest import field_errors, flashes, integration_row

REQUIRED = "Required to turn this connection on."

FORMS = {
    "talabat": {"merchant_id": "CHAIN-77", "store_id": "VENDOR-7", "api_key": "talabat-user-PLAIN-1",
                "api_secret": "talabat-pass-PLAIN-2"},
    "careem": {"api_key": "careem-client-PLAIN-1", "api_secret": "careem-secret-PLAIN-2", "merchant_id": "BRAND-3",
               "store_id": "BRANCH-4"},
    "nashmi": {"api_key": "nashmi-key-PLAIN-1", "api_secret": "nashmi-secret-PLAIN-2", "store_id": "STORE-5"},
}
SETTINGS = {"is_enabled": "y", "commission_rate": "17.5", "base_url": "https://api.example.test/v2",
            "auto_accept_enabled": "y", "preparation_minutes": "25", "max_total": "150.5"}


def form(platform, **changes):
    data = {**FORMS[platform], **SETTINGS, **changes}
    return {name: value for name, value in data.items() if value is not None}


def save(admin, platform, data, secret_first=True):
    """Save the form as an admin would; turning a connection on needs its webhook secret, so unless
    `secret_first` is False one is generated first (a draft connection) when none is stored."""
    page = f"/integrations/{platform}/"
    if secret_first and data.get("is_enabled") and \
            "Regenerate webhook secret" not in admin.client.get(page).get_data(as_text=True):
        admin.post(f"/integrations/{platform}/webhook-secret", page=page)
    return admin.post(page, data, page=page)


def assert_nothing_saved(conninfo, company, platform):
    """No connection, or only the draft the webhook secret created: nothing of the form was stored."""
    row = integration_row(conninfo, company.id, platform)
    assert row is None or (row["is_enabled"] is False and row["api_key"] is None and row["base_url"] is None
                           and row["merchant_id"] is None and row["store_id"] is None and row["auto_accept"] == {})


def decrypt(app, company_id, token):
    from portal.crypto import decrypt_secret
    with app.app_context():
        return decrypt_secret(company_id, token)


def assert_nowhere(pages, *secrets):
    assert pages, "no page was rendered"
    for secret in secrets:
        assert not [page for page in pages if secret in page], f"{secret!r} was sent to the browser"


@pytest.mark.parametrize("platform", list(FORMS))
def test_a_valid_form_is_saved_with_credentials_encrypted(app, admin, client, company, owner_conninfo, pages,
                                                          platform):
    response = save(admin, platform, form(platform))

    assert response.status_code == 302
    assert response.headers["Location"] == f"/integrations/{platform}/"
    row = integration_row(owner_conninfo, company.id, platform)
    assert row["is_enabled"] is True
    assert row["commission_rate"] == Decimal("17.50")
    assert row["base_url"] == "https://api.example.test/v2"
    assert row["auto_accept"] == {"enabled": True, "preparation_minutes": 25, "max_total": "150.50"}
    for name, value in FORMS[platform].items():
        if name in ("api_key", "api_secret"):
            assert row[name] != value and value not in row[name]
            assert decrypt(app, company.id, row[name]) == value
        else:
            assert row[name] == value
    assert row["webhook_secret"]  # generated before the connection could be turned on

    page = client.get(f"/integrations/{platform}/")
    assert ("success", f"Saved the {platform.title()} connection.") in flashes(page)
    text = page.get_data(as_text=True)
    assert text.count("•••• set") == 3  # api key, api secret, webhook secret
    if "merchant_id" in FORMS[platform]:
        assert f'value="{FORMS[platform]["merchant_id"]}"' in text  # identifiers are shown in clear
    client.get("/integrations/")
    client.get("/audit/")
    assert_nowhere(pages, FORMS[platform]["api_key"], FORMS[platform]["api_secret"], row["api_key"],
                   row["api_secret"])


INVALID = [
    ({"base_url": "ftp://files.example.test"}, "base_url", "Enter an address that starts with http:// or https://."),
    ({"base_url": "javascript:alert(1)"}, "base_url", "Enter an address that starts with http:// or https://."),
    ({"base_url": "https://"}, "base_url", "Enter an address that starts with http:// or https://."),
    ({"commission_rate": "150"}, "commission_rate", "Enter a commission between 0 and 100 %."),
    ({"commission_rate": "-1"}, "commission_rate", "Enter a commission between 0 and 100 %."),
    ({"commission_rate": "12.345"}, "commission_rate", "Use at most 2 decimals."),
    ({"commission_rate": "lots"}, "commission_rate", "Enter a number, such as 15 or 17.5."),
    ({"preparation_minutes": "3"}, "preparation_minutes", "Enter between 5 and 120 minutes."),
    ({"preparation_minutes": "121"}, "preparation_minutes", "Enter between 5 and 120 minutes."),
    ({"preparation_minutes": ""}, "preparation_minutes", "Enter the preparation time in minutes."),
    ({"max_total": "1.234"}, "max_total", "Use at most 2 decimals for SAR."),
    ({"max_total": "0"}, "max_total", "Enter an amount above zero."),
]


@pytest.mark.parametrize("platform", list(FORMS))
@pytest.mark.parametrize("changes, field, message", INVALID, ids=[f"{f}={list(c.values())[0]}" for c, f, _ in INVALID])
def test_invalid_values_are_shown_next_to_their_field_and_nothing_is_saved(admin, company, owner_conninfo, pages,
                                                                          platform, changes, field, message):
    response = save(admin, platform, form(platform, **changes))

    assert response.status_code == 422
    assert field_errors(response) == {field: [message]}
    assert_nothing_saved(owner_conninfo, company, platform)
    page = response.get_data(as_text=True)
    typed = list(changes.values())[0]
    if typed:
        assert f'value="{typed}"' in page  # what was typed is kept...
    assert_nowhere(pages, FORMS[platform]["api_key"], FORMS[platform]["api_secret"])  # ...except secrets


def test_several_mistakes_are_shown_at_once(admin, company, owner_conninfo):
    response = save(admin, "talabat", form("talabat", base_url="nope", commission_rate="150", api_key="",
                                           merchant_id=""))
    assert response.status_code == 422
    assert set(field_errors(response)) == {"base_url", "commission_rate", "api_key", "merchant_id"}


def test_a_kuwaiti_company_may_use_three_decimals(auth, two_companies, owner_conninfo):
    _alpha, beta = two_companies
    auth.login(beta.email("COMPANY_ADMIN"))
    response = save(auth, "careem", form("careem", max_total="12.345"))
    assert response.status_code == 302
    assert integration_row(owner_conninfo, beta.id, "careem")["auto_accept"]["max_total"] == "12.345"
    response = save(auth, "careem", form("careem", max_total="12.3456"))
    assert field_errors(response) == {"max_total": ["Use at most 3 decimals for KWD."]}


@pytest.mark.parametrize("platform", list(FORMS))
def test_turning_on_without_the_required_credentials_is_refused(app, admin, company, owner_conninfo, platform):
    from portal.platforms import adapter_for

    empty = {name: "" for name in FORMS[platform]}
    response = save(admin, platform, form(platform, **empty))

    assert response.status_code == 422
    required = {name for name, _label, needed in adapter_for(platform).credential_fields if needed}
    assert field_errors(response) == {name: [REQUIRED] for name in required}
    assert_nothing_saved(owner_conninfo, company, platform)


def test_a_disabled_connection_may_be_saved_as_a_draft(admin, company, owner_conninfo):
    response = save(admin, "careem", form("careem", is_enabled=None, api_key="", api_secret="", store_id=""))
    assert response.status_code == 302
    row = integration_row(owner_conninfo, company.id, "careem")
    assert row["is_enabled"] is False and row["api_key"] is None and row["merchant_id"] == "BRAND-3"


def test_the_database_rule_is_shown_not_a_server_error(admin, company, owner_conninfo, monkeypatch):
    """validate_integration_config refuses what the adapter would let through: the message is shown."""
    from portal.platforms import adapter_for

    adapter = adapter_for("talabat")
    monkeypatch.setattr(adapter, "credential_fields",
                        tuple((name, label, False) for name, label, _required in adapter.credential_fields))
    response = save(admin, "talabat", form("talabat", api_key="", merchant_id=""))

    assert response.status_code == 422
    assert "The change was refused: Talabat integration requires api_key and merchant_id." in \
        response.get_data(as_text=True)
    assert_nothing_saved(owner_conninfo, company, "talabat")


def test_an_empty_secret_keeps_the_stored_one_and_a_new_value_replaces_it(app, admin, client, company,
                                                                         owner_conninfo, pages):
    save(admin, "talabat", form("talabat"))
    first = integration_row(owner_conninfo, company.id, "talabat")

    response = save(admin, "talabat", form("talabat", api_key="", api_secret="", commission_rate="20"))
    assert response.status_code == 302
    kept = integration_row(owner_conninfo, company.id, "talabat")
    assert kept["commission_rate"] == Decimal("20.00")
    assert (kept["api_key"], kept["api_secret"]) == (first["api_key"], first["api_secret"])

    response = save(admin, "talabat", form("talabat", api_key="replaced-user-PLAIN-3", api_secret=""))
    assert response.status_code == 302
    replaced = integration_row(owner_conninfo, company.id, "talabat")
    assert decrypt(app, company.id, replaced["api_key"]) == "replaced-user-PLAIN-3"
    assert replaced["api_secret"] == first["api_secret"]

    client.get("/integrations/talabat/")
    assert_nowhere(pages, "talabat-user-PLAIN-1", "talabat-pass-PLAIN-2", "replaced-user-PLAIN-3")


def test_secrets_show_set_or_not_set_and_a_replace_field(admin, client):
    page = client.get("/integrations/careem/").get_data(as_text=True)
    assert page.count("not set") == 3  # api_key, api_secret, webhook secret
    save(admin, "careem", form("careem", api_secret="", is_enabled=None))
    page = client.get("/integrations/careem/").get_data(as_text=True)
    assert page.count("•••• set") == 1 and page.count("not set") == 2
    assert "<summary>Replace</summary>" in page
    assert 'autocomplete="new-password"' in page


def test_turn_on_and_off(admin, client, company, owner_conninfo):
    save(admin, "nashmi", form("nashmi", is_enabled=None, api_secret=""))
    page = "/integrations/nashmi/"

    response = admin.post("/integrations/nashmi/enable", page=page, follow_redirects=True)
    assert ("error", "Fill in every required credential before turning Nashmi on.") in flashes(response)
    assert integration_row(owner_conninfo, company.id, "nashmi")["is_enabled"] is False

    save(admin, "nashmi", form("nashmi", is_enabled=None, api_key="", api_secret="nashmi-secret-PLAIN-2"))
    response = admin.post("/integrations/nashmi/enable", page=page, follow_redirects=True)
    assert ("error", "Generate a webhook secret before turning Nashmi on: without it, the platform's webhooks "
                     "cannot be verified and every order would be refused.") in flashes(response)
    assert integration_row(owner_conninfo, company.id, "nashmi")["is_enabled"] is False

    admin.post("/integrations/nashmi/webhook-secret", page=page)
    response = admin.post("/integrations/nashmi/enable", page=page, follow_redirects=True)
    assert ("success", "Nashmi is on.") in flashes(response)
    assert integration_row(owner_conninfo, company.id, "nashmi")["is_enabled"] is True

    response = admin.post("/integrations/nashmi/disable", page=page, follow_redirects=True)
    assert ("success", "Nashmi is off.") in flashes(response)
    assert integration_row(owner_conninfo, company.id, "nashmi")["is_enabled"] is False


def test_turning_on_a_platform_not_set_up_says_so(admin, company, owner_conninfo):
    response = admin.post("/integrations/dhub/enable", page="/integrations/dhub/", follow_redirects=True)
    assert ("error", "Set this platform up before turning it on.") in flashes(response)
    assert integration_row(owner_conninfo, company.id, "dhub") is None


def test_button_posts_need_the_csrf_token(admin, client, company, owner_conninfo):
    save(admin, "nashmi", form("nashmi"))
    response = client.post("/integrations/nashmi/disable")
    assert response.status_code == 400
    assert integration_row(owner_conninfo, company.id, "nashmi")["is_enabled"] is True


def test_saving_on_without_a_webhook_secret_is_refused_and_says_why(admin, client, company, owner_conninfo):
    page = client.get("/integrations/careem/").get_data(as_text=True)
    assert "Needs a webhook secret first: generate one beside this form." in page

    response = save(admin, "careem", form("careem"), secret_first=False)

    assert response.status_code == 422
    assert field_errors(response) == {"is_enabled": [
        "Generate a webhook secret before turning Careem on: without it, the platform's webhooks cannot be "
        "verified and every order would be refused."]}
    assert 'value="BRAND-3"' in response.get_data(as_text=True)  # what was typed is kept
    assert integration_row(owner_conninfo, company.id, "careem") is None
    # Saved off, it is kept as a draft; with a secret it may be turned on.
    assert save(admin, "careem", form("careem", is_enabled=None), secret_first=False).status_code == 302
    assert save(admin, "careem", form("careem")).status_code == 302
    assert integration_row(owner_conninfo, company.id, "careem")["is_enabled"] is True


def test_the_service_refuses_on_without_a_webhook_secret(app, company, owner_conninfo):
    """The rule is the service's: the CLI and any other caller are refused as the page is."""
    from portal.integrations.services import MissingWebhookSecret, save_integration
    from portal.tenancy import tenant

    with app.app_context(), tenant(company.id):
        from portal.extensions import db
        from portal.models import Company
        row = db.session.get(Company, company.id)
        with pytest.raises(MissingWebhookSecret):
            save_integration(row, "nashmi", is_enabled=True, store_id="S1",
                             new_secrets={"api_key": "k", "api_secret": "s"})
        save_integration(row, "nashmi", is_enabled=True, store_id="S1",
                         new_secrets={"api_key": "k", "api_secret": "s", "webhook_secret": "w" * 32})
    assert integration_row(owner_conninfo, company.id, "nashmi")["is_enabled"] is True
