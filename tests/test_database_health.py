"""The Database health page: SUPER_ADMIN only."""


def test_super_admin_sees_database_health(client, auth, make_company):
    company = make_company("Ops Kitchen", super_admin=True)
    auth.login(company.email("SUPER_ADMIN"))
    response = client.get("/admin/database")
    assert response.status_code == 200
    assert b"webhook_logs" in response.data


def test_company_admin_is_refused(client, auth, make_company):
    company = make_company("Kabsa House")
    auth.login(company.email("COMPANY_ADMIN"))
    assert client.get("/admin/database").status_code in (403, 404)
