"""Platform integrations: webhook outcomes, outbound calls, order fields the platforms send, job queue.

Revision ID: 0002_platform_integrations
Revises: 0001_initial_schema
Create Date: 2026-11-25
"""
from alembic import op

revision = "0002_platform_integrations"
down_revision = "0001_initial_schema"
branch_labels = None
depends_on = None

# Helpers for what autogenerate cannot see (RLS, grants, triggers), copied here as they were when
# this migration was written: a migration never imports live code, so it stays what it was.
APP_ROLE = "portal_app"
SUPER_ROLE = "portal_super"
TENANT_PREDICATE = "nullif(current_setting('app.current_company_id', true), '')::uuid"


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


WEBHOOK_ROLE = "portal_webhook"
MONEY = "NUMERIC(12, 3)"


def upgrade():
    op.execute(f"""
    DO $$
    BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{WEBHOOK_ROLE}') THEN
        CREATE ROLE {WEBHOOK_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
      END IF;
    END $$;
    GRANT {WEBHOOK_ROLE} TO {APP_ROLE};
    GRANT USAGE ON SCHEMA public TO {WEBHOOK_ROLE};
    """)
    op.execute(f"""
    ALTER TABLE integration_configs
      ADD COLUMN base_url        VARCHAR(500),
      ADD COLUMN auto_accept     JSONB NOT NULL DEFAULT '{{}}',
      ADD COLUMN paused_until    TIMESTAMPTZ,
      ADD COLUMN last_success_at TIMESTAMPTZ,
      ADD COLUMN last_error_at   TIMESTAMPTZ,
      ADD COLUMN last_error      TEXT,
      ADD CONSTRAINT ck_integration_base_url CHECK (base_url IS NULL OR base_url ~ '^https?://');

    ALTER TABLE delivery_orders
      ADD COLUMN short_code            VARCHAR(50),
      ADD COLUMN platform_token        VARCHAR(100),
      ADD COLUMN accept_by             TIMESTAMPTZ,
      ADD COLUMN expected_at           TIMESTAMPTZ,
      ADD COLUMN placed_at             TIMESTAMPTZ,
      ADD COLUMN platform_discount     {MONEY} NOT NULL DEFAULT 0 CHECK (platform_discount >= 0),
      ADD COLUMN vendor_discount       {MONEY} NOT NULL DEFAULT 0 CHECK (vendor_discount >= 0),
      ADD COLUMN third_party_discount  {MONEY} NOT NULL DEFAULT 0 CHECK (third_party_discount >= 0),
      ADD COLUMN collect_from_customer {MONEY},
      ADD COLUMN last_push_status      VARCHAR(12)
        CHECK (last_push_status IN ('QUEUED', 'SENDING', 'SUCCEEDED', 'FAILED', 'DEAD', 'SKIPPED')),
      ADD COLUMN last_push_error       TEXT,
      ADD COLUMN last_pushed_at        TIMESTAMPTZ;
    CREATE INDEX idx_orders_platform_token ON delivery_orders (company_id, platform, platform_token)
      WHERE platform_token IS NOT NULL;

    -- A webhook whose integration cannot be resolved is still stored, without a company: only the
    -- operator (portal_super) sees it.
    ALTER TABLE webhook_logs
      ALTER COLUMN company_id DROP NOT NULL,
      ADD COLUMN event_id     VARCHAR(200),
      ADD COLUMN outcome      VARCHAR(20) NOT NULL DEFAULT 'RECEIVED'
        CHECK (outcome IN ('RECEIVED', 'PROCESSED', 'DUPLICATE', 'IGNORED', 'UNAUTHORIZED', 'INVALID',
                           'UNKNOWN_INTEGRATION', 'FAILED', 'DEAD')),
      ADD COLUMN order_id     UUID,
      ADD COLUMN request_path VARCHAR(500),
      ADD COLUMN latency_ms   INTEGER,
      ADD CONSTRAINT fk_webhook_logs_order FOREIGN KEY (company_id, order_id)
        REFERENCES delivery_orders (company_id, id) ON DELETE SET NULL (order_id);
    CREATE INDEX idx_webhook_logs_outcome ON webhook_logs (company_id, outcome, created_at DESC);
    CREATE INDEX idx_webhook_logs_order ON webhook_logs (company_id, order_id) WHERE order_id IS NOT NULL;

    CREATE TABLE platform_calls (
      id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      integration_config_id UUID NOT NULL,
      order_id              UUID,
      action                VARCHAR(40) NOT NULL,
      method                VARCHAR(10) NOT NULL,
      url                   VARCHAR(1000) NOT NULL,
      request_body          JSONB,
      status                VARCHAR(12) NOT NULL DEFAULT 'QUEUED'
        CHECK (status IN ('QUEUED', 'SENDING', 'SUCCEEDED', 'FAILED', 'DEAD')),
      attempts              INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      max_attempts          INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
      next_attempt_at       TIMESTAMPTZ,
      response_status       INTEGER,
      response_body         TEXT,
      error                 TEXT,
      duration_ms           INTEGER,
      user_id               UUID,
      company_id            UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
      completed_at          TIMESTAMPTZ,
      CONSTRAINT uq_platform_calls_company_id UNIQUE (company_id, id),
      CONSTRAINT fk_platform_calls_integration FOREIGN KEY (company_id, integration_config_id)
        REFERENCES integration_configs (company_id, id) ON DELETE CASCADE,
      CONSTRAINT fk_platform_calls_order FOREIGN KEY (company_id, order_id)
        REFERENCES delivery_orders (company_id, id) ON DELETE SET NULL (order_id),
      CONSTRAINT fk_platform_calls_user FOREIGN KEY (company_id, user_id)
        REFERENCES users (company_id, id) ON DELETE SET NULL (user_id)
    );
    CREATE INDEX idx_platform_calls_integration ON platform_calls (company_id, integration_config_id, created_at DESC);
    CREATE INDEX idx_platform_calls_order ON platform_calls (company_id, order_id, created_at) WHERE order_id IS NOT NULL;
    """)
    enable_tenant_rls("platform_calls")

    # The webhook receiver's narrow path: resolve an integration id to its company before any tenant is
    # known (only these columns), and store a webhook no integration claims.
    op.execute(f"""
    GRANT SELECT (id, company_id, platform, is_enabled) ON integration_configs TO {WEBHOOK_ROLE};
    CREATE POLICY webhook_resolve ON integration_configs FOR SELECT TO {WEBHOOK_ROLE} USING (true);
    GRANT INSERT ON webhook_logs TO {WEBHOOK_ROLE};
    CREATE POLICY webhook_unclaimed ON webhook_logs FOR INSERT TO {WEBHOOK_ROLE} WITH CHECK (company_id IS NULL);
    """)

    # The job queue (procrastinate): its schema, owned by the owner, used by portal_app.
    from procrastinate.schema import SchemaManager

    op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())
    op.execute(f"""
    DO $$
    DECLARE name text;
    BEGIN
      FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'procrastinate%' LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO {APP_ROLE}, {SUPER_ROLE}', name);
      END LOOP;
    END $$;
    GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};
    """)


