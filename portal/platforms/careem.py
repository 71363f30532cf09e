"""Careem POS API v2 (docs.careemnow.com).

Inbound: `{"event_type": …, "details": {…}}` with the static header `x-careem-api-key` equal to the
integration's webhook secret (no HMAC). Money is JSON numbers in major units; order ids are integers.
Every order event carries the whole order, so status events return it too.

Outbound paths are relative to `https/apigateway.careemdash.com/pos/api/v1`. We push the catalog with
catalog id = branch id (as Careem's own examples do), which lets item availability use the documented
`PATCH /catalogs/{catalog_id}/items` knowing only the branch.
"""
import hmac
from datetime import timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from ..models import DeliveryPlatform, OrderStatus
from ..phones import normalize_phone
from .base import (SPONSOR_UNKNOWN, Capabilities, Discount, Modifier, OrderItem, OutboundRequest, PayloadError,
                   PlatformAdapter, SignatureError, StatusUpdate, UnifiedOrder, WebhookEvent)
from .parsing import (ZERO, arr, boolean, check_choice, chunks, currency_quantum, header, identifier, money, obj,
                      positive_minutes, quantity, round_money, text, timestamp, word)

CANCEL_REASONS = (
    ("ITEM_PERMANENTLY_NOT_AVAILABLE", _l("Item permanently not available")),
    ("ITEM_TEMPORARILY_UNAVAILABLE", _l("Item temporarily unavailable")),
    ("KITCHEN_TOO_BUSY_TO_PREPARE_ORDER", _l("Kitchen too busy to prepare the order")),
    ("OUT_OF_KITCHEN_OPERATIONAL_HOURS", _l("Outside kitchen hours")),
    ("OUTLET_CLOSED", _l("Outlet closed")),
    ("PARTNER_POS_OUTAGE", _l("POS outage")),
    ("PARTNER_ORDER_TIMEOUT", _l("Order timed out")),
    ("OTHER", _l("Other")),
)
API_KEY_HEADER = "x-careem-api-key"

# ORDER_STATUS_UPDATED state → our status change. The other states are information only.
STATUS_UPDATES = {
    "accepted": OrderStatus.ACCEPTED,
    "trip_started": OrderStatus.OUT_FOR_DELIVERY,
    "trip_ended": OrderStatus.DELIVERED,
    "delivered": OrderStatus.DELIVERED,
    "cancelled": OrderStatus.CANCELLED,
}
IGNORED_STATUSES = ("pending", "slot_upcoming", "slot_started", "driver_coming", "driver_here")
# The status of the order a Careem event carries (used when the event creates the order).
ORDER_STATES = {
    "pending": OrderStatus.PENDING,
    "slot_upcoming": OrderStatus.ACCEPTED,
    "slot_started": OrderStatus.ACCEPTED,
    "driver_coming": OrderStatus.ACCEPTED,
    "driver_here": OrderStatus.ACCEPTED,
    **STATUS_UPDATES,
}
# Our status → the `state` of PUT /orders/{id}.
OUTBOUND_STATES = {
    OrderStatus.ACCEPTED: "accepted",
    OrderStatus.READY_FOR_PICKUP: "ready",
    OrderStatus.REJECTED: "cancelled",
    OrderStatus.CANCELLED: "cancelled",
}
# Catalog currency ids of the Careem API (CreateFullCatalogRequest.catalog.currency_id).
CURRENCY_IDS = {"AED": 1, "SAR": 2, "EGP": 3, "QAR": 4, "LBP": 5, "KWD": 6, "JOD": 7, "BHD": 8, "SGD": 9,
                "IRR": 10, "OMR": 11, "PKR": 12, "AUD": 13, "IQD": 14}
MAX_GROUP_DEPTH = 10
RATE_QUANTUM = Decimal("0.0001")
ADDRESS_FIELDS = ("name", "number", "building", "street", "area", "city")


