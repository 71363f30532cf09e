"""Accrual on DELIVERED: by program type and tier, exactly once, reversed by a cancellation or refund."""
import threading
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.loyalty.ledger import (accrue_order, add_member, find_member_by_phone, not_earning_reason, redeem,
                                   refund_order, set_referrer)
from portal.loyalty.programs import active_program
from portal.loyalty.services import LoyaltyError
from portal.models import DeliveryOrder, OrderStatus, User
from portal.orders.lifecycle import TransitionRefused, apply_status, can_move
from portal.tenancy import tenant
from tests.integration_fixtures import load_payload
from tests.loyalty.helpers import TIERS, act, add_order, check, deliver, ledger, make_program, member, owner_rows


@pytest.mark.parametrize("program_type, tier_points, expected", [
    ("POINTS_BASED", 0, 100),     # tiers never multiply points-based earning
    ("POINTS_BASED", 2000, 100),
    ("CASHBACK", 2000, 100),      # cashback: same base, shown as money; tiers do not multiply
    ("TIER_BASED", 0, 100),       # Bronze 1×
    ("TIER_BASED", 500, 125),     # Silver 1.25×
    ("TIER_BASED", 2000, 150),    # Gold 1.5×
    ("HYBRID", 2000, 150),
])
def test_accrual_per_program_type_and_tier(app, shop, owner_conninfo, program_type, tier_points, expected):
    make_program(app, shop.company, tiers=TIERS, program_type=program_type)
    if tier_points:  # a manager's adjustment does not count toward tiers; an earlier order does
        make_earlier = add_order(app, shop.company, shop.integration, total=str(tier_points))
        deliver(app, shop.company, make_earlier)
        before = member(owner_conninfo)[0]
    else:
        before = 0
    order_id = add_order(app, shop.company, shop.integration, total="100.00")

    deliver(app, shop.company, order_id)

    assert member(owner_conninfo)[0] - before == expected
    assert check(app, shop.company).ok


def test_rate_below_one_rounds_down_and_bonus_multiplier_scales_tier_bonus(app, shop, owner_conninfo):
    make_program(app, shop.company, tiers=[("Base", 0, "1.00"), ("Gold", 10, "1.50")], program_type="TIER_BASED",
                 points_per_currency_unit=Decimal("0.1"), tier_bonus_multiplier=Decimal("2"))
    deliver(app, shop.company, add_order(app, shop.company, shop.integration, total="109.99"))
    assert member(owner_conninfo)[0] == 10  # 10.999 rounded down; the customer is now Gold
    assert member(owner_conninfo)[5] == "Gold"
    deliver(app, shop.company, add_order(app, shop.company, shop.integration, total="100.00"))
    assert member(owner_conninfo)[0] == 10 + 20  # Gold 1.5× with its bonus doubled: 2×


def test_delivered_order_updates_spend_count_name_and_says_how(app, shop, owner_conninfo):
    make_program(app, shop.company)
    order_id = add_order(app, shop.company, shop.integration, total="87.40", name="Sara Al-Otaibi")
    deliver(app, shop.company, order_id)
    assert member(owner_conninfo) == (87, 87, 0, 1, Decimal("87.400"), None)
    (reason, user_id, amount), = owner_rows(owner_conninfo, "SELECT reason, user_id, amount FROM loyalty_transactions")
    assert "87.40 SAR × 1" in reason and user_id == shop.company.user_id("USER") and amount == Decimal("87.400")
    assert owner_rows(owner_conninfo, "SELECT customer_name FROM customer_loyalty") == [("Sara Al-Otaibi",)]


def test_a_later_order_under_another_name_does_not_rename_the_member(app, shop, owner_conninfo):
    make_program(app, shop.company)
    deliver(app, shop.company, add_order(app, shop.company, shop.integration, name="Sara Al-Otaibi"))
    later = add_order(app, shop.company, shop.integration, name="S.")
    deliver(app, shop.company, later)
    assert owner_rows(owner_conninfo, "SELECT customer_name FROM customer_loyalty") == [("Sara Al-Otaibi",)]
    assert owner_rows(owner_conninfo, "SELECT customer_name FROM delivery_orders WHERE id = %s",
                      (later,)) == [("S.",)]


