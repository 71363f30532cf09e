"""Two-step sign-in columns in the audit trail: the sealed TOTP secret is redacted like passwords, and
the last used time step is bookkeeping (it changes at every sign-in), not a change a person made.

Revision ID: 0021_two_factor_audit
Revises: 0020_account_security
"""
from alembic import op

revision = "0021_two_factor_audit"
down_revision = "0020_account_security"
branch_labels = None
depends_on = None

AUDIT_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_trigger() RETURNS trigger AS $$
DECLARE
  redacted CONSTANT text[] := ARRAY[{redacted}];
  volatile CONSTANT text[] := ARRAY[{volatile}];
  old_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) - redacted END;
  new_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) - redacted END;
  row_data jsonb := coalesce(new_row, old_row);
BEGIN
  IF TG_OP = 'UPDATE' AND to_jsonb(OLD) - volatile = to_jsonb(NEW) - volatile THEN
    RETURN NULL;  -- nothing a person would call a change
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
"""
REDACTED = "'password', 'api_key', 'api_secret', 'webhook_secret'"
QUIET = "'updated_at', 'last_success_at', 'last_error_at', 'last_error', 'last_sync_at', 'last_login_at'"


def upgrade():
    op.execute(AUDIT_FUNCTION.format(redacted=REDACTED + ", 'totp_secret'",
                                     volatile=QUIET + ", 'totp_last_step'"))


def downgrade():
    op.execute(AUDIT_FUNCTION.format(redacted=REDACTED, volatile=QUIET))
