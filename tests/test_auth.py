"""Sign-in and sign-out: credentials, refusals, session rotation, CSRF and `next` (throttling: test_sign_in_throttle.py)."""
import html
import re
import time
from urllib.parse import urljoin, urlsplit

import psycopg
import pytest

from tests.conftest import PASSWORD, csrf_token

INCORRECT = "E-mail or password is incorrect."
DEACTIVATED = "This account is deactivated. Ask your company admin to reactivate it."
ERRORS = re.compile(r'<ul class="errors"[^>]*>(.*?)</ul>', re.S)
ITEM = re.compile(r"<li>(.*?)</li>", re.S)


def form_errors(response):
    """The messages shown next to the form fields, in page order."""
    page = response.get_data(as_text=True)
    return [html.unescape(item) for block in ERRORS.findall(page) for item in ITEM.findall(block)]


def owner_value(conninfo, sql, *params):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchone()[0]


def owner_execute(conninfo, sql, *params):
    with psycopg.connect(conninfo) as connection:
        connection.execute(sql, params)


def signed_in_user(client):
    """The session's user key, or None when nobody is signed in."""
    with client.session_transaction() as session:
        return session.get("_user_id")


def post_login(client, email, password, ip="127.0.0.1", **extra):
    """POST /login from `ip` with a valid CSRF token."""
    data = {"email": email, "password": password, "csrf_token": csrf_token(client), **extra}
    return client.post("/login", data=data, environ_base={"REMOTE_ADDR": ip})


def assert_not_signed_in(client):
    assert signed_in_user(client) is None
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- Sign-in success and refusals ------------------------------------------------------------------

def test_sign_in_redirects_to_dashboard_and_records_last_login(client, auth, make_company, owner_conninfo):
    company = make_company()
    user_id = company.user_id("USER")
    assert owner_value(owner_conninfo, "SELECT last_login_at FROM users WHERE id = %s", user_id) is None

    response = auth.login(company.email("USER"))

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in_user(client) == f"{company.id}:{user_id}"
    assert client.get("/").status_code == 200
    recorded = owner_value(owner_conninfo, "SELECT now() - last_login_at FROM users WHERE id = %s", user_id)
    assert recorded is not None and recorded.total_seconds() < 60


def test_sign_in_ignores_case_of_email(client, auth, make_company):
    company = make_company()
    response = auth.login(company.email("MANAGER").upper())
    assert response.status_code == 302
    assert signed_in_user(client) == f"{company.id}:{company.user_id('MANAGER')}"


def test_wrong_password_and_unknown_email_look_the_same(client, auth, make_company, owner_conninfo):
    company = make_company()

    wrong_password = auth.login(company.email("USER"), "not the password")
    wrong_errors = form_errors(wrong_password)
    unknown_email = auth.login("nobody@alpha-kitchen.test", PASSWORD)
    unknown_errors = form_errors(unknown_email)

    assert wrong_password.status_code == unknown_email.status_code == 200
    assert wrong_errors == unknown_errors == [INCORRECT]
    assert_not_signed_in(client)
    assert owner_value(owner_conninfo, "SELECT last_login_at FROM users WHERE id = %s",
                       company.user_id("USER")) is None


def test_unknown_email_costs_as_much_as_a_wrong_password(app):
    """A miss runs bcrypt at the configured cost, so timing does not tell which e-mails have accounts."""
    from portal.auth.passwords import check_password, hash_password

    def fastest(check):
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            check()
            timings.append(time.perf_counter() - started)
        return min(timings)

    original = app.config["BCRYPT_ROUNDS"]
    app.config["BCRYPT_ROUNDS"] = 10
    try:
        with app.app_context():
            stored = hash_password("the real password")
            check_password("warm up", None)
            wrong_password = fastest(lambda: check_password("a guess", stored))
            unknown_email = fastest(lambda: check_password("a guess", None))
    finally:
        app.config["BCRYPT_ROUNDS"] = original
    assert unknown_email > wrong_password / 3


