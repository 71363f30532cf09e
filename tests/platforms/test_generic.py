"""The generic webhook format of the six undocumented platforms, and docs/GENERIC_WEBHOOKS.md itself."""
import json
import re
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from portal.models import DeliveryPlatform, OrderStatus
from portal.platforms import adapter_for
from portal.platforms.base import Discount, Modifier, OrderItem, ParseContext, PayloadError, UnifiedOrder
from portal.platforms.generic import GENERIC_PLATFORMS, STATUS_WORDS, event_payload

from .conftest import LONG_SECRET, NOW

DOC = Path(__file__).resolve().parents[2] / "docs" / "GENERIC_WEBHOOKS.md"


@pytest.fixture
def dhub():
    return adapter_for("dhub")


def doc_blocks(language):
    """The fenced code blocks of one language in the partner documentation."""
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def sample_order(currency="KWD"):
    """A UnifiedOrder using every field of the format (3-decimal currency, Arabic, nested modifiers)."""
    return UnifiedOrder(
        platform_order_id="ORD-77", order_number="77", status=OrderStatus.PENDING, short_code="Q9",
        order_type="DELIVERY", is_test=True, currency=currency,
        subtotal=Decimal("7.250"), discounts=[Discount("عرض الافتتاح", Decimal("0.500"), "PLATFORM"),
                                              Discount("Happy hour", Decimal("0.250"), "VENDOR"),
                                              Discount("Bank promo", Decimal("0.100"), "THIRD_PARTY")],
        delivery_fee=Decimal("0.750"), service_fee=Decimal("0.100"), tax_amount=Decimal("0.000"),
        tip_amount=Decimal("0.250"), total_amount=Decimal("7.500"), collect_from_customer=Decimal("7.500"),
        payment_method="cash", customer_name="فاطمة", customer_phone="+96550012345", customer_email="f@example.com",
        delivery_address="قطعة 3، شارع 12، منزل 7، السالمية", delivery_notes="الدور الثاني",
        placed_at=datetime(2025, 5, 1, 8, 0, tzinfo=timezone.utc),
        accept_by=datetime(2025, 5, 1, 8, 5, tzinfo=timezone.utc),
        expected_at=datetime(2025, 5, 1, 8, 45, tzinfo=timezone.utc), scheduled_at=None,
        items=[OrderItem(name="مجبوس دجاج", quantity=2, unit_price=Decimal("3.000"), line_total=Decimal("6.500"),
                         platform_product_id="p-1", local_product_id="MACH-1", notes="حار",
                         modifiers=[Modifier(name="Extra rice", quantity=1, price=Decimal("0.250"), platform_id="m-1",
                                             local_id="RICE", children=[Modifier(name="Saffron", quantity=1,
                                                                                 price=Decimal("0.000"))])]),
               OrderItem(name="Laban", quantity=1, unit_price=Decimal("0.750"), line_total=Decimal("0.750"))],
    )


def kwd(path=""):
    return ParseContext(currency="KWD", country_code="KW", path=path)


# ------------------------------------------------------------------------- round trip and the documentation


def test_round_trip_through_json(dhub):
    order = sample_order()
    body = json.dumps(event_payload(order, event_id="evt-1", occurred_at=NOW), ensure_ascii=False)
    event = dhub.parse_webhook(json.loads(body), kwd())
    assert event.kind == "order"
    assert event.event_id == "evt-1"
    assert event.order == order
    assert str(event.order.total_amount) == "7.500"
    assert json.loads(body)["order"]["totals"]["total"] == "7.500"


def test_documented_examples_parse(dhub):
    created, changed = [json.loads(block) for block in doc_blocks("json")]
    event = dhub.parse_webhook(created, ParseContext(currency="SAR", country_code="SA"))
    order = event.order
    assert (event.kind, event.event_id) == ("order", "evt-5f0c2a")
    assert str(order.total_amount) == "61.60"
    assert str(order.subtotal) == "51.00"
    assert order.customer_name == "سارة أحمد"
    assert order.customer_phone == "+966501234567"
    assert order.discount_by_sponsor("PLATFORM") == Decimal("5.00")
    assert order.discount_by_sponsor("VENDOR") == Decimal("3.00")
    assert order.items[0].modifiers[0].name == "Extra cheese"
    # The documented totals add up: subtotal − discounts + fees + tax + tip.
    assert (order.subtotal - order.discount_amount + order.delivery_fee + order.service_fee + order.tax_amount
            + order.tip_amount) == order.total_amount
    status = dhub.parse_webhook(changed, ParseContext(currency="SAR"))
    assert status.kind == "status"
    assert (status.status.platform_order_id, status.status.status) == ("ORD-10045", OrderStatus.CANCELLED)
    assert status.status.reason == "Customer cancelled"
    assert status.order is None


