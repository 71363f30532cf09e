"""`flask whatsapp-connect` (create, update, unknown company, bad values) and `flask rotate-keys` for its secrets."""
import pytest
from cryptography.fernet import Fernet

from tests.conftest import make_app, owner_rows

SECRETS = ("access_token", "app_secret", "verify_token")


def invoke(runner, *args):
    """Run a command as `flask --app wsgi …` does: in a fresh application context of its own."""
    with runner.app.app_context():
        return runner.invoke(args=list(args))


def decrypt(app, company_id, token):
    from portal.crypto import decrypt_secret
    with app.app_context():
        return decrypt_secret(company_id, token)


def connection_rows(conninfo):
    return owner_rows(conninfo, "SELECT id, company_id, phone_number_id, display_phone, base_url, is_enabled, "
                                "access_token, app_secret, verify_token FROM whatsapp_connections ORDER BY company_id")


@pytest.fixture
def company(make_company):
    return make_company("Alpha Kitchen")


def connect(runner, *extra, company="Alpha Kitchen"):
    return invoke(runner, "whatsapp-connect", "--company", company, "--phone-number-id", "106540352242922", *extra)


def test_whatsapp_connect_creates_then_updates(app, runner, company, owner_conninfo):
    result = connect(runner, "--token", "EAAG-token-PLAIN", "--app-secret", "app-secret-PLAIN",
                     "--verify-token", "verify-PLAIN", "--base-url", "http://127.0.0.1:5078/v23.0/",
                     "--display-phone", "+966 50 000 0001")

    assert result.exit_code == 0, result.output
    (row,) = connection_rows(owner_conninfo)
    connection_id, company_id, number, display, base_url, enabled, *sealed = row
    assert company_id == company.id and number == "106540352242922" and enabled
    assert (display, base_url) == ("+966 50 000 0001", "http://127.0.0.1:5078/v23.0")
    assert result.output.splitlines() == [
        f"WhatsApp connection {connection_id} (created, on) for Alpha Kitchen: number 106540352242922 via "
        "http://127.0.0.1:5078/v23.0.",
        f"Webhook URL: http://127.0.0.1:5000/webhooks/whatsapp/{connection_id}"]
    # Sealed: nothing in the table or the output is a secret in clear, and each opens for this company.
    for value, clear in zip(sealed, ("EAAG-token-PLAIN", "app-secret-PLAIN", "verify-PLAIN"), strict=True):
        assert "PLAIN" not in value and decrypt(app, company.id, value) == clear
        assert clear not in result.output
    audit = owner_rows(owner_conninfo, "SELECT new_values::text FROM audit_logs WHERE table_name = "
                                       "'whatsapp_connections'")
    assert audit and not any("PLAIN" in text for (text,) in audit)

    result = invoke(runner, "whatsapp-connect", "--company", "Alpha Kitchen", "--phone-number-id", "109999999999999",
                    "--token", "second-token", "--disable", "--public-url", "https://portal.example.test")

    assert result.exit_code == 0, result.output
    (updated,) = connection_rows(owner_conninfo)
    assert updated[0] == connection_id
    assert "(updated, off)" in result.output.splitlines()[0]
    assert result.output.splitlines()[-1] == f"Webhook URL: https://portal.example.test/webhooks/whatsapp/{connection_id}"
    assert (updated[2], updated[3], updated[4], updated[5]) == \
        ("109999999999999", "+966 50 000 0001", "http://127.0.0.1:5078/v23.0", False)  # what was not given is kept
    assert decrypt(app, company.id, updated[6]) == "second-token"
    assert (updated[7], updated[8]) == (row[7], row[8])


def test_whatsapp_connect_explains_what_it_refuses(runner, company, owner_conninfo):
    result = connect(runner, "--token", "t", "--app-secret", "s", "--verify-token", "v", company="Nobody's Diner")
    assert result.exit_code == 1
    assert "No single company is named \"Nobody's Diner\"." in result.output

    result = connect(runner, "--token", "t")
    assert result.exit_code == 1
    assert "The access token, app secret and verify token are all needed to connect." in result.output

    result = invoke(runner, "whatsapp-connect", "--company", "Alpha Kitchen", "--phone-number-id", "+966 5000",
                    "--token", "t", "--app-secret", "s", "--verify-token", "v")
    assert result.exit_code == 1 and "digits only" in result.output

    result = connect(runner, "--token", "t", "--app-secret", "s", "--verify-token", "v", "--base-url", "ftp://x.test")
    assert result.exit_code == 1 and "The API address must start with https://" in result.output
    assert connection_rows(owner_conninfo) == []


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


def test_rotate_keys_re_encrypts_the_whatsapp_secrets(runner, two_companies, two_key_app, database_url,
                                                      owner_conninfo):
    for name in ("Alpha Kitchen", "Beta Grill"):
        result = connect(runner, "--token", f"{name}-token", "--app-secret", f"{name}-app", "--verify-token",
                         f"{name}-verify", company=name)
        assert result.exit_code == 0, result.output
    result = invoke(runner, "integration-add", "--company", "Beta Grill", "--platform", "careem",
                    "--webhook-secret", "hook")
    assert result.exit_code == 0, result.output
    before = connection_rows(owner_conninfo)

    result = invoke(two_key_app.test_cli_runner(), "rotate-keys")

    assert result.exit_code == 0, result.output
    assert result.output == "Re-encrypted 7 secrets with the newest key.\n"   # 2 × 3 WhatsApp + 1 webhook secret
    after = connection_rows(owner_conninfo)
    newest_only = make_app(database_url, PORTAL_ENCRYPTION_KEYS=two_key_app.new_key)  # never connects
    names = {company.id: company.name for company in two_companies}
    for old, new in zip(before, after, strict=True):
        for position, column in enumerate(SECRETS, start=6):
            assert new[position] != old[position]
            clear = f"{names[new[1]]}-{('token', 'app', 'verify')[position - 6]}"
            assert decrypt(newest_only, new[1], new[position]) == clear, column

    again = invoke(two_key_app.test_cli_runner(), "rotate-keys")
    assert again.output == "Re-encrypted 0 secrets with the newest key.\n"
    assert connection_rows(owner_conninfo) == after


def test_rotate_keys_names_the_whatsapp_secret_it_cannot_read(runner, company, database_url):
    from portal.extensions import db

    connect(runner, "--token", "t", "--app-secret", "s", "--verify-token", "v")
    stranger = make_app(database_url, PORTAL_ENCRYPTION_KEYS=Fernet.generate_key().decode())

    result = invoke(stranger.test_cli_runner(), "rotate-keys")
    with stranger.app_context():
        db.engine.dispose()

    assert result.exit_code == 1
    assert "Could not read access_token of WhatsApp connection" in result.output
