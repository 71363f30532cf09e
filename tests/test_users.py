"""The Users page: create, edit, roles, the last-admin rule, deactivation, search, paging, tenants, audit."""
import html
import re
import uuid
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from tests.conftest import PASSWORD, csrf_token

ROW_ID = re.compile(r'<tr id="user-([0-9a-f-]{36})"')
ERRORS = re.compile(r'<ul class="errors"[^>]*>(.*?)</ul>', re.S)
ITEM = re.compile(r"<li>(.*?)</li>", re.S)
FLASH = re.compile(r'<div class="flash flash-(\w+)">(.*?)</div>', re.S)
KEEP_ADMIN = "The company must keep at least one active company admin."
IN_USE = "This e-mail address is already in use."


# --- helpers ----------------------------------------------------------------------------------------

def owner_rows(conninfo, sql, *params):
    with psycopg.connect(conninfo, row_factory=dict_row) as connection:
        return connection.execute(sql, params).fetchall()


def user_row(conninfo, user_id):
    rows = owner_rows(conninfo, "SELECT * FROM users WHERE id = %s", user_id)
    return rows[0] if rows else None


def user_count(conninfo):
    return owner_rows(conninfo, "SELECT count(*) AS n FROM users")[0]["n"]


def form_errors(response):
    page = response.get_data(as_text=True)
    return [html.unescape(item) for block in ERRORS.findall(page) for item in ITEM.findall(block)]


def flashes(response):
    return [(category, html.unescape(text)) for category, text in FLASH.findall(response.get_data(as_text=True))]


def listed_ids(response):
    return [uuid.UUID(value) for value in ROW_ID.findall(response.get_data(as_text=True))]


def user_form(**fields):
    data = {"first_name": "Huda", "last_name": "Al-Harbi", "email": "huda@alpha-kitchen.test", "role": "USER"}
    data.update(fields)
    return data


def edit_form(row, **fields):
    """The edit form as it would be submitted for `row` (a users row), with changes."""
    data = {"first_name": row["first_name"], "last_name": row["last_name"], "email": row["email"],
            "role": row["role"]}
    data.update(fields)
    return data


