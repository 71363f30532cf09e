"""The demo's loyalty ledger: the program started a month ago, and every order delivered since then
earned through the loyalty service, with a few redemptions, adjustments and a refund, so the
customers and program pages show real history.

Written only while the company's ledger is empty, which keeps `seed-demo` idempotent.
"""
import hashlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from ..extensions import db
from ..models import DeliveryOrder, LoyaltyTransaction, OrderStatus, User, UserRole
from . import ledger, programs

PROGRAM_AGE = timedelta(days=30)
ADJUSTMENTS = ["Sorry for the late delivery", "Birthday gift", "Wrong item sent, apology points"]


def _pick(order_id, percent):
    """A stable yes for about `percent` % of orders (the demo must come out the same every time)."""
    return int(hashlib.sha256(str(order_id).encode()).hexdigest()[:4], 16) % 100 < percent


def seed_ledger(company_id):
    """Earn, redeem, adjust and refund through the services, in the order things happened."""
    if db.session.scalar(select(LoyaltyTransaction.id).where(LoyaltyTransaction.company_id == company_id).limit(1)):
        return
    program = programs.active_program()
    if program is None:
        return
    staff = db.session.scalars(select(User).where(User.company_id == company_id).order_by(User.role)).all()
    manager = next((user for user in staff if user.role in (UserRole.MANAGER, UserRole.COMPANY_ADMIN)), None)
    cashier = next((user for user in staff if user.role == UserRole.USER), manager)
    orders = db.session.scalars(select(DeliveryOrder).where(
        DeliveryOrder.company_id == company_id, DeliveryOrder.status == OrderStatus.DELIVERED,
        DeliveryOrder.is_test.is_(False), DeliveryOrder.completed_at >= datetime.now(timezone.utc) - PROGRAM_AGE,
    ).order_by(DeliveryOrder.completed_at)).all()
    for number, order in enumerate(orders):
        member = ledger.find_member_by_phone(order.customer_phone)
        if member is not None and _pick(order.id, 25):
            limits = ledger.redemption_limits(program, member, order)
            if limits.possible:
                ledger.redeem(order.id, member.id, limits.maximum, cashier,
                              now=order.created_at + timedelta(minutes=3))
        ledger.accrue_order(order, now=order.completed_at)
        if manager is not None and number % 97 == 5:
            ledger.adjust(ledger.find_member_by_phone(order.customer_phone).id, 50,
                          ADJUSTMENTS[number % len(ADJUSTMENTS)], manager,
                          now=order.completed_at + timedelta(hours=2))
    refunded = next((order for order in reversed(orders) if _pick(order.id, 10)), None)
    if manager is not None and refunded is not None:
        ledger.refund_order(refunded, manager, "Missing items, refunded through the platform",
                            now=refunded.completed_at + timedelta(hours=5))
    db.session.commit()