def test_documented_signing_example_is_accepted(dhub):
    namespace = {}
    exec(doc_blocks("python")[0], namespace)   # the partner's code, exactly as documented
    payload = json.loads(doc_blocks("json")[0])
    body, headers = namespace["signed_request"](LONG_SECRET, payload)
    dhub.verify(headers, body, LONG_SECRET)
    assert dhub.parse_webhook(json.loads(body), ParseContext(currency="SAR")).order.platform_order_id == "ORD-10045"


def test_status_words_in_the_documentation_match_the_code():
    table = DOC.read_text(encoding="utf-8").split("## 5. Status words")[1].split("##")[0]
    assert re.findall(r"^\| `(\w+)` \|", table, flags=re.M) == list(STATUS_WORDS)


# ------------------------------------------------------------------------- status events


@pytest.mark.parametrize("word, status", sorted(STATUS_WORDS.items()))
def test_status_words_both_ways(dhub, word, status):
    payload = {"event": "order.status_changed", "event_id": f"evt-{word}", "occurred_at": "2025-05-01T08:41:12Z",
               "order": {"id": "ORD-77", "status": word}}
    event = dhub.parse_webhook(payload, kwd())
    if status is OrderStatus.PENDING:
        assert event.kind == "ignored"
        assert event.details["status"] == "new"
    else:
        assert event.kind == "status"
        assert event.status.status is status
        assert event.status.occurred_at == datetime(2025, 5, 1, 8, 41, 12, tzinfo=timezone.utc)
    needs_reason = status in (OrderStatus.REJECTED, OrderStatus.CANCELLED)
    request = dhub.status_request(SimpleNamespace(platform_order_id="ORD-77"), status,
                                  reason="TOO_BUSY" if needs_reason else None)
    if status is OrderStatus.PENDING:
        assert request is None
    else:
        assert (request.method, request.path, request.json["status"]) == ("POST", "/orders/ORD-77/status", word)


def test_status_change_with_the_whole_order_can_create_it(dhub):
    payload = event_payload(sample_order(), "order.status_changed", event_id="evt-9", status=OrderStatus.ACCEPTED,
                            reason="auto")
    event = dhub.parse_webhook(payload, kwd())
    assert event.kind == "status"
    assert event.status.status is OrderStatus.ACCEPTED
    assert event.status.reason == "auto"
    assert event.order.platform_order_id == "ORD-77"
    assert event.order.status is OrderStatus.ACCEPTED


# ------------------------------------------------------------------------- unreadable payloads


def created(mutate):
    payload = event_payload(sample_order(), event_id="evt-1", occurred_at=NOW)
    mutate(payload)
    return payload


@pytest.mark.parametrize("payload, message", [
    (["order.created"], "body is not a JSON object"),
    (created(lambda p: p.update(event="order.deleted")), "event: unknown value 'order.deleted'"),
    (created(lambda p: p.pop("event_id")), "event_id is missing"),
    (created(lambda p: p["order"].update(currency="SAR")), "order.currency: 'SAR' is not this integration's"),
    (created(lambda p: p["order"].pop("currency")), "order.currency is missing"),
    (created(lambda p: p["order"].pop("id")), "order.id is missing"),
    (created(lambda p: p["order"].update(status="lost")), "order.status: unknown status 'lost'"),
    (created(lambda p: p["order"].update(type="drone")), "order.type: expected delivery or pickup"),
    (created(lambda p: p["order"].update(items=[])), "order.items is empty"),
    (created(lambda p: p["order"].pop("items")), "order.items is missing"),
    (created(lambda p: p["order"]["totals"].update(total="abc")), "order.totals.total: 'abc' is not an amount"),
    (created(lambda p: p["order"]["items"][0].update(quantity=-1)), "order.items[0].quantity: -1 must not be negative"),
    (created(lambda p: p["order"]["items"][0].update(unit_price="1.2.3")),
     "order.items[0].unit_price: '1.2.3' is not an amount"),
    (created(lambda p: p["order"]["items"][0]["modifiers"][0].pop("name")),
     "order.items[0].modifiers[0].name is missing"),
    (created(lambda p: p["order"]["discounts"][0].update(sponsor="bank")),
     "order.discounts[0].sponsor: expected platform, restaurant or third_party"),
    (created(lambda p: p["order"].update(placed_at="1 May")), "order.placed_at: '1 May' is not an ISO-8601"),
    ({"event": "order.status_changed", "event_id": "e", "order": {"id": "x"}}, "order.status is missing"),
])
def test_unreadable_payloads(dhub, payload, message):
    with pytest.raises(PayloadError) as error:
        dhub.parse_webhook(payload, kwd())
    assert message in error.value.message