@pytest.mark.parametrize("phone, is_test, why", [
    (None, False, "no phone number"),
    ("", False, "no phone number"),
    ("12", False, "cannot be read"),
    ("+966551234567", True, "Test orders"),
])
def test_orders_that_earn_nothing_say_why(app, shop, owner_conninfo, phone, is_test, why):
    make_program(app, shop.company)
    order_id = add_order(app, shop.company, shop.integration, phone=phone, is_test=is_test)
    deliver(app, shop.company, order_id)
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM customer_loyalty") == [(0,)]
    with app.app_context(), tenant(shop.company.id):
        assert why in str(not_earning_reason(db.session.get(DeliveryOrder, order_id)))


def test_no_active_program_earns_nothing(app, shop, owner_conninfo):
    deliver(app, shop.company, add_order(app, shop.company, shop.integration))
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM loyalty_transactions") == [(0,)]


@pytest.mark.parametrize("raw", ["+966 55 123 4567", "0551234567", "966551234567", "٠٥٥١٢٣٤٥٦٧", "+٩٦٦٥٥١٢٣٤٥٦٧",
                                 "00966551234567", "055-123-4567"])
def test_phone_variants_map_to_one_customer(app, shop, owner_conninfo, raw):
    make_program(app, shop.company)
    deliver(app, shop.company, add_order(app, shop.company, shop.integration, phone="+966551234567", total="10"))
    deliver(app, shop.company, add_order(app, shop.company, shop.integration, phone=raw, total="20"))
    assert owner_rows(owner_conninfo, "SELECT customer_phone, current_points, order_count FROM customer_loyalty") == [
        ("+966551234567", 30, 2)]
    with app.app_context(), tenant(shop.company.id):
        assert find_member_by_phone(raw).customer_phone == "+966551234567"


def test_company_country_is_the_default_region(app, make_company, make_integration, owner_conninfo):
    from portal.models import Company
    company = make_company("Kuwait Kitchen", currency="KWD", timezone="Asia/Kuwait")
    with app.app_context(), tenant(company.id):
        db.session.get(Company, company.id).country_code = "KW"
        db.session.commit()
    integration = make_integration(company, "TALABAT", base_url="http://127.0.0.1:9/talabat")
    make_program(app, company)
    deliver(app, company, add_order(app, company, integration, phone="55123456", total="10", currency="KWD"))
    assert owner_rows(owner_conninfo, "SELECT customer_phone FROM customer_loyalty") == [("+96555123456",)]


def test_repeated_delivered_events_earn_once(app, shop, owner_conninfo):
    make_program(app, shop.company)
    order_id = add_order(app, shop.company, shop.integration)
    deliver(app, shop.company, order_id)
    with app.app_context(), tenant(shop.company.id):
        order = db.session.get(DeliveryOrder, order_id)
        for _ in range(3):  # the service itself is idempotent, whoever calls it
            assert accrue_order(order).earned == 100
        db.session.commit()
        with pytest.raises(TransitionRefused):
            apply_status(order, OrderStatus.DELIVERED, source="PLATFORM")
        db.session.rollback()
    assert member(owner_conninfo)[:4] == (100, 100, 0, 1)
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM loyalty_transactions") == [(1,)]


def _careem_order(webhooks, integration_id, phone="0551234567"):
    created = load_payload("careem-order-created-example.json")
    created["details"]["delivery_type"] = "merchant"  # Careem names the customer only when the restaurant delivers
    created["details"]["customer"]["phone_number"] = phone
    created["details"]["customer"]["name"] = "Reem"
    assert webhooks.send("CAREEM", integration_id, created).status_code == 200
    return created["details"]["id"]


def _careem_status(order_id, status, at):
    event = load_payload("careem-order-status-updated-example.json")
    event["details"].update(id=order_id, status=status, updated_at=at)
    return event


