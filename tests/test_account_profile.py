"""Your account: profile, password change (current password, other browsers signed out), browsers list."""
import psycopg
import pytest

from tests.conftest import PASSWORD, Auth
from tests.test_account_links import sign_in

NEW_PASSWORD = "another long password"


def owner_value(conninfo, sql, *params):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchone()[0]


def change(auth, current, new=NEW_PASSWORD, confirm=None):
    return auth.post("/account/password", {"current_password": current, "password": new,
                                           "confirm": confirm or new}, page="/account")


@pytest.fixture
def alpha(make_company):
    return make_company("Alpha Kitchen")


def test_every_role_finds_its_account_page(app, alpha):
    for role in ("USER", "MANAGER", "COMPANY_ADMIN"):
        auth = Auth(app.test_client())
        assert auth.login(alpha.email(role)).status_code == 302
        page = auth.client.get("/account").get_data(as_text=True)
        assert "Your account" in page and alpha.email(role) in page
        assert 'href="/account"' in auth.client.get("/").get_data(as_text=True)


def test_the_account_page_needs_a_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_profile_saves_names_and_language(auth, alpha, owner_conninfo):
    auth.login(alpha.email("USER"))
    response = auth.post("/account/profile", {"first_name": "  Noura ", "last_name": "Al-Harbi", "locale": "ar"},
                         page="/account")
    assert response.status_code == 302
    assert owner_value(owner_conninfo, "SELECT first_name || '|' || last_name || '|' || locale FROM users"
                       " WHERE email = %s", alpha.email("USER")) == "Noura|Al-Harbi|ar"
    assert 'lang="ar"' in auth.client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize("form", [{"first_name": "", "last_name": "X", "locale": "en"},
                                  {"first_name": "X" * 101, "last_name": "X", "locale": "en"},
                                  {"first_name": "X", "last_name": "X", "locale": "fr"}])
def test_bad_profile_input_is_explained_and_changes_nothing(auth, alpha, owner_conninfo, form):
    auth.login(alpha.email("USER"))
    before = owner_value(owner_conninfo, "SELECT row(first_name, last_name, locale)::text FROM users WHERE email = %s",
                         alpha.email("USER"))
    response = auth.post("/account/profile", form, page="/account")
    assert response.status_code == 422
    assert 'class="errors"' in response.get_data(as_text=True)
    assert owner_value(owner_conninfo, "SELECT row(first_name, last_name, locale)::text FROM users WHERE email = %s",
                       alpha.email("USER")) == before


def test_a_password_change_needs_the_current_one_and_signs_other_browsers_out(app, auth, alpha, owner_conninfo):
    email = alpha.email("MANAGER")
    tablet = Auth(app.test_client())
    assert tablet.login(email).status_code == 302
    assert auth.login(email).status_code == 302

    wrong = change(auth, "not my password")
    assert wrong.status_code == 422 and "Your current password is not correct." in wrong.get_data(as_text=True)
    assert sign_in(app, email, PASSWORD).status_code == 302  # nothing changed
    assert tablet.client.get("/").status_code == 200

    assert change(auth, PASSWORD).status_code == 302

    assert auth.client.get("/account").status_code == 200  # this browser stays signed in
    assert tablet.client.get("/").status_code == 302  # the other one does not
    assert sign_in(app, email, PASSWORD).status_code == 200
    assert sign_in(app, email, NEW_PASSWORD).status_code == 302
    assert owner_value(owner_conninfo, "SELECT count(*) FROM audit_logs WHERE operation = 'PASSWORD_CHANGED'"
                       " AND record_id = %s", alpha.user_id("MANAGER")) == 1
    trail = owner_value(owner_conninfo, "SELECT string_agg(coalesce(old_values::text, '') || coalesce(new_values::text, ''), '')"
                        " FROM audit_logs")
    assert NEW_PASSWORD not in trail and "$2b$" not in trail  # neither the password nor its hash


@pytest.mark.parametrize("new, confirm, message", [("short", "short", "Use 8 to 200 characters."),
                                                   (NEW_PASSWORD, "different entirely", "The two passwords differ."),
                                                   (PASSWORD, PASSWORD, "different from the current one")])
def test_bad_new_passwords_are_explained(auth, alpha, new, confirm, message):
    auth.login(alpha.email("USER"))
    response = change(auth, PASSWORD, new, confirm)
    assert response.status_code == 422
    assert message.lower() in response.get_data(as_text=True).lower()


def test_guessing_the_current_password_is_throttled(app, auth, alpha):
    auth.login(alpha.email("USER"))
    for _ in range(app.config["SIGN_IN_PAIR_FAILURES"]):
        assert change(auth, "guess").status_code == 422
    refused = change(auth, PASSWORD)
    assert "Too many wrong passwords" in refused.get_data(as_text=True)
    assert sign_in(app, alpha.email("USER"), NEW_PASSWORD).status_code != 302


def test_signing_out_other_browsers_keeps_this_one(app, auth, alpha):
    email = alpha.email("USER")
    others = [Auth(app.test_client()) for _ in range(2)]
    for other in others:
        other.login(email)
    auth.login(email)
    page = auth.client.get("/account", headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/131.0"})
    assert "Sign out other browsers" in page.get_data(as_text=True)

    response = auth.post("/account/sessions/end", page="/account", follow_redirects=True)

    assert "Other browsers signed out: 2." in response.get_data(as_text=True)
    assert all(other.client.get("/").status_code == 302 for other in others)
    assert "You are not signed in anywhere else." in auth.client.get("/account").get_data(as_text=True)


def test_a_person_sees_and_ends_only_their_own_browsers(app, auth, make_company):
    alpha, beta = make_company("Alpha Kitchen"), make_company("Beta Grill")
    colleague = Auth(app.test_client())
    colleague.login(alpha.email("MANAGER"))
    stranger = Auth(app.test_client())
    stranger.login(beta.email("USER"))
    auth.login(alpha.email("USER"))

    assert "You are not signed in anywhere else." in auth.client.get("/account").get_data(as_text=True)
    auth.post("/account/sessions/end", page="/account")

    assert colleague.client.get("/").status_code == 200
    assert stranger.client.get("/").status_code == 200


def test_browser_labels_are_readable(app):
    from portal.account.services import browser_label
    with app.test_request_context():
        assert browser_label("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile Safari/604.1") \
            == "Safari on iPhone"
        assert browser_label("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0") \
            == "Edge on Windows"
        assert browser_label(None) == "Unknown browser"
