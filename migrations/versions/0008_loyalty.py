"""Loyalty: what accrual, redemption and expiry need beyond the foundation's tables.

- A ledger row may reverse one other row (`reverses_id`), at most once: a cancelled order takes back
  its earned points and gives back the points redeemed on it, each with its own REVERSAL row.
- An order earns once, has at most one redemption and pays at most one referral bonus. EARN rows
  (and their reversals) may carry 0 points, so every delivered order of a member is in the ledger:
  spend and order counts are sums of it, and the balance check covers them.
- Members may be referred by another member of the same company.
- Changes of programs and tiers are audited (a trigger, like users and integrations).
- Orders are found by the tail of their phone number (platforms send +966 5…, 05…, 9665…, Arabic
  digits), the index behind a customer's order history across platforms.

Revision ID: 0008_loyalty
Revises: 0007_menu
Create Date: 2026-12-01
"""
from alembic import op

revision = "0008_loyalty"
down_revision = "0007_menu"
branch_labels = None
depends_on = None

# Helpers for what autogenerate cannot see (RLS, grants, triggers), copied here as they were when
# this migration was written: a migration never imports live code, so it stays what it was.


def add_audit_trigger(table):
    """Write every change of the table to audit_logs (secret columns redacted by the function)."""
    op.execute(f"""
        CREATE TRIGGER audit_{table}_trigger AFTER INSERT OR UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION audit_trigger()""")


# The last 8 digits of a phone as any platform writes it (Arabic-Indic digits read as 0-9).
PHONE_TAIL_SQL = ("right(regexp_replace(translate(customer_phone, '٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹', "
                  "'01234567890123456789'), '[^0-9]', '', 'g'), 8)")

AUDITED = ("loyalty_programs", "loyalty_tiers")


def upgrade():
    op.execute("""
    ALTER TABLE loyalty_transactions
      ADD COLUMN reverses_id UUID,
      ADD CONSTRAINT fk_loyalty_tx_reverses FOREIGN KEY (company_id, reverses_id)
        REFERENCES loyalty_transactions (company_id, id),
      DROP CONSTRAINT loyalty_transactions_points_check,
      ADD CONSTRAINT ck_loyalty_tx_points CHECK (points <> 0 OR transaction_type IN ('EARN', 'REVERSAL')),
      ADD CONSTRAINT ck_loyalty_tx_reversal CHECK ((transaction_type = 'REVERSAL') = (reverses_id IS NOT NULL));
    CREATE UNIQUE INDEX uq_loyalty_tx_reversed_once ON loyalty_transactions (company_id, reverses_id)
      WHERE reverses_id IS NOT NULL;
    DROP INDEX uq_loyalty_tx_order_once;
    -- An order earns once (however often DELIVERED is reported), is redeemed on once, pays one referral.
    CREATE UNIQUE INDEX uq_loyalty_tx_order_once ON loyalty_transactions (company_id, order_id, transaction_type)
      WHERE order_id IS NOT NULL AND transaction_type IN ('EARN', 'REDEEM', 'REFERRAL');
    CREATE INDEX idx_loyalty_tx_company_time ON loyalty_transactions (company_id, created_at);
    CREATE INDEX idx_loyalty_tx_order ON loyalty_transactions (company_id, order_id) WHERE order_id IS NOT NULL;

    ALTER TABLE customer_loyalty
      ADD COLUMN referred_by_id UUID,
      ADD COLUMN tier_changed_at TIMESTAMPTZ,
      ADD CONSTRAINT fk_customer_loyalty_referred_by FOREIGN KEY (company_id, referred_by_id)
        REFERENCES customer_loyalty (company_id, id) ON DELETE SET NULL (referred_by_id),
      ADD CONSTRAINT ck_customer_loyalty_not_self_referred CHECK (referred_by_id <> id);
    CREATE INDEX idx_customer_loyalty_last_order ON customer_loyalty (company_id, last_order_at DESC NULLS LAST);
    """)
    op.execute(f"CREATE INDEX idx_orders_customer_phone_tail ON delivery_orders (company_id, ({PHONE_TAIL_SQL}))")
    # A program's rules decide what customers are owed: every change of them is in the audit log.
    for table in AUDITED:
        add_audit_trigger(table)


def downgrade():
    for table in AUDITED:
        op.execute(f"DROP TRIGGER audit_{table}_trigger ON {table}")
    op.execute("""
    DROP INDEX idx_orders_customer_phone_tail;
    DROP INDEX idx_customer_loyalty_last_order;
    ALTER TABLE customer_loyalty
      DROP CONSTRAINT ck_customer_loyalty_not_self_referred,
      DROP CONSTRAINT fk_customer_loyalty_referred_by,
      DROP COLUMN tier_changed_at,
      DROP COLUMN referred_by_id;

    DROP INDEX idx_loyalty_tx_order;
    DROP INDEX idx_loyalty_tx_company_time;
    DROP INDEX uq_loyalty_tx_order_once;
    DROP INDEX uq_loyalty_tx_reversed_once;
    -- Rows the old schema cannot hold: zero-point earns and reversals, more than one reversal per order.
    DELETE FROM loyalty_transactions WHERE points = 0;
    DELETE FROM loyalty_transactions t USING loyalty_transactions other
      WHERE t.transaction_type = 'REVERSAL' AND other.transaction_type = 'REVERSAL'
        AND t.company_id = other.company_id AND t.order_id = other.order_id AND t.id > other.id;
    ALTER TABLE loyalty_transactions
      DROP CONSTRAINT ck_loyalty_tx_reversal,
      DROP CONSTRAINT ck_loyalty_tx_points,
      ADD CONSTRAINT loyalty_transactions_points_check CHECK (points <> 0),
      DROP CONSTRAINT fk_loyalty_tx_reverses,
      DROP COLUMN reverses_id;
    CREATE UNIQUE INDEX uq_loyalty_tx_order_once ON loyalty_transactions (company_id, order_id, transaction_type)
      WHERE order_id IS NOT NULL AND transaction_type IN ('EARN', 'REVERSAL');
    """)
