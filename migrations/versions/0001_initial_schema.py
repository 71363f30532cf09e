"""The whole seed schema, its fixes, and what the portal needs, with row-level security.

Every tenant table gets `ALTER TABLE … ENABLE ROW LEVEL SECURITY` and `… FORCE ROW LEVEL SECURITY`
(so the owner is filtered too) with its policies, through `enable_tenant_rls` (below).

Revision ID: 0001_initial_schema
Revises:
Create Date: 2026-11-25
"""
from alembic import op

revision = "0001_initial_schema"
down_revision = None
branch_labels = None
depends_on = None

# Helpers for what autogenerate cannot see (RLS, grants, triggers), copied here as they were when
# this migration was written: a migration never imports live code, so it stays what it was.
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


ENUMS = {
    "user_role": ["SUPER_ADMIN", "COMPANY_ADMIN", "MANAGER", "USER"],
    "delivery_platform": ["CAREEM", "TALABAT", "DHUB", "HUNGERSTATION", "NASHMI", "TOP_DELIVERY",
                          "JOOD_DELIVERY", "YALLOW", "TAWASI"],
    "sync_status_enum": ["pending", "in_progress", "completed", "failed", "cancelled"],
    "order_status": ["PENDING", "ACCEPTED", "REJECTED", "IN_PREPARATION", "READY_FOR_PICKUP",
                     "OUT_FOR_DELIVERY", "DELIVERED", "CANCELLED"],
    "loyalty_program_type": ["POINTS_BASED", "TIER_BASED", "CASHBACK", "HYBRID"],
    "loyalty_transaction_type": ["EARN", "REDEEM", "EXPIRE", "ADJUST", "REFERRAL", "REVERSAL"],
    "chat_channel": ["WHATSAPP", "TELEGRAM", "WEB_WIDGET", "FACEBOOK", "INSTAGRAM"],
    "whatsapp_message_type": ["TEMPLATE", "TEXT", "MEDIA", "INTERACTIVE", "LOCATION"],
    "whatsapp_message_status": ["PENDING", "SENT", "DELIVERED", "READ", "FAILED"],
    "aggregation_type": ["SUM", "AVG", "MAX", "MIN", "COUNT", "MEDIAN", "P95", "P99"],
}

# Tables in creation order; tenant tables carry company_id (companies is the tenant itself).
TENANT_TABLES = [
    "users", "integration_configs", "products", "delivery_orders", "order_status_history",
    "menu_mappings", "webhook_logs", "loyalty_programs", "loyalty_tiers", "customer_loyalty",
    "loyalty_transactions", "ai_chatbot_sessions", "chat_messages", "whatsapp_templates",
    "whatsapp_messages", "integration_analytics", "audit_logs",
]
UPDATED_AT_TABLES = [
    "companies", "users", "integration_configs", "products", "delivery_orders", "menu_mappings",
    "loyalty_programs", "loyalty_tiers", "customer_loyalty", "whatsapp_templates",
]
AUDITED_TABLES = ["companies", "users", "integration_configs", "menu_mappings"]

MONEY = "NUMERIC(12, 3)"  # 3 decimals: KWD, BHD and OMR amounts are exact


