"""Forgotten password and reset links: the same answer for everyone, single use, expiry, tampering, tenants."""
from urllib.parse import urlsplit

import psycopg
import pytest
from itsdangerous import URLSafeSerializer

from tests.conftest import PASSWORD, csrf_token

NEW_PASSWORD = "a fresh long password"


def outbox(conninfo, email):
    with psycopg.connect(conninfo) as connection:
        return connection.execute("SELECT kind, link, company_id FROM outbound_emails WHERE to_address = %s "
                                  "ORDER BY created_at", (email,)).fetchall()


def ask_for_link(client, email):
    return client.post("/forgot-password", data={"email": email, "csrf_token": csrf_token(client, "/forgot-password")})


def reset_path(conninfo, email):
    return urlsplit(outbox(conninfo, email)[-1][1]).path


def set_password(client, path, password=NEW_PASSWORD, confirm=None):
    token = csrf_token(client, path)
    return client.post(path, data={"password": password, "confirm": confirm or password, "csrf_token": token})


def sign_in(app, email, password):
    client = app.test_client()
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def alpha(make_company):
    return make_company("Alpha Kitchen")


def test_the_answer_is_the_same_for_known_and_unknown_addresses(client, alpha, owner_conninfo):
    known = ask_for_link(client, alpha.email("MANAGER"))
    unknown = ask_for_link(client, "nobody@nowhere.test")

    assert known.status_code == unknown.status_code == 200
    strip = lambda response, email: response.get_data(as_text=True).replace(email, "EMAIL")  # noqa: E731
    assert strip(known, alpha.email("MANAGER")) == strip(unknown, "nobody@nowhere.test")
    assert [row[0] for row in outbox(owner_conninfo, alpha.email("MANAGER"))] == ["reset"]
    assert outbox(owner_conninfo, "nobody@nowhere.test") == []
    assert outbox(owner_conninfo, alpha.email("MANAGER"))[0][2] == alpha.id  # in the account's own company


def test_a_reset_link_sets_the_password_once_and_ends_every_session(app, auth, alpha, owner_conninfo):
    email = alpha.email("MANAGER")
    assert auth.login(email).status_code == 302  # an open session elsewhere
    ask_for_link(app.test_client(), email)
    path = reset_path(owner_conninfo, email)

    browser = app.test_client()
    assert "Choose a new password" in browser.get(path).get_data(as_text=True)
    mismatch = set_password(browser, path, confirm="something else entirely")
    assert mismatch.status_code == 422 and "The two passwords differ." in mismatch.get_data(as_text=True)
    assert set_password(browser, path).status_code == 302

    assert auth.client.get("/").status_code == 302  # the other browser is signed out
    assert sign_in(app, email, PASSWORD).status_code == 200
    assert sign_in(app, email, NEW_PASSWORD).status_code == 302
    again = set_password(app.test_client(), path, "yet another password")
    assert again.status_code == 404 and "This link does not work" in again.get_data(as_text=True)
    assert sign_in(app, email, NEW_PASSWORD).status_code == 302
    with psycopg.connect(owner_conninfo) as connection:
        operations = [row[0] for row in connection.execute(
            "SELECT operation FROM audit_logs WHERE record_id = %s", (alpha.user_id("MANAGER"),))]
    assert "PASSWORD_RESET" in operations


def test_a_newer_link_retires_the_older_one(app, alpha, owner_conninfo):
    email = alpha.email("USER")
    ask_for_link(app.test_client(), email)
    first = reset_path(owner_conninfo, email)
    ask_for_link(app.test_client(), email)
    second = reset_path(owner_conninfo, email)

    assert first != second
    assert set_password(app.test_client(), first).status_code == 404
    assert set_password(app.test_client(), second).status_code == 302


def test_an_expired_link_does_not_work(app, alpha, owner_conninfo):
    email = alpha.email("USER")
    ask_for_link(app.test_client(), email)
    with psycopg.connect(owner_conninfo) as connection:
        connection.execute("UPDATE account_tokens SET expires_at = now() - interval '1 second'")
    assert app.test_client().get(reset_path(owner_conninfo, email)).status_code == 404
    assert sign_in(app, email, PASSWORD).status_code == 302  # the password is unchanged


@pytest.mark.parametrize("tamper", ["garbage", "flipped", "other-company", "other-purpose"])
def test_a_tampered_or_foreign_link_is_not_found_and_changes_nothing(app, alpha, make_company, owner_conninfo,
                                                                     tamper):
    beta = make_company("Beta Grill")
    email = alpha.email("USER")
    ask_for_link(app.test_client(), email)
    token = reset_path(owner_conninfo, email).rsplit("/", 1)[1]
    with app.app_context():
        data = URLSafeSerializer(app.config["SECRET_KEY"], salt="account-reset").loads(token)
        moved = URLSafeSerializer(app.config["SECRET_KEY"], salt="account-reset").dumps({**data, "c": str(beta.id)})
    path = {"garbage": "/reset-password/not-a-token", "flipped": f"/reset-password/{token[:-2]}xx",
            "other-company": f"/reset-password/{moved}", "other-purpose": f"/invitation/{token}"}[tamper]

    assert app.test_client().get(path).status_code == 404
    assert set_password(app.test_client(), path).status_code == 404
    assert sign_in(app, email, PASSWORD).status_code == 302


def test_no_link_for_a_deactivated_account(app, alpha, owner_conninfo):
    with psycopg.connect(owner_conninfo) as connection:
        connection.execute("UPDATE users SET is_active = false WHERE id = %s", (alpha.user_id("USER"),))
    assert ask_for_link(app.test_client(), alpha.email("USER")).status_code == 200
    assert outbox(owner_conninfo, alpha.email("USER")) == []


def test_bad_input_on_the_forgot_page_is_explained(client, owner_conninfo):
    response = ask_for_link(client, "not an address")
    assert response.status_code == 422 and "Invalid email address." in response.get_data(as_text=True)


def test_an_admin_sends_a_reset_link_from_the_users_page(app, auth, alpha, owner_conninfo):
    assert auth.login(alpha.email("COMPANY_ADMIN")).status_code == 302
    response = auth.post(f"/users/{alpha.user_id('USER')}/reset-link", page="/users/", follow_redirects=True)
    assert "A password-reset link is on its way" in response.get_data(as_text=True)
    assert set_password(app.test_client(), reset_path(owner_conninfo, alpha.email("USER"))).status_code == 302
    assert sign_in(app, alpha.email("USER"), NEW_PASSWORD).status_code == 302
