"""Failed sign-ins: tight per account+address, loose per account, per address; the owner's own devices stay usable."""
import pytest

from tests.conftest import PASSWORD, csrf_token, owner_execute, owner_rows
from tests.test_auth import assert_not_signed_in, post_login

PAUSED = "Too many failed sign-ins"


def fail(app, email, ip, times):
    for attempt in range(times):
        response = post_login(app.test_client(), email, "wrong password", ip=ip)
        assert response.status_code == 200, attempt




def security_emails(conninfo, to):
    return owner_rows(conninfo, "SELECT subject FROM outbound_emails WHERE kind = 'security' AND to_address = %s", to)


def failed_audits(conninfo):
    return owner_rows(conninfo, "SELECT count(*) FROM audit_logs WHERE operation = 'SIGN_IN_FAILED'")[0][0]


def test_five_failures_from_one_address_pause_it_for_that_account_only(app, client, make_company, owner_conninfo):
    company = make_company()
    email = company.email("COMPANY_ADMIN")
    assert app.config["SIGN_IN_PAIR_FAILURES"] == 5
    fail(app, email.upper(), "10.0.0.1", 5)  # letter case does not make a new account
    audited = failed_audits(owner_conninfo)

    response = post_login(client, email, PASSWORD, ip="10.0.0.1")

    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert PAUSED in response.get_data(as_text=True)
    assert_not_signed_in(client)
    assert failed_audits(owner_conninfo) == audited  # refused before the password was even checked
    # The same account from elsewhere, and another account from here, are not affected.
    assert post_login(app.test_client(), email, PASSWORD, ip="10.0.0.2").status_code == 302
    assert post_login(app.test_client(), company.email("USER"), PASSWORD, ip="10.0.0.1").status_code == 302


def test_each_further_failure_doubles_the_pause(app, make_company, owner_conninfo):
    company = make_company()
    email = company.email("USER")
    fail(app, email, "10.0.0.1", 5)
    owner_execute(owner_conninfo, "UPDATE sign_in_throttle SET blocked_until = now() - interval '1 second'")

    assert post_login(app.test_client(), email, "wrong again", ip="10.0.0.1").status_code == 200
    response = post_login(app.test_client(), email, PASSWORD, ip="10.0.0.1")

    assert response.status_code == 429
    assert 60 < int(response.headers["Retry-After"]) <= 120


def test_an_attacker_elsewhere_cannot_lock_the_owner_out_of_a_device_they_used(app, make_company, owner_conninfo):
    company = make_company()
    email = company.email("MANAGER")
    assert post_login(app.test_client(), email, PASSWORD, ip="198.51.100.9").status_code == 302
    limit = app.config["SIGN_IN_ACCOUNT_FAILURES"]
    for attempt in range(limit):  # one guess from each of many addresses: no pair limit is reached
        fail(app, email, f"203.0.113.{attempt + 1}", 1)

    # A device the account never used is paused, even with the right password...
    assert post_login(app.test_client(), email, PASSWORD, ip="192.0.2.50").status_code == 429
    # ...the owner's own device is not.
    assert post_login(app.test_client(), email, PASSWORD, ip="198.51.100.9").status_code == 302


def test_one_address_guessing_many_accounts_is_paused(app, make_company, monkeypatch):
    company = make_company()
    monkeypatch.setitem(app.config, "SIGN_IN_ADDRESS_FAILURES", 8)
    for attempt in range(8):
        fail(app, f"guess{attempt}@alpha-kitchen.test", "192.0.2.7", 1)

    assert post_login(app.test_client(), company.email("USER"), PASSWORD, ip="192.0.2.7").status_code == 429
    assert post_login(app.test_client(), company.email("USER"), PASSWORD, ip="192.0.2.8").status_code == 302


def test_unknown_emails_are_paused_exactly_like_real_ones(app, make_company):
    company = make_company()
    fail(app, "nobody@alpha-kitchen.test", "10.0.0.3", 5)
    fail(app, company.email("USER"), "10.0.0.4", 5)

    unknown = post_login(app.test_client(), "nobody@alpha-kitchen.test", "x", ip="10.0.0.3")
    real = post_login(app.test_client(), company.email("USER"), "x", ip="10.0.0.4")

    assert unknown.status_code == real.status_code == 429
    assert PAUSED in unknown.get_data(as_text=True) and PAUSED in real.get_data(as_text=True)


