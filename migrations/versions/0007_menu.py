"""Menu catalog: modifier groups, sold-out windows, availability schedules, sync runs.

Revision ID: 0007_menu
Revises: 0006_board_search
Create Date: 2026-12-01

- menu_mappings gains `price_overridden` (price inheritance: a mapping follows its product's price
  unless overridden, kept by triggers), `platform_available` (what the platform was last told) and
  `synced_hash` (what the last successful sync pushed, for diff syncs).
- modifier_groups / modifier_options: a product's choices (min/max, price deltas).
- menu_sold_out: "86" windows (until end of day, a time, or indefinitely).
- menu_availability_pushes: which platform call carried which product's availability (per-platform
  results of an 86).
- menu_sync_runs: one "Sync menu" or "Import from platform" run with its progress and report.
- platform_products: products a platform knows (from an import or seen in orders) for mapping.
- portal_scheduler: a narrow role that may see only which companies have menu work due (the
  worker's once-a-minute availability tick), like portal_webhook for webhooks.
"""
from alembic import op

revision = "0007_menu"
down_revision = "0006_board_search"
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


def add_updated_at_trigger(table):
    """Keep updated_at current on every UPDATE (the seed set it in an AFTER trigger, which is a no-op)."""
    op.execute(f"""
        CREATE TRIGGER set_updated_at BEFORE UPDATE ON {table}
        FOR EACH ROW EXECUTE FUNCTION set_updated_at()""")


MONEY = "NUMERIC(12, 3)"
SCHEDULER_ROLE = "portal_scheduler"
NEW_TABLES = ["modifier_groups", "modifier_options", "menu_sold_out", "menu_availability_pushes", "menu_sync_runs",
              "platform_products"]


