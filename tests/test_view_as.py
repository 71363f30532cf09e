"""View as company: a super admin sees another company's pages read-only, and can change nothing."""
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from portal.auth.view_as import OPERATOR_BLUEPRINTS, VIEW_AS_KEY
from tests.conftest import Auth, csrf_token, owner_rows
from tests.tenant_rows import fill_every_table
from tests.test_route_sweep import fingerprint, ids_of, rule_url, sweep_routes


def start_viewing(auth, company_id, follow_redirects=False):
    page = f"/admin/companies/{company_id}"
    return auth.post(page + "/view-as", page=page, follow_redirects=follow_redirects)


@pytest.fixture
def filled(make_company, owner_conninfo):
    """Alpha (with a super admin) and Beta, a row in every table for each."""
    alpha = make_company("Alpha Kitchen", super_admin=True)
    beta = make_company("Beta Grill", currency="KWD", timezone="Asia/Kuwait")
    fill_every_table(owner_conninfo, alpha.id, "alpha")
    fill_every_table(owner_conninfo, beta.id, "beta")
    return alpha, beta


@pytest.fixture
def viewing(filled, auth):
    """Alpha's super admin, signed in, viewing Beta (every table filled for both)."""
    alpha, beta = filled
    assert auth.login(alpha.email("SUPER_ADMIN")).status_code == 302
    assert start_viewing(auth, beta.id).status_code == 302
    return alpha, beta


def test_the_viewed_companys_pages_show_its_data_with_a_banner(viewing, client):
    alpha, beta = viewing
    orders = client.get("/orders/").get_data(as_text=True)
    assert "#N-beta" in orders and "#N-alpha" not in orders
    assert "You are viewing Beta Grill read-only" in orders
    assert "KWD" in client.get("/loyalty/").get_data(as_text=True)  # Beta's currency, not Alpha's SAR
    users = client.get("/users/").get_data(as_text=True)
    assert "row-beta@beta.test" in users and "row-alpha@alpha.test" not in users


def test_the_operators_own_pages_stay_their_own(viewing, client):
    alpha, beta = viewing
    account = client.get("/account").get_data(as_text=True)
    assert alpha.email("SUPER_ADMIN") in account
    companies = client.get("/admin/companies")
    assert companies.status_code == 200
    assert "A read-only view of Beta Grill is open" in companies.get_data(as_text=True)


def test_every_change_is_refused_and_nothing_changes(app, viewing, client, owner_conninfo):
    alpha, beta = viewing
    ids = ids_of(owner_conninfo, beta.id)
    token = csrf_token(client, "/orders/")
    before = (fingerprint(owner_conninfo, alpha.id), fingerprint(owner_conninfo, beta.id))
    refused = []
    for rule in sweep_routes(app):
        if "POST" not in rule.methods or rule.endpoint.split(".")[0] in OPERATOR_BLUEPRINTS:
            continue
        response = client.post(rule_url(app, rule, ids), data={"csrf_token": token, "confirm": "yes", "name": "x"})
        assert response.status_code == 403, f"POST {rule.rule} while viewing: {response.status_code}"
        refused.append(rule.rule)
    assert (fingerprint(owner_conninfo, alpha.id), fingerprint(owner_conninfo, beta.id)) == before
    assert len(refused) > 40
    assert "read-only" in client.post("/orders/pause", data={"csrf_token": token}).get_data(as_text=True)


def test_every_page_of_the_viewed_company_opens_without_an_error(app, viewing, client, owner_conninfo):
    alpha, beta = viewing
    ids = ids_of(owner_conninfo, beta.id)
    opened = []
    for rule in sweep_routes(app):
        if "GET" not in rule.methods or rule.endpoint.split(".")[0] in OPERATOR_BLUEPRINTS:
            continue
        response = client.get(rule_url(app, rule, ids))
        assert response.status_code < 500, f"GET {rule.rule} while viewing: {response.status_code}"
        opened.append(rule.rule)
    assert len(opened) > 40
    assert client.get("/outbox/").status_code == 403  # the outbox holds Beta's sign-in links


def test_the_database_refuses_a_write_a_view_forgot_to_refuse(app, two_companies):
    """The second wall: a read-only request's transactions are read-only in PostgreSQL itself."""
    from portal.extensions import db
    from portal.tenancy import is_read_only_error, read_only_request, tenant

    alpha, _ = two_companies
    with app.test_request_context(), tenant(alpha.id):
        db.session.execute(text("SELECT 1"))  # a transaction already open becomes read-only too
        read_only_request()
        with pytest.raises(DBAPIError) as refused:
            db.session.execute(text("UPDATE companies SET name = 'changed'"))
        assert is_read_only_error(refused.value)
        db.session.rollback()
        with pytest.raises(DBAPIError):  # and so is every later transaction of the request
            db.session.execute(text("DELETE FROM audit_logs"))
        db.session.rollback()


def test_starting_and_stopping_are_audited_in_the_viewed_companys_log(app, viewing, auth, client, owner_conninfo):
    alpha, beta = viewing
    page = auth.post("/admin/view-as/stop", page="/admin/companies", follow_redirects=True)
    assert page.request.path == f"/admin/companies/{beta.id}"
    assert "#N-alpha" in client.get("/orders/").get_data(as_text=True)  # back to one's own company
    rows = owner_rows(owner_conninfo, "SELECT operation, user_id, company_id FROM audit_logs"
                                      " WHERE operation LIKE 'VIEW_AS_%%' ORDER BY created_at, operation DESC")
    assert rows == [("VIEW_AS_STARTED", alpha.user_id("SUPER_ADMIN"), beta.id),
                    ("VIEW_AS_ENDED", alpha.user_id("SUPER_ADMIN"), beta.id)]
    beta_admin = Auth(app.test_client())
    beta_admin.login(beta.email("COMPANY_ADMIN"))
    audit = beta_admin.client.get("/audit/").get_data(as_text=True)
    assert "started viewing as company" in audit and "Operator" in audit


def test_a_view_ends_by_itself(viewing, client):
    with client.session_transaction() as session:
        session[VIEW_AS_KEY] = {**session[VIEW_AS_KEY], "until": int(time.time()) - 1}
    orders = client.get("/orders/").get_data(as_text=True)
    assert "#N-alpha" in orders and "view-as-banner" not in orders


def test_only_a_super_admin_can_view_and_a_planted_session_does_nothing(filled, auth, client):
    alpha, beta = filled
    auth.login(alpha.email("COMPANY_ADMIN"))
    assert start_viewing(auth, beta.id).status_code == 403
    with client.session_transaction() as session:
        session[VIEW_AS_KEY] = {"company": str(beta.id), "name": "Beta Grill", "until": int(time.time()) + 600}
    orders = client.get("/orders/").get_data(as_text=True)
    assert "#N-alpha" in orders and "#N-beta" not in orders


def test_a_deleted_company_cannot_be_viewed(filled, auth, client, owner_conninfo):
    from tests.conftest import owner_execute
    alpha, beta = filled
    owner_execute(owner_conninfo, "UPDATE companies SET deleted_at = now() WHERE id = %s", beta.id)
    auth.login(alpha.email("SUPER_ADMIN"))
    page = start_viewing(auth, beta.id, follow_redirects=True).get_data(as_text=True)
    assert "This company is deleted" in page
    assert "#N-alpha" in client.get("/orders/").get_data(as_text=True)