def test_a_success_restarts_the_count_for_that_address(app, make_company):
    company = make_company()
    email = company.email("USER")
    fail(app, email, "10.0.0.1", 4)
    assert post_login(app.test_client(), email, PASSWORD, ip="10.0.0.1").status_code == 302
    fail(app, email, "10.0.0.1", 4)

    assert post_login(app.test_client(), email, PASSWORD, ip="10.0.0.1").status_code == 302


def test_the_owner_is_emailed_once_per_incident(app, make_company, owner_conninfo):
    company = make_company()
    email = company.email("USER")
    fail(app, email, "10.0.0.1", 4)
    assert security_emails(owner_conninfo, email) == []

    fail(app, email, "10.0.0.1", 1)
    assert len(security_emails(owner_conninfo, email)) == 1
    fail(app, email, "10.0.0.2", 5)  # the same incident from another address
    assert len(security_emails(owner_conninfo, email)) == 1
    body = owner_rows(owner_conninfo, "SELECT body_text, link, company_id FROM outbound_emails WHERE kind = 'security'")
    assert "10.0.0.1" in body[0][0] and "/forgot-password" in body[0][1]
    assert body[0][2] == company.id  # the company's own outbox (RLS), nobody else's

    # An hour with no failure ends the incident; the next one is told again.
    owner_execute(owner_conninfo, "UPDATE sign_in_throttle SET last_failed_at = now() - interval '2 hours',"
                                  " blocked_until = NULL")
    fail(app, email, "10.0.0.3", 5)
    assert len(security_emails(owner_conninfo, email)) == 2


def test_an_arabic_speaking_owner_is_told_in_arabic(app, make_company, owner_conninfo):
    company = make_company()
    email = company.email("USER")
    owner_execute(owner_conninfo, "UPDATE users SET locale = 'ar' WHERE email = %s", email)
    fail(app, email, "10.0.0.1", 5)
    subject = security_emails(owner_conninfo, email)[0][0]
    assert any("\u0600" <= ch <= "\u06ff" for ch in subject)


def test_a_reset_link_opened_on_a_paused_device_lets_it_sign_in(app, make_company, owner_conninfo):
    from portal.account.services import request_password_reset
    company = make_company()
    email = company.email("USER")
    fail(app, email, "10.0.0.1", 5)
    with app.test_request_context():
        request_password_reset(email)
    link = owner_rows(owner_conninfo, "SELECT link FROM outbound_emails WHERE kind = 'reset'")[0][0]
    path = link.split("://", 1)[-1].split("/", 1)[1]
    browser = app.test_client()
    page = browser.get("/" + path, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    token = csrf_token(browser, "/" + path)
    response = browser.post("/" + path, data={"password": "a fresh passphrase", "confirm": "a fresh passphrase",
                                              "csrf_token": token}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert page.status_code == 200 and response.status_code == 302

    assert post_login(app.test_client(), email, "a fresh passphrase", ip="10.0.0.1").status_code == 302


def test_the_table_names_no_account_or_address_and_only_sign_in_may_read_it(app, make_company, owner_conninfo):
    company = make_company()
    email = company.email("USER")
    fail(app, email, "10.9.8.7", 2)
    keys = [row[0] for row in owner_rows(owner_conninfo, "SELECT key FROM sign_in_throttle")]
    assert len(keys) == 3
    assert not any("alpha" in key or "10.9" in key for key in keys)

    with app.app_context():
        from sqlalchemy import text
        from sqlalchemy.exc import ProgrammingError

        from portal.extensions import db
        with pytest.raises(ProgrammingError):
            db.session.execute(text("SELECT count(*) FROM sign_in_throttle"))
        db.session.rollback()


def test_prune_forgets_stale_failures_and_keeps_known_devices(app, make_company, owner_conninfo):
    from portal.auth import throttle
    company = make_company()
    email = company.email("USER")
    assert post_login(app.test_client(), email, PASSWORD, ip="10.0.0.1").status_code == 302
    fail(app, email, "10.0.0.2", 2)
    owner_execute(owner_conninfo, "UPDATE sign_in_throttle SET last_failed_at = now() - interval '2 hours'")

    with app.app_context():
        removed = throttle.prune()

    assert removed == 3  # the pair, account and address counts; the known device stays
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM sign_in_throttle WHERE succeeded_at IS NOT NULL") == [(1,)]
