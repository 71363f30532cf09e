"""Simulated orders are what the real adapters read, for all nine platforms, and their money adds up."""
import json
import random
from decimal import Decimal
from pathlib import Path

import phonenumbers
import pytest

from portal.platforms import adapter_for
from portal.platforms.base import ParseContext
from portal.simulator.model import MenuItem, Target
from portal.simulator.orders import ALL_PLATFORMS, DELIVERY_HERO, OrderFactory

MENU = [MenuItem(f"P{number:03d}", name, Decimal(price), name_ar=name_ar, platform_product_id=f"X-P{number:03d}",
                 category=category)
        for number, (name, name_ar, category, price) in enumerate([
            ("Classic Beef Burger", "برجر لحم كلاسيك", "Burgers", "28.00"),
            ("Chicken Shawarma Wrap", "شاورما دجاج", "Shawarma", "14.00"),
            ("Lamb Mandi", "مندي لحم", "Rice", "58.00"),
            ("Fattoush", "فتوش", "Salads", "16.50"),
            ("Kunafa", "كنافة", "Desserts", "22.00"),
            ("Karak Tea", "شاي كرك", "Drinks", "7.00")], start=1)]
PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
SECRET = "simulator-test-secret-" + "x" * 64
COMPANIES = [("SAR", "SA"), ("KWD", "KW"), ("AED", "AE")]


def target(platform, currency="SAR", country="SA", menu=MENU):
    if currency == "KWD":  # a 3-decimal menu
        menu = [MenuItem(item.local_product_id, item.name, (item.price * Decimal("0.082")).quantize(Decimal("0.001")),
                         item.name_ar, item.platform_product_id, item.category) for item in menu]
    return Target(platform=platform, integration_id="00000000-0000-0000-0000-000000000001", secret=SECRET,
                  menu=menu, store_id="store-1", merchant_id="brand-1", currency=currency, country_code=country,
                  company_name="Alpha Kitchen")


def parse(webhook, currency="SAR", country="SA"):
    payload = json.loads(webhook.raw())   # exactly the bytes the sender signs and sends
    return adapter_for(webhook.platform).parse_webhook(payload, ParseContext(currency=currency, country_code=country,
                                                                           path=webhook.path))


@pytest.mark.parametrize("currency,country", COMPANIES)
@pytest.mark.parametrize("platform", ALL_PLATFORMS)
def test_orders_parse_and_add_up(platform, currency, country):
    factory = OrderFactory(rng=random.Random(f"{platform}-{currency}"), scheduled_share=0.3, modifier_share=0.5,
                           discount_share=0.4)
    quantum = Decimal(1).scaleb(-(3 if currency == "KWD" else 2))
    seen = {"scheduled": 0, "modifiers": 0, "discounts": 0}
    for _ in range(60):
        sim = factory.order(target(platform, currency, country))
        amounts = sim.amounts
        # The platform's own arithmetic, in the currency's precision.
        assert amounts.total == amounts.items - amounts.discount + amounts.delivery_fee + amounts.service_fee \
            + amounts.tax
        for value in (amounts.items, amounts.discount, amounts.delivery_fee, amounts.service_fee, amounts.tax):
            assert value == value.quantize(quantum) and value >= 0

        event = parse(sim.webhook, currency, country)
        order = event.order
        assert event.kind == "order"
        assert order.platform_order_id == sim.platform_order_id
        assert order.total_amount == amounts.total
        assert order.subtotal == amounts.items
        assert order.discount_amount == amounts.discount
        assert order.delivery_fee == amounts.delivery_fee and order.service_fee == amounts.service_fee
        assert order.tip_amount == 0
        assert order.tax_amount == amounts.tax   # Careem: derived from tax_percentage, rounded half-up
        assert order.total_amount == order.subtotal - order.discount_amount + order.delivery_fee \
            + order.service_fee + order.tax_amount
        # Lines: our product ids, quantities, and the line prices add up to the subtotal.
        assert [item.local_product_id for item in order.items] == [line.item.local_product_id for line in sim.lines]
        assert [item.quantity for item in order.items] == [line.quantity for line in sim.lines]
        if platform in DELIVERY_HERO:   # paidPrice excludes toppings, whose price is per line
            lines_total = sum(item.line_total + sum(m.price for m in item.modifiers) for item in order.items)
        else:
            lines_total = sum(item.line_total for item in order.items)
        assert lines_total == order.subtotal
        if order.customer_phone:
            assert phonenumbers.is_valid_number(phonenumbers.parse(order.customer_phone))
        if order.scheduled_at is not None:
            assert 55 * 60 <= (order.scheduled_at - sim.placed_at).total_seconds() <= 3 * 3600
        seen["scheduled"] += sim.scheduled_for is not None
        seen["modifiers"] += any(line.modifiers for line in sim.lines)
        seen["discounts"] += amounts.discount > 0
    assert all(seen.values()), seen   # every flavour of order turns up in 60


