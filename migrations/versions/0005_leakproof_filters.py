"""Let row-level security keep index scans for the filters the portal uses.

Under RLS, PostgreSQL evaluates a user's WHERE clause as an index condition only if its operator
is LEAKPROOF (it may otherwise run before the tenant policy and leak rows through errors). Enum
equality (`status = 'PENDING'`), numeric comparisons (amount filters) and full-text matching are
not marked so by default, although none of them can fail or reveal anything but their result. This
marks them, which lets `status`, amount and the full-text GIN index be used under RLS.

Only a superuser may change a built-in function. Where the migration runs as an ordinary owner
(some managed services), it changes nothing and says so: the portal still works, and those filters
are applied after the company's rows are read through the (company_id, created_at) index.

Revision ID: 0005_leakproof_filters
Revises: 0004_order_board
Create Date: 2026-11-25
"""
from alembic import op

revision = "0005_leakproof_filters"
down_revision = "0004_order_board"
branch_labels = None
depends_on = None

FUNCTIONS = (
    "enum_eq(anyenum, anyenum)", "enum_ne(anyenum, anyenum)", "enum_lt(anyenum, anyenum)",
    "enum_le(anyenum, anyenum)", "enum_gt(anyenum, anyenum)", "enum_ge(anyenum, anyenum)",
    "numeric_eq(numeric, numeric)", "numeric_ne(numeric, numeric)", "numeric_lt(numeric, numeric)",
    "numeric_le(numeric, numeric)", "numeric_gt(numeric, numeric)", "numeric_ge(numeric, numeric)",
    "ts_match_vq(tsvector, tsquery)",
)


def _set(leakproof):
    statements = " ".join(f"ALTER FUNCTION pg_catalog.{function} {'' if leakproof else 'NOT '}LEAKPROOF;"
                          for function in FUNCTIONS)
    op.execute(f"""
    DO $$
    BEGIN
      IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        {statements}
      ELSE
        RAISE NOTICE 'Not a superuser: filters on status, amounts and full-text search will not use indexes under row-level security.';
      END IF;
    END $$;
    """)


def upgrade():
    _set(True)


def downgrade():
    _set(False)
