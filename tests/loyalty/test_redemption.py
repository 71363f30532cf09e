"""Redemption on an order within the program's rules; two at once never spend the same points."""
import threading
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.loyalty.ledger import adjust, find_member_by_phone, redeem
from portal.loyalty.programs import active_program, deactivate_program
from portal.loyalty.services import LoyaltyError
from portal.models import User
from portal.tenancy import tenant
from tests.loyalty.helpers import add_order, check, deliver, ledger, make_program, member, owner_rows

PHONE = "+966551234567"


@pytest.fixture
def rich(app, shop):
    """A member with 1,000 points (min 100 to redeem, at most 50 % of an order, a point is SAR 0.05)."""
    make_program(app, shop.company)
    deliver(app, shop.company, add_order(app, shop.company, shop.integration, total="1000"))
    return shop


def _redeem(app, shop, order_id, points, role="USER"):
    with app.app_context(), tenant(shop.company.id):
        member_id = find_member_by_phone(PHONE).id
        return redeem(order_id, member_id, points, db.session.get(User, shop.company.user_id(role))).points


@pytest.mark.parametrize("points, message", [
    (99, "at least 100 points"),
    (0, "at least 100 points"),
    (-5, "at least 100 points"),
    ("ten", "whole number"),
    (1001, "only 1000 points"),
    (401, "At most 400 points"),  # 50 % of SAR 40.00 is SAR 20.00 = 400 points
])
def test_redemption_refuses_what_the_rules_do_not_allow(app, rich, owner_conninfo, points, message):
    order_id = add_order(app, rich.company, rich.integration, total="40.00", status="ACCEPTED")
    with pytest.raises(LoyaltyError) as refused:
        _redeem(app, rich, order_id, points)
    assert message in str(refused.value)
    assert member(owner_conninfo)[:3] == (1000, 1000, 0)
    assert len(ledger(owner_conninfo)) == 1


def test_redemption_at_the_cap_spends_points_and_records_the_money(app, rich, owner_conninfo):
    order_id = add_order(app, rich.company, rich.integration, total="40.00", status="ACCEPTED")
    assert _redeem(app, rich, order_id, 400) == -400
    assert member(owner_conninfo)[:3] == (600, 1000, 400)
    (kind, amount, user_id, order), = owner_rows(owner_conninfo, "SELECT transaction_type::text, amount, user_id, "
                                                                 "order_id FROM loyalty_transactions "
                                                                 "WHERE transaction_type = 'REDEEM'")
    assert (amount, user_id, order) == (Decimal("20.000"), rich.company.user_id("USER"), order_id)
    assert ledger(owner_conninfo)[0] == ("EARN", 1000, 600)  # taken from the oldest lot
    with pytest.raises(LoyaltyError, match="already been redeemed"):
        _redeem(app, rich, order_id, 100)
    assert check(app, rich.company).ok


def test_small_order_and_cancelled_order_cannot_be_redeemed_on(app, rich):
    tiny = add_order(app, rich.company, rich.integration, total="5.00", status="ACCEPTED")  # 50 points at most
    with pytest.raises(LoyaltyError, match="too small"):
        _redeem(app, rich, tiny, 100)
    cancelled = add_order(app, rich.company, rich.integration, total="100", status="CANCELLED")
    with pytest.raises(LoyaltyError, match="cancelled"):
        _redeem(app, rich, cancelled, 100)


def test_two_redemptions_at_once_never_spend_the_same_points(app, rich, owner_conninfo):
    """1,000 points, two orders of SAR 2,000 each asking for 700: one wins, the other is refused."""
    orders = [add_order(app, rich.company, rich.integration, total="2000", status="ACCEPTED") for _ in range(2)]
    barrier = threading.Barrier(2)
    results = []

    def attempt(order_id):
        with app.app_context(), tenant(rich.company.id):
            member_id = find_member_by_phone(PHONE).id
            user = db.session.get(User, rich.company.user_id("USER"))
            db.session.commit()  # both start from the same balance
            barrier.wait()
            try:
                redeem(order_id, member_id, 700, user)
                results.append("won")
            except LoyaltyError as error:
                results.append(str(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(order_id,)) for order_id in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == ["The customer has only 300 points.", "won"]
    assert member(owner_conninfo)[:3] == (300, 1000, 700)
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM loyalty_transactions WHERE transaction_type = 'REDEEM'") \
        == [(1,)]
    assert check(app, rich.company).ok


def test_no_redemption_without_an_active_program(app, rich):
    order_id = add_order(app, rich.company, rich.integration, total="100", status="ACCEPTED")
    with app.app_context(), tenant(rich.company.id):
        deactivate_program(active_program())
    with pytest.raises(LoyaltyError, match="no active loyalty program"):
        _redeem(app, rich, order_id, 100)


@pytest.mark.parametrize("points, reason, message", [
    (0, "goodwill", "add (e.g. 50) or remove"),
    ("x", "goodwill", "whole number"),
    (50, "", "Say why"),
    (50, "  a ", "Say why"),
    (-1001, "mistake", "only 1000 points to remove"),
    (2_000_000, "too many", "At most"),
])
def test_adjustments_need_a_reason_and_cannot_overdraw(app, rich, owner_conninfo, points, reason, message):
    with app.app_context(), tenant(rich.company.id):
        manager = db.session.get(User, rich.company.user_id("MANAGER"))
        member_id = find_member_by_phone(PHONE).id
        with pytest.raises(LoyaltyError) as refused:
            adjust(member_id, points, reason, manager)
        assert message in str(refused.value)
    assert member(owner_conninfo)[0] == 1000
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM audit_logs WHERE operation = 'LOYALTY_ADJUST'") == [(0,)]


def test_adjustment_is_in_the_ledger_and_the_audit_log(app, rich, owner_conninfo):
    with app.app_context(), tenant(rich.company.id):
        manager = db.session.get(User, rich.company.user_id("MANAGER"))
        member_id = find_member_by_phone(PHONE).id
        adjust(member_id, -250, "Duplicate order on Talabat", manager)
        adjust(member_id, 40, "Sorry for the late delivery", manager)
    assert member(owner_conninfo)[:3] == (790, 1000, 0)
    assert [row[:2] for row in ledger(owner_conninfo)] == [("EARN", 1000), ("ADJUST", -250), ("ADJUST", 40)]
    audits = owner_rows(owner_conninfo, "SELECT user_id, old_values, new_values FROM audit_logs "
                                        "WHERE operation = 'LOYALTY_ADJUST' ORDER BY created_at")
    assert [(old["current_points"], new["current_points"], new["reason"]) for _, old, new in audits] == [
        (1000, 750, "Duplicate order on Talabat"), (750, 790, "Sorry for the late delivery")]
    assert {user for user, _, _ in audits} == {rich.company.user_id("MANAGER")}
    assert check(app, rich.company).ok
