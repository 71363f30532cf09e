"""Talabat / HungerStation: the DH middleware's order, status and catalog webhooks, and our calls back."""
import copy
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from portal.models import OrderStatus
from portal.platforms import adapter_for
from portal.platforms.base import SPONSOR_UNKNOWN, ParseContext, PayloadError
from portal.platforms.delivery_hero import IGNORED_POS_STATUSES, POS_STATUSES, REJECT_REASONS

from .conftest import NOW, load

ORDER_PATH = "order/sample-vendor-1"
STATUS_PATH = "remoteId/sample-vendor-1/remoteOrder/n0s1-w0k1/posOrderStatus"


@pytest.fixture
def talabat():
    return adapter_for("talabat")


def parse_order(adapter, payload, currency="SAR", country="SA"):
    event = adapter.parse_webhook(payload, ParseContext(currency=currency, country_code=country, path=ORDER_PATH))
    assert event.kind == "order"
    return event.order


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


# ------------------------------------------------------------------------- the order example


def test_order_example_parses_to_exact_amounts_and_fields(talabat):
    event = talabat.parse_webhook(load("talabat-order-example.json"),
                                  ParseContext(currency="SAR", country_code="SA", path=ORDER_PATH))
    assert event.kind == "order"
    assert event.event_type == "ORDER"
    assert event.event_id == "n0s1-w0k1:order"
    assert event.details == {"remote_id": "sample-vendor-1"}
    order = event.order
    assert order.platform_order_id == "n0s1-w0k1"
    assert order.order_number == "n0s1-w0k1"
    assert order.short_code == "42"
    assert order.platform_token == "5f373562-591a-4db9-8609-7eec7880f28d"
    assert order.order_type == "PICKUP"
    assert order.is_test is False
    assert order.status is OrderStatus.PENDING
    assert order.currency == "SAR"
    assert order.placed_at == utc(2016, 3, 14, 17, 0)
    assert order.accept_by == utc(2016, 3, 14, 17, 15)
    assert order.expected_at == utc(2016, 3, 14, 17, 50)
    assert order.scheduled_at is None
    # Money: exact, at SAR precision (two decimals, as strings prove).
    assert str(order.total_amount) == "25.50"
    assert str(order.discount_amount) == "3.00"
    assert str(order.discount_by_sponsor("PLATFORM")) == "1.00"
    assert str(order.discount_by_sponsor("VENDOR")) == "1.00"
    assert str(order.discount_by_sponsor("THIRD_PARTY")) == "1.00"
    assert str(order.delivery_fee) == "2.50"
    assert str(order.tip_amount) == "1.20"
    assert str(order.tax_amount) == "2.50"
    assert str(order.service_fee) == "0.00"
    assert str(order.collect_from_customer) == "16.34"
    # No price.subTotal in the example: 12.00 (paidPrice, toppings excluded) + 1.50 (the topping).
    assert str(order.subtotal) == "13.50"
    assert order.payment_method == "paid"
    assert order.customer_name == "food panda"
    assert order.customer_email is None          # "s188sduisddsnjknsj" is not an e-mail address
    assert order.delivery_address == "Oranienburger Staße 67, 10117 Berlin"
    assert order.delivery_notes == "Please hurry, I am hungry"

    [item] = order.items
    assert item.name == "Double Cheese Burger"
    assert item.quantity == 2
    assert str(item.unit_price) == "6.00"
    assert str(item.line_total) == "12.00"
    assert item.local_product_id == "ID_FOR_DOUBLE_CHEESE_BURGER_ON_POS"
    assert item.platform_product_id == "ID_FOR_DOUBLE_CHEESE_BURGER_ON_PLATFORM"
    assert item.notes == "No cheese please"
    [topping] = item.modifiers
    assert topping.name == "extra cheese"
    assert str(topping.price) == "1.50"
    assert topping.quantity == 1
    assert topping.platform_id == "ID_FOR_EXTRA_CHEESE_ON_PLATFORM"
    assert topping.local_id == "ID_FOR_EXTRA_CHEESE_ON_POS"
    assert topping.children == []
    # The item keeps its own (product + topping) discounts, split by sponsor.
    assert sum(d.amount for d in item.discounts) == Decimal("3.00")
    assert {d.sponsor for d in item.discounts} == {"PLATFORM", "VENDOR", "THIRD_PARTY"}


