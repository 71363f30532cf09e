"""The outbox: every e-mail the portal sends (password resets, invitations, alerts), per company.

With SMTP configured the message is sent and `sent_at` set; without it (development, tests) it stays
here and admins read it on the Outbox page. Body text may hold a single-use link, so only the
company's own rows are visible (RLS) and only to company admins (the route).

Revision ID: 0014_outbound_emails
Revises: 0013_unfinished_webhooks_role
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0014_outbound_emails"
down_revision = "0013_unfinished_webhooks_role"
branch_labels = None
depends_on = None

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


def upgrade():
    op.create_table(
        "outbound_emails",
        sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("company_id", UUID(as_uuid=True), sa.ForeignKey("companies.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("to_address", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("link", sa.Text),
        sa.Column("kind", sa.String(40), nullable=False, server_default="notice"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_outbound_emails_company_created", "outbound_emails", ["company_id", "created_at"])
    enable_tenant_rls("outbound_emails", privileges="SELECT, INSERT, UPDATE")


def downgrade():
    op.drop_table("outbound_emails")
