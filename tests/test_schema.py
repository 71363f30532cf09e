"""Catalog lint of the schema the migrations build, and the migrations' round trip."""
import psycopg
import pytest
from sqlalchemy import create_engine, inspect

from portal.extensions import db
from tests.conftest import database_url_for, libpq_conninfo, create_database, drop_database, make_app
from tests.tenant_rows import TENANT_TABLES


def _query(conninfo, sql, params=()):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchall()


def test_every_tenant_table_forces_rls_with_tenant_policies(owner_conninfo):
    tables = _query(owner_conninfo, """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r'
          AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'company_id'
                        AND NOT a.attisdropped) OR c.relname = 'companies')""")
    names = {name for name, _, _ in tables}
    assert names == set(TENANT_TABLES) | {"companies"}
    for name, enabled, forced in tables:
        assert enabled and forced, f"{name}: RLS enabled={enabled} forced={forced}"
    policies = {(table, policy): (qual, check) for table, policy, qual, check in _query(owner_conninfo, """
        SELECT tablename, policyname, qual, with_check FROM pg_policies WHERE schemaname = 'public'""")}
    for name in names:
        qual, check = policies[(name, "tenant_isolation")]
        column = "id" if name == "companies" else "company_id"
        for expression in (qual, check):
            assert expression is not None, f"{name}: tenant policy without USING/WITH CHECK"
            assert f"{column} = (NULLIF(current_setting('app.current_company_id'::text, true)" in expression
        assert (name, "super_admin_access") in policies


def test_views_run_with_the_callers_rights(owner_conninfo):
    views = _query(owner_conninfo, """
        SELECT c.relname, coalesce(c.reloptions, '{}') FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'v'""")
    assert {name for name, _ in views} >= {"v_order_analytics", "v_integration_health"}
    for name, options in views:
        assert "security_invoker=true" in options, name


def test_portal_app_is_an_unprivileged_role_that_owns_nothing(owner_conninfo):
    (superuser, bypass, createrole, createdb), = _query(
        owner_conninfo, "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles "
                        "WHERE rolname = 'portal_app'")
    assert not superuser and not bypass and not createrole and not createdb
    owned = _query(owner_conninfo, """
        SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
        WHERE r.rolname IN ('portal_app', 'portal_super', 'portal_login')""")
    assert owned == []
    (can_create,), = _query(owner_conninfo, "SELECT has_schema_privilege('portal_app', 'public', 'CREATE')")
    assert not can_create


def test_unique_keys_of_tenant_tables_include_the_company(owner_conninfo):
    rows = _query(owner_conninfo, """
        SELECT t.relname, i.relname, array_agg(a.attname::text)
        FROM pg_index x
        JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (x.indkey)
        WHERE n.nspname = 'public' AND x.indisunique AND NOT x.indisprimary
        GROUP BY t.relname, i.relname""")
    # Sign-in is by e-mail alone, so e-mail is unique across the platform (README: data model).
    exceptions = {("users", "uq_users_email"), ("companies", "companies_domain_key")}
    for table, index, columns in rows:
        if table in TENANT_TABLES and (table, index) not in exceptions:
            assert "company_id" in columns, f"{table}.{index} {columns}"


def test_foreign_keys_between_tenant_tables_carry_the_company(owner_conninfo):
    rows = _query(owner_conninfo, """
        SELECT conrelid::regclass::text, conname, confrelid::regclass::text,
               (SELECT array_agg(attname::text) FROM pg_attribute
                 WHERE attrelid = conrelid AND attnum = ANY (conkey))
        FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace""")
    for table, name, target, columns in rows:
        if target in TENANT_TABLES:
            assert "company_id" in columns, f"{table}.{name} -> {target} {columns}"


def test_models_match_the_migrated_schema(app):
    with app.app_context():
        inspector = inspect(db.engine)
        for table in db.metadata.sorted_tables:
            columns = {column["name"] for column in inspector.get_columns(table.name)}
            assert columns == set(table.columns.keys()), table.name


@pytest.mark.no_clean
def test_migrations_upgrade_downgrade_upgrade(server_url):
    from flask_migrate import downgrade, upgrade

    name = "portal_migration_roundtrip"
    create_database(server_url, name)
    url = database_url_for(server_url, name)
    try:
        application = make_app(url)
        with application.app_context():
            upgrade()
            assert "delivery_orders" in inspect(create_engine(application.config["OWNER_DATABASE_URL"])).get_table_names()
            downgrade(revision="base")
            leftovers = _query(libpq_conninfo(url), """
                SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'S') AND c.relname <> 'alembic_version'""")
            assert leftovers == []
            assert _query(libpq_conninfo(url), "SELECT typname FROM pg_type WHERE typname = 'order_status'") == []
            upgrade()
            assert _query(libpq_conninfo(url), "SELECT count(*) FROM v_order_analytics") == [(0,)]
            db.engine.dispose()
    finally:
        drop_database(server_url, name)
