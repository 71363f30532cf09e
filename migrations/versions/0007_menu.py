"""Menu catalog: modifier groups, sold-out windows, availability schedules, sync runs.

Revision ID: 0007_menu
Revises: 0006_board_search
Create Date: 2026-12-01
"""
from alembic import op  # noqa: F401

revision = "0007_menu"
down_revision = "0006_board_search"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
