"""Order board: preparation time on accepted orders, and an index for the board's change check.

Revision ID: 0004_order_board
Revises: 0003_quiet_health_columns
Create Date: 2026-11-25
"""
from alembic import op

revision = "0004_order_board"
down_revision = "0003_quiet_health_columns"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
    ALTER TABLE delivery_orders
      ADD COLUMN preparation_minutes INTEGER CHECK (preparation_minutes BETWEEN 1 AND 240);
    -- The board asks "did anything change since?" every second or two: one index probe answers it.
    CREATE INDEX idx_orders_company_updated ON delivery_orders (company_id, updated_at DESC);
    """)


def downgrade():
    op.execute("""
    DROP INDEX IF EXISTS idx_orders_company_updated;
    ALTER TABLE delivery_orders DROP COLUMN IF EXISTS preparation_minutes;
    """)