def test_kwd_context_gives_three_decimals(talabat):
    order = parse_order(talabat, load("talabat-order-example.json"), currency="KWD", country="KW")
    assert str(order.total_amount) == "25.500"
    assert str(order.delivery_fee) == "2.500"
    assert str(order.discount_by_sponsor("VENDOR")) == "1.000"
    assert str(order.items[0].unit_price) == "6.000"
    assert str(order.items[0].modifiers[0].price) == "1.500"
    assert str(order.tip_amount) == "1.200"
    assert order.currency == "KWD"


def test_amounts_sent_as_numbers_are_read_exactly(talabat):
    payload = load("talabat-order-example.json")
    payload["price"]["grandTotal"] = 25.5
    payload["products"][0]["unitPrice"] = 6
    payload["price"]["vatTotal"] = 0.1 + 0.2     # a float's repr, rounded to the currency, not binary noise
    order = parse_order(talabat, payload)
    assert str(order.total_amount) == "25.50"
    assert str(order.items[0].unit_price) == "6.00"
    assert str(order.tax_amount) == "0.30"


def test_price_subtotal_wins_when_sent(talabat):
    payload = load("talabat-order-example.json")
    payload["price"]["subTotal"] = "14.00"
    assert str(parse_order(talabat, payload).subtotal) == "14.00"


def test_delivery_pre_order_test_order(talabat):
    payload = load("talabat-order-example.json")
    payload.update(expeditionType="delivery", preOrder=True, test=True)
    order = parse_order(talabat, payload)
    assert order.order_type == "DELIVERY"
    assert order.scheduled_at == utc(2016, 3, 14, 17, 50)
    assert order.is_test is True


def test_nested_toppings_order_discounts_and_a_variation(talabat):
    payload = load("talabat-order-example.json")
    product = payload["products"][0]
    product["variation"] = {"name": "Large"}
    product["selectedToppings"][0]["children"] = [
        {"name": "Cheddar", "price": "0.75", "quantity": 2, "id": "C1", "remoteCode": "CHED", "type": "EXTRA",
         "children": [{"name": "Smoked", "price": "0.25", "quantity": 1, "children": []}]},
    ]
    payload["discounts"] = [
        {"name": "Order promo", "amount": "2.00",
         "sponsorships": [{"sponsor": "PLATFORM", "amount": "2.00"}, {"sponsor": "VENDOR", "amount": "0"}]},
        {"name": "Unsplit", "amount": "0.40"},
    ]
    order = parse_order(talabat, payload)
    item = order.items[0]
    assert [m.name for m in item.modifiers] == ["Large", "extra cheese"]
    [cheddar] = item.modifiers[1].children
    assert (cheddar.name, cheddar.quantity, str(cheddar.price), cheddar.local_id) == ("Cheddar", 2, "0.75", "CHED")
    assert cheddar.children[0].name == "Smoked"
    assert str(order.subtotal) == "14.50"             # 12.00 + 1.50 + 0.75 + 0.25
    # The top-level discounts are the order's: they include the items' 3.00, which is not added again.
    assert str(order.discount_amount) == "2.40"       # 2.00 + 0.40
    assert str(order.discount_by_sponsor("PLATFORM")) == "2.00"
    assert order.discount_by_sponsor("VENDOR") == 0
    assert str(order.discount_by_sponsor(SPONSOR_UNKNOWN)) == "0.40"   # no sponsorships: payer not given
    assert sum(d.amount for d in item.discounts) == Decimal("3.00")   # the line still shows its own


