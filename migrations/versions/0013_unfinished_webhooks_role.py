"""The worker finds webhooks left RECEIVED (the portal stopped while processing them) through the
narrow scheduler role: it may read only the id, company, outcome and arrival time of such rows.

Each one is then handed to the retry job under its own company's tenant. Role names are spelled
here, not imported, so this migration does not change with the code.

Revision ID: 0012_unfinished_webhooks_role
Revises: 0011_webhook_raw_body
"""
from alembic import op

revision = "0013_unfinished_webhooks_role"
down_revision = "0012_webhook_raw_body"
branch_labels = None
depends_on = None

SCHEDULER_ROLE = "portal_scheduler"


def upgrade():
    op.execute(f"""
    GRANT SELECT (id, company_id, outcome, created_at) ON webhook_logs TO {SCHEDULER_ROLE};
    CREATE POLICY scheduler_unfinished ON webhook_logs FOR SELECT TO {SCHEDULER_ROLE}
      USING (outcome = 'RECEIVED' AND company_id IS NOT NULL);
    CREATE INDEX ix_webhook_logs_unfinished ON webhook_logs (created_at) WHERE outcome = 'RECEIVED';
    """)


def downgrade():
    op.execute(f"""
    DROP INDEX IF EXISTS ix_webhook_logs_unfinished;
    DROP POLICY IF EXISTS scheduler_unfinished ON webhook_logs;
    REVOKE ALL ON webhook_logs FROM {SCHEDULER_ROLE};
    """)
