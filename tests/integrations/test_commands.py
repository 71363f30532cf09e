"""`flask integration-add` (create, update, unknown company) and `flask rotate-keys` with two keys."""
import pytest
from cryptography.fernet import Fernet

from tests.conftest import make_app
from tests.integrations.conftest import integration_row, owner_rows


def invoke(runner, *args):
    """Run a command as `flask --app wsgi …` does: in a fresh application context of its own."""
    with runner.app.app_context():
        return runner.invoke(args=list(args))


def decrypt(app, company_id, token):
    from portal.crypto import decrypt_secret
    with app.app_context():
        return decrypt_secret(company_id, token)


def test_integration_add_creates_then_updates(app, runner, company, owner_conninfo):
    result = invoke(runner, "integration-add", "--company", "Alpha Kitchen", "--platform", "talabat",
                    "--webhook-secret", "plugin-secret-PLAIN", "--api-key", "mw-user", "--api-secret", "mw-pass",
                    "--merchant-id", "CHAIN-1", "--store-id", "VENDOR-1", "--base-url", "https://mw.example.test",
                    "--commission-rate", "18.5", "--enable")

    assert result.exit_code == 0, result.output
    row = integration_row(owner_conninfo, company.id, "talabat")
    assert result.output.splitlines() == [
        f"Integration {row['id']} (talabat, on) for Alpha Kitchen.",
        f"Webhook URL: http://127.0.0.1:5000/webhooks/talabat/{row['id']}"]
    assert row["is_enabled"] and row["commission_rate"] == 18.5 and row["store_id"] == "VENDOR-1"
    assert decrypt(app, company.id, row["webhook_secret"]) == "plugin-secret-PLAIN"
    assert decrypt(app, company.id, row["api_key"]) == "mw-user"
    assert "plugin-secret-PLAIN" not in result.output

    result = invoke(runner, "integration-add", "--company", "Alpha Kitchen", "--platform", "TALABAT",
                    "--webhook-secret", "second-secret", "--disable", "--public-url", "https://portal.example.test")

    assert result.exit_code == 0, result.output
    updated = integration_row(owner_conninfo, company.id, "talabat")
    assert updated["id"] == row["id"]
    assert result.output.splitlines()[-1] == f"Webhook URL: https://portal.example.test/webhooks/talabat/{row['id']}"
    assert not updated["is_enabled"]
    assert decrypt(app, company.id, updated["webhook_secret"]) == "second-secret"
    assert (updated["api_key"], updated["merchant_id"], updated["base_url"]) == \
        (row["api_key"], "CHAIN-1", "https://mw.example.test")  # what was not given is kept


def test_integration_add_refuses_unknown_companies_and_bad_values(runner, company, owner_conninfo):
    result = invoke(runner, "integration-add", "--company", "Nobody's Diner", "--platform", "careem",
                    "--webhook-secret", "s")
    assert result.exit_code == 1
    assert "No single company is named \"Nobody's Diner\"." in result.output

    result = invoke(runner, "integration-add", "--company", "Alpha Kitchen", "--platform", "careem",
                    "--webhook-secret", "s", "--enable")
    assert result.exit_code == 1
    assert "careem needs api_key, api_secret, merchant_id, store_id before it can be turned on." in result.output

    result = invoke(runner, "integration-add", "--company", "Alpha Kitchen", "--platform", "careem",
                    "--webhook-secret", "s", "--base-url", "ftp://x.example.test")
    assert result.exit_code == 1 and "base_url: Enter an address that starts with http" in result.output

    result = invoke(runner, "integration-add", "--company", "Alpha Kitchen", "--platform", "uber",
                    "--webhook-secret", "s")
    assert result.exit_code == 2
    assert owner_rows(owner_conninfo, "SELECT count(*) AS n FROM integration_configs")[0]["n"] == 0


@pytest.fixture
def two_key_app(app, database_url):
    """The same database, with a new key first and the test app's key second (`new,old`)."""
    new_key = Fernet.generate_key().decode()
    rotated = make_app(database_url, PORTAL_ENCRYPTION_KEYS=f"{new_key},{app.config['PORTAL_ENCRYPTION_KEYS']}")
    rotated.new_key = new_key
    yield rotated
    from portal.extensions import db
    with rotated.app_context():
        db.engine.dispose()


def test_rotate_keys_re_encrypts_every_secret_of_every_company(runner, two_companies, two_key_app, database_url,
                                                               owner_conninfo):
    alpha, beta = two_companies
    for name, platform in (("Alpha Kitchen", "careem"), ("Beta Grill", "careem"), ("Beta Grill", "nashmi")):
        result = invoke(runner, "integration-add", "--company", name, "--platform", platform, "--webhook-secret",
                        f"{name}-{platform}-hook", "--api-key", f"{name}-{platform}-key")
        assert result.exit_code == 0, result.output
    before = owner_rows(owner_conninfo, "SELECT id, company_id, platform, api_key, api_secret, webhook_secret"
                                        " FROM integration_configs ORDER BY id")

    result = invoke(two_key_app.test_cli_runner(), "rotate-keys")

    assert result.exit_code == 0, result.output
    assert result.output == "Re-encrypted 6 secrets with the newest key.\n"
    after = owner_rows(owner_conninfo, "SELECT id, company_id, platform, api_key, api_secret, webhook_secret"
                                       " FROM integration_configs ORDER BY id")
    newest_only = make_app(database_url, PORTAL_ENCRYPTION_KEYS=two_key_app.new_key)  # never connects
    company_names = {alpha.id: "Alpha Kitchen", beta.id: "Beta Grill"}
    for old, new in zip(before, after, strict=True):
        assert new["api_key"] != old["api_key"] and new["webhook_secret"] != old["webhook_secret"]
        assert new["api_secret"] is None
        prefix = f"{company_names[new['company_id']]}-{new['platform'].lower()}"
        for application in (two_key_app, newest_only):
            assert decrypt(application, new["company_id"], new["api_key"]) == f"{prefix}-key"
            assert decrypt(application, new["company_id"], new["webhook_secret"]) == f"{prefix}-hook"

    again = invoke(two_key_app.test_cli_runner(), "rotate-keys")
    assert again.output == "Re-encrypted 0 secrets with the newest key.\n"
    assert owner_rows(owner_conninfo, "SELECT id, company_id, platform, api_key, api_secret, webhook_secret"
                                      " FROM integration_configs ORDER BY id") == after
    reasons = owner_rows(owner_conninfo, "SELECT new_values->>'reason' AS reason FROM audit_logs"
                                         " WHERE operation = 'CROSS_TENANT_ACCESS'")
    assert {"reason": "rotate-keys: re-encrypt platform credentials with the newest key"} in reasons


def test_rotate_keys_reports_what_it_cannot_read(runner, company, database_url, owner_conninfo):
    from portal.extensions import db

    invoke(runner, "integration-add", "--company", "Alpha Kitchen", "--platform", "dhub", "--webhook-secret", "hook")
    stranger = make_app(database_url, PORTAL_ENCRYPTION_KEYS=Fernet.generate_key().decode())

    result = invoke(stranger.test_cli_runner(), "rotate-keys")
    with stranger.app_context():
        db.engine.dispose()

    assert result.exit_code == 1
    assert "Re-encrypted 0 secrets" in result.output
    assert "Could not read webhook_secret of integration" in result.output
