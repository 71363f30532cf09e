"""The audit log page: the company's own changes, readable, without secrets."""
from portal.extensions import db
from portal.models import User
from portal.tenancy import tenant
from portal.users.services import update_user


def _rename(app, company, role, first_name):
    with app.app_context(), tenant(company.id):
        admin = db.session.get(User, company.user_id("COMPANY_ADMIN"))
        user = db.session.get(User, company.user_id(role))
        update_user(admin, user, email=user.email, first_name=first_name, last_name=user.last_name,
                    role=user.role.value, password="a brand new password")


def test_admin_sees_who_changed_what(app, auth, client, two_companies):
    alpha, beta = two_companies
    _rename(app, alpha, "USER", "Alphonse")
    _rename(app, beta, "USER", "Betty")
    auth.login(alpha.email("COMPANY_ADMIN"))
    page = client.get("/audit/?table=users").get_data(as_text=True)
    assert "Alphonse" in page
    assert "Betty" not in page and "beta-grill" not in page
    assert "$2b$" not in page and "a brand new password" not in page


def test_audit_log_is_for_company_admins(auth, client, two_companies):
    alpha, _ = two_companies
    auth.login(alpha.email("MANAGER"))
    assert client.get("/audit/").status_code == 403


def test_unknown_filter_and_page_do_not_fail(auth, client, two_companies):
    alpha, _ = two_companies
    auth.login(alpha.email("COMPANY_ADMIN"))
    assert client.get("/audit/?table=pg_authid&page=999").status_code == 200
    assert client.get("/audit/?page=abc").status_code == 200