def upgrade():
    create_roles()
    for name, labels in ENUMS.items():
        values = ", ".join(f"'{label}'" for label in labels)
        op.execute(f"CREATE TYPE {name} AS ENUM ({values})")

    op.execute(f"""
    CREATE TABLE companies (
      id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      name                VARCHAR(255) NOT NULL CHECK (btrim(name) <> ''),
      name_ar             VARCHAR(255),
      email               VARCHAR(255),
      phone               VARCHAR(50),
      address             TEXT,
      business_type       VARCHAR(100),
      is_active           BOOLEAN NOT NULL DEFAULT true,
      domain              VARCHAR(100) UNIQUE,
      settings            JSONB NOT NULL DEFAULT '{{}}',
      subscription_status VARCHAR(50) NOT NULL DEFAULT 'active',
      timezone            VARCHAR(64) NOT NULL DEFAULT 'Asia/Riyadh',
      currency            VARCHAR(3) NOT NULL DEFAULT 'SAR' CHECK (currency ~ '^[A-Z]{{3}}$'),
      country_code        VARCHAR(2) NOT NULL DEFAULT 'SA' CHECK (country_code ~ '^[A-Z]{{2}}$'),
      created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
      deleted_at          TIMESTAMPTZ
    );
    CREATE INDEX idx_companies_active ON companies (is_active);
    CREATE INDEX idx_companies_domain ON companies (domain);
    CREATE INDEX idx_companies_subscription ON companies (subscription_status);

    CREATE TABLE users (
      id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      email         VARCHAR(255) NOT NULL CHECK (email = lower(email) AND position('@' in email) > 1),
      password      VARCHAR(255) NOT NULL,
      first_name    VARCHAR(100) NOT NULL,
      last_name     VARCHAR(100) NOT NULL,
      role          user_role NOT NULL DEFAULT 'USER',
      is_active     BOOLEAN NOT NULL DEFAULT true,
      last_login_at TIMESTAMPTZ,
      locale        VARCHAR(5),
      company_id    UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
      created_by    UUID,
      deleted_at    TIMESTAMPTZ,
      CONSTRAINT uq_users_company_id UNIQUE (company_id, id),
      CONSTRAINT fk_users_created_by FOREIGN KEY (company_id, created_by)
        REFERENCES users (company_id, id) ON DELETE SET NULL (created_by)
    );
    -- Sign-in is by e-mail alone, so an address names one account across the platform.
    CREATE UNIQUE INDEX uq_users_email ON users (email);
    CREATE INDEX idx_users_company ON users (company_id, role);
    CREATE INDEX idx_users_role ON users (company_id, role) WHERE deleted_at IS NULL;
    CREATE INDEX idx_users_active ON users (company_id, is_active);

    CREATE TABLE integration_configs (
      id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      platform        delivery_platform NOT NULL,
      is_enabled      BOOLEAN NOT NULL DEFAULT false,
      api_key         TEXT,
      api_secret      TEXT,
      webhook_url     VARCHAR(500),
      webhook_secret  TEXT,
      merchant_id     VARCHAR(100),
      store_id        VARCHAR(100),
      commission_rate NUMERIC(5, 2) NOT NULL DEFAULT 0 CHECK (commission_rate BETWEEN 0 AND 100),
      configuration   JSONB NOT NULL DEFAULT '{{}}',
      last_sync_at    TIMESTAMPTZ,
      sync_status     sync_status_enum NOT NULL DEFAULT 'pending',
      company_id      UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT uk_company_platform UNIQUE (company_id, platform),
      CONSTRAINT uq_integration_configs_company_id UNIQUE (company_id, id)
    );
    CREATE INDEX idx_integration_platform ON integration_configs (platform);
    CREATE INDEX idx_integration_enabled ON integration_configs (company_id, is_enabled);
    CREATE INDEX idx_integration_sync_status ON integration_configs (company_id, sync_status);
    CREATE INDEX idx_active_integrations ON integration_configs (company_id, platform)
      WHERE is_enabled = true;

    CREATE TABLE products (
      id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      local_product_id VARCHAR(100) NOT NULL CHECK (btrim(local_product_id) <> ''),
      sku              VARCHAR(100),
      name             VARCHAR(300) NOT NULL CHECK (btrim(name) <> ''),
      name_ar          VARCHAR(300),
      description      TEXT,
      description_ar   TEXT,
      category         VARCHAR(100),
      price            {MONEY} NOT NULL CHECK (price >= 0),
      image_url        VARCHAR(1000),
      is_available     BOOLEAN NOT NULL DEFAULT true,
      sort_order       INTEGER NOT NULL DEFAULT 0,
      company_id       UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
      deleted_at       TIMESTAMPTZ,
      CONSTRAINT uq_products_company_local UNIQUE (company_id, local_product_id),
      CONSTRAINT uq_products_company_id UNIQUE (company_id, id)
    );
    CREATE INDEX idx_products_category ON products (company_id, category) WHERE deleted_at IS NULL;

    CREATE TABLE delivery_orders (
      id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      platform              delivery_platform NOT NULL,
      platform_order_id     VARCHAR(100) NOT NULL,
      order_number          VARCHAR(100) NOT NULL,
      status                order_status NOT NULL DEFAULT 'PENDING',
      order_type            VARCHAR(10) NOT NULL DEFAULT 'DELIVERY'
                              CHECK (order_type IN ('DELIVERY', 'PICKUP')),
      is_test               BOOLEAN NOT NULL DEFAULT false,
      subtotal              {MONEY} NOT NULL DEFAULT 0 CHECK (subtotal >= 0),
      discount_amount       {MONEY} NOT NULL DEFAULT 0 CHECK (discount_amount >= 0),
      delivery_fee          {MONEY} NOT NULL DEFAULT 0 CHECK (delivery_fee >= 0),
      service_fee           {MONEY} NOT NULL DEFAULT 0 CHECK (service_fee >= 0),
      tax_amount            {MONEY} NOT NULL DEFAULT 0 CHECK (tax_amount >= 0),
      tip_amount            {MONEY} NOT NULL DEFAULT 0 CHECK (tip_amount >= 0),
      total_amount          {MONEY} NOT NULL CHECK (total_amount >= 0),
      currency              VARCHAR(3) NOT NULL DEFAULT 'SAR' CHECK (currency ~ '^[A-Z]{{3}}$'),
      commission_rate       NUMERIC(5, 2) CHECK (commission_rate BETWEEN 0 AND 100),
      commission_amount     {MONEY} CHECK (commission_amount >= 0),
      payment_method        VARCHAR(30),
      customer_name         VARCHAR(200),
      customer_phone        VARCHAR(20),
      customer_email        VARCHAR(255),
      delivery_address      TEXT,
      delivery_notes        TEXT,
      scheduled_delivery_at TIMESTAMPTZ,
      order_items           JSONB NOT NULL CHECK (jsonb_typeof(order_items) = 'array'),
      platform_data         JSONB,
      accepted_at           TIMESTAMPTZ,
      rejected_at           TIMESTAMPTZ,
      ready_at              TIMESTAMPTZ,
      picked_up_at          TIMESTAMPTZ,
      completed_at          TIMESTAMPTZ,
      cancelled_at          TIMESTAMPTZ,
      company_id            UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      integration_config_id UUID NOT NULL,
      created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
      search_vector         TSVECTOR GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, coalesce(order_number, '') || ' ' ||
                    coalesce(customer_name, '') || ' ' || coalesce(customer_phone, ''))) STORED,
      CONSTRAINT uk_platform_order UNIQUE (company_id, platform, platform_order_id),
      CONSTRAINT uq_delivery_orders_company_id UNIQUE (company_id, id),
      CONSTRAINT fk_orders_integration FOREIGN KEY (company_id, integration_config_id)
        REFERENCES integration_configs (company_id, id)
    );
    CREATE INDEX idx_orders_created_at ON delivery_orders (company_id, created_at DESC);
    CREATE INDEX idx_orders_company_status_created ON delivery_orders (company_id, status, created_at);
    CREATE INDEX idx_orders_company_platform_created ON delivery_orders (company_id, platform, created_at);
    CREATE INDEX idx_orders_integration ON delivery_orders (company_id, integration_config_id, created_at);
    CREATE INDEX idx_orders_open ON delivery_orders (company_id, created_at)
      WHERE status IN ('PENDING', 'ACCEPTED', 'IN_PREPARATION', 'READY_FOR_PICKUP', 'OUT_FOR_DELIVERY');
    CREATE INDEX idx_orders_items_gin ON delivery_orders USING GIN (order_items);
    CREATE INDEX idx_orders_customer_search ON delivery_orders USING GIN (search_vector);

    CREATE TABLE order_status_history (
      id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      order_id    UUID NOT NULL,
      from_status order_status,
      to_status   order_status NOT NULL,
      source      VARCHAR(20) NOT NULL DEFAULT 'USER' CHECK (source IN ('USER', 'PLATFORM', 'SYSTEM')),
      reason      TEXT,
      user_id     UUID,
      company_id  UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT fk_status_history_order FOREIGN KEY (company_id, order_id)
        REFERENCES delivery_orders (company_id, id) ON DELETE CASCADE,
      CONSTRAINT fk_status_history_user FOREIGN KEY (company_id, user_id)
        REFERENCES users (company_id, id) ON DELETE SET NULL (user_id)
    );
    CREATE INDEX idx_status_history_order ON order_status_history (company_id, order_id, created_at);

    CREATE TABLE menu_mappings (
      id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      local_product_id      VARCHAR(100) NOT NULL,
      platform_product_id   VARCHAR(100) NOT NULL,
      product_name          VARCHAR(300) NOT NULL,
      product_description   TEXT,
      product_price         {MONEY} NOT NULL CHECK (product_price >= 0),
      is_available          BOOLEAN NOT NULL DEFAULT true,
      availability_schedule JSONB,
      platform              delivery_platform NOT NULL,
      platform_data         JSONB,
      last_sync_at          TIMESTAMPTZ,
      sync_status           sync_status_enum NOT NULL DEFAULT 'pending',
      sync_errors           TEXT[],
      company_id            UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      integration_config_id UUID NOT NULL,
      created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT uk_company_platform_product UNIQUE (company_id, platform, local_product_id),
      CONSTRAINT uq_menu_mappings_company_id UNIQUE (company_id, id),
      CONSTRAINT fk_menu_mappings_integration FOREIGN KEY (company_id, integration_config_id)
        REFERENCES integration_configs (company_id, id) ON DELETE CASCADE,
      CONSTRAINT fk_menu_mappings_product FOREIGN KEY (company_id, local_product_id)
        REFERENCES products (company_id, local_product_id) ON UPDATE CASCADE ON DELETE CASCADE
    );
    CREATE INDEX idx_menu_mappings_platform ON menu_mappings (company_id, platform, platform_product_id);
    CREATE INDEX idx_menu_mappings_local_product ON menu_mappings (company_id, local_product_id);
    CREATE INDEX idx_menu_mappings_available ON menu_mappings (company_id, is_available);
    CREATE INDEX idx_menu_mappings_sync_status ON menu_mappings (company_id, sync_status);
    CREATE INDEX idx_menu_mappings_integration ON menu_mappings (company_id, integration_config_id);

    CREATE TABLE webhook_logs (
      id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      platform              delivery_platform NOT NULL,
      event_type            VARCHAR(100) NOT NULL,
      payload               JSONB NOT NULL,
      headers               JSONB,
      signature             VARCHAR(500),
      ip_address            INET,
      response              JSONB,
      status_code           INTEGER,
      is_processed          BOOLEAN NOT NULL DEFAULT false,
      error_message         TEXT,
      retry_count           INTEGER NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
      max_retries           INTEGER NOT NULL DEFAULT 3 CHECK (max_retries >= 0),
      next_retry_at         TIMESTAMPTZ,
      company_id            UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      integration_config_id UUID,
      created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
      processed_at          TIMESTAMPTZ,
      CONSTRAINT uq_webhook_logs_company_id UNIQUE (company_id, id),
      CONSTRAINT fk_webhook_logs_integration FOREIGN KEY (company_id, integration_config_id)
        REFERENCES integration_configs (company_id, id) ON DELETE SET NULL (integration_config_id)
    );
    CREATE INDEX idx_webhook_logs_platform ON webhook_logs (company_id, platform, created_at DESC);
    CREATE INDEX idx_webhook_logs_processed ON webhook_logs (company_id, is_processed);
    CREATE INDEX idx_webhook_logs_created_at ON webhook_logs (company_id, created_at DESC);
    CREATE INDEX idx_webhook_logs_retry ON webhook_logs (next_retry_at)
      WHERE next_retry_at IS NOT NULL AND is_processed = false;
    CREATE INDEX idx_webhook_logs_event_type ON webhook_logs (company_id, event_type);
    CREATE INDEX idx_webhook_logs_payload_gin ON webhook_logs USING GIN (payload);

    CREATE TABLE loyalty_programs (
      id                        UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      name                      VARCHAR(200) NOT NULL CHECK (btrim(name) <> ''),
      description               TEXT,
      program_type              loyalty_program_type NOT NULL DEFAULT 'POINTS_BASED',
      is_active                 BOOLEAN NOT NULL DEFAULT true,
      points_per_currency_unit  NUMERIC(10, 4) NOT NULL DEFAULT 1.0000
                                  CHECK (points_per_currency_unit >= 0),
      point_value               NUMERIC(12, 4) NOT NULL DEFAULT 0.0100 CHECK (point_value >= 0),
      min_redemption_points     INTEGER NOT NULL DEFAULT 100 CHECK (min_redemption_points >= 0),
      max_redemption_percentage NUMERIC(5, 2) NOT NULL DEFAULT 50.00
                                  CHECK (max_redemption_percentage BETWEEN 0 AND 100),
      expiration_days           INTEGER CHECK (expiration_days > 0),
      tier_bonus_multiplier     NUMERIC(4, 2) NOT NULL DEFAULT 1.00 CHECK (tier_bonus_multiplier >= 0),
      referral_bonus            INTEGER NOT NULL DEFAULT 0 CHECK (referral_bonus >= 0),
      company_id                UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT uq_loyalty_programs_company_id UNIQUE (company_id, id)
    );
    CREATE UNIQUE INDEX uq_loyalty_programs_one_active ON loyalty_programs (company_id) WHERE is_active;

    CREATE TABLE loyalty_tiers (
      id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      loyalty_program_id UUID NOT NULL,
      name               VARCHAR(100) NOT NULL CHECK (btrim(name) <> ''),
      name_ar            VARCHAR(100),
      sort_order         INTEGER NOT NULL DEFAULT 0,
      min_points         INTEGER NOT NULL DEFAULT 0 CHECK (min_points >= 0),
      min_spend          {MONEY} NOT NULL DEFAULT 0 CHECK (min_spend >= 0),
      window_days        INTEGER CHECK (window_days > 0),
      earn_multiplier    NUMERIC(4, 2) NOT NULL DEFAULT 1.00 CHECK (earn_multiplier >= 0),
      perks              TEXT,
      perks_ar           TEXT,
      company_id         UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT uq_loyalty_tiers_company_id UNIQUE (company_id, id),
      CONSTRAINT uq_loyalty_tiers_name UNIQUE (company_id, loyalty_program_id, name),
      CONSTRAINT fk_loyalty_tiers_program FOREIGN KEY (company_id, loyalty_program_id)
        REFERENCES loyalty_programs (company_id, id) ON DELETE CASCADE
    );

    CREATE TABLE customer_loyalty (
      id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      customer_phone        VARCHAR(20) NOT NULL,
      customer_email        VARCHAR(255),
      customer_name         VARCHAR(200),
      current_points        INTEGER NOT NULL DEFAULT 0 CHECK (current_points >= 0),
      total_points_earned   INTEGER NOT NULL DEFAULT 0 CHECK (total_points_earned >= 0),
      total_points_redeemed INTEGER NOT NULL DEFAULT 0 CHECK (total_points_redeemed >= 0),
      total_spent           {MONEY} NOT NULL DEFAULT 0,
      order_count           INTEGER NOT NULL DEFAULT 0 CHECK (order_count >= 0),
      is_active             BOOLEAN NOT NULL DEFAULT true,
      joined_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
      last_order_at         TIMESTAMPTZ,
      company_id            UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      loyalty_program_id    UUID NOT NULL,
      loyalty_tier_id       UUID,
      updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT uk_customer_company UNIQUE (company_id, customer_phone),
      CONSTRAINT uq_customer_loyalty_company_id UNIQUE (company_id, id),
      CONSTRAINT fk_customer_loyalty_program FOREIGN KEY (company_id, loyalty_program_id)
        REFERENCES loyalty_programs (company_id, id),
      CONSTRAINT fk_customer_loyalty_tier FOREIGN KEY (company_id, loyalty_tier_id)
        REFERENCES loyalty_tiers (company_id, id) ON DELETE SET NULL (loyalty_tier_id)
    );
    CREATE INDEX idx_customer_loyalty_name ON customer_loyalty (company_id, customer_name);

    CREATE TABLE loyalty_transactions (
      id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      customer_loyalty_id UUID NOT NULL,
      order_id            UUID,
      transaction_type    loyalty_transaction_type NOT NULL,
      points              INTEGER NOT NULL CHECK (points <> 0),
      remaining_points    INTEGER CHECK (remaining_points >= 0),
      amount              {MONEY},
      reason              TEXT,
      user_id             UUID,
      expires_at          TIMESTAMPTZ,
      company_id          UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT uq_loyalty_transactions_company_id UNIQUE (company_id, id),
      CONSTRAINT fk_loyalty_tx_customer FOREIGN KEY (company_id, customer_loyalty_id)
        REFERENCES customer_loyalty (company_id, id) ON DELETE CASCADE,
      CONSTRAINT fk_loyalty_tx_order FOREIGN KEY (company_id, order_id)
        REFERENCES delivery_orders (company_id, id) ON DELETE SET NULL (order_id),
      CONSTRAINT fk_loyalty_tx_user FOREIGN KEY (company_id, user_id)
        REFERENCES users (company_id, id) ON DELETE SET NULL (user_id)
    );
    -- An order earns (and is reversed) at most once, however often DELIVERED is reported.
    CREATE UNIQUE INDEX uq_loyalty_tx_order_once ON loyalty_transactions (company_id, order_id, transaction_type)
      WHERE order_id IS NOT NULL AND transaction_type IN ('EARN', 'REVERSAL');
    CREATE INDEX idx_loyalty_tx_customer ON loyalty_transactions (company_id, customer_loyalty_id, created_at);
    CREATE INDEX idx_loyalty_tx_expiring ON loyalty_transactions (company_id, expires_at)
      WHERE remaining_points > 0;

    CREATE TABLE ai_chatbot_sessions (
      id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      session_id     VARCHAR(100) NOT NULL,
      customer_phone VARCHAR(20),
      platform       delivery_platform,
      channel        chat_channel NOT NULL,
      is_active      BOOLEAN NOT NULL DEFAULT true,
      started_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
      ended_at       TIMESTAMPTZ,
      messages_count INTEGER NOT NULL DEFAULT 0 CHECK (messages_count >= 0),
      intent         VARCHAR(100),
      confidence     NUMERIC(5, 4) CHECK (confidence BETWEEN 0 AND 1),
      context        JSONB NOT NULL DEFAULT '{{}}',
      company_id     UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      CONSTRAINT uq_chatbot_sessions_session UNIQUE (company_id, session_id),
      CONSTRAINT uq_chatbot_sessions_company_id UNIQUE (company_id, id)
    );

    CREATE TABLE chat_messages (
      id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      chatbot_session_id UUID NOT NULL,
      sender             VARCHAR(20) NOT NULL CHECK (sender IN ('CUSTOMER', 'BOT', 'AGENT')),
      content            TEXT NOT NULL,
      intent             VARCHAR(100),
      confidence         NUMERIC(5, 4) CHECK (confidence BETWEEN 0 AND 1),
      company_id         UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT fk_chat_messages_session FOREIGN KEY (company_id, chatbot_session_id)
        REFERENCES ai_chatbot_sessions (company_id, id) ON DELETE CASCADE
    );
    CREATE INDEX idx_chat_messages_session ON chat_messages (company_id, chatbot_session_id, created_at);

    CREATE TABLE whatsapp_templates (
      id                   UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      name                 VARCHAR(100) NOT NULL CHECK (btrim(name) <> ''),
      language             VARCHAR(10) NOT NULL DEFAULT 'ar',
      category             VARCHAR(30) NOT NULL DEFAULT 'UTILITY'
                             CHECK (category IN ('MARKETING', 'UTILITY', 'AUTHENTICATION')),
      body                 TEXT NOT NULL,
      variables            JSONB NOT NULL DEFAULT '[]',
      status               VARCHAR(20) NOT NULL DEFAULT 'PENDING'
                             CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'PAUSED')),
      external_template_id VARCHAR(100),
      company_id           UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT uq_whatsapp_templates_name UNIQUE (company_id, name, language),
      CONSTRAINT uq_whatsapp_templates_company_id UNIQUE (company_id, id)
    );

    CREATE TABLE whatsapp_messages (
      id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      recipient_phone     VARCHAR(20) NOT NULL,
      message_content     TEXT NOT NULL,
      message_type        whatsapp_message_type NOT NULL,
      template_id         UUID,
      status              whatsapp_message_status NOT NULL DEFAULT 'PENDING',
      whatsapp_message_id VARCHAR(100),
      error_code          VARCHAR(50),
      error_message       TEXT,
      sent_at             TIMESTAMPTZ,
      delivered_at        TIMESTAMPTZ,
      read_at             TIMESTAMPTZ,
      company_id          UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT fk_whatsapp_messages_template FOREIGN KEY (company_id, template_id)
        REFERENCES whatsapp_templates (company_id, id) ON DELETE SET NULL (template_id)
    );
    CREATE INDEX idx_whatsapp_messages_created ON whatsapp_messages (company_id, created_at DESC);
    CREATE INDEX idx_whatsapp_messages_status ON whatsapp_messages (company_id, status);

    CREATE TABLE integration_analytics (
      id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      platform         delivery_platform NOT NULL,
      metric_name      VARCHAR(100) NOT NULL,
      metric_value     NUMERIC(15, 4) NOT NULL,
      metric_unit      VARCHAR(20) NOT NULL,
      aggregation_type aggregation_type NOT NULL,
      period_start     TIMESTAMPTZ NOT NULL,
      period_end       TIMESTAMPTZ NOT NULL,
      recorded_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
      tags             JSONB NOT NULL DEFAULT '{{}}',
      company_id       UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      CHECK (period_end >= period_start)
    );
    CREATE INDEX idx_analytics_platform_metric_time
      ON integration_analytics (company_id, platform, metric_name, period_start);
    CREATE INDEX idx_analytics_company_time ON integration_analytics (company_id, period_start);

    -- No foreign key to companies: the audit trail outlives what it describes.
    CREATE TABLE audit_logs (
      id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      table_name VARCHAR(63) NOT NULL,
      operation  VARCHAR(40) NOT NULL,
      record_id  UUID,
      old_values JSONB,
      new_values JSONB,
      user_id    UUID,
      ip_address INET,
      company_id UUID,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX idx_audit_logs_company_time ON audit_logs (company_id, created_at DESC);
    CREATE INDEX idx_audit_logs_record ON audit_logs (company_id, table_name, record_id);
    """)

    # Functions and triggers.
    op.execute("""
    CREATE FUNCTION set_updated_at() RETURNS trigger AS $$
    BEGIN
      NEW.updated_at = now();
      RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;

    -- Audit every change; secrets and password hashes never reach the audit trail.
    CREATE FUNCTION audit_trigger() RETURNS trigger AS $$
    DECLARE
      redacted CONSTANT text[] := ARRAY['password', 'api_key', 'api_secret', 'webhook_secret'];
      old_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) - redacted END;
      new_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) - redacted END;
      row_data jsonb := coalesce(new_row, old_row);
    BEGIN
      IF TG_OP = 'UPDATE' AND to_jsonb(OLD) - 'updated_at' = to_jsonb(NEW) - 'updated_at' THEN
        RETURN NULL;  -- nothing changed
      END IF;
      INSERT INTO audit_logs (table_name, operation, record_id, old_values, new_values, user_id, company_id)
      VALUES (
        TG_TABLE_NAME, TG_OP, (row_data ->> 'id')::uuid, old_row, new_row,
        nullif(current_setting('app.user_id', true), '')::uuid,
        CASE WHEN TG_TABLE_NAME = 'companies' THEN (row_data ->> 'id')::uuid
             ELSE (row_data ->> 'company_id')::uuid END
      );
      RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;

    -- The seed's CASE had no ELSE (CASE_NOT_FOUND for seven platforms); every platform is covered.
    -- Credentials are required once an integration is enabled; a disabled one may be a draft.
    CREATE FUNCTION validate_integration_config() RETURNS trigger AS $$
    BEGIN
      IF NOT NEW.is_enabled THEN
        RETURN NEW;
      END IF;
      CASE
        WHEN NEW.platform = 'CAREEM' THEN
          IF NEW.api_key IS NULL OR NEW.api_secret IS NULL THEN
            RAISE EXCEPTION 'Careem integration requires api_key and api_secret'
              USING ERRCODE = 'check_violation';
          END IF;
        WHEN NEW.platform IN ('TALABAT', 'HUNGERSTATION') THEN
          IF NEW.api_key IS NULL OR NEW.merchant_id IS NULL THEN
            RAISE EXCEPTION '% integration requires api_key and merchant_id', initcap(NEW.platform::text)
              USING ERRCODE = 'check_violation';
          END IF;
        ELSE
          IF NEW.api_key IS NULL OR NEW.api_secret IS NULL
             OR coalesce(NEW.store_id, NEW.merchant_id) IS NULL THEN
            RAISE EXCEPTION '% integration requires api_key, api_secret and a store or merchant id',
              NEW.platform USING ERRCODE = 'check_violation';
          END IF;
      END CASE;
      RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;

    CREATE TRIGGER validate_integration_config_trigger
      BEFORE INSERT OR UPDATE ON integration_configs
      FOR EACH ROW EXECUTE FUNCTION validate_integration_config();

    -- The seed's business rule: a company always keeps an active company admin.
    CREATE FUNCTION enforce_company_keeps_admin() RETURNS trigger AS $$
    BEGIN
      IF OLD.role = 'COMPANY_ADMIN' AND OLD.is_active AND OLD.deleted_at IS NULL
         AND EXISTS (SELECT 1 FROM companies WHERE id = OLD.company_id)
         AND NOT EXISTS (SELECT 1 FROM users
                         WHERE company_id = OLD.company_id AND role = 'COMPANY_ADMIN'
                           AND is_active AND deleted_at IS NULL) THEN
        RAISE EXCEPTION 'A company must keep at least one active company admin'
          USING ERRCODE = 'check_violation', CONSTRAINT = 'company_keeps_admin';
      END IF;
      RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;

    CREATE TRIGGER enforce_company_keeps_admin_trigger
      AFTER UPDATE OF role, is_active, deleted_at, company_id OR DELETE ON users
      FOR EACH ROW EXECUTE FUNCTION enforce_company_keeps_admin();

    -- From the seed; runs under the caller's RLS, so it only ever cleans the current tenant.
    CREATE FUNCTION cleanup_old_webhook_logs() RETURNS void AS $$
    BEGIN
      DELETE FROM webhook_logs WHERE created_at < now() - INTERVAL '30 days' AND is_processed = true;
    END;
    $$ LANGUAGE plpgsql;
    """)
    for table in UPDATED_AT_TABLES:
        add_updated_at_trigger(table)
    for table in AUDITED_TABLES:
        add_audit_trigger(table)

    # Row-level security: the tenant is the row's company (the company's own id for companies).
    enable_tenant_rls("companies", column="id")
    for table in TENANT_TABLES:
        if table == "audit_logs":
            enable_tenant_rls(table, privileges="SELECT, INSERT")  # append-only for the app
        else:
            enable_tenant_rls(table)
    # Sign-in must find an account before the tenant is known: a narrow, read-only path.
    op.execute(f"GRANT SELECT (id, company_id, email, password, is_active, deleted_at) "
               f"ON users TO {LOGIN_ROLE}")
    op.execute(f"CREATE POLICY sign_in_lookup ON users FOR SELECT TO {LOGIN_ROLE} USING (true)")

    # Views (the seed's, fixed): security_invoker, so the caller's RLS applies.
    create_view("v_order_analytics", """
        SELECT o.company_id,
               o.platform,
               (date_trunc('day', o.created_at AT TIME ZONE c.timezone))::date AS order_date,
               count(*) AS order_count,
               sum(o.total_amount) AS total_revenue,
               avg(o.total_amount) AS avg_order_value,
               count(*) FILTER (WHERE o.status = 'DELIVERED') AS delivered_count
        FROM delivery_orders o
        JOIN companies c ON c.id = o.company_id
        WHERE NOT o.is_test
        GROUP BY o.company_id, o.platform, (date_trunc('day', o.created_at AT TIME ZONE c.timezone))::date
    """)
    create_view("v_integration_health", """
        SELECT ic.company_id,
               ic.id AS integration_config_id,
               ic.platform,
               ic.is_enabled,
               ic.last_sync_at,
               ic.sync_status,
               coalesce(ord.total_orders, 0) AS total_orders,
               coalesce(ord.delivered_orders, 0) AS delivered_orders,
               ord.last_order_at,
               coalesce(api.avg_response_time, 0) AS avg_response_time
        FROM integration_configs ic
        LEFT JOIN LATERAL (
            SELECT count(*) AS total_orders,
                   count(*) FILTER (WHERE o.status = 'DELIVERED') AS delivered_orders,
                   max(o.created_at) AS last_order_at
            FROM delivery_orders o
            WHERE o.company_id = ic.company_id AND o.integration_config_id = ic.id
        ) ord ON true
        LEFT JOIN LATERAL (
            SELECT avg(ia.metric_value) AS avg_response_time
            FROM integration_analytics ia
            WHERE ia.company_id = ic.company_id AND ia.platform = ic.platform
              AND ia.metric_name = 'api_response_time'
              AND ia.recorded_at >= now() - INTERVAL '24 hours'
        ) api ON true
    """)
    # Operator monitoring views from the seed; not granted to the app role.
    create_view("v_table_sizes", """
        SELECT schemaname, tablename,
               pg_size_pretty(pg_total_relation_size(format('%I.%I', schemaname, tablename))) AS size,
               pg_total_relation_size(format('%I.%I', schemaname, tablename)) AS size_bytes
        FROM pg_tables
        WHERE schemaname = 'public'
        ORDER BY size_bytes DESC
    """, grant=False)
    create_view("v_index_usage", """
        SELECT s.relname AS tablename,
               s.indexrelname AS indexname,
               c.reltuples AS num_rows,
               pg_size_pretty(pg_relation_size(s.relid)) AS table_size,
               pg_size_pretty(pg_relation_size(s.indexrelid)) AS index_size,
               CASE WHEN i.indisunique THEN 'Y' ELSE 'N' END AS is_unique,
               s.idx_scan AS number_of_scans,
               s.idx_tup_read AS tuples_read,
               s.idx_tup_fetch AS tuples_fetched
        FROM pg_stat_user_indexes s
        JOIN pg_index i ON i.indexrelid = s.indexrelid
        JOIN pg_class c ON c.oid = s.relid
        WHERE s.schemaname = 'public'
    """, grant=False)


def downgrade():
    for view in ("v_index_usage", "v_table_sizes", "v_integration_health", "v_order_analytics"):
        op.execute(f"DROP VIEW IF EXISTS {view}")
    for table in reversed(["companies"] + TENANT_TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    for function in ("set_updated_at", "audit_trigger", "validate_integration_config",
                     "enforce_company_keeps_admin", "cleanup_old_webhook_logs"):
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    for name in reversed(list(ENUMS)):
        op.execute(f"DROP TYPE IF EXISTS {name}")
    # Roles belong to the cluster and may serve other databases; only this database's grants go.
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}, {SUPER_ROLE}, {LOGIN_ROLE}")
