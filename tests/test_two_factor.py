"""Two-step sign-in: enrolment, the second step, replay, recovery codes, the company's requirement, audit."""
import html
import re
import time

import pyotp
import pytest

from tests.conftest import PASSWORD, Auth, csrf_token, owner_execute, owner_rows

SECRET = re.compile(r'<code class="secret-key" dir="ltr">([A-Z2-7 ]+)</code>')
CODES = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")




def code_at(secret, offset_steps=0):
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def enrol(auth):
    """Set up two-step sign-in for the signed-in user; their secret and recovery codes."""
    page = auth.client.get("/account/two-step").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code
    secret = SECRET.search(page).group(1).replace(" ", "")
    response = auth.post("/account/two-step", {"code": code_at(secret)}, page="/account/two-step")
    assert response.status_code == 200
    codes = CODES.findall(response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def password_step(app, email, password=PASSWORD, ip="127.0.0.1"):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)},
                           environ_base={"REMOTE_ADDR": ip})
    return client, response


def code_step(client, code, ip="127.0.0.1"):
    token = csrf_token(client, "/login")  # the session's token, whichever page shows it
    return client.post("/login/two-step", data={"code": code, "csrf_token": token}, environ_base={"REMOTE_ADDR": ip})


def signed_in(client):
    return client.get("/").status_code == 200


@pytest.fixture
def alpha(make_company):
    return make_company("Alpha Kitchen")


def test_enrolment_needs_a_right_code_and_stores_only_hashes(auth, alpha, owner_conninfo):
    auth.login(alpha.email("MANAGER"))
    page = auth.client.get("/account/two-step").get_data(as_text=True)
    secret = SECRET.search(page).group(1).replace(" ", "")
    wrong = auth.post("/account/two-step", {"code": "000000" if code_at(secret) != "000000" else "111111"},
                      page="/account/two-step")
    assert wrong.status_code == 422 and "That code is not right" in wrong.get_data(as_text=True)
    assert owner_rows(owner_conninfo, "SELECT totp_enabled_at FROM users WHERE email = %s", alpha.email("MANAGER")) \
        == [(None,)]

    response = auth.post("/account/two-step", {"code": code_at(secret)}, page="/account/two-step")

    codes = CODES.findall(response.get_data(as_text=True))
    assert len(set(codes)) == 10
    (stored_secret, enabled), = owner_rows(owner_conninfo, "SELECT totp_secret, totp_enabled_at FROM users WHERE email = %s",
                                     alpha.email("MANAGER"))
    assert enabled is not None and secret not in stored_secret  # sealed, not plain
    hashes = {row[0] for row in owner_rows(owner_conninfo, "SELECT code_hash FROM recovery_codes")}
    assert len(hashes) == 10 and not hashes & {code.replace("-", "") for code in codes}
    assert "On" in auth.client.get("/account").get_data(as_text=True)


def test_sign_in_asks_for_the_code_after_the_password(app, auth, alpha, owner_conninfo):
    auth.login(alpha.email("USER"))
    secret, _ = enrol(auth)

    client, response = password_step(app, alpha.email("USER"))
    assert response.status_code == 302 and response.headers["Location"] == "/login/two-step"
    assert not signed_in(client)  # a password alone opens nothing

    wrong = code_step(client, "123456" if code_at(secret, 1) != "123456" else "654321")
    assert wrong.status_code == 422 and "That code is not right" in wrong.get_data(as_text=True)
    arabic_digits = code_at(secret, 1).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert code_step(client, arabic_digits).status_code == 302
    assert signed_in(client)

    # The same code cannot be used again, in another browser (seen over a shoulder).
    other, _ = password_step(app, alpha.email("USER"))
    assert code_step(other, code_at(secret, 1)).status_code == 422
    assert not signed_in(other)


def test_a_recovery_code_works_once(app, auth, alpha, owner_conninfo):
    auth.login(alpha.email("USER"))
    _, codes = enrol(auth)

    client, _ = password_step(app, alpha.email("USER"))
    response = code_step(client, codes[3].upper().replace("-", " "))  # as a person might type it
    assert response.status_code == 302
    dashboard = client.get("/")
    assert dashboard.status_code == 200 and "9 are left" in html.unescape(dashboard.get_data(as_text=True))

    again, _ = password_step(app, alpha.email("USER"))
    assert code_step(again, codes[3]).status_code == 422
    operations = [row[0] for row in owner_rows(owner_conninfo, "SELECT operation FROM audit_logs WHERE record_id = %s",
                                         alpha.user_id("USER"))]
    assert "RECOVERY_CODE_USED" in operations and "TWO_FACTOR_ENABLED" in operations


def test_another_persons_recovery_code_does_not_work(app, alpha):
    first, second = Auth(app.test_client()), Auth(app.test_client())
    first.login(alpha.email("USER"))
    second.login(alpha.email("MANAGER"))
    _, first_codes = enrol(first)
    enrol(second)

    client, _ = password_step(app, alpha.email("MANAGER"))
    assert code_step(client, first_codes[0]).status_code == 422