def test_item_discounts_included_in_the_top_level_are_not_counted_twice(talabat):
    """DH: product and topping discounts are included in the top-level `discounts`."""
    payload = load("talabat-order-example.json")
    payload["discounts"] = [{"name": "First order", "amount": "3.00", "sponsorships": [
        {"sponsor": "PLATFORM", "amount": "1.00"}, {"sponsor": "VENDOR", "amount": "1.00"},
        {"sponsor": "THIRD_PARTY", "amount": "1.00"}]}]
    order = parse_order(talabat, payload)
    assert str(order.discount_amount) == "3.00"
    assert [(d.name, str(d.amount), d.sponsor) for d in order.discounts] == [
        ("First order", "1.00", "PLATFORM"), ("First order", "1.00", "VENDOR"), ("First order", "1.00", "THIRD_PARTY")]
    assert [str(d.amount) for d in order.items[0].discounts] == ["0.50"] * 6   # product and topping, for display


@pytest.mark.parametrize("top_level", [None, []])
def test_without_top_level_discounts_the_item_discounts_are_summed(talabat, top_level):
    payload = load("talabat-order-example.json")
    payload["discounts"] = top_level
    order = parse_order(talabat, payload)
    assert str(order.discount_amount) == "3.00"       # 1.50 on the product + 1.50 on the topping
    assert {d.sponsor: str(order.discount_by_sponsor(d.sponsor)) for d in order.discounts} == {
        "PLATFORM": "1.00", "VENDOR": "1.00", "THIRD_PARTY": "1.00"}


@pytest.mark.parametrize("sponsorships, split", [
    (None, {SPONSOR_UNKNOWN: "5.00"}),
    ([], {SPONSOR_UNKNOWN: "5.00"}),
    ([{"sponsor": "PLATFORM", "amount": "2.00"}], {"PLATFORM": "2.00", SPONSOR_UNKNOWN: "3.00"}),
    ([{"sponsor": "PLATFORM", "amount": "2.00"}, {"sponsor": "VENDOR", "amount": "3.00"}],
     {"PLATFORM": "2.00", "VENDOR": "3.00"}),
])
def test_what_the_sponsorships_leave_unsplit_has_no_known_payer(talabat, sponsorships, split):
    """Not the restaurant's and not dropped: the analytics' "Discounts, payer not given"."""
    payload = load("talabat-order-example.json")
    discount = {"name": "Weekend", "amount": "5.00"}
    if sponsorships is not None:
        discount["sponsorships"] = sponsorships
    payload["discounts"] = [discount]
    order = parse_order(talabat, payload)
    assert str(order.discount_amount) == "5.00"
    assert {d.sponsor: str(d.amount) for d in order.discounts} == split


def test_unsplit_item_discounts_count_when_the_order_has_no_top_level(talabat):
    payload = load("talabat-order-example.json")
    product = payload["products"][0]
    product["discounts"] = [{"name": "Item deal", "amount": "1.50"}]
    product["selectedToppings"][0]["discounts"][0]["sponsorships"] = [{"sponsor": "VENDOR", "amount": "1.00"}]
    order = parse_order(talabat, payload)
    assert str(order.discount_amount) == "3.00"
    assert str(order.discount_by_sponsor("VENDOR")) == "1.00"
    assert str(order.discount_by_sponsor(SPONSOR_UNKNOWN)) == "2.00"   # 1.50 + the topping's unsplit 0.50


@pytest.mark.parametrize("raw", ["+966 50 123 4567", "0501234567", "966501234567", "+966501234567",
                                 "٠٥٠١٢٣٤٥٦٧"])
def test_customer_phone_is_normalised_to_e164(talabat, raw):
    payload = load("talabat-order-example.json")
    payload["customer"]["mobilePhone"] = raw
    assert parse_order(talabat, payload, country="SA").customer_phone == "+966501234567"


def test_arabic_text_is_preserved(talabat):
    payload = load("talabat-order-example.json")
    payload["customer"].update(firstName="محمد", lastName="العتيبي", email="m@example.com")
    payload["comments"]["customerComment"] = "بدون بصل من فضلك"
    payload["products"][0]["name"] = "برجر دبل تشيز"
    payload["products"][0]["comment"] = "حار"
    payload["delivery"]["address"] = {"street": "طريق الملك فهد", "number": "12", "city": "الرياض",
                                      "deliveryInstructions": "الباب الخلفي"}
    order = parse_order(talabat, payload)
    assert order.customer_name == "محمد العتيبي"
    assert order.customer_email == "m@example.com"
    assert order.delivery_notes == "بدون بصل من فضلك\nالباب الخلفي"
    assert order.items[0].name == "برجر دبل تشيز"
    assert order.items[0].notes == "حار"
    assert order.delivery_address == "طريق الملك فهد 12, الرياض"


