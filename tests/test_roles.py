"""roles_required across the current pages: who may open what (docs/DESIGN.md "Who uses it")."""
import re

import psycopg
import pytest

ROLES = ["USER", "MANAGER", "COMPANY_ADMIN", "SUPER_ADMIN"]

# path -> the roles that get the page; every other role gets 403.
ACCESS = {
    "/": {"USER", "MANAGER", "COMPANY_ADMIN", "SUPER_ADMIN"},
    "/users/": {"COMPANY_ADMIN", "SUPER_ADMIN"},
    "/users/new": {"COMPANY_ADMIN", "SUPER_ADMIN"},
    "/admin/companies": {"SUPER_ADMIN"},
    "/loyalty/": {"MANAGER", "COMPANY_ADMIN", "SUPER_ADMIN"},
    "/loyalty/customers": {"MANAGER", "COMPANY_ADMIN", "SUPER_ADMIN"},
    "/reports/": {"MANAGER", "COMPANY_ADMIN", "SUPER_ADMIN"},
    "/menu/": {"MANAGER", "COMPANY_ADMIN", "SUPER_ADMIN"},
    "/menu/mappings": {"MANAGER", "COMPANY_ADMIN", "SUPER_ADMIN"},
    "/menu/availability": {"USER", "MANAGER", "COMPANY_ADMIN", "SUPER_ADMIN"},
}

CASES = [(path, role, 200 if role in allowed else 403) for path, allowed in ACCESS.items() for role in ROLES]


@pytest.fixture
def company(make_company):
    return make_company(super_admin=True)


@pytest.mark.parametrize("path, role, status", CASES, ids=[f"{path}-{role}" for path, role, _ in CASES])
def test_role_gets_page_or_403(client, auth, company, path, role, status):
    assert auth.login(company.email(role)).status_code == 302
    response = client.get(path)
    assert response.status_code == status
    if status == 403:
        assert "Your role does not give access to this page." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", list(ACCESS))
def test_anonymous_is_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


NEW_COMPANY = {"name": "New Co", "name_ar": "", "timezone": "Asia/Riyadh", "currency": "SAR", "country_code": "SA",
               "admin_email": "boss@new-co.test", "admin_first_name": "Boss", "admin_last_name": "Person",
               "admin_password": "long enough password"}


# State-changing routes: a role below the minimum is refused before anything happens.
POSTS = [
    ("/users/", "MANAGER"),
    ("/users/", "USER"),
    ("/admin/companies", "COMPANY_ADMIN"),
    ("/admin/companies", "MANAGER"),
]


@pytest.mark.parametrize("path, role", POSTS)
def test_posts_below_the_minimum_role_are_refused(client, auth, company, owner_conninfo, path, role):
    def counts():
        with psycopg.connect(owner_conninfo) as connection:
            return connection.execute(
                "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM companies)").fetchone()

    auth.login(company.email(role))
    before = counts()
    response = auth.post(path, {**NEW_COMPANY, "first_name": "New", "last_name": "Person",
                                "email": "new@elsewhere.test", "role": "USER", "password": "long enough password"})
    assert response.status_code == 403
    assert counts() == before


@pytest.mark.parametrize("role, visible", [
    ("USER", {"Dashboard"}),
    ("MANAGER", {"Dashboard"}),
    ("COMPANY_ADMIN", {"Dashboard", "Users"}),
    ("SUPER_ADMIN", {"Dashboard", "Users", "Companies"}),
])
def test_navigation_shows_only_what_the_role_may_open(client, auth, company, role, visible):
    auth.login(company.email(role))
    page = client.get("/").get_data(as_text=True)
    nav = re.search(r'<nav class="mainnav"[^>]*>(.*?)</nav>', page, re.S).group(1)
    labels = {label.strip() for label in re.findall(r">([^<>]+)</a>", nav)}
    assert labels & {"Dashboard", "Users", "Companies"} == visible


def owner_count(conninfo, query, *params):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(query, params).fetchone()[0]


def test_super_admin_creates_a_company_through_the_page(client, auth, company, owner_conninfo):
    auth.login(company.email("SUPER_ADMIN"))

    response = auth.post("/admin/companies", NEW_COMPANY, page="/admin/companies")

    assert response.status_code == 302
    assert owner_count(owner_conninfo, "SELECT count(*) FROM companies WHERE name = 'New Co'") == 1
    assert owner_count(owner_conninfo, "SELECT count(*) FROM users WHERE email = 'boss@new-co.test'"
                                       " AND role = 'COMPANY_ADMIN'") == 1
    assert "New Co" in client.get("/admin/companies").get_data(as_text=True)


def test_company_page_refuses_an_admin_email_in_use(client, auth, company, owner_conninfo):
    auth.login(company.email("SUPER_ADMIN"))
    before = owner_count(owner_conninfo, "SELECT count(*) FROM companies")

    response = auth.post("/admin/companies", {**NEW_COMPANY, "admin_email": company.email("USER")},
                         page="/admin/companies")

    assert response.status_code == 422
    assert "This e-mail address is already in use." in response.get_data(as_text=True)
    assert owner_count(owner_conninfo, "SELECT count(*) FROM companies") == before


def test_super_admin_sees_every_company_and_each_visit_is_audited(client, auth, company, make_company,
                                                                 owner_conninfo):
    make_company("Beta Grill", currency="KWD", timezone="Asia/Kuwait")
    make_company("Gamma Cafe")
    auth.login(company.email("SUPER_ADMIN"))
    audited = ("SELECT count(*) FROM audit_logs WHERE operation = 'CROSS_TENANT_ACCESS'"
               " AND user_id = %s AND new_values ->> 'reason' = 'list companies'")
    before = owner_count(owner_conninfo, audited, company.user_id("SUPER_ADMIN"))

    response = client.get("/admin/companies")

    assert owner_count(owner_conninfo, audited, company.user_id("SUPER_ADMIN")) == before + 1

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name in ("Alpha Kitchen", "Beta Grill", "Gamma Cafe"):
        assert name in page
    assert "Asia/Kuwait" in page and "KWD" in page
    # The page itself still belongs to the super admin's own company.
    assert client.get("/").status_code == 200
