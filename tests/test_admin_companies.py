"""Platform administration: a new company's first admin is invited, never given a typed password."""
from urllib.parse import urlsplit

import psycopg

from tests.conftest import PASSWORD, owner_rows
from tests.test_account_links import set_password, sign_in

NEW_COMPANY = {"name": "Gamma Shawarma", "name_ar": "شاورما جاما", "timezone": "Asia/Dubai", "currency": "AED",
               "country_code": "AE", "admin_email": "Owner@Gamma.test", "admin_first_name": "Omar",
               "admin_last_name": "Saleh"}



def test_a_new_companys_admin_joins_from_an_invitation(app, auth, make_company, owner_conninfo):
    operator = make_company("Alpha Kitchen", super_admin=True)
    assert auth.login(operator.email("SUPER_ADMIN")).status_code == 302

    response = auth.post("/admin/companies", {**NEW_COMPANY, "admin_password": "typed by the operator"},
                         page="/admin/companies", follow_redirects=True)

    assert "owner@gamma.test was e-mailed an invitation" in response.get_data(as_text=True)
    (company_id,) = owner_rows(owner_conninfo, "SELECT id FROM companies WHERE name = 'Gamma Shawarma'")[0]
    mail = owner_rows(owner_conninfo, "SELECT kind, link, company_id FROM outbound_emails WHERE to_address = 'owner@gamma.test'")
    assert [(kind, owner) for kind, _, owner in mail] == [("invitation", company_id)]  # in the new company's outbox
    assert sign_in(app, "owner@gamma.test", "typed by the operator").status_code == 200  # no password was taken

    browser = app.test_client()
    assert set_password(browser, urlsplit(mail[0][1]).path, "omar's own password").status_code == 302
    assert sign_in(app, "owner@gamma.test", "omar's own password").status_code == 302
    role = owner_rows(owner_conninfo, "SELECT role::text FROM users WHERE email = 'owner@gamma.test'")
    assert role == [("COMPANY_ADMIN",)]


def test_an_address_in_use_is_explained_and_creates_nothing(auth, make_company, owner_conninfo):
    operator = make_company("Alpha Kitchen", super_admin=True)
    auth.login(operator.email("SUPER_ADMIN"))
    before = owner_rows(owner_conninfo, "SELECT (SELECT count(*) FROM companies), (SELECT count(*) FROM outbound_emails)")

    response = auth.post("/admin/companies", {**NEW_COMPANY, "admin_email": operator.email("USER")},
                         page="/admin/companies")

    assert response.status_code == 422
    assert "already in use" in response.get_data(as_text=True)
    assert owner_rows(owner_conninfo, "SELECT (SELECT count(*) FROM companies), (SELECT count(*) FROM outbound_emails)") \
        == before


def operator_and_target(make_company, auth):
    operator = make_company("Alpha Kitchen", super_admin=True)
    target = make_company("Beta Grill", currency="KWD", timezone="Asia/Kuwait")
    assert auth.login(operator.email("SUPER_ADMIN")).status_code == 302
    return operator, target


def test_the_list_searches_and_filters_by_status(auth, make_company, owner_conninfo):
    operator, target = operator_and_target(make_company, auth)
    make_company("Gamma Shawarma")
    with psycopg.connect(owner_conninfo, autocommit=True) as connection:
        connection.execute("UPDATE companies SET is_active = false WHERE name = 'Gamma Shawarma'")

    def listed(query):
        page = auth.client.get("/admin/companies" + query).get_data(as_text=True)
        return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]

    page = listed("?q=grill")
    assert "Beta Grill" in page and "Gamma Shawarma" not in page and "Alpha Kitchen" not in page
    suspended = listed("?status=suspended")
    assert "Gamma Shawarma" in suspended and "Beta Grill" not in suspended
    assert "No company matches." in auth.client.get("/admin/companies?q=nothing%25like").get_data(as_text=True)
    assert auth.client.get("/admin/companies?status=bogus").status_code == 200