def sign_in(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def add_users(app, company, count, prefix="cook"):
    """`count` staff users in `company`, through the service the page uses."""
    from portal.tenancy import tenant
    from portal.users.services import create_user

    ids = []
    with app.app_context(), tenant(company.id):
        for number in range(count):
            user = create_user(None, email=f"{prefix}{number:02d}@alpha-kitchen.test", first_name=f"Cook{number:02d}",
                               last_name="Line", role="USER", password=PASSWORD, company_id=company.id)
            ids.append(user.id)
    return ids


@pytest.fixture
def alpha(make_company):
    return make_company("Alpha Kitchen", super_admin=True)


@pytest.fixture
def admin(auth, alpha):
    """The client, signed in as Alpha's company admin."""
    assert auth.login(alpha.email("COMPANY_ADMIN")).status_code == 302
    return auth


def as_portal_app(owner_conninfo):
    return make_conninfo(owner_conninfo, user="portal_app", password="")


# --- creating users ---------------------------------------------------------------------------------

def invitation_link(conninfo, email):
    """The path of the newest invitation link e-mailed to `email` (from the outbox)."""
    rows = owner_rows(conninfo, "SELECT link FROM outbound_emails WHERE to_address = %s AND kind = 'invitation' "
                                "ORDER BY created_at DESC", email)
    return urlsplit(rows[0]["link"]).path if rows else None


def choose_password(client, path, password):
    client.get(path)
    return client.post(path, data={"password": password, "confirm": password, "csrf_token": csrf_token(client)})


@pytest.mark.parametrize("password", ["a long enough password", "كلمة مرور طويلة جدا " * 5],
                         ids=["ascii", "over-72-bytes"])
def test_company_admin_invites_a_colleague_who_chooses_a_password(app, admin, alpha, owner_conninfo, password):
    response = admin.post("/users/", user_form(role="MANAGER"), page="/users/new")

    assert response.status_code == 302
    assert response.headers["Location"] == "/users/"
    row = owner_rows(owner_conninfo, "SELECT * FROM users WHERE email = 'huda@alpha-kitchen.test'")[0]
    assert (row["company_id"], row["role"], row["is_active"]) == (alpha.id, "MANAGER", True)
    assert row["created_by"] == alpha.user_id("COMPANY_ADMIN")
    listing = admin.client.get("/users/")
    assert ("success", "Invitation sent to huda@alpha-kitchen.test. Huda chooses a password from the link.") \
        in flashes(listing)
    assert "Invited" in listing.get_data(as_text=True)
    path = invitation_link(owner_conninfo, "huda@alpha-kitchen.test")
    assert path.startswith("/invitation/")

    newcomer = app.test_client()
    assert sign_in(newcomer, "huda@alpha-kitchen.test", password).status_code == 200  # no password yet
    assert "Join Alpha Kitchen" in newcomer.get(path).get_data(as_text=True)
    assert choose_password(newcomer, path, password).status_code == 302
    assert sign_in(newcomer, "huda@alpha-kitchen.test", password).status_code == 302
    assert newcomer.get("/").status_code == 200
    assert choose_password(app.test_client(), path, "another long password").status_code == 404  # single use
    assert "Invited" not in admin.client.get("/users/").get_data(as_text=True)


def test_invite_form_shows_errors_and_keeps_what_was_typed(admin, owner_conninfo):
    before = user_count(owner_conninfo)
    response = admin.post("/users/", user_form(email="not-an-email", first_name=""), page="/users/new")

    assert response.status_code == 422
    errors = form_errors(response)
    assert "Invalid email address." in errors
    assert "This field is required." in errors
    page = response.get_data(as_text=True)
    assert 'value="not-an-email"' in page and 'type="password"' not in page  # nobody types a colleague's password
    assert user_count(owner_conninfo) == before
    assert owner_rows(owner_conninfo, "SELECT count(*) AS n FROM outbound_emails")[0]["n"] == 0


@pytest.mark.parametrize("taken", ["own", "own-other-case", "other-company"])
def test_duplicate_email_is_refused(admin, alpha, make_company, owner_conninfo, taken):
    beta = make_company("Beta Grill")
    email = {"own": alpha.email("USER"), "own-other-case": alpha.email("USER").upper(),
             "other-company": beta.email("COMPANY_ADMIN")}[taken]
    before = user_count(owner_conninfo)

    response = admin.post("/users/", user_form(email=email), page="/users/new")

    assert response.status_code == 422
    assert form_errors(response) == [IN_USE]
    assert user_count(owner_conninfo) == before
    assert owner_rows(owner_conninfo, "SELECT count(*) AS n FROM users WHERE first_name = 'Huda'")[0]["n"] == 0


def test_company_admin_cannot_create_a_super_admin(admin, owner_conninfo):
    form_page = admin.client.get("/users/new").get_data(as_text=True)
    assert 'value="SUPER_ADMIN"' not in form_page
    assert 'value="COMPANY_ADMIN"' in form_page
    before = user_count(owner_conninfo)

    response = admin.post("/users/", user_form(role="SUPER_ADMIN"), page="/users/new")

    assert response.status_code == 422
    assert user_count(owner_conninfo) == before
    assert owner_rows(owner_conninfo, "SELECT count(*) AS n FROM users WHERE role = 'SUPER_ADMIN'")[0]["n"] == 1


def test_company_admin_cannot_promote_anyone_to_super_admin(admin, alpha, owner_conninfo):
    row = user_row(owner_conninfo, alpha.user_id("USER"))
    response = admin.post(f"/users/{row['id']}", edit_form(row, role="SUPER_ADMIN"), page="/users/")
    assert response.status_code == 422
    assert user_row(owner_conninfo, row["id"])["role"] == "USER"


def test_company_admin_cannot_change_or_deactivate_a_super_admin(admin, alpha, owner_conninfo):
    row = user_row(owner_conninfo, alpha.user_id("SUPER_ADMIN"))

    edited = admin.post(f"/users/{row['id']}", edit_form(row, role="USER"), page="/users/")
    deactivated = admin.post(f"/users/{row['id']}/deactivate", page="/users/", follow_redirects=True)

    assert edited.status_code == 422
    assert "You cannot give a role above your own." in form_errors(edited)
    assert ("error", "You cannot give a role above your own.") in flashes(deactivated)
    after = user_row(owner_conninfo, row["id"])
    assert (after["role"], after["is_active"]) == ("SUPER_ADMIN", True)


# --- editing and roles ------------------------------------------------------------------------------

def test_change_role(admin, alpha, owner_conninfo):
    row = user_row(owner_conninfo, alpha.user_id("USER"))
    old_hash = row["password"]

    response = admin.post(f"/users/{row['id']}", edit_form(row, role="MANAGER", first_name="Sami"), page="/users/")

    assert response.status_code == 302
    after = user_row(owner_conninfo, row["id"])
    assert after["role"] == "MANAGER"
    assert after["first_name"] == "Sami"
    assert after["password"] == old_hash  # editing never touches the password


def test_edit_form_shows_the_user(admin, alpha):
    page = admin.client.get(f"/users/{alpha.user_id('MANAGER')}/edit").get_data(as_text=True)
    assert f'value="{alpha.email("MANAGER")}"' in page
    assert re.search(r'<option selected value="MANAGER">|<option value="MANAGER" selected', page)


def test_saving_the_edit_form_as_shown_keeps_the_role(admin, alpha, owner_conninfo):
    """Submitting the edit form with only the name changed must not reset the role the form showed."""
    manager_id = alpha.user_id("MANAGER")
    page = admin.client.get(f"/users/{manager_id}/edit").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="role"[^>]*>(.*?)</select>', page, re.S).group(1)
    options = re.findall(r"<option([^>]*)>", select)
    # What a browser submits: the selected option, or the first one when none is selected.
    chosen = next((o for o in options if "selected" in o), options[0])
    role = re.search(r'value="([^"]+)"', chosen).group(1)
    row = user_row(owner_conninfo, manager_id)

    response = admin.post(f"/users/{manager_id}", edit_form(row, role=role, first_name="Mona"), page="/users/")

    assert response.status_code == 302
    assert user_row(owner_conninfo, manager_id)["role"] == "MANAGER"


def test_changing_email_to_one_in_use_is_refused(admin, alpha, owner_conninfo):
    row = user_row(owner_conninfo, alpha.user_id("USER"))
    response = admin.post(f"/users/{row['id']}", edit_form(row, email=alpha.email("MANAGER")), page="/users/")
    assert response.status_code == 422
    assert form_errors(response) == [IN_USE]
    assert user_row(owner_conninfo, row["id"])["email"] == alpha.email("USER")


# --- the last company admin -------------------------------------------------------------------------

def test_last_company_admin_cannot_demote_themselves(admin, alpha, owner_conninfo):
    row = user_row(owner_conninfo, alpha.user_id("COMPANY_ADMIN"))

    response = admin.post(f"/users/{row['id']}", edit_form(row, role="MANAGER"), page="/users/")

    assert response.status_code == 422
    assert KEEP_ADMIN in form_errors(response)
    assert user_row(owner_conninfo, row["id"])["role"] == "COMPANY_ADMIN"


def test_last_company_admin_cannot_be_deactivated(auth, alpha, owner_conninfo):
    # A super admin of the same company may act on the admin; the rule still holds.
    auth.login(alpha.email("SUPER_ADMIN"))
    admin_id = alpha.user_id("COMPANY_ADMIN")

    response = auth.post(f"/users/{admin_id}/deactivate", page="/users/", follow_redirects=True)

    assert ("error", KEEP_ADMIN) in flashes(response)
    assert user_row(owner_conninfo, admin_id)["is_active"] is True


@pytest.mark.parametrize("statement", [
    "UPDATE users SET role = 'MANAGER' WHERE id = %s",
    "UPDATE users SET is_active = false WHERE id = %s",
    "UPDATE users SET deleted_at = now() WHERE id = %s",
    "DELETE FROM users WHERE id = %s",
], ids=["demote", "deactivate", "soft-delete", "delete"])
def test_database_refuses_to_lose_the_last_admin(app, alpha, owner_conninfo, statement):
    admin_id = alpha.user_id("COMPANY_ADMIN")
    with psycopg.connect(as_portal_app(owner_conninfo)) as connection:
        assert connection.execute("SELECT current_user").fetchone()[0] == "portal_app"
        connection.execute("SELECT set_config('app.current_company_id', %s, true)", (str(alpha.id),))
        with pytest.raises(psycopg.errors.CheckViolation, match="at least one active company admin"):
            connection.execute(statement, (admin_id,))
    assert user_row(owner_conninfo, admin_id)["is_active"] is True

    # With a second active admin, the same statement goes through.
    second = add_users(app, alpha, 1, prefix="admin2-")[0]
    with psycopg.connect(owner_conninfo) as connection:
        connection.execute("UPDATE users SET role = 'COMPANY_ADMIN' WHERE id = %s", (second,))
    with psycopg.connect(as_portal_app(owner_conninfo)) as connection:
        connection.execute("SELECT set_config('app.current_company_id', %s, true)", (str(alpha.id),))
        assert connection.execute(statement, (admin_id,)).rowcount == 1


def test_with_two_admins_one_can_be_deactivated(admin, alpha, owner_conninfo):
    created = admin.post("/users/", user_form(role="COMPANY_ADMIN"), page="/users/new")
    assert created.status_code == 302
    second = owner_rows(owner_conninfo, "SELECT id FROM users WHERE email = 'huda@alpha-kitchen.test'")[0]["id"]

    response = admin.post(f"/users/{second}/deactivate", page="/users/", follow_redirects=True)

    assert ("success", "Huda Al-Harbi can no longer sign in.") in flashes(response)
    assert user_row(owner_conninfo, second)["is_active"] is False
    assert user_row(owner_conninfo, alpha.user_id("COMPANY_ADMIN"))["is_active"] is True


def test_nobody_deactivates_themselves(admin, alpha, owner_conninfo):
    admin.post("/users/", user_form(role="COMPANY_ADMIN"), page="/users/new")  # not the last admin either
    own_id = alpha.user_id("COMPANY_ADMIN")

    response = admin.post(f"/users/{own_id}/deactivate", page="/users/", follow_redirects=True)

    assert ("error", "You cannot deactivate your own account.") in flashes(response)
    assert user_row(owner_conninfo, own_id)["is_active"] is True


def test_deactivate_needs_a_post_with_csrf(admin, alpha, owner_conninfo):
    staff_id = alpha.user_id("USER")
    assert admin.client.get(f"/users/{staff_id}/deactivate").status_code == 405
    assert admin.client.post(f"/users/{staff_id}/deactivate").status_code == 400
    assert user_row(owner_conninfo, staff_id)["is_active"] is True


# --- deactivation and reactivation ------------------------------------------------------------------

def test_deactivated_user_is_signed_out_and_cannot_sign_in(app, admin, alpha, owner_conninfo):
    staff = app.test_client()
    assert sign_in(staff, alpha.email("USER")).status_code == 302
    assert staff.get("/").status_code == 200

    admin.post(f"/users/{alpha.user_id('USER')}/deactivate", page="/users/")
    assert user_row(owner_conninfo, alpha.user_id("USER"))["is_active"] is False

    response = staff.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    refused = sign_in(app.test_client(), alpha.email("USER"))
    assert refused.status_code == 200
    assert "This account is deactivated. Ask your company admin to reactivate it." in form_errors(refused)


def test_reactivated_user_can_sign_in_again(app, admin, alpha, owner_conninfo):
    staff_id = alpha.user_id("USER")
    admin.post(f"/users/{staff_id}/deactivate", page="/users/")
    assert user_row(owner_conninfo, staff_id)["is_active"] is False

    response = admin.post(f"/users/{staff_id}/activate", page="/users/", follow_redirects=True)

    assert ("success", "User Tester can sign in again.") in flashes(response)
    assert user_row(owner_conninfo, staff_id)["is_active"] is True
    assert sign_in(app.test_client(), alpha.email("USER")).status_code == 302


# --- the list ---------------------------------------------------------------------------------------

def test_list_shows_the_company_users_only(admin, alpha, make_company):
    beta = make_company("Beta Grill")
    listed = set(listed_ids(admin.client.get("/users/")))
    assert listed == {alpha.user_id(role) for role in ("COMPANY_ADMIN", "MANAGER", "USER", "SUPER_ADMIN")}
    assert not listed & {beta.user_id(role) for role in ("COMPANY_ADMIN", "MANAGER", "USER")}
    assert listed_ids(admin.client.get("/users/", query_string={"q": beta.email("USER")})) == []


@pytest.mark.parametrize("query, expected", [
    ({"q": "manager@"}, {"MANAGER"}),
    ({"q": "MANAGER@ALPHA"}, {"MANAGER"}),
    ({"q": "Tester"}, {"MANAGER", "USER", "SUPER_ADMIN"}),
    ({"q": "Super_admin"}, {"SUPER_ADMIN"}),
    ({"role": "USER"}, {"USER"}),
    ({"role": "COMPANY_ADMIN"}, {"COMPANY_ADMIN"}),
    ({"q": "Tester", "role": "MANAGER"}, {"MANAGER"}),
    ({"q": "nobody-is-called-this"}, set()),
    ({"role": "NOT_A_ROLE"}, {"COMPANY_ADMIN", "MANAGER", "USER", "SUPER_ADMIN"}),
])
def test_search_and_role_filter(admin, alpha, query, expected):
    response = admin.client.get("/users/", query_string=query)
    assert response.status_code == 200
    assert set(listed_ids(response)) == {alpha.user_id(role) for role in expected}


def test_list_pages_by_twenty(app, admin, alpha):
    added = add_users(app, alpha, 25)
    everyone = set(added) | {alpha.user_id(role) for role in ("COMPANY_ADMIN", "MANAGER", "USER", "SUPER_ADMIN")}

    first = admin.client.get("/users/")
    second = admin.client.get("/users/", query_string={"page": 2})

    assert second.status_code == 200
    first_ids, second_ids = listed_ids(first), listed_ids(second)
    assert len(first_ids) == 20
    assert len(second_ids) == len(everyone) - 20
    assert set(first_ids) | set(second_ids) == everyone
    assert not set(first_ids) & set(second_ids)
    assert 'rel="next"' in first.get_data(as_text=True)
    assert "Page 2 of 2" in second.get_data(as_text=True)
    assert listed_ids(admin.client.get("/users/", query_string={"page": 3})) == []


def test_paging_keeps_the_filter(app, admin, alpha):
    add_users(app, alpha, 25)
    first = admin.client.get("/users/", query_string={"role": "USER"}).get_data(as_text=True)
    assert re.search(r'href="/users/\?[^"]*role=USER[^"]*page=2|href="/users/\?[^"]*page=2[^"]*role=USER', first)
    second = admin.client.get("/users/", query_string={"role": "USER", "page": 2})
    assert len(listed_ids(second)) == 26 - 20


# --- other tenants ----------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("GET", "/users/{id}/edit"),
    ("POST", "/users/{id}"),
    ("POST", "/users/{id}/deactivate"),
    ("POST", "/users/{id}/activate"),
])
def test_another_company_user_is_not_found(admin, make_company, owner_conninfo, method, path):
    beta = make_company("Beta Grill")
    target = beta.user_id("USER")
    before = user_row(owner_conninfo, target)
    url = path.format(id=target)

    if method == "GET":
        response = admin.client.get(url)
    else:
        response = admin.post(url, edit_form(before, role="MANAGER", first_name="Hijacked"), page="/users/")

    assert response.status_code == 404
    assert user_row(owner_conninfo, target) == before


