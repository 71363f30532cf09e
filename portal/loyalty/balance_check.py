"""The balance check: every member's stored balances recomputed from the ledger (and its lots)."""
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import text

from ..extensions import db
from ..tenancy import current_company_id

_CHECK = text("""
WITH tx AS (
  SELECT t.customer_loyalty_id AS member_id, t.points, t.amount, t.remaining_points,
         t.transaction_type::text AS kind, o.transaction_type::text AS reversed_kind
  FROM loyalty_transactions t
  LEFT JOIN loyalty_transactions o ON o.company_id = t.company_id AND o.id = t.reverses_id
  WHERE t.company_id = :company
), sums AS (
  SELECT member_id,
         sum(points) AS current_points,
         coalesce(sum(points) FILTER (WHERE kind IN ('EARN', 'REFERRAL') OR reversed_kind IN ('EARN', 'REFERRAL')), 0)
           AS total_points_earned,
         coalesce(-sum(points) FILTER (WHERE kind = 'REDEEM' OR reversed_kind = 'REDEEM'), 0) AS total_points_redeemed,
         count(*) FILTER (WHERE kind = 'EARN') - count(*) FILTER (WHERE reversed_kind = 'EARN') AS order_count,
         coalesce(sum(amount) FILTER (WHERE kind = 'EARN'), 0)
           - coalesce(sum(amount) FILTER (WHERE reversed_kind = 'EARN'), 0) AS total_spent,
         coalesce(sum(remaining_points) FILTER (WHERE remaining_points > 0), 0) AS points_in_lots
  FROM tx GROUP BY member_id
)
SELECT m.id, m.customer_phone,
       m.current_points, coalesce(s.current_points, 0),
       m.total_points_earned, coalesce(s.total_points_earned, 0),
       m.total_points_redeemed, coalesce(s.total_points_redeemed, 0),
       m.order_count, coalesce(s.order_count, 0),
       m.total_spent, coalesce(s.total_spent, 0),
       m.current_points, coalesce(s.points_in_lots, 0)
FROM customer_loyalty m LEFT JOIN sums s ON s.member_id = m.id
WHERE m.company_id = :company
""")
CHECKED = ("current_points", "total_points_earned", "total_points_redeemed", "order_count", "total_spent",
           "points_in_lots")


@dataclass
class Mismatch:
    """A member whose stored balance differs from the ledger's sum."""

    member_id: uuid.UUID
    phone: str
    field: str
    stored: object
    ledger: object


@dataclass
class CheckResult:
    members: int = 0
    mismatches: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.mismatches


def check_balances(company_id=None):
    """Compare every member's balances with the ledger's sums (and the lots); runs for one tenant."""
    result = CheckResult()
    for row in db.session.execute(_CHECK, {"company": company_id or current_company_id()}):
        result.members += 1
        for index, name in enumerate(CHECKED):
            stored, ledger = row[2 + 2 * index], row[3 + 2 * index]
            if Decimal(stored) != Decimal(ledger):
                result.mismatches.append(Mismatch(row[0], row[1], name, stored, ledger))
    return result