def test_an_order_can_arrive_without_a_path(talabat):
    event = talabat.parse_webhook(load("talabat-order-example.json"), ParseContext())
    assert event.kind == "order" and event.order.platform_order_id == "n0s1-w0k1"


# ------------------------------------------------------------------------- unreadable orders


def broken(mutate):
    payload = load("talabat-order-example.json")
    mutate(payload)
    return payload


@pytest.mark.parametrize("payload, message", [
    ([load("talabat-order-example.json")], "body is not a JSON object"),
    ("just text", "body is not a JSON object"),
    (broken(lambda p: p.pop("code")), "code is missing"),
    (broken(lambda p: p.update(code="")), "code is missing"),
    (broken(lambda p: p.pop("token")), "token is missing"),
    (broken(lambda p: p["price"].update(grandTotal="abc")), "price.grandTotal: 'abc' is not an amount"),
    (broken(lambda p: p["price"].pop("grandTotal")), "price.grandTotal is missing"),
    (broken(lambda p: p["price"].update(grandTotal="-1.00")), "price.grandTotal: '-1.00' must not be negative"),
    (broken(lambda p: p["price"].update(grandTotal=True)), "price.grandTotal: expected an amount, got a boolean"),
    (broken(lambda p: p["price"].update(riderTip="NaN")), "price.riderTip: 'NaN' is not an amount"),
    (broken(lambda p: p.pop("price")), "price is missing"),
    (broken(lambda p: p["products"][0].update(quantity="-2")), "products[0].quantity: -2 must not be negative"),
    (broken(lambda p: p["products"][0].update(quantity="two")), "products[0].quantity: 'two' is not a quantity"),
    (broken(lambda p: p["products"][0].update(quantity="1.5")), "products[0].quantity: 1.5 is not a whole quantity"),
    (broken(lambda p: p["products"][0].update(unitPrice="6,00")), "products[0].unitPrice: '6,00' is not an amount"),
    (broken(lambda p: p["products"][0].pop("name")), "products[0].name is missing"),
    (broken(lambda p: p.update(products={"a": 1})), "products: expected an array, got an object"),
    (broken(lambda p: p.update(products=["burger"])), "products[0]: expected an object, got the text 'burger'"),
    (broken(lambda p: p["products"][0]["selectedToppings"][0].update(price="x")),
     "products[0].selectedToppings[0].price: 'x' is not an amount"),
    (broken(lambda p: p["products"][0]["discounts"][0]["sponsorships"][0].update(sponsor="BANK")),
     "products[0].discounts[0].sponsorships[0].sponsor: expected one of PLATFORM, VENDOR, THIRD_PARTY"),
    (broken(lambda p: p.update(expeditionType="drone")), "expeditionType: unknown value 'drone'"),
    (broken(lambda p: p.update(test="no")), "test: expected true or false"),
    (broken(lambda p: p.update(expiryDate="tomorrow")), "expiryDate: 'tomorrow' is not an ISO-8601 timestamp"),
    (broken(lambda p: p.update(customer=["x"])), "customer: expected an object, got an array"),
    (broken(lambda p: p["price"]["deliveryFees"][0].update(value="free")),
     "price.deliveryFees[0].value: 'free' is not an amount"),
])
def test_unreadable_orders_raise_precise_payload_errors(talabat, payload, message):
    with pytest.raises(PayloadError) as error:
        talabat.parse_webhook(payload, ParseContext(path=ORDER_PATH))
    assert message in error.value.message
    assert error.value.status_code == 422


def test_toppings_nested_too_deep_are_refused(talabat):
    payload = load("talabat-order-example.json")
    topping = payload["products"][0]["selectedToppings"][0]
    for _ in range(12):
        child = {"name": "deeper", "price": "0", "quantity": 1, "children": []}
        topping["children"] = [child]
        topping = child
    with pytest.raises(PayloadError, match="nested deeper"):
        parse_order(talabat, payload)


