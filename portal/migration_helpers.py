"""Small helpers the migrations use for what autogenerate cannot see: RLS, grants, triggers."""
from alembic import op

APP_ROLE = "portal_app"
SUPER_ROLE = "portal_super"
LOGIN_ROLE = "portal_login"

TENANT_PREDICATE = "nullif(current_setting('app.current_company_id', true), '')::uuid"


def create_roles():
    """Create the runtime roles once per cluster (roles are shared by every database there)."""
    op.execute(f"""
    DO $$
    BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
      END IF;
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SUPER_ROLE}') THEN
        CREATE ROLE {SUPER_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
      END IF;
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{LOGIN_ROLE}') THEN
        CREATE ROLE {LOGIN_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
      END IF;
    END $$;
    """)
    # NOINHERIT: portal_app holds these roles only after an explicit SET LOCAL ROLE in tenancy.py.
    op.execute(f"GRANT {SUPER_ROLE}, {LOGIN_ROLE} TO {APP_ROLE}")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}, {SUPER_ROLE}, {LOGIN_ROLE}")


def enable_tenant_rls(table, column="company_id", privileges="SELECT, INSERT, UPDATE, DELETE"):
    """Enable and force RLS on a tenant table, with the tenant and the super-admin policies."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"""
        CREATE POLICY tenant_isolation ON {table} FOR ALL TO PUBLIC
        USING ({column} = {TENANT_PREDICATE})
        WITH CHECK ({column} = {TENANT_PREDICATE})""")
    op.execute(f"""
        CREATE POLICY super_admin_access ON {table} FOR ALL TO {SUPER_ROLE}
        USING (true) WITH CHECK (true)""")
    op.execute(f"GRANT {privileges} ON {table} TO {APP_ROLE}, {SUPER_ROLE}")


def add_updated_at_trigger(table):
    """Keep updated_at current on every UPDATE (the seed set it in an AFTER trigger, which is a no-op)."""
    op.execute(f"""
        CREATE TRIGGER set_updated_at BEFORE UPDATE ON {table}
        FOR EACH ROW EXECUTE FUNCTION set_updated_at()""")


def add_audit_trigger(table):
    """Write every change of the table to audit_logs (secret columns redacted by the function)."""
    op.execute(f"""
        CREATE TRIGGER audit_{table}_trigger AFTER INSERT OR UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION audit_trigger()""")


def create_view(name, select_sql, grant=True):
    """Create a security_invoker view (RLS of the caller applies) and let the app read it."""
    op.execute(f"CREATE VIEW {name} WITH (security_invoker = true) AS {select_sql}")
    if grant:
        op.execute(f"GRANT SELECT ON {name} TO {APP_ROLE}, {SUPER_ROLE}")
