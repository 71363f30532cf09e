"""Money of the Delivery Hero and Careem adapters, checked against the Reconciliation page's rule.

Every public order example (tests/fixtures/payloads, sources in its SOURCES.md) with its exact
figures, and a property: for any parsed order, items + fees + tax − discounts = total in the currency's
precision, or the Reconciliation page flags the order with a reason (the page allows one minor unit
for rounding, and VAT-inclusive prices). The page's rule is the SQL
function analytics_order_mismatch (migration 0009), asked through analytics.queries.order_mismatch, not
copied here; these tests therefore need the `app` fixture (they only read, nothing to clean up).
"""
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.analytics.queries import order_mismatch
from portal.analytics.services import MISMATCH_REASONS
from portal.extensions import db
from portal.platforms import adapter_for
from portal.platforms.base import SPONSOR_UNKNOWN, ParseContext
from portal.platforms.parsing import currency_quantum
from portal.webhooks.services import item_json, order_money

from .conftest import load

SPONSORS = ("PLATFORM", "VENDOR", "THIRD_PARTY", SPONSOR_UNKNOWN)
CURRENCIES = ("SAR", "AED", "KWD", "BHD")
# Careem's webhooks do not tell which ones are order events; the DH order goes to order/{remoteId}.
PATHS = {"talabat": "order/sample-vendor-1", "careem": ""}


def parse(platform, payload, currency="SAR"):
    event = adapter_for(platform).parse_webhook(payload, ParseContext(currency=currency, path=PATHS[platform]))
    assert event.order is not None
    return event.order


def stored(order, currency):
    """What delivery_orders keeps of the order (the values the Reconciliation page reads)."""
    return {**order_money(order, currency), "order_items": [item_json(item) for item in order.items],
            "currency": currency}


def verdict(app, order, currency):
    with app.app_context():
        try:
            return order_mismatch(stored(order, currency))
        finally:
            db.session.rollback()


def split(order):
    return {sponsor: str(order.discount_by_sponsor(sponsor)) for sponsor in SPONSORS
            if order.discount_by_sponsor(sponsor)}


# ------------------------------------------------------------------------- the public examples

EXAMPLES = [
    # DH's "Updated Full Order Payload Example": placeholder amounts that do not add up
    # (13.50 − 3.00 + 2.50 + 2.50 + 1.20 = 16.70, grandTotal 25.50): the page flags it.
    ("talabat", "talabat-order-example.json",
     dict(subtotal="13.50", discount_amount="3.00", platform_discount="1.00", vendor_discount="1.00",
          third_party_discount="1.00", delivery_fee="2.50", service_fee="0.00", tax_amount="2.50",
          tip_amount="1.20", total_amount="25.50", collect_from_customer="16.34"),
     {"PLATFORM": "1.00", "VENDOR": "1.00", "THIRD_PARTY": "1.00"}, "TOTAL"),
    # Careem's ORDER_CREATED, trimmed from 5 items to 2 (SOURCES.md): the price still adds up
    # (95 − 28.50 + 7.50 + 3.80 = 77.80) but the 2 items left (22.00) are not the 95.00 subtotal.
    ("careem", "careem-order-created-example.json",
     dict(subtotal="95.00", discount_amount="28.50", platform_discount="0.00", vendor_discount="28.50",
          third_party_discount="0.00", delivery_fee="7.50", service_fee="3.80", tax_amount="0.00",
          tip_amount="0.00", total_amount="77.80", collect_from_customer="0.00"),
     {"VENDOR": "28.50"}, "ITEMS"),
    # Careem's ORDER_STATUS_UPDATED: 4.70 − 2.30 + 2.00 + 0.15 = 4.55, total_taxable_price 4.40.
    ("careem", "careem-order-status-updated-example.json",
     dict(subtotal="4.70", discount_amount="2.30", platform_discount="0.00", vendor_discount="2.30",
          third_party_discount="0.00", delivery_fee="2.00", service_fee="0.15", tax_amount="0.00",
          tip_amount="0.00", total_amount="4.40", collect_from_customer="0.00"),
     {"VENDOR": "2.30"}, "TOTAL"),
]


@pytest.mark.parametrize("platform, name, figures, sponsors, reason", EXAMPLES, ids=[e[1] for e in EXAMPLES])
def test_public_order_examples_have_exact_totals(app, platform, name, figures, sponsors, reason):
    order = parse(platform, load(name))
    money = order_money(order, "SAR")
    assert {key: str(money[key]) for key in figures} == figures
    assert split(order) == sponsors
    assert verdict(app, order, "SAR") == reason


# ------------------------------------------------------------------------- generated orders

def amounts_in(q, high=2000):
    """Non-negative amounts of the currency, up to `high` major units."""
    return st.integers(min_value=0, max_value=int(Decimal(high) / q)).map(lambda units: Decimal(units) * q)


