"""roles_required across the current pages: who may open what (DESIGN.md "Who uses it")."""
import pytest

ROLES = ["USER", "MANAGER", "COMPANY_ADMIN", "SUPER_ADMIN"]

# path -> the roles that get the page; every other role gets 403.
ACCESS = {
    "/": {"USER", "MANAGER", "COMPANY_ADMIN", "SUPER_ADMIN"},
    "/users/": {"COMPANY_ADMIN", "SUPER_ADMIN"},
    "/users/new": {"COMPANY_ADMIN", "SUPER_ADMIN"},
    "/admin/companies": {"SUPER_ADMIN"},
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


# State-changing routes: a role below the minimum is refused before anything happens.
POSTS = [
    ("/users/", "MANAGER"),
    ("/users/", "USER"),
    ("/admin/companies", "COMPANY_ADMIN"),
    ("/admin/companies", "MANAGER"),
]


@pytest.mark.parametrize("path, role", POSTS)
def test_posts_below_the_minimum_role_are_refused(client, auth, company, owner_conninfo, path, role):
    import psycopg

    def counts():
        with psycopg.connect(owner_conninfo) as connection:
            return connection.execute("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM companies)").fetchone()

    auth.login(company.email(role))
    before = counts()
    response = auth.post(path, {"first_name": "New", "last_name": "Person", "email": "new@elsewhere.test",
                                "role": "USER", "password": "long enough password", "name": "New Co",
                                "timezone": "Asia/Riyadh", "currency": "SAR", "country_code": "SA",
                                "admin_email": "boss@new-co.test", "admin_first_name": "Boss",
                                "admin_last_name": "Person", "admin_password": "long enough password"})
    assert response.status_code == 403
    assert counts() == before


@pytest.mark.parametrize("role, visible", [
    ("USER", {"Dashboard"}),
    ("MANAGER", {"Dashboard"}),
    ("COMPANY_ADMIN", {"Dashboard", "Users"}),
    ("SUPER_ADMIN", {"Dashboard", "Users", "Companies"}),
])
def test_navigation_shows_only_what_the_role_may_open(client, auth, company, role, visible):
    import re

    auth.login(company.email(role))
    page = client.get("/").get_data(as_text=True)
    nav = re.search(r'<nav class="mainnav"[^>]*>(.*?)</nav>', page, re.S).group(1)
    labels = {label.strip() for label in re.findall(r">([^<>]+)</a>", nav)}
    assert labels & {"Dashboard", "Users", "Companies"} == visible
