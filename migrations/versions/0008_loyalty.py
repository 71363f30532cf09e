"""Loyalty: what accrual, redemption and expiry need beyond the foundation's tables.

Revision ID: 0008_loyalty
Revises: 0007_menu
Create Date: 2026-12-01
"""
from alembic import op  # noqa: F401

revision = "0008_loyalty"
down_revision = "0007_menu"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
