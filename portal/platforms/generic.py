"""The generic webhook format for DHUB, Nashmi, Top Delivery, Jood Delivery, Yallow and Tawasi.

None of these platforms publishes developer documentation, so they share one documented format
(docs/GENERIC_WEBHOOKS.md): an HMAC-SHA256 of `<timestamp>.<raw body>` in `X-Signature`, with the
Unix timestamp in `X-Timestamp` (±5 minutes), and an order/status JSON shape of our own. Replace an
adapter here with a real one once a platform's partner documentation is obtained.
"""
import hashlib
import hmac
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from ..models import DeliveryPlatform, OrderStatus
from ..phones import normalize_phone
from .base import (Capabilities, Discount, Modifier, OrderItem, OutboundRequest, PayloadError, PlatformAdapter,
                   SignatureError, StatusUpdate, UnifiedOrder, WebhookEvent)
from .parsing import (ZERO, arr, boolean, check_choice, chunks, currency_quantum, header, identifier, iso_utc, money,
                      obj, positive_minutes, quantity, round_money, text, timestamp, utc, word)

GENERIC_PLATFORMS = {  # (display name, brand colour)
    DeliveryPlatform.DHUB: ("DHUB", "#e11d48"),
    DeliveryPlatform.NASHMI: ("Nashmi", "#7c3aed"),
    DeliveryPlatform.TOP_DELIVERY: ("Top Delivery", "#0ea5e9"),
    DeliveryPlatform.JOOD_DELIVERY: ("Jood Delivery", "#a16207"),
    DeliveryPlatform.YALLOW: ("Yallow", "#facc15"),
    DeliveryPlatform.TAWASI: ("Tawasi", "#0f766e"),
}
REJECT_REASONS = (
    ("ITEM_UNAVAILABLE", _l("Item unavailable")),
    ("TOO_BUSY", _l("Too busy")),
    ("CLOSED", _l("Closed")),
    ("OUTSIDE_DELIVERY_AREA", _l("Outside delivery area")),
    ("TECHNICAL_PROBLEM", _l("Technical problem")),
    ("OTHER", _l("Other")),
)
TIMESTAMP_HEADER = "X-Timestamp"
SIGNATURE_HEADER = "X-Signature"
API_KEY_HEADER = "X-Api-Key"
TOLERANCE_SECONDS = 300
EVENTS = ("order.created", "order.status_changed")
# The status words of the format, both ways.
STATUS_WORDS = {
    "new": OrderStatus.PENDING,
    "accepted": OrderStatus.ACCEPTED,
    "preparing": OrderStatus.IN_PREPARATION,
    "ready": OrderStatus.READY_FOR_PICKUP,
    "picked_up": OrderStatus.OUT_FOR_DELIVERY,
    "delivered": OrderStatus.DELIVERED,
    "cancelled": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
}
WORDS_BY_STATUS = {status: word for word, status in STATUS_WORDS.items()}
ORDER_TYPES = {"delivery": "DELIVERY", "pickup": "PICKUP"}
SPONSORS = {"platform": "PLATFORM", "restaurant": "VENDOR", "third_party": "THIRD_PARTY"}
SPONSOR_WORDS = {sponsor: word for word, sponsor in SPONSORS.items()}
MAX_MODIFIER_DEPTH = 10


def signature(secret, timestamp_value, raw_body):
    """Hex HMAC-SHA256 of `<timestamp>.` + raw body with the shared secret."""
    return hmac.new(secret.encode("utf-8"), f"{timestamp_value}.".encode("ascii") + raw_body,
                    hashlib.sha256).hexdigest()


