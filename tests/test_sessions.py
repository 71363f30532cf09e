"""Server-side session records: a copied cookie stops working after sign-out, role or password change."""
import psycopg

from tests.conftest import Auth
from tests.test_users import edit_form, user_row


def copy_cookie(app, source):
    """A second browser holding a copy of `source`'s session cookie."""
    other = app.test_client()
    cookie = source.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    other.set_cookie(cookie.key, cookie.value)
    return other


def is_signed_in(client):
    return client.get("/").status_code == 200


def test_a_copied_cookie_is_refused_after_sign_out(app, client, auth, make_company, owner_conninfo):
    company = make_company()
    assert auth.login(company.email("USER")).status_code == 302
    thief = copy_cookie(app, client)
    assert is_signed_in(thief)

    auth.logout()

    assert not is_signed_in(thief)
    with psycopg.connect(owner_conninfo) as conn:
        revoked = conn.execute("SELECT revoked_at IS NOT NULL FROM user_sessions").fetchall()
    assert revoked == [(True,)]


def test_role_change_signs_the_users_other_browser_out(app, client, auth, make_company, owner_conninfo):
    company = make_company("Alpha Kitchen", super_admin=True)
    user_browser = Auth(app.test_client())
    assert user_browser.login(company.email("USER")).status_code == 302
    assert is_signed_in(user_browser.client)
    assert auth.login(company.email("COMPANY_ADMIN")).status_code == 302
    row = user_row(owner_conninfo, company.user_id("USER"))

    assert auth.post(f"/users/{row['id']}", edit_form(row, role="MANAGER"), page="/users/").status_code == 302

    assert not is_signed_in(user_browser.client)
    assert is_signed_in(client)  # the admin's own session is untouched


def test_an_admin_cannot_set_a_colleagues_password(app, client, auth, make_company, owner_conninfo):
    """Passwords come only from the colleague's own link now: a password smuggled into the edit form is ignored."""
    company = make_company("Alpha Kitchen", super_admin=True)
    user_browser = Auth(app.test_client())
    assert user_browser.login(company.email("USER")).status_code == 302
    assert auth.login(company.email("COMPANY_ADMIN")).status_code == 302
    row = user_row(owner_conninfo, company.user_id("USER"))
    with psycopg.connect(owner_conninfo) as conn:
        before = conn.execute("SELECT password FROM users WHERE id = %s", (row["id"],)).fetchone()[0]

    form = edit_form(row, password="a brand new pass", password_confirm="a brand new pass")
    assert auth.post(f"/users/{row['id']}", form, page="/users/").status_code == 302

    with psycopg.connect(owner_conninfo) as conn:
        after = conn.execute("SELECT password FROM users WHERE id = %s", (row["id"],)).fetchone()[0]
    assert after == before
    assert is_signed_in(user_browser.client)  # nothing about the account changed, so its session stands


def test_other_companies_sessions_are_invisible(app, auth, two_companies, owner_conninfo):
    alpha, beta = two_companies
    assert Auth(app.test_client()).login(beta.email("USER")).status_code == 302
    assert auth.login(alpha.email("USER")).status_code == 302
    with psycopg.connect(owner_conninfo) as conn:
        assert conn.execute("SELECT count(*) FROM user_sessions").fetchone()[0] == 2
    with app.app_context():
        from portal.extensions import db
        from portal.models import UserSession
        from portal.tenancy import use_company
        use_company(alpha.id, None)
        rows = db.session.query(UserSession).all()
        assert {r.company_id for r in rows} == {alpha.id}
        db.session.rollback()


def test_deactivation_and_reactivation_do_not_revive_an_old_session(app, client, auth, make_company, owner_conninfo):
    company = make_company("Alpha Kitchen", super_admin=True)
    user_browser = Auth(app.test_client())
    assert user_browser.login(company.email("USER")).status_code == 302
    assert auth.login(company.email("COMPANY_ADMIN")).status_code == 302
    user_id = company.user_id("USER")

    assert auth.post(f"/users/{user_id}/deactivate", page="/users/").status_code == 302
    assert auth.post(f"/users/{user_id}/activate", page="/users/").status_code == 302

    assert not is_signed_in(user_browser.client)  # reactivated, but the old cookie stays dead