class CareemAdapter(PlatformAdapter):
    platform = DeliveryPlatform.CAREEM
    display_name = "Careem"
    family = "careem"
    brand_colour = "#1fbf75"
    # Careem accepts one catalog sync per branch every 2 minutes (PLATFORMS.md).
    menu_sync_min_interval = timedelta(minutes=2)
    webhook_user_agent = "Careem-POS-Webhooks"
    capabilities = Capabilities(busy_mode=False, timed_pause=True, store_close=True, item_snooze=True,
                                prep_time_change=True, mark_prepared=True, picked_up=False,
                                max_items_per_availability_call=40, max_catalog_items=8500,
                                catalog_callback=True)
    sends_item_names = False
    accepts_zero_price = False
    menu_import_note = ("Careem's POS API pushes catalogs and reports their status; it has no call that "
                        "returns a catalog, so the menu cannot be imported from Careem.")
    reject_reasons = CANCEL_REASONS
    cancel_reasons = CANCEL_REASONS
    credential_fields = (
        ("api_key", _l("Client id"), True),
        ("api_secret", _l("Client secret"), True),
        ("merchant_id", _l("Brand id"), True),
        ("store_id", _l("Branch id"), True),
    )

    # ----------------------------------------------------------------- authentication

    def verify(self, headers, raw_body, secret, now=None):
        """Check the static `x-careem-api-key` header against the secret, in constant time."""
        if not secret:
            raise SignatureError("no webhook secret configured")
        value = header(headers, API_KEY_HEADER)
        if not value:
            raise SignatureError(f"missing {API_KEY_HEADER} header")
        if not hmac.compare_digest(value.encode("utf-8"), secret.encode("utf-8")):
            raise SignatureError("API key mismatch")

    def sign(self, raw_body, secret, now=None):
        """The header Careem sends: the shared key itself."""
        if not secret:
            raise ValueError("a secret is needed to sign")
        return {API_KEY_HEADER: secret}

    # ----------------------------------------------------------------- inbound

    def parse_webhook(self, payload, context):
        """ORDER_CREATED, ORDER_STATUS_UPDATED, CATALOG_REQUEST_STATUS_UPDATED, ORDER_ITEM_REPLACEMENT_ACCEPTED."""
        if not isinstance(payload, dict):
            raise PayloadError("body is not a JSON object")
        event_type = word(payload.get("event_type"), "event_type")
        if event_type is None:
            raise PayloadError("event_type is missing")
        details = obj(payload.get("details"), "details")
        if event_type == "ORDER_CREATED":
            order = self.parse_order(details, context)
            return WebhookEvent(kind="order", event_type=event_type, event_id=f"{order.platform_order_id}:created",
                                order=order)
        if event_type == "ORDER_STATUS_UPDATED":
            return self._status_event(details, context)
        if event_type == "CATALOG_REQUEST_STATUS_UPDATED":
            event_id = identifier(payload.get("event_id"), "event_id")
            return WebhookEvent(kind="catalog", event_type=event_type, event_id=event_id, details={
                "status": text(details.get("status"), "details.status"),
                "request_id": text(details.get("request_id"), "details.request_id"),
                "catalog_id": text(details.get("catalog_id"), "details.catalog_id"),
                "branch_id": text(details.get("vendor_branch_id"), "details.vendor_branch_id"),
                "warnings": arr(details.get("warnings"), "details.warnings"),
                "occurred_at": text(payload.get("occurred_at"), "occurred_at"),
            })
        if event_type == "ORDER_ITEM_REPLACEMENT_ACCEPTED":
            order_id = identifier(details.get("id"), "details.id")
            changed_at = text(details.get("updated_at"), "details.updated_at") or ""
            return WebhookEvent(kind="ignored", event_type=event_type, event_id=f"{order_id}:replacement:{changed_at}",
                                details={"order_id": order_id})
        raise PayloadError(f"event_type: unknown value {event_type!r}")

    def _status_event(self, details, context):
        """A state change, with the whole order attached."""
        order = self.parse_order(details, context)
        state = word(details.get("status"), "details.status")
        if state is None:
            raise PayloadError("details.status is missing")
        changed_at = text(details.get("updated_at"), "details.updated_at") or text(details.get("created_at"),
                                                                                  "details.created_at")
        event_id = f"{order.platform_order_id}:{state}:{changed_at or ''}"
        info = {"status": state}
        if details.get("pickup_time"):
            info["pickup_time"] = text(details.get("pickup_time"), "details.pickup_time")
        if state not in STATUS_UPDATES:
            return WebhookEvent(kind="ignored", event_type="ORDER_STATUS_UPDATED", event_id=event_id, order=order,
                                details=info)
        reason = text(details.get("cancellation_reason"), "details.cancellation_reason") \
            if state == "cancelled" else None
        update = StatusUpdate(platform_order_id=order.platform_order_id, status=STATUS_UPDATES[state], reason=reason,
                              occurred_at=timestamp(changed_at, "details.updated_at"))
        return WebhookEvent(kind="status", event_type="ORDER_STATUS_UPDATED", event_id=event_id, order=order,
                            status=update, details=info)

    def parse_order(self, details, context):
        """The `details` of an order event as a UnifiedOrder."""
        details = obj(details, "details")
        q = currency_quantum(context.currency)
        order_id = identifier(details.get("id"), "details.id")
        price = obj(details.get("price"), "details.price")
        delivery = obj(details.get("delivery"), "details.delivery", required=False)
        customer = obj(details.get("customer"), "details.customer", required=False)
        captain = obj(details.get("captain"), "details.captain", required=False)
        metadata = obj(details.get("metadata"), "details.metadata", required=False)

        def amount(key):
            return money(price.get(key), f"details.price.{key}", q, default=ZERO)

        discount_keys = (("merchant_discount_amount", "Merchant discount", "VENDOR"),
                         ("merchant_promo_amount", "Merchant promo", "VENDOR"),
                         ("careem_discount_amount", "Careem discount", "PLATFORM"),
                         ("careem_promo_amount", "Careem promo", "PLATFORM"))
        discounts = [Discount(name=label, amount=amount(key), sponsor=sponsor)
                     for key, label, sponsor in discount_keys if amount(key)]
        # free_delivery_discount_value is not a discount of the order: Careem's API docs say it does not
        # affect the total price (total_taxable_price), so booking it would break every such order's sum.
        promo_code = text(price.get("promo_code"), "details.price.promo_code")
        if promo_code:
            for discount in discounts:
                if "promo" in discount.name.lower():
                    discount.name = f"{discount.name} ({promo_code})"

        subtotal = money(price.get("original_total_price"), "details.price.original_total_price", q, required=True)
        total = money(price.get("total_taxable_price"), "details.price.total_taxable_price", q, required=True)
        state = word(details.get("status"), "details.status")
        delivery_type = word(details.get("delivery_type"), "details.delivery_type") or word(
            delivery.get("type"), "details.delivery.type")
        schedule = obj(obj(delivery.get("schedule_detail"), "details.delivery.schedule_detail",
                           required=False).get("time_slot"), "details.delivery.schedule_detail.time_slot",
                       required=False)
        is_scheduled = (boolean(details.get("is_scheduled"), "details.is_scheduled")
                        or word(delivery.get("delivery_mode"), "details.delivery.delivery_mode") == "scheduled")
        scheduled_at = timestamp(schedule.get("start"), "details.delivery.schedule_detail.time_slot.start") \
            if is_scheduled else None

        name = phone = address = None
        notes = [text(details.get("notes"), "details.notes")]
        if delivery_type == "merchant":
            # Careem fills the customer only when the restaurant delivers; otherwise it is blanks and 0.
            name = text(customer.get("name"), "details.customer.name")
            raw_phone = customer.get("phone_number")
            phone = None if raw_phone in (None, 0, "0") else normalize_phone(
                text(raw_phone, "details.customer.phone_number"), context.country_code)
            place = obj(customer.get("address"), "details.customer.address", required=False)
            address = ", ".join(part for part in (text(place.get(key), f"details.customer.address.{key}")
                                                  for key in ADDRESS_FIELDS) if part) or None
            notes.append(text(place.get("note"), "details.customer.address.note"))
        instructions = obj(metadata.get("order_instructions"), "details.metadata.order_instructions",
                           required=False)
        notes.append(text(instructions.get("merchant_notes"), "details.metadata.order_instructions.merchant_notes"))
        for index, entry in enumerate(arr(instructions.get("merchant_instructions"),
                                          "details.metadata.order_instructions.merchant_instructions")):
            where = f"details.metadata.order_instructions.merchant_instructions[{index}]"
            entry = obj(entry, where)
            labels = obj(entry.get("name_localized"), f"{where}.name_localized", required=False)
            notes.append(text(labels.get("en"), f"{where}.name_localized.en") or text(entry.get("label"),
                                                                                      f"{where}.label"))

        tax = round_money(ZERO, q)
        rate = money(price.get("tax_percentage"), "details.price.tax_percentage", RATE_QUANTUM, default=ZERO)
        if rate:
            # Careem: total_taxable_price = original × (1 + tax) − promotions + fees, tax_percentage in %.
            # With 0 the catalog prices include VAT and the order does not say how much: we record 0.
            tax = round_money(subtotal * rate / 100, q)

        items = [self._item(raw, f"details.items[{index}]", q)
                 for index, raw in enumerate(arr(details.get("items"), "details.items"))]
        if not any(key in price for key, _label, _sponsor in discount_keys):
            # A price without any of the order-level discount fields (the older shape): the order's
            # discounts are its items' and options', as the lines carry them.
            discounts = [Discount(name=d.name, amount=d.amount, sponsor=d.sponsor)
                         for item in items for d in item.discounts]
        return UnifiedOrder(
            platform_order_id=order_id,
            order_number=order_id,
            status=ORDER_STATES.get(state, OrderStatus.PENDING),
            order_type="DELIVERY",
            currency=context.currency,
            subtotal=subtotal,
            discounts=discounts,
            delivery_fee=amount("delivery_fee"),
            service_fee=amount("service_fee"),
            tax_amount=tax,
            tip_amount=round_money(ZERO, q),
            total_amount=total,
            collect_from_customer=money(details.get("cash_in"), "details.cash_in", q, default=ZERO),
            payment_method=self._payment_method(details, customer, delivery_type),
            customer_name=name,
            customer_phone=phone,
            delivery_address=address,
            delivery_notes="\n".join(note for note in notes if note) or None,
            placed_at=timestamp(details.get("created_at"), "details.created_at"),
            expected_at=(timestamp(details.get("pickup_time"), "details.pickup_time")
                         or timestamp(captain.get("eta"), "details.captain.eta") or scheduled_at),
            scheduled_at=scheduled_at,
            items=items,
        )

    @staticmethod
    def _payment_method(details, customer, delivery_type):
        """How the customer paid: for orders the restaurant delivers, Careem's FAQ names
        customer.payment_type (cash/card/wallet/apple_pay); merchant_pay_type (cash/prepaid) otherwise
        or when that is blank."""
        merchant_pay_type = text(details.get("merchant_pay_type"), "details.merchant_pay_type")
        payment_type = text(customer.get("payment_type"), "details.customer.payment_type")
        if delivery_type == "merchant":
            return payment_type or merchant_pay_type
        return merchant_pay_type or payment_type

    def _item(self, raw, where, q):
        """One item; Careem sends our catalog id and no name (names come from the menu mappings)."""
        item = obj(raw, where)
        item_id = identifier(item.get("id"), f"{where}.id")
        discounts = self._item_discounts(item, where, q, label="Item discount")
        modifiers = self._groups(item.get("groups"), f"{where}.groups", q, discounts, 1)
        return OrderItem(name=f"Item {item_id[:8]}", quantity=quantity(item.get("quantity"), f"{where}.quantity"),
                         unit_price=money(item.get("unit_price"), f"{where}.unit_price", q, required=True),
                         line_total=money(item.get("total_price"), f"{where}.total_price", q, required=True),
                         platform_product_id=item_id, local_product_id=item_id, modifiers=modifiers,
                         discounts=discounts, notes=text(item.get("notes"), f"{where}.notes"))

    def _groups(self, raw, where, q, discounts, depth):
        """The options chosen in an item's (possibly nested) groups, as modifiers."""
        if depth > MAX_GROUP_DEPTH:
            raise PayloadError(f"{where}: groups nested deeper than {MAX_GROUP_DEPTH} levels")
        modifiers = []
        for group_index, group in enumerate(arr(raw, where)):
            group_where = f"{where}[{group_index}]"
            group = obj(group, group_where)
            for option_index, option in enumerate(arr(group.get("options"), f"{group_where}.options")):
                option_where = f"{group_where}.options[{option_index}]"
                option = obj(option, option_where)
                option_id = identifier(option.get("id"), f"{option_where}.id")
                discounts.extend(self._item_discounts(option, option_where, q, label="Option discount"))
                # Careem's order examples name an option only by our catalog id; a name, when sent, wins.
                labels = obj(option.get("name_localized"), f"{option_where}.name_localized", required=False)
                name = text(option.get("name"), f"{option_where}.name") or text(labels.get("en"),
                                                                                 f"{option_where}.name_localized.en")
                name_ar = text(labels.get("ar"), f"{option_where}.name_localized.ar")
                modifiers.append(Modifier(
                    name=name or name_ar or f"Option {option_id}", name_ar=name_ar, named=bool(name or name_ar),
                    quantity=quantity(option.get("quantity"), f"{option_where}.quantity", default=1),
                    price=money(option.get("total_price"), f"{option_where}.total_price", q, default=ZERO),
                    platform_id=option_id, local_id=option_id,
                    children=self._groups(option.get("groups"), f"{option_where}.groups", q, discounts, depth + 1)))
        return modifiers

    @staticmethod
    def _item_discounts(entry, where, q, label):
        """An item's or option's discount split into Careem's share and the restaurant's.

        Older payloads (still in Careem's "calculating totals" guide) send only `discount`, without the
        careem/merchant split; what the split does not cover is kept with its payer unknown.
        """
        result, split = [], ZERO
        for key, sponsor, name in (("careem_discount_amount", "PLATFORM", f"{label} (Careem)"),
                                   ("merchant_discount_amount", "VENDOR", f"{label} (restaurant)")):
            amount = money(entry.get(key), f"{where}.{key}", q, default=ZERO)
            split += amount
            if amount:
                result.append(Discount(name=name, amount=amount, sponsor=sponsor))
        total = money(entry.get("discount"), f"{where}.discount", q, default=ZERO)
        if total > split:
            result.append(Discount(name=label, amount=total - split, sponsor=SPONSOR_UNKNOWN))
        return result

    # ----------------------------------------------------------------- outbound

    def rider_collects(self, order):
        """True unless the restaurant delivers (`delivery_type` "merchant"): a Careem captain collects."""
        if getattr(order, "order_type", "DELIVERY") == "PICKUP":
            return False
        raw = getattr(order, "platform_data", None)
        details = raw.get("details") if isinstance(raw, dict) else None
        if isinstance(details, dict):
            delivery = details.get("delivery") if isinstance(details.get("delivery"), dict) else {}
            return "merchant" not in (details.get("delivery_type"), delivery.get("type"))
        return True

    def status_request(self, order, status, reason=None, preparation_minutes=None, *, now=None):
        """PUT /orders/{id} with state accepted, ready or cancelled (+ cancellation_reason)."""
        state = OUTBOUND_STATES.get(OrderStatus(status))
        if state is None:
            return None
        order_id = getattr(order, "platform_order_id", None)
        if not order_id:
            raise ValueError("a Careem order needs its platform_order_id for status calls")
        body = {"state": state}
        if state == "cancelled":
            body["cancellation_reason"] = check_choice(reason, CANCEL_REASONS, "Careem cancellation reason")
        return OutboundRequest("PUT", f"/orders/{order_id}", json=body, description=f"Order {state}")

    def availability_requests(self, items, *, store_id=None):
        """PATCH /catalogs/{catalog_id}/items, at most 40 items per call (catalog id = branch id)."""
        if not store_id:
            raise ValueError("the Careem branch id (store_id) names the catalog whose items change")
        requests = []
        for chunk in chunks(list(items), self.capabilities.max_items_per_availability_call):
            body = {"items": [{"id": _item_id(item_id), "status": "active" if available else "inactive"}
                              for item_id, available in chunk]}
            requests.append(OutboundRequest("PATCH", f"/catalogs/{store_id}/items", json=body,
                                            description=f"Availability of {len(chunk)} items"))
        return requests

    def store_status_request(self, open_, minutes=None, reason=None, *, store_id=None, now=None):
        """POST /branches/{id}/visibility/status (1 active, 2 inactive), or …/status/expiries when timed."""
        if not store_id:
            raise ValueError("the Careem branch id (store_id) is needed to open or close the store")
        if open_:
            return OutboundRequest("POST", f"/branches/{store_id}/visibility/status", json={"status_id": 1},
                                   description="Store open")
        if minutes is None:
            return OutboundRequest("POST", f"/branches/{store_id}/visibility/status", json={"status_id": 2},
                                   description="Store closed")
        return OutboundRequest("POST", f"/branches/{store_id}/visibility/status/expiries",
                               json={"status_id": 2, "till_time": positive_minutes(minutes)},
                               description=f"Store paused for {minutes} min")

    def menu_request(self, items, *, store_id=None, merchant_id=None, currency=None, diff=False):
        """PUT /catalogs: the catalog (diff=false: whole; true: only these entries) with id = branch id."""
        if not store_id:
            raise ValueError("the Careem branch id (store_id) is needed to push a catalog")
        catalog = {"id": store_id, "name": "Menu"}
        if currency is not None:
            try:
                catalog["currency_id"] = CURRENCY_IDS[currency.upper()]
            except KeyError:
                raise ValueError(f"Careem has no catalog currency {currency!r}") from None
        categories, entries, groups, options = {}, [], [], {}
        for item in items:
            item_id = _item_id(item.get("platform_product_id") or item.get("local_product_id"))
            price = item.get("price")
            if price is None:
                raise ValueError(f"item {item.get('name')!r} has no price")
            entry = {"id": item_id, "name": item.get("name") or item_id,
                     "name_localized": {"en": item.get("name") or "", "ar": item.get("name_ar") or ""},
                     "price": float(price), "active": bool(item.get("available", True))}
            if item.get("description") or item.get("description_ar"):
                entry["description"] = item.get("description") or ""
                entry["description_localized"] = {"en": item.get("description") or "",
                                                  "ar": item.get("description_ar") or ""}
            if item.get("image_url"):
                entry["media"] = item["image_url"]
            for priority, group in enumerate(item.get("modifier_groups") or [], start=1):
                group_id = _item_id(group.get("id"))
                entry.setdefault("groups", []).append(group_id)
                groups.append({"id": group_id, "name": group.get("name") or group_id,
                               "name_localized": {"en": group.get("name") or "", "ar": group.get("name_ar") or ""},
                               "multi_select": False, "min": int(group.get("min", 0)), "max": int(group.get("max", 1)),
                               "priority": priority,
                               "options": [_item_id(option.get("id")) for option in group.get("options", [])]})
                for option_priority, option in enumerate(group.get("options", []), start=1):
                    options[_item_id(option.get("id"))] = {
                        "id": _item_id(option.get("id")), "name": option.get("name") or "",
                        "name_localized": {"en": option.get("name") or "", "ar": option.get("name_ar") or ""},
                        "active": bool(option.get("available", True)), "price": float(option.get("price") or 0),
                        "priority": option_priority}
            entries.append(entry)
            category = item.get("category") or "Menu"
            category_id = "-".join("".join(ch if ch.isalnum() else " " for ch in category.lower()).split()) or "menu"
            categories.setdefault(category_id, {"id": category_id, "name": category,
                                                "name_localized": {"en": category, "ar": ""}, "items": []})
            categories[category_id]["items"].append(item_id)
        catalog["category_ids"] = list(categories)
        body = {"diff": bool(diff), "catalog": catalog, "categories": list(categories.values()), "items": entries}
        if groups:
            body["groups"], body["options"] = groups, list(options.values())
        return OutboundRequest("PUT", "/catalogs", json=body,
                               description=f"Catalog of {len(entries)} items" + (" (changes only)" if diff else ""))

    def request_headers(self, credentials):
        """Careem's Brand-Id and Branch-Id headers."""
        headers = {}
        if credentials.get("merchant_id"):
            headers["Brand-Id"] = str(credentials["merchant_id"])
        if credentials.get("store_id"):
            headers["Branch-Id"] = str(credentials["store_id"])
        return headers


def _item_id(value):
    """A non-empty catalog item id for an outbound call."""
    if value is None or not str(value).strip():
        raise ValueError("every item needs a product id")
    return str(value).strip()
