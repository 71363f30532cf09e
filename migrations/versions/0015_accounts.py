"""Server-side sign-in sessions: a copied session cookie stops working once its record is revoked.

Revision ID: 0015_accounts
Revises: 0014_outbound_emails
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0015_accounts"
down_revision = "0017_company_settings"
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
        "user_sessions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("company_id", UUID(as_uuid=True), sa.ForeignKey("companies.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(300)),
        sa.ForeignKeyConstraint(["company_id", "user_id"], ["users.company_id", "users.id"], ondelete="CASCADE",
                                name="fk_user_sessions_user"),
    )
    op.create_index("ix_user_sessions_company_user", "user_sessions", ["company_id", "user_id"])
    enable_tenant_rls("user_sessions", privileges="SELECT, INSERT, UPDATE")


def downgrade():
    op.drop_table("user_sessions")
