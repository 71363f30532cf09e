"""Account security: reset and invitation tokens, two-factor sign-in, and the shared sign-in throttle.

- account_tokens: one row per password-reset or invitation link; only the SHA-256 of the secret is kept,
  each is single-use (used_at) and expires (expires_at). Tenant table (RLS like every other).
- users.totp_secret (Fernet, bound to the company), totp_enabled_at, totp_last_step (a code is accepted
  once); recovery_codes: ten per enrolment, hashed, single-use. companies.two_factor_required.
- sign_in_throttle: failed sign-ins counted per key (hashed account+address, account, address) in the
  database, so every process sees the same counts. It holds no tenant data and only portal_login
  (the sign-in role, reached through tenancy.sign_in_scope) may touch it.

Revision ID: 0020_account_security
Revises: 0019_operations
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0020_account_security"
down_revision = "0019_operations"
branch_labels = None
depends_on = None

APP_ROLE = "portal_app"
SUPER_ROLE = "portal_super"
LOGIN_ROLE = "portal_login"
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


def _user_columns():
    return [
        sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("company_id", UUID(as_uuid=True), sa.ForeignKey("companies.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    ]


def upgrade():
    op.create_table(
        "account_tokens", *_user_columns(),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", UUID(as_uuid=True)),
        sa.CheckConstraint("purpose IN ('RESET', 'INVITE')", name="ck_account_tokens_purpose"),
        sa.UniqueConstraint("company_id", "token_hash", name="uq_account_tokens_hash"),
        sa.ForeignKeyConstraint(["company_id", "user_id"], ["users.company_id", "users.id"], ondelete="CASCADE",
                                name="fk_account_tokens_user"),
    )
    op.create_index("ix_account_tokens_user", "account_tokens", ["company_id", "user_id"])
    enable_tenant_rls("account_tokens", privileges="SELECT, INSERT, UPDATE")

    op.create_table(
        "recovery_codes", *_user_columns(),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["company_id", "user_id"], ["users.company_id", "users.id"], ondelete="CASCADE",
                                name="fk_recovery_codes_user"),
    )
    op.create_index("ix_recovery_codes_user", "recovery_codes", ["company_id", "user_id"])
    enable_tenant_rls("recovery_codes")

    op.add_column("users", sa.Column("totp_secret", sa.Text()))
    op.add_column("users", sa.Column("totp_enabled_at", sa.DateTime(timezone=True)))
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger()))
    op.add_column("companies", sa.Column("two_factor_required", sa.Boolean(), nullable=False,
                                         server_default=sa.false()))

    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("blocked_until", sa.DateTime(timezone=True)),
        sa.Column("notified_at", sa.DateTime(timezone=True)),
        sa.Column("succeeded_at", sa.DateTime(timezone=True)),
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON sign_in_throttle TO {LOGIN_ROLE}")


def downgrade():
    op.drop_table("sign_in_throttle")
    op.drop_column("companies", "two_factor_required")
    for column in ("totp_last_step", "totp_enabled_at", "totp_secret"):
        op.drop_column("users", column)
    op.drop_table("recovery_codes")
    op.drop_table("account_tokens")