def downgrade():
    op.execute("""
    DO $$
    DECLARE item record;
    BEGIN
      FOR item IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'procrastinate%' LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.tablename);
      END LOOP;
      FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate%' LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', item.signature);
      END LOOP;
      FOR item IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                  WHERE n.nspname = 'public' AND t.typname LIKE 'procrastinate%' AND t.typtype IN ('e', 'c')
                    AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid AND c.relkind = 'r') LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
      END LOOP;
    END $$;
    """)
    op.execute("DROP POLICY IF EXISTS webhook_unclaimed ON webhook_logs")
    op.execute("DROP POLICY IF EXISTS webhook_resolve ON integration_configs")
    op.execute("REVOKE ALL ON webhook_logs, integration_configs FROM portal_webhook")
    op.execute("DROP TABLE IF EXISTS platform_calls")
    op.execute("""
    DELETE FROM webhook_logs WHERE company_id IS NULL;
    ALTER TABLE webhook_logs
      DROP CONSTRAINT IF EXISTS fk_webhook_logs_order,
      DROP COLUMN IF EXISTS event_id, DROP COLUMN IF EXISTS outcome, DROP COLUMN IF EXISTS order_id,
      DROP COLUMN IF EXISTS request_path, DROP COLUMN IF EXISTS latency_ms,
      ALTER COLUMN company_id SET NOT NULL;
    ALTER TABLE delivery_orders
      DROP COLUMN IF EXISTS short_code, DROP COLUMN IF EXISTS platform_token, DROP COLUMN IF EXISTS accept_by,
      DROP COLUMN IF EXISTS expected_at, DROP COLUMN IF EXISTS placed_at, DROP COLUMN IF EXISTS platform_discount,
      DROP COLUMN IF EXISTS vendor_discount, DROP COLUMN IF EXISTS third_party_discount,
      DROP COLUMN IF EXISTS collect_from_customer, DROP COLUMN IF EXISTS last_push_status,
      DROP COLUMN IF EXISTS last_push_error, DROP COLUMN IF EXISTS last_pushed_at;
    ALTER TABLE integration_configs
      DROP CONSTRAINT IF EXISTS ck_integration_base_url,
      DROP COLUMN IF EXISTS base_url, DROP COLUMN IF EXISTS auto_accept, DROP COLUMN IF EXISTS paused_until,
      DROP COLUMN IF EXISTS last_success_at, DROP COLUMN IF EXISTS last_error_at, DROP COLUMN IF EXISTS last_error;
    REVOKE USAGE ON SCHEMA public FROM portal_webhook;
    """)
