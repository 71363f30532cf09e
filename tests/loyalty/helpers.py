"""Loyalty test material: programs, tiers and orders written through the app's services, and sums read as the owner."""
import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg

from portal.extensions import db
from portal.loyalty.balance_check import check_balances
from portal.loyalty.programs import active_program, save_program, save_tier
from portal.models import DeliveryOrder, IntegrationConfig, LoyaltyProgram, User
from portal.orders.services import perform
from portal.tenancy import tenant

_numbers = itertools.count(1)

PROGRAM = {"name": "Rewards", "description": None, "program_type": "POINTS_BASED",
           "points_per_currency_unit": Decimal("1"), "point_value": Decimal("0.05"), "min_redemption_points": 100,
           "max_redemption_percentage": Decimal("50"), "expiration_days": None,
           "tier_bonus_multiplier": Decimal("1"), "referral_bonus": 0}
TIERS = [("Bronze", 0, "1.00"), ("Silver", 500, "1.25"), ("Gold", 2000, "1.50")]


def make_program(app, company, tiers=(), **values):
    """An active program for the company (with tiers: (name, min points, multiplier[, min spend, window])); its id."""
    with app.app_context(), tenant(company.id):
        program = save_program(None, {**PROGRAM, **values}, activate=True)
        for name, min_points, multiplier, *more in tiers:
            min_spend = Decimal(more[0]) if more else Decimal(0)
            window = more[1] if len(more) > 1 else None
            save_tier(program, None, {"name": name, "min_points": min_points, "min_spend": min_spend,
                                      "window_days": window, "earn_multiplier": Decimal(multiplier)})
        return program.id


def add_order(app, company, integration_id, phone="+966551234567", total="100.00", status="OUT_FOR_DELIVERY",
              name="Noura Al-Harbi", is_test=False, **values):
    """One order of `company` with this phone and total, delivered by the restaurant itself (so staff may
    mark it delivered: a platform rider's deliveries are the platform's to report); returns its id."""
    values.setdefault("platform_data", {"delivery": {"riderPickupTime": None},   # Talabat, HungerStation
                                        "details": {"delivery_type": "merchant"}})  # Careem
    number = next(_numbers)
    with app.app_context(), tenant(company.id):
        integration = db.session.get(IntegrationConfig, integration_id)
        order = DeliveryOrder(
            company_id=company.id, integration_config_id=integration_id, platform=integration.platform,
            platform_order_id=f"L-{number}", platform_token=f"token-{number}", order_number=f"L{number:04d}",
            status=status, is_test=is_test, total_amount=Decimal(total), currency=values.pop("currency", "SAR"),
            customer_name=name, customer_phone=phone,
            order_items=[{"name": "Chicken Kabsa", "quantity": 1, "unit_price": total, "line_total": total}],
            created_at=datetime.now(timezone.utc) - timedelta(minutes=30), **values)
        db.session.add(order)
        db.session.commit()
        return order.id


def act(app, company, order_id, action="deliver", role="USER", reason=None):
    """A staff action on the order through the order service (the same path as the board)."""
    with app.app_context(), tenant(company.id):
        perform(order_id, action, db.session.get(User, company.user_id(role)), reason=reason)


def deliver(app, company, order_id):
    act(app, company, order_id, "deliver")


def owner_rows(conninfo, sql, params=()):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchall()


def member(conninfo, phone="+966551234567"):
    """(current, earned, redeemed, order count, spent, tier name) of the member with this phone, or None."""
    rows = owner_rows(conninfo, """
        SELECT m.current_points, m.total_points_earned, m.total_points_redeemed, m.order_count, m.total_spent,
               t.name
        FROM customer_loyalty m LEFT JOIN loyalty_tiers t ON t.id = m.loyalty_tier_id
        WHERE m.customer_phone = %s""", (phone,))
    return rows[0] if rows else None


def ledger(conninfo, phone="+966551234567"):
    """[(type, points, remaining)] of a member, oldest first."""
    return owner_rows(conninfo, """
        SELECT t.transaction_type::text, t.points, t.remaining_points FROM loyalty_transactions t
        JOIN customer_loyalty m ON m.id = t.customer_loyalty_id WHERE m.customer_phone = %s
        ORDER BY t.created_at, t.id""", (phone,))


def check(app, company):
    """The balance check for the company (as the app runs it)."""
    with app.app_context(), tenant(company.id):
        return check_balances()


def program(app, company):
    with app.app_context(), tenant(company.id):
        return db.session.get(LoyaltyProgram, active_program().id)
