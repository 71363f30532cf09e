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


def _add_entry(app, company, **values):
    from portal.models import AuditLog
    with app.app_context(), tenant(company.id):
        db.session.add(AuditLog(company_id=company.id, user_id=company.user_id("COMPANY_ADMIN"), **values))
        db.session.commit()


def test_fields_are_labelled_booleans_readable_and_secrets_never_shown(app, auth, client, two_companies):
    alpha, _ = two_companies
    _add_entry(app, alpha, table_name="menu_mappings", operation="UPDATE",
               old_values={"platform_available": False, "webhook_secret": "old-hush", "api_key": "k-123"},
               new_values={"platform_available": True, "webhook_secret": "new-hush", "api_key": "k-456",
                           "password_hash": "$2b$zzz", "reset_token": "tok-789"})
    auth.login(alpha.email("COMPANY_ADMIN"))
    page = client.get("/audit/").get_data(as_text=True)
    assert "Available on platform" in page and "platform_available" not in page
    assert "<del>No</del>" in page and "<ins>Yes</ins>" in page and "False" not in page
    for secret in ("hush", "k-123", "k-456", "$2b$", "tok-789", "webhook_secret", "api_key", "password_hash"):
        assert secret not in page


def test_sign_in_rows_and_operations_have_labels_in_both_languages(app, auth, client, two_companies):
    alpha, _ = two_companies
    _add_entry(app, alpha, table_name="users", operation="SIGN_IN_FAILED", new_values={"email": "x@example.com"})
    auth.login(alpha.email("COMPANY_ADMIN"))
    page = client.get("/audit/").get_data(as_text=True)
    assert "failed sign-in" in page and ">SIGN_IN_FAILED<" not in page and "SIGN IN FAILED" not in page.upper().replace("SIGN_IN_FAILED", "")
    auth.post("/language", {"locale": "ar", "next": "/audit/"}, page="/audit/")
    arabic = client.get("/audit/").get_data(as_text=True)
    assert "محاولة دخول فاشلة" in arabic


def test_an_export_is_audited_for_its_own_company_only(app, auth, client, two_companies):
    from sqlalchemy import select

    from portal.models import AuditLog
    alpha, beta = two_companies
    auth.login(alpha.email("MANAGER"))
    response = client.get("/orders/export.csv")
    response.get_data()
    assert response.status_code == 200
    with app.app_context(), tenant(alpha.id):
        rows = db.session.scalars(select(AuditLog).where(AuditLog.operation == "EXPORT")).all()
        assert len(rows) == 1 and rows[0].user_id == alpha.user_id("MANAGER")
        assert rows[0].new_values["file"].endswith(".csv")
    with app.app_context(), tenant(beta.id):
        assert not db.session.scalars(select(AuditLog).where(AuditLog.operation == "EXPORT")).all()
    auth.logout()
    auth.login(alpha.email("COMPANY_ADMIN"))
    assert "exported" in client.get("/audit/?table=exports").get_data(as_text=True)


def test_filters_by_action_user_and_dates_and_bad_dates_give_a_message(app, auth, client, two_companies):
    alpha, beta = two_companies
    _add_entry(app, alpha, table_name="users", operation="SIGN_IN_FAILED", new_values={"email": "alpha-probe"})
    _add_entry(app, alpha, table_name="exports", operation="EXPORT", new_values={"file": "alpha-file.csv"})
    _add_entry(app, beta, table_name="exports", operation="EXPORT", new_values={"file": "beta-file.csv"})
    auth.login(alpha.email("COMPANY_ADMIN"))
    page = client.get("/audit/?operation=EXPORT").get_data(as_text=True)
    assert "alpha-file.csv" in page and "alpha-probe" not in page and "beta-file.csv" not in page
    mine = client.get(f"/audit/?user={alpha.user_id('COMPANY_ADMIN')}&since=2000-01-01&until=2999-01-01")
    assert "alpha-file.csv" in mine.get_data(as_text=True)
    assert "alpha-file.csv" not in client.get("/audit/?until=2000-01-01").get_data(as_text=True)
    for query in ("since=yesterday", "until=2025-13-40", "since=2025-05-02&until=2025-05-01", "user=nope"):
        response = client.get(f"/audit/?{query}")
        assert response.status_code == 200
    assert "YYYY-MM-DD" in client.get("/audit/?since=yesterday").get_data(as_text=True)
    assert "beta-file.csv" not in client.get(f"/audit/?user={beta.user_id('COMPANY_ADMIN')}").get_data(as_text=True)


def test_sign_ins_and_failed_sign_ins_are_audited_for_the_accounts_company(app, auth, client, two_companies,
                                                                           owner_conninfo):
    import psycopg
    alpha, beta = two_companies
    auth.login(alpha.email("USER"), password="wrong password")
    auth.login(alpha.email("USER"))
    with psycopg.connect(owner_conninfo) as connection:
        rows = connection.execute(
            "SELECT company_id, operation, record_id, host(ip_address), new_values::text FROM audit_logs"
            " WHERE operation IN ('SIGN_IN', 'SIGN_IN_FAILED') ORDER BY created_at").fetchall()
    assert [(row[0], row[1], row[2]) for row in rows] == [
        (alpha.id, "SIGN_IN_FAILED", alpha.user_id("USER")), (alpha.id, "SIGN_IN", alpha.user_id("USER"))]
    assert all(row[3] == "127.0.0.1" for row in rows)
    assert not any("wrong password" in (row[4] or "") for row in rows)
    auth.logout()
    auth.login(alpha.email("COMPANY_ADMIN"))
    page = client.get("/audit/").get_data(as_text=True)
    assert "wrong password" not in page