class GenericAdapter(PlatformAdapter):
    capabilities = Capabilities(busy_mode=True, timed_pause=False, store_close=True, item_snooze=True,
                                prep_time_change=False, mark_prepared=True, picked_up=True,
                                max_items_per_availability_call=100, menu_import=True)
    reject_reasons = REJECT_REASONS
    cancel_reasons = REJECT_REASONS
    credential_fields = (
        ("api_key", _l("API key"), True),
        ("api_secret", _l("API secret"), True),
        ("store_id", _l("Store id"), True),
        ("merchant_id", _l("Merchant id"), False),
    )

    family = "generic"

    def __init__(self, platform, display_name, brand_colour=None):
        self.platform = platform
        self.display_name = display_name
        self.brand_colour = brand_colour
        self.webhook_user_agent = f"{platform.value.title()}-Webhooks"

    # ----------------------------------------------------------------- authentication

    def verify(self, headers, raw_body, secret, now=None):
        """Check X-Signature (hex HMAC-SHA256 of `<X-Timestamp>.<body>`) and a timestamp within ±5 minutes."""
        if not secret:
            raise SignatureError("no webhook secret configured")
        sent_at = header(headers, TIMESTAMP_HEADER)
        if not sent_at:
            raise SignatureError(f"missing {TIMESTAMP_HEADER} header")
        given = header(headers, SIGNATURE_HEADER)
        if not given:
            raise SignatureError(f"missing {SIGNATURE_HEADER} header")
        if not (sent_at.isascii() and sent_at.isdigit()):
            raise SignatureError(f"{TIMESTAMP_HEADER} is not Unix seconds")
        if given[:7].lower() == "sha256=":
            given = given[7:]
        expected = signature(secret, sent_at, raw_body or b"")
        if not hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("utf-8")):
            raise SignatureError("signature mismatch")
        if abs(utc(now).timestamp() - int(sent_at)) > TOLERANCE_SECONDS:
            raise SignatureError("timestamp outside tolerance")

    def sign(self, raw_body, secret, now=None):
        """X-Timestamp and X-Signature for `raw_body` (also how our own calls to the partner are signed)."""
        if not secret:
            raise ValueError("a secret is needed to sign")
        sent_at = str(int(utc(now).timestamp()))
        return {TIMESTAMP_HEADER: sent_at, SIGNATURE_HEADER: f"sha256={signature(secret, sent_at, raw_body)}"}

    # ----------------------------------------------------------------- inbound

    def parse_webhook(self, payload, context):
        """order.created → an order; order.status_changed → a status change (with the order when sent whole)."""
        if not isinstance(payload, dict):
            raise PayloadError("body is not a JSON object")
        event = word(payload.get("event"), "event")
        if event is None:
            raise PayloadError("event is missing")
        if event not in EVENTS:
            raise PayloadError(f"event: unknown value {event!r} (expected {' or '.join(EVENTS)})")
        event_id = identifier(payload.get("event_id"), "event_id")
        occurred_at = timestamp(payload.get("occurred_at"), "occurred_at")
        raw_order = obj(payload.get("order"), "order")
        if event == "order.created":
            order = self.parse_order(raw_order, context)
            return WebhookEvent(kind="order", event_type=event, event_id=event_id, order=order,
                                details={"occurred_at": payload.get("occurred_at")})
        order_id = identifier(raw_order.get("id"), "order.id")
        status = self._status(raw_order.get("status"), "order.status", required=True)
        reason = text(payload.get("reason"), "reason")
        order = self.parse_order(raw_order, context) if ("items" in raw_order or "totals" in raw_order) else None
        details = {"status": WORDS_BY_STATUS[status], "reason": reason}
        if status is OrderStatus.PENDING:
            return WebhookEvent(kind="ignored", event_type=event, event_id=event_id, order=order, details=details)
        update = StatusUpdate(platform_order_id=order_id, status=status, reason=reason, occurred_at=occurred_at)
        return WebhookEvent(kind="status", event_type=event, event_id=event_id, order=order, status=update,
                            details=details)

    def parse_order(self, raw, context):
        """The `order` object of the generic format as a UnifiedOrder."""
        raw = obj(raw, "order")
        currency = text(raw.get("currency"), "order.currency")
        if currency is None:
            raise PayloadError("order.currency is missing")
        if currency.upper() != (context.currency or "").upper():
            raise PayloadError(f"order.currency: {currency!r} is not this integration's currency {context.currency!r}")
        q = currency_quantum(context.currency)
        order_id = identifier(raw.get("id"), "order.id")
        customer = obj(raw.get("customer"), "order.customer", required=False)
        delivery = obj(raw.get("delivery"), "order.delivery", required=False)
        payment = obj(raw.get("payment"), "order.payment", required=False)
        totals = obj(raw.get("totals"), "order.totals")
        order_type = word(raw.get("type"), "order.type") or "delivery"
        if order_type not in ORDER_TYPES:
            raise PayloadError(f"order.type: expected delivery or pickup, got {order_type!r}")
        raw_items = arr(raw.get("items"), "order.items", required=True)
        if not raw_items:
            raise PayloadError("order.items is empty")
        items = [self._item(item, f"order.items[{index}]", q) for index, item in enumerate(raw_items)]
        discounts = []
        for index, entry in enumerate(arr(raw.get("discounts"), "order.discounts")):
            where = f"order.discounts[{index}]"
            entry = obj(entry, where)
            sponsor = word(entry.get("sponsor"), f"{where}.sponsor") or "restaurant"
            if sponsor not in SPONSORS:
                raise PayloadError(f"{where}.sponsor: expected platform, restaurant or third_party, got {sponsor!r}")
            discounts.append(Discount(name=text(entry.get("name"), f"{where}.name") or "Discount",
                                      amount=money(entry.get("amount"), f"{where}.amount", q, required=True),
                                      sponsor=SPONSORS[sponsor]))
        subtotal = money(totals.get("subtotal"), "order.totals.subtotal", q)
        if subtotal is None:
            subtotal = round_money(sum((item.line_total for item in items), ZERO), q)
        return UnifiedOrder(
            platform_order_id=order_id,
            order_number=text(raw.get("number"), "order.number") or order_id,
            status=self._status(raw.get("status"), "order.status") or OrderStatus.PENDING,
            short_code=text(raw.get("short_code"), "order.short_code"),
            order_type=ORDER_TYPES[order_type],
            is_test=boolean(raw.get("test"), "order.test"),
            currency=context.currency,
            subtotal=subtotal,
            discounts=discounts,
            delivery_fee=money(totals.get("delivery_fee"), "order.totals.delivery_fee", q, default=ZERO),
            service_fee=money(totals.get("service_fee"), "order.totals.service_fee", q, default=ZERO),
            tax_amount=money(totals.get("tax"), "order.totals.tax", q, default=ZERO),
            tip_amount=money(totals.get("tip"), "order.totals.tip", q, default=ZERO),
            total_amount=money(totals.get("total"), "order.totals.total", q, required=True),
            collect_from_customer=money(totals.get("collect_from_customer"), "order.totals.collect_from_customer", q),
            payment_method=text(payment.get("method"), "order.payment.method"),
            customer_name=text(customer.get("name"), "order.customer.name"),
            customer_phone=normalize_phone(text(customer.get("phone"), "order.customer.phone"), context.country_code),
            customer_email=text(customer.get("email"), "order.customer.email"),
            delivery_address=text(delivery.get("address"), "order.delivery.address"),
            delivery_notes=text(delivery.get("notes"), "order.delivery.notes"),
            placed_at=timestamp(raw.get("placed_at"), "order.placed_at"),
            accept_by=timestamp(raw.get("accept_by"), "order.accept_by"),
            expected_at=timestamp(raw.get("expected_at"), "order.expected_at"),
            scheduled_at=timestamp(raw.get("scheduled_for"), "order.scheduled_for"),
            items=items,
        )

    @staticmethod
    def _status(value, where, required=False):
        """A status word of the format as an OrderStatus (None when missing and optional)."""
        status_word = word(value, where)
        if status_word is None:
            if required:
                raise PayloadError(f"{where} is missing")
            return None
        try:
            return STATUS_WORDS[status_word]
        except KeyError:
            raise PayloadError(f"{where}: unknown status {status_word!r} (expected one of {', '.join(STATUS_WORDS)})") \
                from None

    def _item(self, raw, where, q):
        """One line: item × quantity, its modifiers, and its total (quantity × unit and modifiers when omitted)."""
        item = obj(raw, where)
        name = text(item.get("name"), f"{where}.name")
        if name is None:
            raise PayloadError(f"{where}.name is missing")
        count = quantity(item.get("quantity"), f"{where}.quantity")
        unit_price = money(item.get("unit_price"), f"{where}.unit_price", q, required=True)
        modifiers = self._modifiers(item.get("modifiers"), f"{where}.modifiers", q, 1)
        line_total = money(item.get("total"), f"{where}.total", q)
        if line_total is None:
            line_total = round_money((unit_price + _modifiers_total(modifiers)) * count, q)
        return OrderItem(name=name, quantity=count, unit_price=unit_price, line_total=line_total,
                         platform_product_id=text(item.get("id"), f"{where}.id"),
                         local_product_id=text(item.get("plu"), f"{where}.plu"), modifiers=modifiers,
                         notes=text(item.get("notes"), f"{where}.notes"))

    def _modifiers(self, raw, where, q, depth):
        """Modifiers and their nested modifiers."""
        if depth > MAX_MODIFIER_DEPTH:
            raise PayloadError(f"{where}: modifiers nested deeper than {MAX_MODIFIER_DEPTH} levels")
        result = []
        for index, entry in enumerate(arr(raw, where)):
            here = f"{where}[{index}]"
            entry = obj(entry, here)
            name = text(entry.get("name"), f"{here}.name")
            if name is None:
                raise PayloadError(f"{here}.name is missing")
            result.append(Modifier(name=name, quantity=quantity(entry.get("quantity"), f"{here}.quantity", default=1),
                                   price=money(entry.get("price"), f"{here}.price", q, default=ZERO),
                                   platform_id=text(entry.get("id"), f"{here}.id"),
                                   local_id=text(entry.get("plu"), f"{here}.plu"),
                                   children=self._modifiers(entry.get("modifiers"), f"{here}.modifiers", q,
                                                            depth + 1)))
        return result

    # ----------------------------------------------------------------- outbound

    def status_request(self, order, status, reason=None, preparation_minutes=None, *, now=None):
        """POST /orders/{id}/status with the status word (and reason / preparation minutes)."""
        status = OrderStatus(status)
        if status is OrderStatus.PENDING:
            return None
        order_id = getattr(order, "platform_order_id", None)
        if not order_id:
            raise ValueError("an order needs its platform_order_id for status calls")
        body = {"status": WORDS_BY_STATUS[status]}
        if status in (OrderStatus.REJECTED, OrderStatus.CANCELLED):
            body["reason"] = check_choice(reason, REJECT_REASONS, f"{self.display_name} reason")
        elif reason:
            body["reason"] = reason
        if preparation_minutes is not None and status is OrderStatus.ACCEPTED:
            body["preparation_minutes"] = positive_minutes(preparation_minutes, "preparation_minutes")
        return OutboundRequest("POST", f"/orders/{order_id}/status", json=body,
                               description=f"Order {WORDS_BY_STATUS[status]}")

    def availability_requests(self, items, *, store_id=None):
        """POST /items/availability with [{id, available}], 100 items per call."""
        requests = []
        for chunk in chunks(list(items), self.capabilities.max_items_per_availability_call):
            body = {"items": [{"id": _item_id(item_id), "available": bool(available)} for item_id, available in chunk]}
            if store_id:
                body["store_id"] = store_id
            requests.append(OutboundRequest("POST", "/items/availability", json=body,
                                            description=f"Availability of {len(chunk)} items"))
        return requests

    def store_status_request(self, open_, minutes=None, reason=None, *, store_id=None, now=None):
        """POST /store/status {open, minutes, reason}."""
        body = {"open": bool(open_), "minutes": positive_minutes(minutes) if minutes is not None else None,
                "reason": reason}
        if store_id:
            body["store_id"] = store_id
        return OutboundRequest("POST", "/store/status", json=body,
                               description="Store open" if open_ else "Store closed")

    def menu_request(self, items, *, store_id=None, merchant_id=None, currency=None, diff=False):
        """PUT /menu with the mapped items (prices as decimal strings); `"diff": true` for changes only."""
        q = currency_quantum(currency) if currency else None
        entries = []
        for item in items:
            price = item.get("price")
            if price is None:
                raise ValueError(f"item {item.get('name')!r} has no price")
            entry = {"id": item.get("platform_product_id"), "plu": item.get("local_product_id"),
                     "name": item.get("name"), "name_ar": item.get("name_ar"),
                     "price": _money_text(price, q), "available": bool(item.get("available", True)),
                     "category": item.get("category")}
            if item.get("description"):
                entry["description"] = item["description"]
            if item.get("modifier_groups"):
                entry["modifier_groups"] = [
                    {"id": group.get("id"), "name": group.get("name"), "name_ar": group.get("name_ar"),
                     "min": int(group.get("min", 0)), "max": int(group.get("max", 1)),
                     "options": [{"id": option.get("id"), "name": option.get("name"), "name_ar": option.get("name_ar"),
                                  "price": _money_text(option.get("price") or 0, q),
                                  "available": bool(option.get("available", True))}
                                 for option in group.get("options", [])]}
                    for group in item["modifier_groups"]]
            entries.append(entry)
        body = {"items": entries}
        if diff:
            body["diff"] = True
        if store_id:
            body["store_id"] = store_id
        if currency:
            body["currency"] = currency
        return OutboundRequest("PUT", "/menu", json=body, description=f"Menu of {len(entries)} items")

    def menu_import_request(self, *, store_id=None, merchant_id=None):
        """GET /menu: the platform's menu in the generic format (docs/GENERIC_WEBHOOKS.md)."""
        return OutboundRequest("GET", "/menu" + (f"?store_id={store_id}" if store_id else ""),
                               description="Read the platform's menu")

    def parse_menu_import(self, payload):
        """`{"items": [{"id", "plu", "name", "price", "category", "available"}]}` as import dicts."""
        body = obj(payload, "menu")
        result = []
        for index, raw in enumerate(arr(body.get("items"), "items")):
            where = f"items[{index}]"
            item = obj(raw, where)
            product_id = identifier(item.get("id"), f"{where}.id")
            if product_id is None:
                raise PayloadError(f"{where}.id is missing")
            price = item.get("price")
            result.append({"platform_product_id": product_id[:100],
                           "local_product_id": (text(item.get("plu"), f"{where}.plu") or None),
                           "name": (text(item.get("name"), f"{where}.name") or product_id)[:300],
                           "price": money(price, f"{where}.price", Decimal("0.001")) if price is not None else None,
                           "category": (text(item.get("category"), f"{where}.category") or None),
                           "available": item.get("available") is not False})
        return result

    def request_headers(self, credentials):
        """Our API key; the body is signed with `sign` like the partner's webhooks."""
        return {API_KEY_HEADER: str(credentials["api_key"])} if credentials.get("api_key") else {}