def test_totals_default_when_omitted(dhub):
    payload = {"event": "order.created", "event_id": "e1", "order": {
        "id": "A1", "currency": "SAR", "totals": {"total": "30"},
        "items": [{"name": "Shawarma", "quantity": "2", "unit_price": "12.5",
                   "modifiers": [{"name": "Garlic", "quantity": 2, "price": "1.25"}]}]}}
    order = dhub.parse_webhook(payload, ParseContext(currency="SAR")).order
    assert str(order.items[0].line_total) == "30.00"   # 2 × (12.50 + 2 × 1.25)
    assert str(order.subtotal) == "30.00"
    assert (str(order.delivery_fee), order.order_number, order.order_type) == ("0.00", "A1", "DELIVERY")


# ------------------------------------------------------------------------- our calls to the partner


def test_reject_reasons_are_validated(dhub):
    order = SimpleNamespace(platform_order_id="ORD-77")
    assert dhub.status_request(order, OrderStatus.REJECTED, reason="CLOSED").json == {"status": "rejected",
                                                                                      "reason": "CLOSED"}
    for reason in (None, "closed", "Because"):
        with pytest.raises(ValueError):
            dhub.status_request(order, OrderStatus.CANCELLED, reason=reason)
    accepted = dhub.status_request(order, OrderStatus.ACCEPTED, preparation_minutes=20)
    assert accepted.json == {"status": "accepted", "preparation_minutes": 20}


def test_availability_store_and_menu(dhub):
    requests = dhub.availability_requests([(f"p-{i}", True) for i in range(101)], store_id="S1")
    assert [len(r.json["items"]) for r in requests] == [100, 1]
    assert requests[1].json == {"items": [{"id": "p-100", "available": True}], "store_id": "S1"}
    assert {(r.method, r.path) for r in requests} == {("POST", "/items/availability")}
    store = dhub.store_status_request(False, minutes=30, reason="TOO_BUSY", store_id="S1")
    assert (store.method, store.path, store.json) == ("POST", "/store/status", {"open": False, "minutes": 30,
                                                                               "reason": "TOO_BUSY", "store_id": "S1"})
    assert dhub.store_status_request(True).json == {"open": True, "minutes": None, "reason": None}
    menu = dhub.menu_request([{"local_product_id": "MACH-1", "platform_product_id": "p-1", "name": "Machboos",
                               "name_ar": "مجبوس", "price": Decimal("3"), "available": True, "category": "Rice"}],
                             store_id="S1", currency="KWD")
    assert (menu.method, menu.path) == ("PUT", "/menu")
    assert menu.json == {"items": [{"id": "p-1", "plu": "MACH-1", "name": "Machboos", "name_ar": "مجبوس",
                                    "price": "3.000", "available": True, "category": "Rice"}],
                         "store_id": "S1", "currency": "KWD"}
    assert dhub.request_headers({"api_key": "key-1"}) == {"X-Api-Key": "key-1"}


def test_the_six_generic_platforms_share_the_format():
    assert set(GENERIC_PLATFORMS) == {DeliveryPlatform.DHUB, DeliveryPlatform.NASHMI, DeliveryPlatform.TOP_DELIVERY,
                                      DeliveryPlatform.JOOD_DELIVERY, DeliveryPlatform.YALLOW, DeliveryPlatform.TAWASI}
    payload = event_payload(sample_order(), event_id="evt-1", occurred_at=NOW)
    for platform in GENERIC_PLATFORMS:
        adapter = adapter_for(platform)
        assert adapter.platform is platform
        assert adapter.parse_webhook(payload, kwd()).order.platform_order_id == "ORD-77"