@pytest.mark.parametrize("method, path", [
    ("GET", "/users/{id}/edit"),
    ("POST", "/users/{id}"),
    ("POST", "/users/{id}/deactivate"),
])
@pytest.mark.parametrize("garbage", ["not-a-uuid", "123", str(uuid.uuid4()), "%00", "' OR 1=1 --"])
def test_garbage_user_id_is_not_found(admin, alpha, method, path, garbage):
    url = path.format(id=garbage)
    response = admin.client.get(url) if method == "GET" else admin.post(url, user_form(), page="/users/")
    assert response.status_code == 404


def test_soft_deleted_user_is_not_found_or_listed(admin, alpha, owner_conninfo):
    with psycopg.connect(owner_conninfo) as connection:
        connection.execute("UPDATE users SET deleted_at = now() WHERE id = %s", (alpha.user_id("MANAGER"),))
    assert admin.client.get(f"/users/{alpha.user_id('MANAGER')}/edit").status_code == 404
    assert alpha.user_id("MANAGER") not in listed_ids(admin.client.get("/users/"))


# --- audit trail ------------------------------------------------------------------------------------

def test_user_changes_are_audited_without_password_hashes(app, admin, alpha, owner_conninfo):
    admin.post("/users/", user_form(role="USER"), page="/users/new")
    row = owner_rows(owner_conninfo, "SELECT * FROM users WHERE email = 'huda@alpha-kitchen.test'")[0]
    choose_password(app.test_client(), invitation_link(owner_conninfo, row["email"]), "a brand new password")
    admin.post(f"/users/{row['id']}", edit_form(row, role="MANAGER"), page="/users/")
    admin.post(f"/users/{row['id']}/deactivate", page="/users/")
    final_hash = user_row(owner_conninfo, row["id"])["password"]
    assert final_hash != row["password"]  # the password did change

    audit = owner_rows(owner_conninfo, "SELECT *, to_jsonb(audit_logs)::text AS everything FROM audit_logs"
                                       " WHERE table_name = 'users' AND record_id = %s ORDER BY created_at", row["id"])
    by_admin = [entry for entry in audit if entry["user_id"] == alpha.user_id("COMPANY_ADMIN")]

    assert [entry["operation"] for entry in by_admin] == ["INSERT", "INVITED", "UPDATE", "UPDATE"]
    assert "INVITATION_ACCEPTED" in [entry["operation"] for entry in audit if entry["user_id"] == row["id"]]
    assert by_admin[2]["old_values"]["role"] == "USER" and by_admin[2]["new_values"]["role"] == "MANAGER"
    assert by_admin[3]["new_values"]["is_active"] is False
    for entry in audit:
        assert entry["company_id"] == alpha.id
        for values in (entry["old_values"], entry["new_values"]):
            assert values is None or "password" not in values
        assert row["password"] not in entry["everything"]
        assert final_hash not in entry["everything"]
        assert "$2b$" not in entry["everything"]