# ------------------------------------------------------------------------- status and catalog webhooks


def test_pos_order_status_example_cancels_the_order(talabat):
    event = talabat.parse_webhook(load("talabat-pos-order-status-webhook.reconstructed.json"),
                                  ParseContext(path=STATUS_PATH))
    assert event.kind == "status"
    assert event.event_type == "ORDER_CANCELLED"
    assert event.event_id == "n0s1-w0k1:ORDER_CANCELLED:2016-03-14T17:10:00.000Z"
    assert event.status.platform_order_id == "n0s1-w0k1"
    assert event.status.status is OrderStatus.CANCELLED
    assert event.status.reason == "string"
    assert event.status.occurred_at == utc(2016, 3, 14, 17, 10)
    assert event.order is None


def test_picked_up_means_out_for_delivery(talabat):
    event = talabat.parse_webhook({"status": "ORDER_PICKED_UP", "occurredAt": "2016-03-14T17:40:00.000Z"},
                                  ParseContext(path="/" + STATUS_PATH + "/"))
    assert event.kind == "status"
    assert event.status.status is OrderStatus.OUT_FOR_DELIVERY
    assert event.status.reason is None


def test_status_mapping_table():
    assert POS_STATUSES == {"ORDER_CANCELLED": OrderStatus.CANCELLED,
                            "ORDER_PICKED_UP": OrderStatus.OUT_FOR_DELIVERY}


@pytest.mark.parametrize("status", IGNORED_POS_STATUSES + ("SOMETHING_NEW",))
def test_other_pos_statuses_are_ignored_but_kept(talabat, status):
    event = talabat.parse_webhook({"status": status, "message": "m", "occurredAt": "2016-03-14T17:10:00Z"},
                                  ParseContext(path=STATUS_PATH))
    assert event.kind == "ignored"
    assert event.status is None
    assert event.details["status"] == status
    assert event.details["remote_order_id"] == "n0s1-w0k1"
    assert event.event_id == f"n0s1-w0k1:{status}:2016-03-14T17:10:00Z"


@pytest.mark.parametrize("payload, path, message", [
    ({"message": "x"}, STATUS_PATH, "status is missing"),
    ({"status": 3}, STATUS_PATH, "status: expected text"),
    ({"status": "ORDER_CANCELLED"}, "remoteId/x/remoteOrder/posOrderStatus", "unknown Delivery Hero webhook path"),
    ({"status": "ORDER_CANCELLED"}, "somewhere/else", "unknown Delivery Hero webhook path"),
    ({"status": "ORDER_CANCELLED", "occurredAt": "yesterday"}, STATUS_PATH, "occurredAt"),
])
def test_unreadable_status_webhooks(talabat, payload, path, message):
    with pytest.raises(PayloadError, match=message):
        talabat.parse_webhook(payload, ParseContext(path=path))


@pytest.mark.parametrize("path", ["catalog", "catalog-import/callback", ""])
def test_catalog_import_callback(talabat, path):
    event = talabat.parse_webhook(load("talabat-catalog-import-callback.reconstructed.json"), ParseContext(path=path))
    assert event.kind == "catalog"
    assert event.event_type == "CATALOG_IMPORT"
    assert event.details["status"] == "done_with_errors"
    assert event.details["message"] == "string"
    assert event.details["details"][0]["posVendorId"] == "string"
    assert event.event_id == "string:done_with_errors"


def test_menu_import_request_needs_no_body(talabat):
    event = talabat.parse_webhook(None, ParseContext(path="menuimport/sample-vendor-1"))
    assert event.kind == "catalog"
    assert event.event_type == "MENU_IMPORT_REQUEST"
    assert event.details == {"remote_id": "sample-vendor-1"}


