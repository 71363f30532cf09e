"""The loyalty sweep finds its companies through the narrow scheduler role, like menu and analytics.

Before, the hourly sweep looked across companies through the audited super-admin path and wrote a
cross-tenant audit row every hour. portal_scheduler may now read only what "is there loyalty work
due" needs: company ids, remaining points and expiry of ledger rows, tier windows, and which program
is active. Role names are spelled here, not imported, so this migration does not change with the code.
"""
from alembic import op

revision = "0010_loyalty_due_role"
down_revision = "0009_analytics"
branch_labels = None
depends_on = None

SCHEDULER_ROLE = "portal_scheduler"


def upgrade():
    op.execute(f"""
    GRANT SELECT (company_id, remaining_points, expires_at) ON loyalty_transactions TO {SCHEDULER_ROLE};
    GRANT SELECT (company_id, loyalty_program_id, window_days) ON loyalty_tiers TO {SCHEDULER_ROLE};
    GRANT SELECT (company_id, id, is_active) ON loyalty_programs TO {SCHEDULER_ROLE};
    CREATE POLICY scheduler_due ON loyalty_transactions FOR SELECT TO {SCHEDULER_ROLE} USING (true);
    CREATE POLICY scheduler_due ON loyalty_tiers FOR SELECT TO {SCHEDULER_ROLE} USING (true);
    CREATE POLICY scheduler_due ON loyalty_programs FOR SELECT TO {SCHEDULER_ROLE} USING (true);
    """)


def downgrade():
    for table in ("loyalty_programs", "loyalty_tiers", "loyalty_transactions"):
        op.execute(f"DROP POLICY IF EXISTS scheduler_due ON {table}")
        op.execute(f"REVOKE ALL ON {table} FROM {SCHEDULER_ROLE}")