def test_suspending_stops_sign_in_and_reactivating_restores_it(app, auth, make_company, owner_conninfo):
    operator, target = operator_and_target(make_company, auth)
    page = f"/admin/companies/{target.id}"
    assert "Beta Grill" in auth.client.get(page).get_data(as_text=True)

    assert auth.post(page + "/suspend", page=page).status_code == 302
    assert sign_in(app, target.email("USER"), PASSWORD).status_code == 200  # refused
    (operation, owner), = owner_rows(owner_conninfo, "SELECT operation, company_id FROM audit_logs"
                                               " WHERE operation = 'SUSPENDED'")
    assert owner == target.id

    assert auth.post(page + "/reactivate", page=page).status_code == 302
    assert sign_in(app, target.email("USER"), PASSWORD).status_code == 302


def test_an_operator_cannot_suspend_or_delete_their_own_company(auth, make_company, owner_conninfo):
    operator, _ = operator_and_target(make_company, auth)
    page = f"/admin/companies/{operator.id}"
    response = auth.post(page + "/suspend", page=page, follow_redirects=True)
    assert "cannot suspend your own company" in response.get_data(as_text=True)
    auth.post(page + "/delete", {"confirm_name": "Alpha Kitchen"}, page=page)
    assert owner_rows(owner_conninfo, "SELECT is_active, deleted_at FROM companies WHERE id = %s", operator.id) \
        == [(True, None)]


def test_deleting_needs_the_typed_name_and_keeps_the_data(app, auth, make_company, owner_conninfo):
    operator, target = operator_and_target(make_company, auth)
    page = f"/admin/companies/{target.id}"

    wrong = auth.post(page + "/delete", {"confirm_name": "beta grill"}, page=page)
    assert wrong.status_code == 422 and "exactly as shown" in wrong.get_data(as_text=True)
    assert owner_rows(owner_conninfo, "SELECT deleted_at FROM companies WHERE id = %s", target.id) == [(None,)]

    assert auth.post(page + "/delete", {"confirm_name": "Beta Grill"}, page=page).status_code == 302
    assert owner_rows(owner_conninfo, "SELECT deleted_at IS NOT NULL, is_active FROM companies WHERE id = %s",
                target.id) == [(True, False)]
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM users WHERE company_id = %s", target.id)[0][0] > 0
    assert "Beta Grill" not in auth.client.get("/admin/companies").get_data(as_text=True)
    assert "Beta Grill" in auth.client.get("/admin/companies?status=deleted").get_data(as_text=True)
    assert sign_in(app, target.email("USER"), PASSWORD).status_code == 200  # refused


def test_details_are_validated_and_audited(auth, make_company, owner_conninfo):
    operator, target = operator_and_target(make_company, auth)
    page = f"/admin/companies/{target.id}"
    bad = auth.post(page, {"name": "", "subscription_status": "free-forever"}, page=page)
    assert bad.status_code == 422
    assert owner_rows(owner_conninfo, "SELECT name FROM companies WHERE id = %s", target.id) == [("Beta Grill",)]

    good = auth.post(page, {"name": "Beta Grill & Co", "name_ar": "بيتا", "email": "Hello@Beta.test",
                            "subscription_status": "past_due"}, page=page)
    assert good.status_code == 302
    assert owner_rows(owner_conninfo, "SELECT name, email, subscription_status FROM companies WHERE id = %s",
                target.id) == [("Beta Grill & Co", "hello@beta.test", "past_due")]
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM audit_logs WHERE company_id = %s"
                                " AND operation = 'UPDATE_BY_OPERATOR'", target.id) == [(1,)]


def test_company_pages_are_for_super_admins_only(app, make_company):
    from tests.conftest import Auth
    target = make_company("Beta Grill")
    admin = Auth(app.test_client())
    admin.login(target.email("COMPANY_ADMIN"))
    assert admin.client.get(f"/admin/companies/{target.id}").status_code == 403
    assert admin.post(f"/admin/companies/{target.id}/suspend").status_code == 403
