"""Operations: webhook-log retention as one narrow function the worker may call.

prune_webhook_logs(keep_days) deletes, across companies, only the webhook logs that are finished
(every outcome but RECEIVED, which is still to be processed, and FAILED, which is waiting for its
retry) and older than keep_days (at least 1). It is SECURITY DEFINER (runs as the owner, who the
row-level security of webhook_logs does not restrict when superuser or BYPASSRLS) and only portal_app
may execute it; it returns how many rows went. Fixes the seed's cleanup_old_webhook_logs, which
looked at is_processed alone and so could delete logs still waiting for a retry.

Revision ID: 0019_operations
Revises: 0014_outbound_emails
"""
from alembic import op

revision = "0019_operations"
down_revision = "0015_accounts"
branch_labels = None
depends_on = None

APP_ROLE = "portal_app"
SUPER_ROLE = "portal_super"
HEALTH_VIEWS = ("v_table_sizes", "v_index_usage", "procrastinate_jobs")


def upgrade():
    op.execute("""
        CREATE FUNCTION prune_webhook_logs(keep_days integer) RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            removed integer;
        BEGIN
            DELETE FROM webhook_logs
             WHERE outcome NOT IN ('RECEIVED', 'FAILED')
               AND created_at < now() - make_interval(days => greatest(keep_days, 1));
            GET DIAGNOSTICS removed = ROW_COUNT;
            RETURN removed;
        END $$""")
    op.execute("REVOKE ALL ON FUNCTION prune_webhook_logs(integer) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION prune_webhook_logs(integer) TO {APP_ROLE}")
    # The Database health page (SUPER_ADMIN, through cross_tenant) reads sizes, index use and the queue.
    for relation in HEALTH_VIEWS:
        op.execute(f"GRANT SELECT ON {relation} TO {SUPER_ROLE}")


def downgrade():
    for relation in HEALTH_VIEWS:
        op.execute(f"REVOKE SELECT ON {relation} FROM {SUPER_ROLE}")
    op.execute("DROP FUNCTION IF EXISTS prune_webhook_logs(integer)")