def upgrade():
    # pg_trgm (name similarity for mapping suggestions) where the server ships it; the embedded
    # PostgreSQL of `make run` (the pgserver wheel) has no contrib extensions, and the portal then
    # suggests with Python's difflib instead (portal/menu/mapping.py).
    op.execute("""
    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
      END IF;
    END $$;
    """)

    # ------------------------------------------------------------------ price inheritance
    op.execute("""
    ALTER TABLE menu_mappings
      ADD COLUMN price_overridden   BOOLEAN,
      ADD COLUMN platform_available BOOLEAN,
      ADD COLUMN synced_hash        VARCHAR(64);
    UPDATE menu_mappings m SET price_overridden = (m.product_price IS DISTINCT FROM p.price)
      FROM products p WHERE p.company_id = m.company_id AND p.local_product_id = m.local_product_id;
    UPDATE menu_mappings SET price_overridden = false WHERE price_overridden IS NULL;
    ALTER TABLE menu_mappings ALTER COLUMN price_overridden SET NOT NULL;

    -- A mapping that does not override its price follows the product's. On INSERT a missing
    -- override flag is derived (a price other than the product's is an override) and a missing
    -- price is inherited; on UPDATE an inheriting mapping takes the product's price again.
    CREATE FUNCTION menu_mapping_inherit_price() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      catalog_price NUMERIC(12, 3);
    BEGIN
      SELECT price INTO catalog_price FROM products
       WHERE company_id = NEW.company_id AND local_product_id = NEW.local_product_id;
      IF TG_OP = 'INSERT' AND NEW.price_overridden IS NULL THEN
        NEW.price_overridden := NEW.product_price IS NOT NULL AND NEW.product_price IS DISTINCT FROM catalog_price;
      END IF;
      IF NEW.price_overridden IS NULL OR NEW.product_price IS NULL THEN
        NEW.price_overridden := false;
      END IF;
      IF NOT NEW.price_overridden THEN
        NEW.product_price := coalesce(catalog_price, NEW.product_price);
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER menu_mapping_inherit_price BEFORE INSERT OR UPDATE ON menu_mappings
      FOR EACH ROW EXECUTE FUNCTION menu_mapping_inherit_price();

    -- A product's new price and name reach the mappings that inherit them.
    CREATE FUNCTION product_to_mappings() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.price IS DISTINCT FROM OLD.price THEN
        UPDATE menu_mappings SET product_price = NEW.price
         WHERE company_id = NEW.company_id AND local_product_id = NEW.local_product_id AND NOT price_overridden;
      END IF;
      IF NEW.name IS DISTINCT FROM OLD.name THEN
        UPDATE menu_mappings SET product_name = left(NEW.name, 300)
         WHERE company_id = NEW.company_id AND local_product_id = NEW.local_product_id AND product_name = OLD.name;
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER product_to_mappings AFTER UPDATE OF price, name ON products
      FOR EACH ROW EXECUTE FUNCTION product_to_mappings();
    """)
    op.execute("CREATE INDEX idx_menu_mappings_scheduled ON menu_mappings (company_id) "
               "WHERE availability_schedule IS NOT NULL")

    # ------------------------------------------------------------------ modifiers
    op.execute(f"""
    CREATE TABLE modifier_groups (
      id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      product_id  UUID NOT NULL,
      name        VARCHAR(200) NOT NULL CHECK (btrim(name) <> ''),
      name_ar     VARCHAR(200),
      min_choices INTEGER NOT NULL DEFAULT 0 CHECK (min_choices >= 0),
      max_choices INTEGER NOT NULL DEFAULT 1 CHECK (max_choices >= 1 AND max_choices >= min_choices),
      sort_order  INTEGER NOT NULL DEFAULT 0,
      company_id  UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT uq_modifier_groups_company_id UNIQUE (company_id, id),
      CONSTRAINT uq_modifier_groups_name UNIQUE (company_id, product_id, name),
      CONSTRAINT fk_modifier_groups_product FOREIGN KEY (company_id, product_id)
        REFERENCES products (company_id, id) ON DELETE CASCADE
    );
    CREATE TABLE modifier_options (
      id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      group_id        UUID NOT NULL,
      local_option_id VARCHAR(100),
      name            VARCHAR(200) NOT NULL CHECK (btrim(name) <> ''),
      name_ar         VARCHAR(200),
      price_delta     {MONEY} NOT NULL DEFAULT 0 CHECK (price_delta BETWEEN -100000 AND 100000),
      is_available    BOOLEAN NOT NULL DEFAULT true,
      sort_order      INTEGER NOT NULL DEFAULT 0,
      company_id      UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT uq_modifier_options_company_id UNIQUE (company_id, id),
      CONSTRAINT uq_modifier_options_name UNIQUE (company_id, group_id, name),
      CONSTRAINT fk_modifier_options_group FOREIGN KEY (company_id, group_id)
        REFERENCES modifier_groups (company_id, id) ON DELETE CASCADE
    );
    CREATE INDEX idx_modifier_groups_product ON modifier_groups (company_id, product_id, sort_order);
    """)

    # ------------------------------------------------------------------ availability
    op.execute("""
    CREATE TABLE menu_sold_out (
      id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      product_id UUID NOT NULL,
      starts_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
      until_at   TIMESTAMPTZ,
      until_kind VARCHAR(12) NOT NULL CHECK (until_kind IN ('END_OF_DAY', 'UNTIL_TIME', 'INDEFINITE')),
      reason     VARCHAR(200),
      created_by UUID,
      ended_at   TIMESTAMPTZ,
      ended_by   UUID,
      end_reason VARCHAR(10) CHECK (end_reason IN ('EXPIRED', 'MANUAL')),
      company_id UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT uq_menu_sold_out_company_id UNIQUE (company_id, id),
      CONSTRAINT ck_menu_sold_out_until CHECK ((until_kind = 'INDEFINITE') = (until_at IS NULL)
                                               AND (until_at IS NULL OR until_at > starts_at)),
      CONSTRAINT fk_menu_sold_out_product FOREIGN KEY (company_id, product_id)
        REFERENCES products (company_id, id) ON DELETE CASCADE,
      CONSTRAINT fk_menu_sold_out_created_by FOREIGN KEY (company_id, created_by)
        REFERENCES users (company_id, id) ON DELETE SET NULL (created_by),
      CONSTRAINT fk_menu_sold_out_ended_by FOREIGN KEY (company_id, ended_by)
        REFERENCES users (company_id, id) ON DELETE SET NULL (ended_by)
    );
    -- One open 86 per product; the worker finds the ones that end by their time.
    CREATE UNIQUE INDEX uq_menu_sold_out_open ON menu_sold_out (company_id, product_id) WHERE ended_at IS NULL;
    CREATE INDEX idx_menu_sold_out_due ON menu_sold_out (until_at) WHERE ended_at IS NULL AND until_at IS NOT NULL;

    CREATE TABLE menu_availability_pushes (
      id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      platform_call_id      UUID NOT NULL,
      product_id            UUID NOT NULL,
      integration_config_id UUID NOT NULL,
      available             BOOLEAN NOT NULL,
      source                VARCHAR(12) NOT NULL CHECK (source IN ('SOLD_OUT', 'BACK', 'SCHEDULE', 'SWITCH')),
      company_id            UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT uq_menu_availability_pushes_company_id UNIQUE (company_id, id),
      CONSTRAINT fk_menu_availability_pushes_call FOREIGN KEY (company_id, platform_call_id)
        REFERENCES platform_calls (company_id, id) ON DELETE CASCADE,
      CONSTRAINT fk_menu_availability_pushes_product FOREIGN KEY (company_id, product_id)
        REFERENCES products (company_id, id) ON DELETE CASCADE,
      CONSTRAINT fk_menu_availability_pushes_integration FOREIGN KEY (company_id, integration_config_id)
        REFERENCES integration_configs (company_id, id) ON DELETE CASCADE
    );
    CREATE INDEX idx_menu_availability_pushes_product
      ON menu_availability_pushes (company_id, product_id, integration_config_id, created_at DESC);
    """)

    # ------------------------------------------------------------------ sync runs, platform products
    op.execute(f"""
    CREATE TABLE menu_sync_runs (
      id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      integration_config_id UUID NOT NULL,
      platform              delivery_platform NOT NULL,
      kind                  VARCHAR(6) NOT NULL DEFAULT 'SYNC' CHECK (kind IN ('SYNC', 'IMPORT')),
      mode                  VARCHAR(4) NOT NULL DEFAULT 'full' CHECK (mode IN ('full', 'diff')),
      status                VARCHAR(10) NOT NULL DEFAULT 'QUEUED'
                              CHECK (status IN ('QUEUED', 'PREPARING', 'SENDING', 'WAITING', 'COMPLETED',
                                                'PARTIAL', 'FAILED')),
      total_items           INTEGER NOT NULL DEFAULT 0 CHECK (total_items >= 0),
      processed_items       INTEGER NOT NULL DEFAULT 0 CHECK (processed_items >= 0),
      sent_items            INTEGER NOT NULL DEFAULT 0 CHECK (sent_items >= 0),
      skipped_items         INTEGER NOT NULL DEFAULT 0 CHECK (skipped_items >= 0),
      failed_items          INTEGER NOT NULL DEFAULT 0 CHECK (failed_items >= 0),
      warning_count         INTEGER NOT NULL DEFAULT 0 CHECK (warning_count >= 0),
      platform_call_id      UUID,
      platform_request_id   VARCHAR(100),
      platform_status       VARCHAR(40),
      message               TEXT,
      report                JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(report) = 'array'),
      created_by            UUID,
      company_id            UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
      started_at            TIMESTAMPTZ,
      finished_at           TIMESTAMPTZ,
      updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT uq_menu_sync_runs_company_id UNIQUE (company_id, id),
      CONSTRAINT fk_menu_sync_runs_integration FOREIGN KEY (company_id, integration_config_id)
        REFERENCES integration_configs (company_id, id) ON DELETE CASCADE,
      CONSTRAINT fk_menu_sync_runs_call FOREIGN KEY (company_id, platform_call_id)
        REFERENCES platform_calls (company_id, id) ON DELETE SET NULL (platform_call_id),
      CONSTRAINT fk_menu_sync_runs_created_by FOREIGN KEY (company_id, created_by)
        REFERENCES users (company_id, id) ON DELETE SET NULL (created_by)
    );
    CREATE INDEX idx_menu_sync_runs_integration ON menu_sync_runs (company_id, integration_config_id, created_at DESC);
    CREATE INDEX idx_menu_sync_runs_call ON menu_sync_runs (company_id, platform_call_id);
    CREATE INDEX idx_menu_sync_runs_request ON menu_sync_runs (company_id, integration_config_id, platform_request_id);

    CREATE TABLE platform_products (
      id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      integration_config_id UUID NOT NULL,
      platform              delivery_platform NOT NULL,
      platform_product_id   VARCHAR(100) NOT NULL CHECK (btrim(platform_product_id) <> ''),
      name                  VARCHAR(300) NOT NULL,
      price                 {MONEY},
      category              VARCHAR(100),
      source                VARCHAR(6) NOT NULL CHECK (source IN ('IMPORT', 'ORDER')),
      times_ordered         INTEGER NOT NULL DEFAULT 0,
      last_seen_at          TIMESTAMPTZ,
      dismissed_at          TIMESTAMPTZ,
      company_id            UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT uq_platform_products_company_id UNIQUE (company_id, id),
      CONSTRAINT uq_platform_products_product UNIQUE (company_id, integration_config_id, platform_product_id),
      CONSTRAINT fk_platform_products_integration FOREIGN KEY (company_id, integration_config_id)
        REFERENCES integration_configs (company_id, id) ON DELETE CASCADE
    );
    """)
    for table in NEW_TABLES:
        enable_tenant_rls(table)
    for table in ("modifier_groups", "modifier_options", "menu_sync_runs", "platform_products"):
        add_updated_at_trigger(table)

    # ------------------------------------------------------------------ the scheduler's narrow view
    op.execute(f"""
    DO $$
    BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SCHEDULER_ROLE}') THEN
        CREATE ROLE {SCHEDULER_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
      END IF;
    END $$;
    GRANT {SCHEDULER_ROLE} TO {APP_ROLE};
    GRANT USAGE ON SCHEMA public TO {SCHEDULER_ROLE};
    GRANT SELECT (company_id, until_at, ended_at) ON menu_sold_out TO {SCHEDULER_ROLE};
    GRANT SELECT (company_id, availability_schedule) ON menu_mappings TO {SCHEDULER_ROLE};
    CREATE POLICY scheduler_due ON menu_sold_out FOR SELECT TO {SCHEDULER_ROLE} USING (true);
    CREATE POLICY scheduler_due ON menu_mappings FOR SELECT TO {SCHEDULER_ROLE} USING (true);
    """)


def downgrade():
    op.execute(f"""
    DROP POLICY IF EXISTS scheduler_due ON menu_mappings;
    REVOKE ALL ON menu_mappings FROM {SCHEDULER_ROLE};
    """)
    for table in reversed(NEW_TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute(f"""
    REVOKE USAGE ON SCHEMA public FROM {SCHEDULER_ROLE};
    DROP TRIGGER IF EXISTS product_to_mappings ON products;
    DROP FUNCTION IF EXISTS product_to_mappings();
    DROP TRIGGER IF EXISTS menu_mapping_inherit_price ON menu_mappings;
    DROP FUNCTION IF EXISTS menu_mapping_inherit_price();
    DROP INDEX IF EXISTS idx_menu_mappings_scheduled;
    ALTER TABLE menu_mappings DROP COLUMN IF EXISTS price_overridden, DROP COLUMN IF EXISTS platform_available,
      DROP COLUMN IF EXISTS synced_hash;
    """)
    # The role is shared by every database of the cluster (like portal_app): it stays. pg_trgm stays
    # too: other databases' objects or a later revision may use it, and it holds no data.