def test_ack_answers_the_order_with_the_dh_code(talabat):
    order_event = talabat.parse_webhook(load("talabat-order-example.json"), ParseContext(path=ORDER_PATH))
    assert talabat.ack_body(order_event, order_id="our-row-id") == {"remoteResponse": {"remoteOrderId": "n0s1-w0k1"}}
    status_event = talabat.parse_webhook(load("talabat-pos-order-status-webhook.reconstructed.json"),
                                         ParseContext(path=STATUS_PATH))
    assert talabat.ack_body(status_event) == {"status": "ok"}


def test_hungerstation_reads_the_same_format():
    order = parse_order(adapter_for("hungerstation"), load("talabat-order-example.json"))
    assert str(order.total_amount) == "25.50"


# ------------------------------------------------------------------------- our calls to the middleware


def dh_order(order_type="DELIVERY", rider_pickup="2016-03-14T17:35:00.000Z", platform_data=True):
    data = {"delivery": {"riderPickupTime": rider_pickup}} if platform_data else None
    return SimpleNamespace(platform_order_id="n0s1-w0k1", platform_token="tok-1", order_type=order_type,
                           platform_data=data)


def test_accept(talabat):
    request = talabat.status_request(dh_order(), OrderStatus.ACCEPTED, now=NOW)
    assert (request.method, request.path) == ("POST", "/v2/order/status/tok-1")
    assert request.json == {"status": "order_accepted", "acceptanceTime": "2025-05-01T08:30:00.000Z",
                            "remoteOrderId": "n0s1-w0k1"}
    callbacks = load("talabat-order-status-callbacks.reconstructed.json")
    assert set(request.json) == set(callbacks["accept"])


def test_accept_with_preparation_time_promises_the_ready_time(talabat):
    request = talabat.status_request(dh_order(), "ACCEPTED", preparation_minutes=20, now=NOW)
    assert request.json["acceptanceTime"] == "2025-05-01T08:50:00.000Z"
    with pytest.raises(ValueError):
        talabat.status_request(dh_order(), OrderStatus.ACCEPTED, preparation_minutes=0, now=NOW)


@pytest.mark.parametrize("status", [OrderStatus.REJECTED, OrderStatus.CANCELLED])
def test_reject_and_cancel_send_a_valid_reason(talabat, status):
    request = talabat.status_request(dh_order(), status, reason="ITEM_UNAVAILABLE")
    assert (request.method, request.path) == ("POST", "/v2/order/status/tok-1")
    assert request.json == {"status": "order_rejected", "reason": "ITEM_UNAVAILABLE", "message": ""}
    assert request.json.keys() == load("talabat-order-status-callbacks.reconstructed.json")["reject"].keys()


@pytest.mark.parametrize("reason", [None, "", "item_unavailable", "KITCHEN_BUSY", "Item unavailable"])
def test_reject_reason_must_be_one_of_the_24(talabat, reason):
    with pytest.raises(ValueError, match="reject reason"):
        talabat.status_request(dh_order(), OrderStatus.REJECTED, reason=reason)


def test_all_24_reject_reasons_are_accepted(talabat):
    assert len(REJECT_REASONS) == 24
    for code, _label in REJECT_REASONS:
        assert talabat.status_request(dh_order(), OrderStatus.REJECTED, reason=code).json["reason"] == code


def test_ready_is_sent_only_when_a_dh_rider_collects(talabat):
    request = talabat.status_request(dh_order(), OrderStatus.READY_FOR_PICKUP)
    assert (request.method, request.path, request.json) == ("POST", "/v2/orders/tok-1/preparation-completed", None)
    assert talabat.status_request(dh_order(platform_data=False), OrderStatus.READY_FOR_PICKUP) is not None
    assert talabat.status_request(dh_order(order_type="PICKUP"), OrderStatus.READY_FOR_PICKUP) is None
    assert talabat.status_request(dh_order(rider_pickup=None), OrderStatus.READY_FOR_PICKUP) is None


def test_picked_up_is_sent_only_for_pickup_or_vendor_delivery(talabat):
    for order in (dh_order(order_type="PICKUP"), dh_order(rider_pickup=None)):
        request = talabat.status_request(order, OrderStatus.OUT_FOR_DELIVERY)
        assert (request.path, request.json) == ("/v2/order/status/tok-1", {"status": "order_picked_up"})
    assert talabat.status_request(dh_order(), OrderStatus.OUT_FOR_DELIVERY) is None


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.IN_PREPARATION, OrderStatus.DELIVERED])
def test_statuses_without_a_call(talabat, status):
    assert talabat.status_request(dh_order(), status) is None


