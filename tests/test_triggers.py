"""The seed's triggers, fixed: integration validation for all nine platforms, updated_at, the audit trail."""
import time

import psycopg
import pytest

from portal.models import DeliveryPlatform

SET_TENANT = "SELECT set_config('app.current_company_id', %s, true)"
GENERIC = [platform.value for platform in DeliveryPlatform
           if platform.value not in ("CAREEM", "TALABAT", "HUNGERSTATION")]


@pytest.fixture
def company(make_company):
    return make_company("Trigger Kitchen")


@pytest.fixture
def as_tenant(company, database_url):
    """A portal_app connection scoped to the company, committed per statement block by the test."""
    from sqlalchemy.engine import make_url
    conninfo = make_url(database_url).set(drivername="postgresql", username="portal_app", password=None) \
        .render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        connection.execute(SET_TENANT, (str(company.id),))
        yield connection


def _insert_integration(connection, company, platform, enabled=True, **credentials):
    columns = ["platform", "is_enabled", "company_id", *credentials]
    values = [platform, enabled, company.id, *credentials.values()]
    placeholders = ", ".join(["%s"] * len(values))
    connection.execute(f"INSERT INTO integration_configs ({', '.join(columns)}) VALUES ({placeholders})", values)


@pytest.mark.parametrize("platform,complete,missing", [
    ("CAREEM", {"api_key": "id", "api_secret": "secret"}, "api_secret"),
    ("TALABAT", {"api_key": "key", "merchant_id": "chain"}, "merchant_id"),
    ("HUNGERSTATION", {"api_key": "key", "merchant_id": "chain"}, "api_key"),
    *[(platform, {"api_key": "k", "api_secret": "s", "store_id": "store"}, "store_id") for platform in GENERIC],
])
def test_enabled_integrations_need_their_platforms_credentials(as_tenant, company, platform, complete, missing):
    incomplete = {key: value for key, value in complete.items() if key != missing}
    with pytest.raises(psycopg.errors.CheckViolation, match="requires"):
        _insert_integration(as_tenant, company, platform, **incomplete)
    as_tenant.rollback()
    as_tenant.execute(SET_TENANT, (str(company.id),))
    _insert_integration(as_tenant, company, platform, **complete)  # the seed raised CASE_NOT_FOUND here
    assert as_tenant.execute("SELECT count(*) FROM integration_configs").fetchone() == (1,)


def test_a_disabled_integration_may_be_a_draft(as_tenant, company):
    _insert_integration(as_tenant, company, "NASHMI", enabled=False)
    with pytest.raises(psycopg.errors.CheckViolation):
        as_tenant.execute("UPDATE integration_configs SET is_enabled = true")


def test_updated_at_moves_on_every_update(as_tenant, company):
    before = as_tenant.execute("SELECT updated_at FROM companies").fetchone()[0]
    as_tenant.commit()
    time.sleep(0.01)
    as_tenant.execute(SET_TENANT, (str(company.id),))
    as_tenant.execute("UPDATE companies SET phone = '+966111111111'")
    after = as_tenant.execute("SELECT updated_at FROM companies").fetchone()[0]
    assert after > before


def test_audit_trail_records_changes_without_secrets(as_tenant, company):
    _insert_integration(as_tenant, company, "CAREEM", api_key="id-123", api_secret="very-secret",
                        webhook_secret="hook-secret")
    as_tenant.execute("UPDATE integration_configs SET commission_rate = 12.5")
    as_tenant.execute("UPDATE users SET first_name = 'Renamed' WHERE role = 'USER'")
    rows = as_tenant.execute("SELECT table_name, operation, old_values, new_values, company_id FROM audit_logs "
                             "WHERE table_name IN ('integration_configs', 'users') ORDER BY created_at").fetchall()
    operations = [(table, operation) for table, operation, *_ in rows]
    assert ("integration_configs", "INSERT") in operations
    assert ("integration_configs", "UPDATE") in operations
    assert ("users", "UPDATE") in operations
    text = repr(rows)
    for secret in ("id-123", "very-secret", "hook-secret", "$2b$"):
        assert secret not in text
    assert all(row[4] == company.id for row in rows)
    update = next(row for row in rows if row[:2] == ("integration_configs", "UPDATE"))
    assert update[2]["commission_rate"] == 0 and update[3]["commission_rate"] == 12.5


def test_an_update_that_changes_nothing_is_not_audited(as_tenant, company):
    count = "SELECT count(*) FROM audit_logs WHERE table_name = 'companies' AND operation = 'UPDATE'"
    before = as_tenant.execute(count).fetchone()[0]
    as_tenant.execute("UPDATE companies SET name = name")
    assert as_tenant.execute(count).fetchone()[0] == before


def test_the_last_company_admin_cannot_go(as_tenant, company):
    for statement in ("UPDATE users SET role = 'MANAGER' WHERE role = 'COMPANY_ADMIN'",
                      "UPDATE users SET is_active = false WHERE role = 'COMPANY_ADMIN'",
                      "UPDATE users SET deleted_at = now() WHERE role = 'COMPANY_ADMIN'",
                      "DELETE FROM users WHERE role = 'COMPANY_ADMIN'"):
        with pytest.raises(psycopg.errors.CheckViolation, match="at least one active company admin"):
            as_tenant.execute(statement)
        as_tenant.rollback()
        as_tenant.execute(SET_TENANT, (str(company.id),))


def test_deleting_a_company_takes_its_users_with_it(company, owner_conninfo):
    with psycopg.connect(owner_conninfo, autocommit=True) as connection:
        connection.execute("DELETE FROM companies WHERE id = %s", (company.id,))
        assert connection.execute("SELECT count(*) FROM users WHERE company_id = %s",
                                  (company.id,)).fetchone() == (0,)
