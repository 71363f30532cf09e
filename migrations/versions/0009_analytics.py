"""Analytics: the daily rollup kept current by the worker.

Revision ID: 0009_analytics
Revises: 0008_loyalty
Create Date: 2026-12-01
"""
from alembic import op  # noqa: F401

revision = "0009_analytics"
down_revision = "0008_loyalty"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
