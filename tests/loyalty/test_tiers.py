"""Tiers: ordered by thresholds (points or spend over a window); members move up and down by themselves."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.loyalty.ledger import accrue_order, find_member_by_phone, redeem, reverse_order
from portal.loyalty.programs import (active_program, delete_tier, program_tiers, recompute_tiers, save_program,
                                     save_tier, tier_progress)
from portal.loyalty.services import LoyaltyError
from portal.models import DeliveryOrder, User
from portal.tenancy import tenant
from tests.loyalty.helpers import add_order, make_program, member, owner_rows

START = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)


def _earn(app, shop, total, at, phone="+966551234567"):
    order_id = add_order(app, shop.company, shop.integration, phone=phone, total=total, status="DELIVERED")
    with app.app_context(), tenant(shop.company.id):
        accrue_order(db.session.get(DeliveryOrder, order_id), now=at)
        db.session.commit()
    return order_id


def test_spend_over_a_window_moves_members_up_then_down_as_the_window_slides(app, shop, owner_conninfo):
    make_program(app, shop.company, program_type="TIER_BASED", tiers=[
        ("Member", 0, "1.00"), ("VIP", 0, "2.00", "300", 30)])  # VIP: SAR 300 spent in the last 30 days
    _earn(app, shop, "200", START)
    assert member(owner_conninfo)[5] == "Member"
    _earn(app, shop, "150", START + timedelta(days=10))
    assert member(owner_conninfo)[5] == "VIP"
    _earn(app, shop, "100", START + timedelta(days=12))  # earns at VIP's 2×
    assert member(owner_conninfo)[0] == 200 + 150 + 200

    with app.app_context(), tenant(shop.company.id):  # day 35: the SAR 200 of day 0 left the window
        assert recompute_tiers(active_program(), now=START + timedelta(days=35)) == 1
        db.session.commit()
    assert member(owner_conninfo)[5] == "Member"
    (changed,), = owner_rows(owner_conninfo, "SELECT tier_changed_at FROM customer_loyalty")
    assert changed == START + timedelta(days=35)


def test_redeeming_does_not_demote_but_a_reversal_does(app, shop, owner_conninfo):
    make_program(app, shop.company, program_type="TIER_BASED", min_redemption_points=10,
                 max_redemption_percentage=Decimal(100), tiers=[("Bronze", 0, "1"), ("Gold", 500, "1.5")])
    first = _earn(app, shop, "600", START)
    assert member(owner_conninfo)[5] == "Gold"
    open_order = add_order(app, shop.company, shop.integration, total="1000", status="ACCEPTED")
    with app.app_context(), tenant(shop.company.id):
        user = db.session.get(User, shop.company.user_id("USER"))
        redeem(open_order, find_member_by_phone("0551234567").id, 600, user)
    assert member(owner_conninfo)[0] == 0 and member(owner_conninfo)[5] == "Gold"
    with app.app_context(), tenant(shop.company.id):
        reverse_order(db.session.get(DeliveryOrder, first), reason="refund")
        db.session.commit()
    assert member(owner_conninfo)[5] == "Bronze"


def test_tier_rules_refuse_duplicates_and_members_follow_changes(app, shop, owner_conninfo):
    make_program(app, shop.company, program_type="TIER_BASED", tiers=[("Bronze", 0, "1"), ("Gold", 500, "1.5")])
    _earn(app, shop, "300", START)
    assert member(owner_conninfo)[5] == "Bronze"
    with app.app_context(), tenant(shop.company.id):
        program = active_program()
        gold = next(tier for tier in program_tiers(program) if tier.name == "Gold")
        with pytest.raises(LoyaltyError, match="same thresholds"):
            save_tier(program, None, {"name": "Platinum", "min_points": 500, "min_spend": Decimal(0),
                                      "earn_multiplier": Decimal(2)})
        with pytest.raises(LoyaltyError, match="has this name"):
            save_tier(program, None, {"name": "gold", "min_points": 900, "min_spend": Decimal(0),
                                      "earn_multiplier": Decimal(2)})
        gold = db.session.get(type(gold), gold.id)
        save_tier(program, gold, {"name": "Gold", "min_points": 250, "min_spend": Decimal(0),
                                  "earn_multiplier": Decimal("1.5")})
    assert member(owner_conninfo)[5] == "Gold"  # moved up when the threshold came down
    with app.app_context(), tenant(shop.company.id):
        program = active_program()
        gold = next(tier for tier in program_tiers(program) if tier.name == "Gold")
        delete_tier(program, gold)
    assert member(owner_conninfo)[5] == "Bronze"
    assert owner_rows(owner_conninfo, "SELECT name, sort_order FROM loyalty_tiers") == [("Bronze", 0)]


def test_tier_progress_says_what_is_missing(app, shop):
    make_program(app, shop.company, program_type="TIER_BASED",
                 tiers=[("Bronze", 0, "1"), ("Silver", 500, "1.25"), ("Gold", 2000, "1.5")])
    _earn(app, shop, "200", START)
    with app.app_context(), tenant(shop.company.id):
        member_row = find_member_by_phone("0551234567")
        progress = tier_progress(member_row, active_program(), now=START)
        assert (progress.tier.name, progress.next_tier.name, progress.points_needed, progress.percent) == (
            "Bronze", "Silver", 300, 40)


def test_switching_programs_moves_members_with_their_points(app, shop, owner_conninfo):
    make_program(app, shop.company, tiers=[("Bronze", 0, "1")])
    _earn(app, shop, "120", START)
    with app.app_context(), tenant(shop.company.id):
        old = active_program()
        new = save_program(None, {**services_values(), "name": "Summer"}, activate=True)
        assert active_program().id == new.id
        assert not db.session.get(type(old), old.id).is_active
    assert owner_rows(owner_conninfo, "SELECT p.name, m.current_points, m.loyalty_tier_id FROM customer_loyalty m "
                                      "JOIN loyalty_programs p ON p.id = m.loyalty_program_id") == [("Summer", 120, None)]
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM loyalty_programs WHERE is_active") == [(1,)]


def services_values():
    from tests.loyalty.helpers import PROGRAM
    return dict(PROGRAM)