def test_platform_reports_delivered_many_times_at_once_and_earns_once(app, shop, make_integration, owner_conninfo):
    integration_id = make_integration(shop.company, "CAREEM")
    make_program(app, shop.company)
    from tests.integration_fixtures import WebhookSender
    platform_id = _careem_order(WebhookSender(app.test_client()), integration_id)
    body = _careem_status(platform_id, "trip_ended", "2024-07-25T15:40:00Z")
    barrier = threading.Barrier(4)
    codes = []

    def send():
        sender = WebhookSender(app.test_client())
        barrier.wait()
        codes.append(sender.send("CAREEM", integration_id, body).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert codes == [200] * 4
    (total,), = owner_rows(owner_conninfo, "SELECT total_amount FROM delivery_orders")
    earned = int(total)  # 1 point per SAR, rounded down
    assert owner_rows(owner_conninfo, "SELECT transaction_type::text, points FROM loyalty_transactions") == [
        ("EARN", earned)]
    assert member(owner_conninfo)[:4] == (earned, earned, 0, 1)
    outcomes = sorted(row[0] for row in owner_rows(owner_conninfo, "SELECT outcome FROM webhook_logs "
                                                                   "WHERE event_type = 'ORDER_STATUS_UPDATED'"))
    assert outcomes == ["DUPLICATE", "DUPLICATE", "DUPLICATE", "PROCESSED"]


def test_platform_cancellation_after_delivery_reverses_points_spend_and_count(app, shop, make_integration,
                                                                              owner_conninfo, webhooks):
    integration_id = make_integration(shop.company, "CAREEM")
    make_program(app, shop.company, tiers=[("Base", 0, "1.00"), ("Gold", 50, "2.00")], program_type="TIER_BASED")
    platform_id = _careem_order(webhooks, integration_id)
    assert webhooks.send("CAREEM", integration_id, _careem_status(platform_id, "trip_ended",
                                                                  "2024-07-25T15:40:00Z")).status_code == 200
    earned = member(owner_conninfo)[0]
    assert earned > 50 and member(owner_conninfo)[5] == "Gold"

    response = webhooks.send("CAREEM", integration_id, _careem_status(platform_id, "cancelled", "2024-07-25T18:00:00Z"))

    assert response.status_code == 200
    assert owner_rows(owner_conninfo, "SELECT status FROM delivery_orders") == [("CANCELLED",)]
    assert member(owner_conninfo) == (0, 0, 0, 0, Decimal("0.000"), "Base")  # and back down a tier
    assert [row[:2] for row in ledger(owner_conninfo)] == [("EARN", earned), ("REVERSAL", -earned)]
    (reason,), = owner_rows(owner_conninfo, "SELECT reason FROM loyalty_transactions WHERE transaction_type = 'REVERSAL'")
    assert "cancelled after delivery by Careem" in reason
    # A second cancellation report changes nothing.
    webhooks.send("CAREEM", integration_id, _careem_status(platform_id, "cancelled", "2024-07-25T18:05:00Z"))
    assert len(ledger(owner_conninfo)) == 2
    assert check(app, shop.company).ok


def test_staff_cannot_cancel_a_delivered_order_only_a_platform_can():
    assert not can_move(OrderStatus.DELIVERED, OrderStatus.CANCELLED)
    assert not can_move(OrderStatus.DELIVERED, OrderStatus.CANCELLED, source="USER")
    assert can_move(OrderStatus.DELIVERED, OrderStatus.CANCELLED, source="PLATFORM")
    assert not can_move(OrderStatus.DELIVERED, OrderStatus.REJECTED, source="PLATFORM")
    assert not can_move(OrderStatus.CANCELLED, OrderStatus.DELIVERED, source="PLATFORM")


def test_reversal_takes_back_only_unspent_points(app, shop, owner_conninfo):
    make_program(app, shop.company, min_redemption_points=10, max_redemption_percentage=Decimal("100"))
    first = add_order(app, shop.company, shop.integration, total="100")
    deliver(app, shop.company, first)
    second = add_order(app, shop.company, shop.integration, total="100")
    with app.app_context(), tenant(shop.company.id):
        user = db.session.get(User, shop.company.user_id("USER"))
        redeem(second, find_member_by_phone("+966551234567").id, 80, user)
    with app.app_context(), tenant(shop.company.id):
        order = db.session.scalar(db.select(DeliveryOrder).where(DeliveryOrder.id == first).with_for_update())
        apply_status(order, OrderStatus.CANCELLED, source="PLATFORM", reason="refund")
        db.session.commit()
    # 100 earned, 80 spent: only 20 can be taken back; the balance never goes below zero.
    assert member(owner_conninfo)[:4] == (0, 80, 80, 0)
    (reason,), = owner_rows(owner_conninfo, "SELECT reason FROM loyalty_transactions WHERE transaction_type = 'REVERSAL'")
    assert "80 of 100 points had already been spent" in reason
    assert check(app, shop.company).ok


def test_cancelling_an_order_gives_back_the_points_redeemed_on_it(app, shop, owner_conninfo):
    make_program(app, shop.company)
    deliver(app, shop.company, add_order(app, shop.company, shop.integration, total="300"))
    open_order = add_order(app, shop.company, shop.integration, total="60", status="ACCEPTED")
    with app.app_context(), tenant(shop.company.id):
        user = db.session.get(User, shop.company.user_id("USER"))
        redeem(open_order, find_member_by_phone("0551234567").id, 200, user)
    assert member(owner_conninfo)[:3] == (100, 300, 200)
    act(app, shop.company, open_order, "cancel", reason="ITEM_UNAVAILABLE")
    assert member(owner_conninfo)[:4] == (300, 300, 0, 1)
    assert [row[:2] for row in ledger(owner_conninfo)] == [("EARN", 300), ("REDEEM", -200), ("REVERSAL", 200)]
    assert check(app, shop.company).ok


def test_points_are_earned_on_what_was_paid_after_redeeming(app, shop, owner_conninfo):
    make_program(app, shop.company)  # a point is worth SAR 0.05
    deliver(app, shop.company, add_order(app, shop.company, shop.integration, total="400"))
    order_id = add_order(app, shop.company, shop.integration, total="100")
    with app.app_context(), tenant(shop.company.id):
        user = db.session.get(User, shop.company.user_id("USER"))
        redeem(order_id, find_member_by_phone("0551234567").id, 200, user)  # SAR 10
    deliver(app, shop.company, order_id)
    assert [row[:2] for row in ledger(owner_conninfo)] == [("EARN", 400), ("REDEEM", -200), ("EARN", 90)]
    assert member(owner_conninfo)[4] == Decimal("500.000")  # spend is the order totals


def test_manager_refund_takes_points_back_and_is_audited(app, shop, owner_conninfo):
    make_program(app, shop.company)
    order_id = add_order(app, shop.company, shop.integration, total="50")
    deliver(app, shop.company, order_id)
    with app.app_context(), tenant(shop.company.id):
        manager = db.session.get(User, shop.company.user_id("MANAGER"))
        order = db.session.get(DeliveryOrder, order_id)
        refund_order(order, manager, "Cold food, refunded by Talabat")
        with pytest.raises(LoyaltyError):
            refund_order(db.session.get(DeliveryOrder, order_id), manager, "again")
    assert member(owner_conninfo)[:4] == (0, 0, 0, 0)
    assert owner_rows(owner_conninfo, "SELECT status FROM delivery_orders") == [("DELIVERED",)]
    (operation, user_id), = owner_rows(owner_conninfo, "SELECT operation, user_id FROM audit_logs "
                                                       "WHERE operation = 'LOYALTY_REFUND'")
    assert user_id == shop.company.user_id("MANAGER")


def test_referral_bonus_paid_on_the_first_delivered_order_only(app, shop, owner_conninfo):
    program_id = make_program(app, shop.company, referral_bonus=50)
    deliver(app, shop.company, add_order(app, shop.company, shop.integration, phone="0551111111", total="10"))
    with app.app_context(), tenant(shop.company.id):
        program = active_program()
        assert program.id == program_id
        add_member(program, "0552222222", name="New friend", referred_by_phone="+966551111111")
    first = add_order(app, shop.company, shop.integration, phone="0552222222", total="20")
    deliver(app, shop.company, first)
    deliver(app, shop.company, add_order(app, shop.company, shop.integration, phone="0552222222", total="20"))
    assert member(owner_conninfo, "+966551111111")[:2] == (60, 60)
    assert [row[:2] for row in ledger(owner_conninfo, "+966551111111")] == [("EARN", 10), ("REFERRAL", 50)]
    with app.app_context(), tenant(shop.company.id), pytest.raises(LoyaltyError):
        # a customer with orders cannot be "referred" later
        set_referrer(find_member_by_phone("0551111111"), "0552222222")
    assert check(app, shop.company).ok
