"""Company settings: tax, default language and preparation time, logo, opening hours, holidays, alerts.

- companies gains the settings the Settings page edits (the existing audit trigger records each save).
- company_logos: one small image per company (PNG/JPEG/WebP, ≤ 512 KB), kept out of `companies` so
  the audit trail never copies image bytes.
- opening_hours: shifts per weekday (0 = Monday) in the company's time zone; a shift whose end is
  before its start runs past midnight and belongs to the day it starts.
- holiday_closures: whole days closed (a date range with a note).
- alert_incidents: one row per thing an alert was raised for (an order waiting, an integration
  silent), so managers get one e-mail per incident; a new one opens only after the last closed.
- portal_scheduler may read which companies have an alert turned on, nothing else of companies.

Revision ID: 0017_company_settings
Revises: 0014_outbound_emails
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0017_company_settings"
down_revision = "0014_outbound_emails"
branch_labels = None
depends_on = None

APP_ROLE = "portal_app"
SUPER_ROLE = "portal_super"
SCHEDULER_ROLE = "portal_scheduler"
TENANT_PREDICATE = "nullif(current_setting('app.current_company_id', true), '')::uuid"
NEW_TABLES = ["company_logos", "opening_hours", "holiday_closures", "alert_incidents"]


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


def company_column():
    return sa.Column("company_id", UUID(as_uuid=True), sa.ForeignKey("companies.id", ondelete="CASCADE"),
                     nullable=False)


def upgrade():
    op.execute("""
    ALTER TABLE companies
      ADD COLUMN default_language VARCHAR(5) NOT NULL DEFAULT 'en',
      ADD COLUMN tax_rate NUMERIC(5, 2),
      ADD COLUMN tax_number VARCHAR(50),
      ADD COLUMN preparation_minutes INTEGER NOT NULL DEFAULT 15,
      ADD COLUMN alert_pending_enabled BOOLEAN NOT NULL DEFAULT false,
      ADD COLUMN alert_pending_minutes INTEGER NOT NULL DEFAULT 5,
      ADD COLUMN alert_integration_enabled BOOLEAN NOT NULL DEFAULT false,
      ADD COLUMN alert_integration_minutes INTEGER NOT NULL DEFAULT 30,
      ADD CONSTRAINT ck_companies_default_language CHECK (default_language IN ('en', 'ar')),
      ADD CONSTRAINT ck_companies_tax_rate CHECK (tax_rate BETWEEN 0 AND 100),
      ADD CONSTRAINT ck_companies_preparation_minutes CHECK (preparation_minutes BETWEEN 1 AND 180),
      ADD CONSTRAINT ck_companies_alert_pending_minutes CHECK (alert_pending_minutes BETWEEN 1 AND 1440),
      ADD CONSTRAINT ck_companies_alert_integration_minutes CHECK (alert_integration_minutes BETWEEN 1 AND 1440);
    """)

    op.create_table(
        "company_logos",
        sa.Column("company_id", UUID(as_uuid=True), sa.ForeignKey("companies.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("content_type", sa.String(20), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("content_type IN ('image/png', 'image/jpeg', 'image/webp')", name="ck_logo_type"),
        sa.CheckConstraint("octet_length(data) <= 524288", name="ck_logo_size"),
    )

    op.create_table(
        "opening_hours",
        sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        company_column(),
        sa.Column("weekday", sa.SmallInteger, nullable=False),
        sa.Column("opens_at", sa.Time, nullable=False),
        sa.Column("closes_at", sa.Time, nullable=False),
        sa.UniqueConstraint("company_id", "id", name="uq_opening_hours_company_id"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_opening_hours_weekday"),
        sa.CheckConstraint("opens_at <> closes_at", name="ck_opening_hours_not_empty"),
    )
    op.create_index("ix_opening_hours_company_day", "opening_hours", ["company_id", "weekday"])

    op.create_table(
        "holiday_closures",
        sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        company_column(),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
        sa.UniqueConstraint("company_id", "id", name="uq_holiday_closures_company_id"),
        sa.CheckConstraint("ends_on >= starts_on", name="ck_holiday_closures_range"),
    )
    op.create_index("ix_holiday_closures_company", "holiday_closures", ["company_id", "starts_on"])

    op.create_table(
        "alert_incidents",
        sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        company_column(),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("subject_id", UUID(as_uuid=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("notified_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("company_id", "id", name="uq_alert_incidents_company_id"),
    )
    # At most one open incident per thing: the e-mail goes out once, until it closes.
    op.execute("CREATE UNIQUE INDEX uq_alert_incidents_open ON alert_incidents (company_id, kind, subject_id) "
               "WHERE closed_at IS NULL")
    for table in NEW_TABLES:
        enable_tenant_rls(table)

    op.execute(f"""
    GRANT SELECT (id, alert_pending_enabled, alert_integration_enabled) ON companies TO {SCHEDULER_ROLE};
    CREATE POLICY scheduler_alerts ON companies FOR SELECT TO {SCHEDULER_ROLE} USING (true);
    """)


def downgrade():
    op.execute(f"""
    DROP POLICY IF EXISTS scheduler_alerts ON companies;
    REVOKE ALL ON companies FROM {SCHEDULER_ROLE};
    """)
    for table in reversed(NEW_TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("""
    ALTER TABLE companies
      DROP COLUMN default_language, DROP COLUMN tax_rate, DROP COLUMN tax_number,
      DROP COLUMN preparation_minutes, DROP COLUMN alert_pending_enabled, DROP COLUMN alert_pending_minutes,
      DROP COLUMN alert_integration_enabled, DROP COLUMN alert_integration_minutes;
    """)