@st.composite
def sponsorships(draw, amount, q, allow_unsplit=True):
    """A split of `amount` over the sponsors; with `allow_unsplit`, part of it (or all) may be left unsplit."""
    shares, left = {}, amount
    for sponsor in draw(st.permutations(SPONSORS[:3])):
        if left and draw(st.booleans()):
            share = draw(st.integers(min_value=0, max_value=int(left / q))) * q
            shares[sponsor], left = share, left - share
    if left and not (allow_unsplit and draw(st.booleans())):
        sponsor = draw(st.sampled_from(SPONSORS[:3]))
        shares[sponsor] = shares.get(sponsor, Decimal(0)) + left
        left = Decimal(0)
    if left:
        shares[SPONSOR_UNKNOWN] = left
    return shares


def cut(draw, total, q, parts):
    """`total` cut into `parts` non-negative amounts of the currency."""
    units = int(total / q)
    marks = sorted(draw(st.lists(st.integers(min_value=0, max_value=units), min_size=parts - 1,
                                 max_size=parts - 1)))
    bounds = [0] + marks + [units]
    return [Decimal(bounds[i + 1] - bounds[i]) * q for i in range(parts)]


def dh_discount(name, shares):
    entry = {"name": name, "amount": str(sum(shares.values(), Decimal(0)))}
    known = [{"sponsor": sponsor, "amount": str(amount)} for sponsor, amount in shares.items()
             if sponsor != SPONSOR_UNKNOWN]
    if known:
        entry["sponsorships"] = known
    return entry


@st.composite
def dh_orders(draw):
    """A Delivery Hero order whose grandTotal is items − discounts + fees + VAT + tip, and its truth."""
    currency = draw(st.sampled_from(CURRENCIES))
    q = currency_quantum(currency)
    products, items_total = [], Decimal(0)
    for index in range(draw(st.integers(min_value=1, max_value=3))):
        count, unit = draw(st.integers(min_value=1, max_value=4)), draw(amounts_in(q, 200))
        toppings = [{"name": f"Topping {index}-{t}", "price": str(price), "quantity": 1, "children": []}
                    for t, price in enumerate(draw(st.lists(amounts_in(q, 20), max_size=2)))]
        if toppings and draw(st.booleans()):
            child = draw(amounts_in(q, 5))
            toppings[0]["children"] = [{"name": "Child", "price": str(child), "quantity": 1, "children": []}]
            items_total += child
        items_total += unit * count + sum((Decimal(t["price"]) for t in toppings), Decimal(0))
        products.append({"name": f"Product {index}", "unitPrice": str(unit), "paidPrice": str(unit * count),
                         "quantity": str(count), "selectedToppings": toppings, "discounts": []})
    discount = draw(st.integers(min_value=0, max_value=int(items_total / q))) * q
    shares = draw(sponsorships(discount, q))
    payload = {"token": "tok", "code": "gen-1", "expeditionType": "delivery", "products": products}
    # Where DH puts the discount: at the top level (the lines may show their part of it too, which is
    # included in it), or only on the lines.
    if draw(st.booleans()):
        payload["discounts"] = [dh_discount("Order deal", shares)] if discount else []
        if discount and draw(st.booleans()):
            products[0]["discounts"] = [dh_discount("Line part", {"VENDOR": cut(draw, discount, q, 2)[0]})]
    elif discount:
        parts = cut(draw, discount, q, 2)   # on the first product and on its first topping, if any
        line, topping = (parts[0], parts[1]) if products[0]["selectedToppings"] else (discount, Decimal(0))
        line_shares = draw(sponsorships(line, q))
        products[0]["discounts"] = [dh_discount("Line deal", line_shares)]
        shares = dict(line_shares)
        if topping:
            topping_shares = draw(sponsorships(topping, q))
            products[0]["selectedToppings"][0]["discounts"] = [dh_discount("Topping deal", topping_shares)]
            for sponsor, amount in topping_shares.items():
                shares[sponsor] = shares.get(sponsor, Decimal(0)) + amount
    fees = draw(st.lists(amounts_in(q, 30), max_size=2))
    vat, tip = draw(amounts_in(q, 100)), draw(amounts_in(q, 20))
    total = items_total - discount + sum(fees, Decimal(0)) + vat + tip
    payload["price"] = {"deliveryFees": [{"name": "fee", "value": float(fee)} for fee in fees],
                        "vatTotal": str(vat), "riderTip": str(tip), "grandTotal": str(total)}
    if draw(st.booleans()):
        payload["price"]["subTotal"] = str(items_total)
    return currency, payload, discount, {s: a for s, a in shares.items() if a}