@pytest.mark.parametrize("email, password, message", [
    ("", "", "This field is required."),
    ("admin@alpha-kitchen.test", "", "This field is required."),
    ("", PASSWORD, "This field is required."),
    ("not-an-email", PASSWORD, "Invalid email address."),
    ("admin@alpha-kitchen.test", "x" * 10_000, "Field cannot be longer than 200 characters."),
    ("a" * 10_000 + "@alpha-kitchen.test", PASSWORD, "Invalid email address."),
], ids=["both-empty", "password-empty", "email-empty", "not-an-email", "10k-password", "10k-email"])
def test_malformed_fields_get_a_clear_message(client, make_company, email, password, message):
    make_company()
    response = post_login(client, email, password)
    assert response.status_code == 200
    assert message in form_errors(response)
    assert_not_signed_in(client)


def test_a_nul_in_the_address_is_dropped_before_the_form_reads_it(client, make_company):
    """Every form loses control characters before any view (portal/web.py): the address is read without it."""
    make_company()
    response = post_login(client, "admin\x00@alpha-kitchen.test", PASSWORD)
    assert response.status_code == 302


def test_missing_fields_are_not_a_server_error(client, make_company):
    make_company()
    response = client.post("/login", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 200
    assert "This field is required." in form_errors(response)
    assert_not_signed_in(client)


def test_password_longer_than_bcrypt_limit_signs_in(client, make_company, app):
    """bcrypt reads 72 bytes; a longer password (allowed by the forms) must still work, not 500."""
    from portal.extensions import db
    from portal.models import User
    from portal.tenancy import tenant
    from portal.users.services import create_user

    company = make_company()
    long_password = "كلمة-سر-طويلة-" * 8  # about 200 bytes in UTF-8, under the form's 200 characters
    assert len(long_password.encode()) > 72 and len(long_password) <= 200
    with app.app_context(), tenant(company.id):
        create_user(None, email="long@alpha-kitchen.test", first_name="Long", last_name="Password",
                    role="USER", password=long_password, company_id=company.id)
        assert db.session.scalar(db.select(User.id).where(User.email == "long@alpha-kitchen.test"))

    assert post_login(client, "long@alpha-kitchen.test", "x" + long_password[1:]).status_code == 200
    assert_not_signed_in(client)
    response = post_login(client, "long@alpha-kitchen.test", long_password)
    assert response.status_code == 302
    assert signed_in_user(client) is not None


def test_inactive_user_is_told_only_after_a_correct_password(client, auth, make_company, owner_conninfo):
    company = make_company()
    owner_execute(owner_conninfo, "UPDATE users SET is_active = false WHERE id = %s", company.user_id("USER"))

    wrong = auth.login(company.email("USER"), "not the password")
    assert form_errors(wrong) == [INCORRECT]

    right = auth.login(company.email("USER"))
    assert right.status_code == 200
    assert form_errors(right) == [DEACTIVATED]
    assert_not_signed_in(client)
    assert owner_value(owner_conninfo, "SELECT last_login_at FROM users WHERE id = %s",
                       company.user_id("USER")) is None


def test_soft_deleted_user_is_refused(client, auth, make_company, owner_conninfo):
    company = make_company()
    owner_execute(owner_conninfo, "UPDATE users SET deleted_at = now() WHERE id = %s", company.user_id("MANAGER"))

    response = auth.login(company.email("MANAGER"))

    assert response.status_code == 200
    assert form_errors(response) in ([DEACTIVATED], [INCORRECT])
    assert_not_signed_in(client)


def test_user_of_an_inactive_company_is_refused(client, auth, make_company, owner_conninfo):
    company = make_company()
    owner_execute(owner_conninfo, "UPDATE companies SET is_active = false WHERE id = %s", company.id)

    response = auth.login(company.email("COMPANY_ADMIN"))

    assert response.status_code == 200
    assert "This company's portal is not active. Contact support." in form_errors(response)
    assert_not_signed_in(client)


def test_signed_in_user_is_signed_out_when_the_company_is_deactivated(client, auth, make_company, owner_conninfo):
    company = make_company()
    assert auth.login(company.email("USER")).status_code == 302
    assert client.get("/").status_code == 200

    owner_execute(owner_conninfo, "UPDATE companies SET is_active = false WHERE id = %s", company.id)

    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- Session rotation -------------------------------------------------------------------------------

def test_sign_in_starts_a_new_session(client, make_company):
    company = make_company()
    old_token = csrf_token(client)
    with client.session_transaction() as session:
        session["planted"] = "from before sign-in"
    cookie_before = client.get_cookie("session").value

    response = client.post("/login", data={"email": company.email("USER"), "password": PASSWORD,
                                           "csrf_token": old_token})

    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{company.id}:{company.user_id('USER')}"
    assert client.get_cookie("session").value != cookie_before
    # A CSRF token issued to the anonymous session is not valid in the signed-in one.
    assert client.post("/logout", data={"csrf_token": old_token}).status_code == 400
    assert signed_in_user(client) is not None


def test_sign_in_keeps_the_chosen_language(client, make_company):
    company = make_company()
    client.post("/language", data={"locale": "ar", "csrf_token": csrf_token(client)})
    post_login(client, company.email("USER"), PASSWORD)
    with client.session_transaction() as session:
        assert session.get("locale") == "ar"


# --- CSRF -------------------------------------------------------------------------------------------

def test_login_without_csrf_token_is_refused(client, make_company, owner_conninfo):
    company = make_company()
    client.get("/login")
    response = client.post("/login", data={"email": company.email("USER"), "password": PASSWORD})
    assert response.status_code == 400
    assert_not_signed_in(client)
    assert owner_value(owner_conninfo, "SELECT last_login_at FROM users WHERE id = %s",
                       company.user_id("USER")) is None


def test_login_with_a_forged_csrf_token_is_refused(client, make_company):
    company = make_company()
    client.get("/login")
    response = client.post("/login", data={"email": company.email("USER"), "password": PASSWORD,
                                           "csrf_token": "forged"})
    assert response.status_code == 400
    assert_not_signed_in(client)


def test_creating_a_user_without_csrf_token_is_refused(client, auth, make_company, owner_conninfo):
    company = make_company()
    auth.login(company.email("COMPANY_ADMIN"))
    before = owner_value(owner_conninfo, "SELECT count(*) FROM users")

    response = client.post("/users/", data={"first_name": "Eve", "last_name": "Forged",
                                            "email": "eve@alpha-kitchen.test", "role": "USER",
                                            "password": "long enough password"})

    assert response.status_code == 400
    assert owner_value(owner_conninfo, "SELECT count(*) FROM users") == before
    assert owner_value(owner_conninfo, "SELECT count(*) FROM users WHERE email = 'eve@alpha-kitchen.test'") == 0


# --- Sign out ---------------------------------------------------------------------------------------

def test_logout_needs_a_post_with_csrf_and_ends_the_session(client, auth, make_company):
    company = make_company()
    auth.login(company.email("USER"))

    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in

    response = auth.logout()
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert_not_signed_in(client)


# --- Where sign-in leads ----------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "https://evil.example/steal",
    "http://evil.example",
    "//evil.example/steal",
    "/\\evil.example/steal",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "users/",
])
def test_next_outside_the_site_is_ignored(client, make_company, target):
    company = make_company()
    response = post_login(client, company.email("COMPANY_ADMIN"), PASSWORD, next=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    # Resolved as a browser would (reading "\\" as "/", dropping tabs), it stays on this site.
    resolved = urlsplit(urljoin("http://portal.local/login", location.replace("\\", "/").replace("\t", "")))
    assert (resolved.scheme, resolved.netloc) == ("http", "portal.local"), location


def test_next_local_path_is_followed(client, make_company):
    company = make_company()

    bounced = client.get("/users/?q=manager")
    assert bounced.status_code == 302
    login_page = client.get(bounced.headers["Location"]).get_data(as_text=True)
    hidden = re.search(r'<input[^>]*name="next"[^>]*value="([^"]*)"', login_page)
    assert hidden, "the sign-in form carries where to go next"
    target = html.unescape(hidden.group(1))
    assert target == "/users/?q=manager"

    response = post_login(client, company.email("COMPANY_ADMIN"), PASSWORD, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/users/?q=manager"
    assert client.get(response.headers["Location"]).status_code == 200
