"""Order search per company: a full-text index that leads with the company (btree_gin).

The seed's GIN index on `search_vector` alone holds every tenant's words, so a common name
("Mohammed Al-…") fetches the matches of all companies from the heap before RLS and the company
filter drop them: name searches grew with the number of tenants (bench/README.md). A GIN index on
(company_id, search_vector) answers both conditions inside the index. It needs the btree_gin
extension (trusted: any database owner may create it). Where the server does not ship it — the
embedded `pgserver` PostgreSQL has no contrib extensions — the seed's index stays and search
still works, only slower on big databases.

Revision ID: 0006_board_search
Revises: 0005_leakproof_filters
Create Date: 2026-12-01
"""
from alembic import op

revision = "0006_board_search"
down_revision = "0005_leakproof_filters"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
    DO $$
    BEGIN
      IF EXISTS (SELECT FROM pg_available_extensions WHERE name = 'btree_gin') THEN
        CREATE EXTENSION IF NOT EXISTS btree_gin;
        CREATE INDEX idx_orders_company_search ON delivery_orders USING GIN (company_id, search_vector);
        DROP INDEX IF EXISTS idx_orders_customer_search;
      ELSE
        RAISE NOTICE 'btree_gin is not available: order search keeps the index on search_vector alone.';
      END IF;
    END $$;
    """)


def downgrade():
    op.execute("""
    CREATE INDEX IF NOT EXISTS idx_orders_customer_search ON delivery_orders USING GIN (search_vector);
    DROP INDEX IF EXISTS idx_orders_company_search;
    """)
    # The extension may serve other objects of the database; leaving it costs nothing.