def test_status_calls_need_the_token(talabat):
    with pytest.raises(ValueError, match="platform_token"):
        talabat.status_request(SimpleNamespace(platform_order_id="x", platform_token=None, order_type="DELIVERY"),
                               OrderStatus.ACCEPTED)


def test_availability_is_chunked_by_100(talabat):
    items = [(f"P{i}", i % 2 == 0) for i in range(250)]
    requests = talabat.availability_requests(items)
    assert [len(r.json["products"]) for r in requests] == [100, 100, 50]
    assert {(r.method, r.path) for r in requests} == {("PUT", "/v2/catalog/availability")}
    assert requests[0].json["products"][:2] == [{"remoteCode": "P0", "active": True},
                                                {"remoteCode": "P1", "active": False}]
    assert talabat.availability_requests([]) == []


def test_store_open_close_and_timed_pause(talabat):
    opened = talabat.store_status_request(True, store_id="sample-vendor-1", now=NOW)
    assert (opened.method, opened.path) == ("PUT", "/remoteId/sample-vendor-1/availability")
    assert opened.json == {"timestamp": "2025-05-01T08:30:00.000Z", "closures": []}
    paused = talabat.store_status_request(False, minutes=30, store_id="sample-vendor-1", now=NOW)
    assert paused.json["closures"] == [{"reason": "TOO_BUSY_KITCHEN", "start": "2025-05-01T08:30:00.000Z",
                                        "end": "2025-05-01T09:00:00.000Z", "changeable": True}]
    closed = talabat.store_status_request(False, reason="HOLIDAY_SPECIAL_DAY", store_id="v", now=NOW)
    assert closed.json["closures"] == [{"reason": "HOLIDAY_SPECIAL_DAY", "start": "2025-05-01T08:30:00.000Z",
                                        "changeable": True}]
    with pytest.raises(ValueError, match="closure reason"):
        talabat.store_status_request(False, reason="LUNCH", store_id="v", now=NOW)
    with pytest.raises(ValueError, match="remote id"):
        talabat.store_status_request(False)


def test_menu_push(talabat):
    items = [
        {"local_product_id": "BURGER", "platform_product_id": "BURGER", "name": "Burger", "name_ar": "برجر",
         "price": Decimal("6"), "available": True, "category": "Burgers"},
        {"local_product_id": "COLA", "platform_product_id": None, "name": "Cola", "name_ar": None,
         "price": Decimal("1.5"), "available": False, "category": "Drinks"},
    ]
    request = talabat.menu_request(items, store_id="sample-vendor-1", merchant_id="chain-9", currency="SAR")
    assert (request.method, request.path) == ("PUT", "/v2/chains/chain-9/catalog")
    assert request.json["vendors"] == ["sample-vendor-1"]
    catalog = request.json["catalog"]["items"]
    assert catalog["BURGER"] == {"id": "BURGER", "type": "Product", "title": {"default": "Burger", "ar": "برجر"},
                                 "price": "6.00", "active": True}
    assert catalog["COLA"]["price"] == "1.50" and catalog["COLA"]["active"] is False
    assert catalog["category-burgers"]["products"] == {"BURGER": {"id": "BURGER", "type": "Product", "order": 1}}
    assert set(catalog["menu-delivery"]["products"]) == {"BURGER", "COLA"}
    with pytest.raises(ValueError):
        talabat.menu_request(items, store_id="sample-vendor-1")


def test_a_parsed_order_can_be_answered(talabat):
    """The UnifiedOrder itself carries what the status calls need."""
    order = parse_order(talabat, copy.deepcopy(load("talabat-order-example.json")))
    request = talabat.status_request(order, OrderStatus.ACCEPTED, now=NOW)
    assert request.path == f"/v2/order/status/{order.platform_token}"
    assert request.json["remoteOrderId"] == "n0s1-w0k1"