def test_the_code_step_expires_and_cannot_be_skipped(app, auth, alpha):
    auth.login(alpha.email("USER"))
    secret, _ = enrol(auth)
    client, _ = password_step(app, alpha.email("USER"))
    with client.session_transaction() as session:
        session["two_factor_pending"] = {**session["two_factor_pending"],
                                         "at": session["two_factor_pending"]["at"] - 10 * 60}

    response = code_step(client, code_at(secret, 1))

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not signed_in(client)
    assert app.test_client().get("/login/two-step").headers["Location"] == "/login"


def test_guessing_codes_is_throttled(app, auth, alpha):
    auth.login(alpha.email("USER"))
    secret, _ = enrol(auth)
    client, _ = password_step(app, alpha.email("USER"), ip="10.1.1.1")
    right = code_at(secret, 1)
    guess = "000000" if right != "000000" else "111111"
    for _ in range(app.config["SIGN_IN_PAIR_FAILURES"]):
        assert code_step(client, guess, ip="10.1.1.1").status_code == 422

    response = code_step(client, right, ip="10.1.1.1")

    assert response.status_code == 429 and not signed_in(client)


def test_a_company_that_requires_it_sends_admins_to_set_it_up(app, alpha, owner_conninfo):
    owner_execute(owner_conninfo, "UPDATE companies SET two_factor_required = true WHERE id = %s", alpha.id)
    admin = Auth(app.test_client())
    admin.login(alpha.email("COMPANY_ADMIN"))

    for path in ("/", "/orders/", "/users/", "/account"):
        response = admin.client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/two-step", path
    htmx = admin.client.get("/orders/", headers={"HX-Request": "true"})
    assert htmx.headers.get("HX-Redirect") == "/account/two-step"
    assert "requires two-step sign-in" in admin.client.get("/account/two-step").get_data(as_text=True)
    staff = Auth(app.test_client())
    staff.login(alpha.email("USER"))
    assert staff.client.get("/").status_code == 200  # staff are not asked

    enrol(admin)
    assert admin.client.get("/users/").status_code == 200
    refused = admin.post("/account/two-step/off", {"off-current_password": PASSWORD}, page="/account",
                         follow_redirects=True)
    assert "so it stays on" in refused.get_data(as_text=True)
    assert owner_rows(owner_conninfo, "SELECT totp_enabled_at IS NOT NULL FROM users WHERE email = %s",
                alpha.email("COMPANY_ADMIN")) == [(True,)]


def test_an_admin_turns_the_requirement_on_in_company_settings(auth, alpha, owner_conninfo):
    auth.login(alpha.email("COMPANY_ADMIN"))
    page = auth.client.get("/settings/").get_data(as_text=True)
    assert "Require two-step sign-in for company admins" in page
    form = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page))
    form.update({"name": "Alpha Kitchen", "timezone": "Asia/Riyadh", "currency": "SAR", "default_language": "en",
                 "two_factor_required": "y"})
    form.pop("remove_logo", None)
    response = auth.post("/settings/", form, page="/settings/")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert owner_rows(owner_conninfo, "SELECT two_factor_required FROM companies WHERE id = %s", alpha.id) == [(True,)]
    assert auth.client.get("/").headers["Location"] == "/account/two-step"


def test_turning_it_off_needs_the_password(app, auth, alpha, owner_conninfo):
    auth.login(alpha.email("USER"))
    enrol(auth)

    wrong = auth.post("/account/two-step/off", {"off-current_password": "nope"}, page="/account",
                      follow_redirects=True)
    assert "Your current password is not correct." in wrong.get_data(as_text=True)
    assert auth.post("/account/two-step/off", {"off-current_password": PASSWORD}, page="/account").status_code == 302

    assert owner_rows(owner_conninfo, "SELECT count(*) FROM recovery_codes") == [(0,)]
    client, response = password_step(app, alpha.email("USER"))
    assert response.headers["Location"] == "/" and signed_in(client)


def test_new_recovery_codes_replace_the_old_ones(app, auth, alpha):
    auth.login(alpha.email("USER"))
    _, old_codes = enrol(auth)
    response = auth.post("/account/two-step/recovery-codes", {"codes-current_password": PASSWORD}, page="/account")
    new_codes = CODES.findall(response.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)

    client, _ = password_step(app, alpha.email("USER"))
    assert code_step(client, old_codes[0]).status_code == 422
    assert code_step(client, new_codes[0]).status_code == 302


def test_the_secret_never_reaches_the_audit_trail_and_steps_are_not_changes(app, auth, alpha, owner_conninfo):
    auth.login(alpha.email("USER"))
    secret, _ = enrol(auth)
    before = owner_rows(owner_conninfo, "SELECT count(*) FROM audit_logs WHERE table_name = 'users' AND operation = 'UPDATE'")
    client, _ = password_step(app, alpha.email("USER"))
    code_step(client, code_at(secret, 1))

    trail = owner_rows(owner_conninfo, "SELECT coalesce(string_agg(coalesce(old_values::text, '') || "
                                 "coalesce(new_values::text, ''), ''), '') FROM audit_logs")[0][0]
    assert "totp_secret" not in trail and secret not in trail
    after = owner_rows(owner_conninfo, "SELECT count(*) FROM audit_logs WHERE table_name = 'users' AND operation = 'UPDATE'")
    assert after == before  # a sign-in moves totp_last_step (and last_login_at): bookkeeping, not a change
