"""Ledger = balance, whatever happens: randomized sequences of earns, redemptions, adjustments,
cancellations and expiry, checked against a small model of the lots and against `check_balances`."""
import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.extensions import db
from portal.loyalty.balance_check import check_balances
from portal.loyalty.ledger import (accrue_order, adjust, expire_points, find_member_by_phone, lock_member, redeem,
                                   reverse_order)
from portal.loyalty.services import LoyaltyError
from portal.models import DeliveryOrder, LoyaltyTransaction, OrderStatus, User
from portal.tenancy import tenant
from tests.loyalty.helpers import add_order, make_program

EXPIRY_DAYS = 30
_phones = itertools.count(1000000)

operations = st.lists(st.one_of(
    st.tuples(st.just("earn"), st.integers(min_value=0, max_value=400)),
    st.tuples(st.just("redeem"), st.integers(min_value=-5, max_value=600)),
    st.tuples(st.just("adjust"), st.integers(min_value=-300, max_value=300)),
    st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=20)),
    st.tuples(st.just("wait"), st.integers(min_value=1, max_value=40)),
), min_size=1, max_size=14)


class Lots:
    """The model: positive rows are lots, negative ones use the oldest first."""

    def __init__(self):
        self.lots = []  # [key, remaining, expires_at]

    @property
    def balance(self):
        return sum(lot[1] for lot in self.lots)

    def add(self, key, points, now):
        if points > 0:
            self.lots.append([key, points, now + timedelta(days=EXPIRY_DAYS)])

    def take(self, points, prefer=None):
        ordered = sorted(self.lots, key=lambda lot: lot[0] != prefer)
        for lot in ordered:
            used = min(points, lot[1])
            lot[1] -= used
            points -= used
        assert points == 0

    def expire(self, now):
        expired = 0
        for lot in self.lots:
            if lot[2] <= now:
                expired, lot[1] = expired + lot[1], 0
        return expired


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_balances_always_equal_the_ledger(app, shop, steps):
    if not getattr(shop, "program", None):
        shop.program = make_program(app, shop.company, min_redemption_points=10,
                                    max_redemption_percentage=Decimal("100"), expiration_days=EXPIRY_DAYS)
    phone = f"+9665{next(_phones):08d}"
    model = Lots()
    delivered, redeemed = [], []  # (order id, points) the customer earned / spent
    clock = datetime.now(timezone.utc)
    with app.app_context(), tenant(shop.company.id):
        user = db.session.get(User, shop.company.user_id("MANAGER"))
        # The customer's first order makes them a member.
        first = add_order(app, shop.company, shop.integration, phone=phone, total="1", status="DELIVERED")
        accrue_order(db.session.get(DeliveryOrder, first), now=clock)
        db.session.commit()
        model.add(("earn", first), 1, clock)
        delivered.append((first, 1))
        member_id = find_member_by_phone(phone).id

        for kind, value in steps:
            clock += timedelta(minutes=5)
            if kind == "earn":
                order_id = add_order(app, shop.company, shop.integration, phone=phone, total=str(value),
                                     status="DELIVERED")
                accrue_order(db.session.get(DeliveryOrder, order_id), now=clock)
                db.session.commit()
                model.add(("earn", order_id), value, clock)
                delivered.append((order_id, value))
            elif kind == "redeem":
                order_id = add_order(app, shop.company, shop.integration, phone=phone, total="10000",
                                     status="ACCEPTED")
                try:
                    redeem(order_id, member_id, value, user, now=clock)
                except LoyaltyError:
                    db.session.rollback()
                    assert value < 10 or value > model.balance
                else:
                    model.take(value)
                    redeemed.append((order_id, value))
            elif kind == "adjust":
                try:
                    adjust(member_id, value, "property test", user, now=clock)
                except LoyaltyError:
                    db.session.rollback()
                    assert value == 0 or -value > model.balance
                else:
                    model.add(("adjust", clock), value, clock) if value > 0 else model.take(-value)
            elif kind == "cancel":
                candidates = delivered + redeemed
                order_id, points = candidates[value % len(candidates)]
                order = db.session.get(DeliveryOrder, order_id)
                already = order.status == OrderStatus.CANCELLED
                order.status = OrderStatus.CANCELLED
                reverse_order(order, now=clock)
                db.session.commit()
                if not already:
                    if (order_id, points) in redeemed:
                        model.add(("giveback", order_id), points, clock)
                    else:
                        model.take(min(points, model.balance), prefer=("earn", order_id))
            else:
                clock += timedelta(days=value)
                expired = expire_points(now=clock)  # every member of the company (earlier examples too)
                assert expired >= model.expire(clock)
            db.session.expire_all()
            assert lock_member(member_id).current_points == model.balance
            db.session.commit()

        result = check_balances()
        assert result.ok, result.mismatches
        lots = db.session.scalars(db.select(LoyaltyTransaction.remaining_points).where(
            LoyaltyTransaction.customer_loyalty_id == member_id, LoyaltyTransaction.remaining_points.is_not(None))
            .order_by(LoyaltyTransaction.created_at)).all()
        assert lots == [lot[1] for lot in model.lots]  # the same points left in the same lots
