"""WhatsApp for customers: the provider connection, notification rules, contacts (opt-out, the 24-hour
window), inbound messages, and what the seed's whatsapp_messages lacked to send each event once.

- whatsapp_connections: one per company; phone-number id, Fernet-sealed access token, app secret and
  verify token (redacted from the audit trail), the Graph API base URL (the simulator plays Meta).
  portal_webhook may read (id, company_id, is_enabled) to resolve a webhook URL, as for integrations.
- whatsapp_notification_rules: which template an event sends (one rule per company and event).
- whatsapp_contacts: a customer's number, their opt-out (STOP / إيقاف) and the last time they wrote
  (free-form text only within 24 hours of it); whatsapp_inbound_messages keeps what customers wrote.
- whatsapp_messages gains the event and order that caused it, a dedupe key unique per company (an
  event sends once, whatever replays or duplicate deliveries do), the variables and language used,
  attempts and the next attempt time, failed_at, and the wamid unique per company.
  Its status gains SKIPPED (opted out, no phone, no approved template: recorded, never sent).
- whatsapp_templates: the provider's statuses beyond the seed's four, and a rejection reason.
- webhook_logs: a WhatsApp webhook is stored in the same log (channel 'whatsapp', no delivery platform).

Revision ID: 0022_whatsapp
Revises: 0021_two_factor_audit
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0022_whatsapp"
down_revision = "0021_two_factor_audit"
branch_labels = None
depends_on = None

APP_ROLE = "portal_app"
SUPER_ROLE = "portal_super"
WEBHOOK_ROLE = "portal_webhook"
SCHEDULER_ROLE = "portal_scheduler"
TENANT_PREDICATE = "nullif(current_setting('app.current_company_id', true), '')::uuid"
TEMPLATE_STATUSES = ("PENDING", "APPROVED", "REJECTED", "PAUSED", "DISABLED")
EVENTS = ("ORDER_ACCEPTED", "ORDER_READY", "ORDER_OUT_FOR_DELIVERY", "ORDER_DELIVERED", "POINTS_EARNED",
          "POINTS_EXPIRING")


def enable_tenant_rls(table, privileges="SELECT, INSERT, UPDATE, DELETE"):
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"""
        CREATE POLICY tenant_isolation ON {table} FOR ALL TO PUBLIC
        USING (company_id = {TENANT_PREDICATE}) WITH CHECK (company_id = {TENANT_PREDICATE})""")
    op.execute(f"CREATE POLICY super_admin_access ON {table} FOR ALL TO {SUPER_ROLE} USING (true) WITH CHECK (true)")
    op.execute(f"GRANT {privileges} ON {table} TO {APP_ROLE}, {SUPER_ROLE}")


def audited(table):
    op.execute(f"""CREATE TRIGGER set_updated_at BEFORE UPDATE ON {table}
                   FOR EACH ROW EXECUTE FUNCTION set_updated_at()""")
    op.execute(f"""CREATE TRIGGER audit_{table}_trigger AFTER INSERT OR UPDATE OR DELETE ON {table}
                   FOR EACH ROW EXECUTE FUNCTION audit_trigger()""")


def _company():
    return sa.Column("company_id", UUID(as_uuid=True), sa.ForeignKey("companies.id", ondelete="CASCADE"),
                     nullable=False)


def _id():
    return sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()"))


def _now(name="created_at"):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade():
    op.create_table(
        "whatsapp_connections", _id(), _company(),
        sa.Column("phone_number_id", sa.String(64), nullable=False),
        sa.Column("display_phone", sa.String(32)),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("app_secret", sa.Text(), nullable=False),
        sa.Column("verify_token", sa.Text(), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=False, server_default="https://graph.facebook.com/v23.0"),
        sa.Column("is_enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("last_webhook_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text()),
        _now(), _now("updated_at"),
        sa.CheckConstraint("base_url ~ '^https?://'", name="ck_whatsapp_connections_base_url"),
        sa.UniqueConstraint("company_id", name="uq_whatsapp_connections_company"),
        sa.UniqueConstraint("company_id", "id", name="uq_whatsapp_connections_company_id"),
    )
    enable_tenant_rls("whatsapp_connections")
    audited("whatsapp_connections")
    op.execute(f"""
    GRANT SELECT (id, company_id, is_enabled) ON whatsapp_connections TO {WEBHOOK_ROLE};
    CREATE POLICY webhook_resolve ON whatsapp_connections FOR SELECT TO {WEBHOOK_ROLE} USING (true);
    """)

    op.create_table(
        "whatsapp_notification_rules", _id(), _company(),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("template_name", sa.String(100), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        _now(), _now("updated_at"),
        sa.CheckConstraint("event IN (" + ", ".join(f"'{event}'" for event in EVENTS) + ")",
                           name="ck_whatsapp_rules_event"),
        sa.UniqueConstraint("company_id", "event", name="uq_whatsapp_rules_event"),
    )
    enable_tenant_rls("whatsapp_notification_rules")
    audited("whatsapp_notification_rules")
    # The daily reminder of expiring points finds its companies through the narrow scheduler role.
    op.execute(f"""
    GRANT SELECT (company_id, event, is_enabled) ON whatsapp_notification_rules TO {SCHEDULER_ROLE};
    CREATE POLICY scheduler_reminders ON whatsapp_notification_rules FOR SELECT TO {SCHEDULER_ROLE} USING (true);
    """)

    op.create_table(
        "whatsapp_contacts", _id(), _company(),
        sa.Column("phone", sa.String(20), nullable=False),  # E.164, with the +
        sa.Column("wa_id", sa.String(32)),
        sa.Column("profile_name", sa.String(200)),
        sa.Column("language", sa.String(10)),
        sa.Column("opted_out_at", sa.DateTime(timezone=True)),
        sa.Column("opted_in_at", sa.DateTime(timezone=True)),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True)),
        _now(), _now("updated_at"),
        sa.UniqueConstraint("company_id", "phone", name="uq_whatsapp_contacts_phone"),
    )
    enable_tenant_rls("whatsapp_contacts")
    op.execute("""CREATE TRIGGER set_updated_at BEFORE UPDATE ON whatsapp_contacts
                  FOR EACH ROW EXECUTE FUNCTION set_updated_at()""")

    op.create_table(
        "whatsapp_inbound_messages", _id(), _company(),
        sa.Column("connection_id", UUID(as_uuid=True)),
        sa.Column("wamid", sa.String(200), nullable=False),
        sa.Column("from_phone", sa.String(20), nullable=False),
        sa.Column("message_type", sa.String(20), nullable=False),
        sa.Column("body", sa.Text()),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        _now("received_at"),
        sa.UniqueConstraint("company_id", "wamid", name="uq_whatsapp_inbound_wamid"),
        sa.ForeignKeyConstraint(["company_id", "connection_id"],
                                ["whatsapp_connections.company_id", "whatsapp_connections.id"],
                                ondelete="SET NULL (connection_id)", name="fk_whatsapp_inbound_connection"),
    )
    op.create_index("ix_whatsapp_inbound_from", "whatsapp_inbound_messages", ["company_id", "from_phone", "received_at"])
    enable_tenant_rls("whatsapp_inbound_messages", privileges="SELECT, INSERT")

    op.execute("ALTER TYPE whatsapp_message_status ADD VALUE IF NOT EXISTS 'SKIPPED'")
    op.execute("""
    ALTER TABLE whatsapp_messages
      ADD COLUMN event VARCHAR(40),
      ADD COLUMN order_id UUID,
      ADD COLUMN dedupe_key VARCHAR(200),
      ADD COLUMN language VARCHAR(10),
      ADD COLUMN variables JSONB NOT NULL DEFAULT '{}',
      ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      ADD COLUMN next_attempt_at TIMESTAMPTZ,
      ADD COLUMN failed_at TIMESTAMPTZ,
      ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      ADD CONSTRAINT uq_whatsapp_messages_dedupe UNIQUE (company_id, dedupe_key),
      ADD CONSTRAINT uq_whatsapp_messages_wamid UNIQUE (company_id, whatsapp_message_id),
      ADD CONSTRAINT fk_whatsapp_messages_order FOREIGN KEY (company_id, order_id)
        REFERENCES delivery_orders (company_id, id) ON DELETE SET NULL (order_id);
    CREATE INDEX ix_whatsapp_messages_order ON whatsapp_messages (company_id, order_id) WHERE order_id IS NOT NULL;
    CREATE INDEX ix_whatsapp_messages_recipient ON whatsapp_messages (company_id, recipient_phone, created_at DESC);
    CREATE TRIGGER set_updated_at BEFORE UPDATE ON whatsapp_messages
      FOR EACH ROW EXECUTE FUNCTION set_updated_at();
    """)
    op.execute("""
    ALTER TABLE whatsapp_templates DROP CONSTRAINT IF EXISTS whatsapp_templates_status_check;
    ALTER TABLE whatsapp_templates ADD CONSTRAINT whatsapp_templates_status_check
      CHECK (status IN (""" + ", ".join(f"'{status}'" for status in TEMPLATE_STATUSES) + """));
    ALTER TABLE whatsapp_templates ADD COLUMN rejection_reason TEXT;
    """)

    op.execute("""
    ALTER TABLE webhook_logs
      ADD COLUMN channel VARCHAR(20) NOT NULL DEFAULT 'platform',
      ADD COLUMN whatsapp_connection_id UUID,
      ALTER COLUMN platform DROP NOT NULL,
      ADD CONSTRAINT ck_webhook_logs_channel CHECK (
        (channel = 'platform' AND platform IS NOT NULL) OR (channel = 'whatsapp' AND platform IS NULL)),
      ADD CONSTRAINT fk_webhook_logs_whatsapp FOREIGN KEY (company_id, whatsapp_connection_id)
        REFERENCES whatsapp_connections (company_id, id) ON DELETE SET NULL (whatsapp_connection_id);
    """)

    # Secrets never reach the audit trail; the connection's webhook bookkeeping is not a change.
    op.execute(_audit_function(extra_redacted=", 'access_token', 'app_secret', 'verify_token'",
                               extra_volatile=", 'last_webhook_at'"))


def _audit_function(extra_redacted="", extra_volatile=""):
    """0021's audit function, with more columns redacted or quiet (module names start with a digit)."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).with_name("0021_two_factor_audit.py")
    spec = importlib.util.spec_from_file_location("audit_0021", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.AUDIT_FUNCTION.format(redacted=module.REDACTED + ", 'totp_secret'" + extra_redacted,
                                        volatile=module.QUIET + ", 'totp_last_step'" + extra_volatile)


def downgrade():
    op.execute(_audit_function())
    op.execute("""
    DELETE FROM webhook_logs WHERE channel = 'whatsapp';
    ALTER TABLE webhook_logs DROP CONSTRAINT IF EXISTS fk_webhook_logs_whatsapp,
      DROP CONSTRAINT IF EXISTS ck_webhook_logs_channel, DROP COLUMN IF EXISTS whatsapp_connection_id,
      DROP COLUMN IF EXISTS channel, ALTER COLUMN platform SET NOT NULL;
    ALTER TABLE whatsapp_templates DROP COLUMN IF EXISTS rejection_reason;
    ALTER TABLE whatsapp_templates DROP CONSTRAINT IF EXISTS whatsapp_templates_status_check;
    UPDATE whatsapp_templates SET status = 'PAUSED' WHERE status = 'DISABLED';
    ALTER TABLE whatsapp_templates ADD CONSTRAINT whatsapp_templates_status_check
      CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'PAUSED'));
    DROP TRIGGER IF EXISTS set_updated_at ON whatsapp_messages;
    DROP INDEX IF EXISTS ix_whatsapp_messages_order;
    DROP INDEX IF EXISTS ix_whatsapp_messages_recipient;
    UPDATE whatsapp_messages SET status = 'FAILED' WHERE status = 'SKIPPED';
    ALTER TABLE whatsapp_messages DROP CONSTRAINT IF EXISTS fk_whatsapp_messages_order,
      DROP CONSTRAINT IF EXISTS uq_whatsapp_messages_wamid, DROP CONSTRAINT IF EXISTS uq_whatsapp_messages_dedupe,
      DROP COLUMN IF EXISTS event, DROP COLUMN IF EXISTS order_id, DROP COLUMN IF EXISTS dedupe_key,
      DROP COLUMN IF EXISTS language, DROP COLUMN IF EXISTS variables, DROP COLUMN IF EXISTS attempts,
      DROP COLUMN IF EXISTS next_attempt_at, DROP COLUMN IF EXISTS failed_at, DROP COLUMN IF EXISTS updated_at;
    DROP TABLE IF EXISTS whatsapp_inbound_messages;
    DROP TABLE IF EXISTS whatsapp_contacts;
    DROP POLICY IF EXISTS scheduler_reminders ON whatsapp_notification_rules;
    REVOKE ALL ON whatsapp_notification_rules FROM portal_scheduler;
    DROP TABLE IF EXISTS whatsapp_notification_rules;
    DROP POLICY IF EXISTS webhook_resolve ON whatsapp_connections;
    REVOKE ALL ON whatsapp_connections FROM portal_webhook;
    DROP TABLE IF EXISTS whatsapp_connections;
    """)