def event_payload(order, event="order.created", *, event_id, occurred_at=None, status=None, reason=None):
    """The generic JSON for a UnifiedOrder (the simulator sends it; parse_webhook reads it back)."""
    if event not in EVENTS:
        raise ValueError(f"event must be one of {', '.join(EVENTS)}")
    q = currency_quantum(order.currency)
    status = OrderStatus(status or order.status)
    body = {
        "event": event,
        "event_id": event_id,
        "occurred_at": iso_utc(occurred_at, millis=False) if occurred_at else iso_utc(utc(), millis=False),
        "order": {
            "id": order.platform_order_id,
            "number": order.order_number,
            "short_code": order.short_code,
            "status": WORDS_BY_STATUS[status],
            "type": order.order_type.lower(),
            "test": order.is_test,
            "currency": order.currency,
            "placed_at": _iso_or_none(order.placed_at),
            "accept_by": _iso_or_none(order.accept_by),
            "scheduled_for": _iso_or_none(order.scheduled_at),
            "expected_at": _iso_or_none(order.expected_at),
            "customer": {"name": order.customer_name, "phone": order.customer_phone, "email": order.customer_email},
            "delivery": {"address": order.delivery_address, "notes": order.delivery_notes},
            "payment": {"method": order.payment_method},
            "items": [{"id": item.platform_product_id, "plu": item.local_product_id, "name": item.name,
                       "quantity": item.quantity, "unit_price": _money_text(item.unit_price, q),
                       "total": _money_text(item.line_total, q), "notes": item.notes,
                       "modifiers": _modifier_payload(item.modifiers, q)} for item in order.items],
            "discounts": [{"name": discount.name, "amount": _money_text(discount.amount, q),
                           "sponsor": SPONSOR_WORDS[discount.sponsor]} for discount in order.discounts],
            "totals": {
                "subtotal": _money_text(order.subtotal, q),
                "delivery_fee": _money_text(order.delivery_fee, q),
                "service_fee": _money_text(order.service_fee, q),
                "tax": _money_text(order.tax_amount, q),
                "tip": _money_text(order.tip_amount, q),
                "total": _money_text(order.total_amount, q),
                "collect_from_customer": (_money_text(order.collect_from_customer, q)
                                          if order.collect_from_customer is not None else None),
            },
        },
    }
    if reason is not None:
        body["reason"] = reason
    return body


def _modifier_payload(modifiers, q):
    """Modifiers in the generic format, nested."""
    return [{"id": modifier.platform_id, "plu": modifier.local_id, "name": modifier.name,
             "quantity": modifier.quantity, "price": _money_text(modifier.price, q),
             "modifiers": _modifier_payload(modifier.children, q)} for modifier in modifiers]


def _modifiers_total(modifiers):
    """What a set of modifiers adds to one unit of the item: price × quantity, nested included."""
    return sum((modifier.price * modifier.quantity + _modifiers_total(modifier.children) * modifier.quantity
                for modifier in modifiers), ZERO)


def _money_text(amount, quantum=None):
    """A decimal string in major units ("12.50"), at the currency's precision when known."""
    amount = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    return str(round_money(amount, quantum) if quantum is not None else amount)


def _iso_or_none(moment):
    """ISO-8601 UTC, or None."""
    return iso_utc(moment, millis=False) if moment else None


def _item_id(value):
    """A non-empty item id for an outbound call."""
    if value is None or not str(value).strip():
        raise ValueError("every item needs a product id")
    return str(value).strip()
