"""Platform administration: a new company's first admin is invited, never given a typed password."""
from urllib.parse import urlsplit

import psycopg

from tests.test_account_links import set_password, sign_in

NEW_COMPANY = {"name": "Gamma Shawarma", "name_ar": "شاورما جاما", "timezone": "Asia/Dubai", "currency": "AED",
               "country_code": "AE", "admin_email": "Owner@Gamma.test", "admin_first_name": "Omar",
               "admin_last_name": "Saleh"}


def rows(conninfo, sql, *params):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchall()


def test_a_new_companys_admin_joins_from_an_invitation(app, auth, make_company, owner_conninfo):
    operator = make_company("Alpha Kitchen", super_admin=True)
    assert auth.login(operator.email("SUPER_ADMIN")).status_code == 302

    response = auth.post("/admin/companies", {**NEW_COMPANY, "admin_password": "typed by the operator"},
                         page="/admin/companies", follow_redirects=True)

    assert "owner@gamma.test was e-mailed an invitation" in response.get_data(as_text=True)
    (company_id,) = rows(owner_conninfo, "SELECT id FROM companies WHERE name = 'Gamma Shawarma'")[0]
    mail = rows(owner_conninfo, "SELECT kind, link, company_id FROM outbound_emails WHERE to_address = 'owner@gamma.test'")
    assert [(kind, owner) for kind, _, owner in mail] == [("invitation", company_id)]  # in the new company's outbox
    assert sign_in(app, "owner@gamma.test", "typed by the operator").status_code == 200  # no password was taken

    browser = app.test_client()
    assert set_password(browser, urlsplit(mail[0][1]).path, "omar's own password").status_code == 302
    assert sign_in(app, "owner@gamma.test", "omar's own password").status_code == 302
    role = rows(owner_conninfo, "SELECT role::text FROM users WHERE email = 'owner@gamma.test'")
    assert role == [("COMPANY_ADMIN",)]


def test_an_address_in_use_is_explained_and_creates_nothing(auth, make_company, owner_conninfo):
    operator = make_company("Alpha Kitchen", super_admin=True)
    auth.login(operator.email("SUPER_ADMIN"))
    before = rows(owner_conninfo, "SELECT (SELECT count(*) FROM companies), (SELECT count(*) FROM outbound_emails)")

    response = auth.post("/admin/companies", {**NEW_COMPANY, "admin_email": operator.email("USER")},
                         page="/admin/companies")

    assert response.status_code == 422
    assert "already in use" in response.get_data(as_text=True)
    assert rows(owner_conninfo, "SELECT (SELECT count(*) FROM companies), (SELECT count(*) FROM outbound_emails)") \
        == before