@pytest.mark.parametrize("platform", ALL_PLATFORMS)
def test_follow_up_events_parse_as_status_changes(platform):
    factory = OrderFactory(rng=random.Random(platform))
    sim = factory.order(target(platform))
    events = {"cancelled": factory.cancellation(sim), "picked up": factory.picked_up(sim),
              "delivered": factory.delivered(sim)}
    expected = {"cancelled": "CANCELLED", "picked up": "OUT_FOR_DELIVERY", "delivered": "DELIVERED"}
    for name, webhook in events.items():
        if webhook is None:   # Delivery Hero tells the plugin nothing on delivery
            assert platform in DELIVERY_HERO and name == "delivered"
            continue
        event = parse(webhook)
        assert event.kind == "status", name
        assert event.status.platform_order_id == sim.platform_order_id
        assert event.status.status.value == expected[name]
    if platform in DELIVERY_HERO:
        cancel = events["cancelled"]
        assert cancel.method == "PUT"
        assert cancel.path == f"remoteId/store-1/remoteOrder/{sim.platform_order_id}/posOrderStatus"


def test_delivery_hero_orders_look_like_the_middleware_s():
    factory = OrderFactory(rng=random.Random(3))
    sim = factory.order(target("TALABAT"))
    body = sim.webhook.body
    assert sim.webhook.path == "order/store-1" and sim.webhook.method == "POST"
    example = json.loads((PAYLOADS / "talabat-order-example.json").read_text())
    assert set(example) <= set(body)
    assert set(example["price"]) <= set(body["price"]) and set(example["products"][0]) <= set(body["products"][0])
    product = body["products"][0]
    assert product["remoteCode"].startswith("P") and isinstance(product["quantity"], str)
    assert isinstance(body["price"]["grandTotal"], str) and body["createdAt"].endswith("Z")
    assert body["customer"]["mobilePhone"].startswith("+9665")


def test_careem_orders_carry_integer_ids_and_our_item_ids():
    factory = OrderFactory(rng=random.Random(4))
    sim = factory.order(target("CAREEM"))
    details = sim.webhook.body["details"]
    assert sim.webhook.body["event_type"] == "ORDER_CREATED" and sim.webhook.path == ""
    assert isinstance(details["id"], int)
    assert {item["id"] for item in details["items"]} <= {item.local_product_id for item in MENU}
    assert details["branch"]["id"] == "store-1" and details["branch"]["brand_id"] == "brand-1"
    assert isinstance(details["price"]["total_taxable_price"], (int, float))


def test_careem_vat_is_rounded_half_up():
    # 76.50 × 5 % = 3.825: half-up 3.83 (total 80.33), half-even 3.82, and then the parts miss the total by 0.01.
    menu = [MenuItem("P001", "Platter", Decimal("76.50"))]
    factory = OrderFactory(rng=random.Random(1), modifier_share=0, discount_share=0)
    for _ in range(500):
        sim = factory.order(target("CAREEM", "AED", "AE", menu=menu))
        if sim.lines[0].quantity == 1 and not sim.amounts.delivery_fee and not sim.amounts.service_fee:
            break
    assert sim.amounts.total == Decimal("80.33")
    order = parse(sim.webhook, "AED", "AE").order
    assert order.tax_amount == Decimal("3.83")
    assert order.total_amount == order.subtotal - order.discount_amount + order.delivery_fee + order.service_fee \
        + order.tax_amount


def test_signatures_are_the_platform_s_own():
    factory = OrderFactory(rng=random.Random(5))
    for platform in ALL_PLATFORMS:
        sim = factory.order(target(platform))
        raw = sim.webhook.raw()
        adapter = adapter_for(platform)
        adapter.verify(adapter.sign(raw, SECRET), raw, SECRET)   # raises when not authentic