@st.composite
def careem_orders(draw):
    """A Careem order following its formula: total_taxable_price = original × (1 + tax) − discounts − promos
    + delivery_fee + service_fee; free_delivery_discount_value does not change it."""
    currency = draw(st.sampled_from(CURRENCIES))
    q = currency_quantum(currency)
    items, original = [], Decimal(0)
    for index in range(draw(st.integers(min_value=1, max_value=3))):
        count, unit = draw(st.integers(min_value=1, max_value=4)), draw(amounts_in(q, 200))
        options = [{"id": f"MOD-{index}-{o}", "quantity": count, "total_price": float(price * count)}
                   for o, price in enumerate(draw(st.lists(amounts_in(q, 20), max_size=2)))]
        line = unit * count + sum((Decimal(str(o["total_price"])) for o in options), Decimal(0))
        item = {"id": f"P{index}", "quantity": count, "unit_price": float(unit), "total_price": float(line),
                "groups": [{"id": "g", "options": options}] if options else []}
        if draw(st.booleans()):   # the lines' own discounts are for display (older shape: `discount` only)
            item["discount"] = float(draw(amounts_in(q, line)))
        items.append(item)
        original += line
    keys = (("merchant_discount_amount", "VENDOR"), ("merchant_promo_amount", "VENDOR"),
            ("careem_discount_amount", "PLATFORM"), ("careem_promo_amount", "PLATFORM"))
    discount = draw(st.integers(min_value=0, max_value=int(original / q))) * q
    parts = cut(draw, discount, q, len(keys))
    rate = draw(st.sampled_from([0, 5, 15]))
    tax = (original * rate / 100).quantize(q, ROUND_HALF_UP)
    delivery, service = draw(amounts_in(q, 30)), draw(amounts_in(q, 10))
    price = {key: float(part) for (key, _sponsor), part in zip(keys, parts, strict=True)}
    price.update(original_total_price=float(original), tax_percentage=rate, delivery_fee=float(delivery),
                 service_fee=float(service), free_delivery_discount_value=float(draw(amounts_in(q, 30))),
                 total_taxable_price=float(original + tax - discount + delivery + service))
    shares = {}
    for (_key, sponsor), part in zip(keys, parts, strict=True):
        shares[sponsor] = shares.get(sponsor, Decimal(0)) + part
    payload = {"event_type": "ORDER_CREATED", "details": {"id": 70000001, "status": "pending", "items": items,
                                                          "price": price, "delivery_type": "careem"}}
    return currency, payload, discount, {s: a for s, a in shares.items() if a}


def items_total(platform, order):
    """The items as each platform prices them: DH lines exclude the toppings, Careem lines include them."""
    def modifiers(entries):
        return sum((m.price + modifiers(m.children) for m in entries), Decimal(0))
    return sum((item.line_total + (modifiers(item.modifiers) if platform == "talabat" else 0)
                for item in order.items), Decimal(0))


def adds_up(platform, order, with_tax=True, tolerance=0):
    """items + fees + tip + tax − discounts = total, to `tolerance` minor units of the currency."""
    q = currency_quantum(order.currency)
    expected = (items_total(platform, order) + order.delivery_fee + order.service_fee + order.tip_amount
                + (order.tax_amount if with_tax else 0) - order.discount_amount)
    return abs(expected.quantize(q) - order.total_amount) <= tolerance * q


generated = st.one_of(dh_orders().map(lambda o: ("talabat", *o)), careem_orders().map(lambda o: ("careem", *o)))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(generated)
def test_orders_that_add_up_parse_to_figures_that_add_up(app, case):
    """The platform's own arithmetic survives parsing: nothing counted twice, dropped or misbooked."""
    platform, currency, payload, discount, shares = case
    order = parse(platform, payload, currency)
    assert order.discount_amount == discount
    assert {s: order.discount_by_sponsor(s) for s in SPONSORS if order.discount_by_sponsor(s)} == shares
    assert adds_up(platform, order)
    assert verdict(app, order, currency) is None


@SETTINGS
@given(generated, st.data())
def test_any_order_adds_up_or_is_flagged_with_its_reason(app, case, data):
    """Totals, lines and discounts changed at random: what does not add up is on the Reconciliation page."""
    platform, currency, payload, _discount, _shares = case
    q = currency_quantum(currency)
    amount = data.draw(amounts_in(q, 3000))
    change = data.draw(st.sampled_from(["total", "line", "discount", "none"]))
    if platform == "talabat":
        if change == "total":
            payload["price"]["grandTotal"] = str(amount)
        elif change == "line":
            payload["products"][0]["paidPrice"] = str(amount)
        elif change == "discount":
            payload["discounts"] = [dh_discount("Surprise", {SPONSOR_UNKNOWN: amount})]
    else:
        price = payload["details"]["price"]
        if change == "total":
            price["total_taxable_price"] = float(amount)
        elif change == "line":
            payload["details"]["items"][0]["total_price"] = float(amount)
        elif change == "discount":
            price["careem_promo_amount"] = float(amount)
    order = parse(platform, payload, currency)
    reason = verdict(app, order, currency)
    assert reason is None or reason in MISMATCH_REASONS
    if reason is None:
        # The rule allows one minor unit for rounding, and prices that include VAT (tax not added on top).
        assert adds_up(platform, order, tolerance=1) or adds_up(platform, order, with_tax=False, tolerance=1)
    elif order.subtotal == items_total(platform, order):
        assert reason == "TOTAL" and not adds_up(platform, order)
