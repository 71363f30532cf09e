"""Delivery Hero's POS plugin API: Talabat and HungerStation (same middleware, same order format).

Inbound: the middleware POSTs the order to `{pluginUrl}/order/{remoteId}` with
`Authorization: Bearer <JWT>` (HS512/HS256, claim service=middleware) signed with the plugin secret,
and PUTs status changes to `.../remoteId/{remoteId}/remoteOrder/{remoteOrderId}/posOrderStatus`.
Money arrives as decimal strings; timestamps as ISO-8601 UTC with milliseconds.

Order identity: we answer the order webhook with `remoteOrderId` = the DH `code` (not our own row
id), so the status webhooks name the order by its platform_order_id and need no lookup table.

Outbound paths are relative to the middleware base URL. The order-status calls and the store closure
call follow docs/PLATFORMS.md; the catalog import path (`PUT /v2/chains/{chainCode}/catalog`) is the one
public DH clients use; the item-availability call has no public documentation and is our best
reading, to confirm at onboarding.
"""
import hmac
from decimal import Decimal

import jwt
from flask_babel import lazy_gettext as _l

from ..models import DeliveryPlatform, OrderStatus
from .base import (SPONSOR_UNKNOWN, Capabilities, Discount, Modifier, OrderItem, OutboundRequest, PayloadError,
                   PlatformAdapter, SignatureError, StatusUpdate, UnifiedOrder, WebhookEvent)
from ..phones import normalize_phone
from .parsing import (ZERO, arr, boolean, check_choice, chunks, currency_quantum, header, identifier, iso_utc,
                      minutes_after, money, obj, positive_minutes, quantity, round_money, text, timestamp, utc, word)

# (code, label): the codes are Delivery Hero's; the labels are shown in the portal, translated.
REJECT_REASONS = (
    ("ADDRESS_INCOMPLETE_MISSTATED", _l("Address incomplete or misstated")),
    ("BAD_WEATHER", _l("Bad weather")),
    ("BLACKLISTED", _l("Blacklisted")),
    ("CARD_READER_NOT_AVAILABLE", _l("Card reader not available")),
    ("CLOSED", _l("Closed")),
    ("CONTENT_WRONG_MISLEADING", _l("Content wrong or misleading")),
    ("FOOD_QUALITY_SPILLAGE", _l("Food quality or spillage")),
    ("FRAUD_PRANK", _l("Fraud or prank")),
    ("ITEM_UNAVAILABLE", _l("Item unavailable")),
    ("LATE_DELIVERY", _l("Late delivery")),
    ("MENU_ACCOUNT_SETTINGS", _l("Menu or account settings")),
    ("MOV_NOT_REACHED", _l("Minimum order value not reached")),
    ("NO_COURIER", _l("No courier")),
    ("NO_PICKER", _l("No picker")),
    ("NO_RESPONSE", _l("No response")),
    ("OUTSIDE_DELIVERY_AREA", _l("Outside delivery area")),
    ("TECHNICAL_PROBLEM", _l("Technical problem")),
    ("TEST_ORDER", _l("Test order")),
    ("TOO_BUSY", _l("Too busy")),
    ("UNABLE_TO_FIND", _l("Unable to find")),
    ("UNABLE_TO_PAY", _l("Unable to pay")),
    ("UNPROFESSIONAL_BEHAVIOUR", _l("Unprofessional behaviour")),
    ("WILL_NOT_WORK_WITH_PLATFORM", _l("Will not work with the platform")),
    ("WRONG_ORDER_ITEMS_DELIVERED", _l("Wrong order items delivered")),
)
CLOSURE_REASONS = ("TOO_BUSY_KITCHEN", "TOO_BUSY_NO_DRIVERS", "UPDATES_IN_MENU", "TECHNICAL_PROBLEM", "CLOSED",
                   "BAD_WEATHER", "HOLIDAY_SPECIAL_DAY", "OTHER")

JWT_ALGORITHMS = ["HS512", "HS256"]
JWT_LEEWAY_SECONDS = 30
JWT_LIFETIME_SECONDS = 300
MIDDLEWARE_SERVICE = "middleware"

# posOrderStatus webhook → our status. The other documented statuses change nothing on our side.
POS_STATUSES = {
    "ORDER_CANCELLED": OrderStatus.CANCELLED,
    "ORDER_PICKED_UP": OrderStatus.OUT_FOR_DELIVERY,
}
IGNORED_POS_STATUSES = ("PRODUCT_ORDER_MODIFICATION_SUCCESSFUL", "PRODUCT_ORDER_MODIFICATION_FAILED",
                        "COURIER_ARRIVED_AT_VENDOR", "SHOW_RIDER_WAITING_WARNING", "HIDE_RIDER_WAITING_WARNING")
# Our status → the status word we send to /v2/order/status/{token}.
OUTBOUND_STATUSES = {
    OrderStatus.ACCEPTED: "order_accepted",
    OrderStatus.REJECTED: "order_rejected",
    OrderStatus.CANCELLED: "order_rejected",   # DH has no separate cancel: a vendor cancel is a rejection
    OrderStatus.OUT_FOR_DELIVERY: "order_picked_up",
}
EXPEDITION_TYPES = {"delivery": "DELIVERY", "pickup": "PICKUP"}
SPONSORS = ("PLATFORM", "VENDOR", "THIRD_PARTY")
MAX_TOPPING_DEPTH = 10   # DH documents up to 5 levels; anything deeper is not an order we trust
ADDRESS_FIELDS = ("block", "building", "entrance", "floor", "flatNumber", "company", "line1", "line2", "line3",
                  "line4", "line5", "deliveryArea", "deliveryMainArea")


class DeliveryHeroAdapter(PlatformAdapter):
    """The Delivery Hero family's contract; subclasses only name the brand."""

    family = "delivery_hero"
    uses_plugin_url = True
    pause_reason = "TOO_BUSY_KITCHEN"
    webhook_user_agent = "DH-Integration-Middleware"
    capabilities = Capabilities(busy_mode=False, timed_pause=True, store_close=True, item_snooze=True,
                                prep_time_change=True, mark_prepared=True, picked_up=True,
                                max_items_per_availability_call=100, catalog_callback=True)
    menu_import_note = ("Delivery Hero's middleware imports the menu from the POS (it asks with GET "
                        "/menuimport/{remoteId}); it has no call that hands the menu back, so the menu cannot be "
                        "imported from Talabat or HungerStation.")
    reject_reasons = REJECT_REASONS
    cancel_reasons = REJECT_REASONS
    credential_fields = (
        ("merchant_id", _l("Chain code"), True),
        ("store_id", _l("Vendor remote id"), True),
        ("api_key", _l("Middleware username"), True),
        ("api_secret", _l("Middleware password"), False),
    )

    # ----------------------------------------------------------------- authentication

    def verify(self, headers, raw_body, secret, now=None):
        """Check the middleware's `Authorization: Bearer <JWT>` (HS512/HS256, exp, service=middleware)."""
        if not secret:
            raise SignatureError("no webhook secret configured")
        value = header(headers, "Authorization")
        if not value:
            raise SignatureError("missing Authorization header")
        scheme, _, token = value.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise SignatureError("Authorization is not a Bearer token")
        try:
            # Time claims are checked below against `now`, so tests and replays can pin the clock.
            claims = jwt.decode(token, secret, algorithms=JWT_ALGORITHMS,
                                options={"require": ["exp"], "verify_exp": False, "verify_iat": False,
                                         "verify_nbf": False})
        except jwt.MissingRequiredClaimError:
            raise SignatureError("token has no exp claim") from None
        except jwt.InvalidAlgorithmError:
            raise SignatureError("token algorithm not allowed") from None
        except jwt.InvalidSignatureError:
            raise SignatureError("signature mismatch") from None
        except jwt.DecodeError:
            raise SignatureError("malformed token") from None
        except jwt.InvalidTokenError as error:
            raise SignatureError(f"invalid token: {error}") from None
        moment = utc(now).timestamp()
        for claim in ("exp", "iat", "nbf"):
            if claim in claims and (isinstance(claims[claim], bool) or not isinstance(claims[claim], (int, float))):
                raise SignatureError(f"token {claim} is not a number")
        if moment > claims["exp"] + JWT_LEEWAY_SECONDS:
            raise SignatureError("token expired")
        if "nbf" in claims and moment < claims["nbf"] - JWT_LEEWAY_SECONDS:
            raise SignatureError("token not yet valid")
        if "iat" in claims and moment < claims["iat"] - JWT_LEEWAY_SECONDS:
            raise SignatureError("token issued in the future")
        service = claims.get("service")
        if not isinstance(service, str) or not hmac.compare_digest(service.encode(), MIDDLEWARE_SERVICE.encode()):
            raise SignatureError("token service claim is not middleware")

    def sign(self, raw_body, secret, now=None):
        """A Bearer JWT as the middleware sends it: service=middleware, iat, exp = now + 5 minutes, HS512."""
        if not secret:
            raise ValueError("a secret is needed to sign")
        issued = int(utc(now).timestamp())
        token = jwt.encode({"service": MIDDLEWARE_SERVICE, "iat": issued, "exp": issued + JWT_LIFETIME_SECONDS},
                           secret, algorithm="HS512")
        return {"Authorization": f"Bearer {token}"}

    # ----------------------------------------------------------------- inbound

    def parse_webhook(self, payload, context):
        """Dispatch on the URL path: order/{remoteId}, remoteId/…/posOrderStatus, menuimport/…, catalog…."""
        segments = [segment for segment in (context.path or "").strip("/").split("/") if segment]
        if segments[:1] == ["menuimport"]:
            # A GET without a body: the middleware asks us to push our catalog.
            return WebhookEvent(kind="catalog", event_type="MENU_IMPORT_REQUEST",
                                details={"remote_id": segments[1] if len(segments) > 1 else None})
        if not isinstance(payload, dict):
            raise PayloadError("body is not a JSON object")
        if segments[:1] == ["order"] or (not segments and "token" in payload and "code" in payload):
            order = self.parse_order(payload, context)
            return WebhookEvent(kind="order", event_type="ORDER", event_id=f"{order.platform_order_id}:order",
                                order=order, details={"remote_id": segments[1] if len(segments) > 1 else None})
        if segments[:1] == ["remoteId"]:
            if len(segments) != 5 or segments[2] != "remoteOrder" or segments[4] != "posOrderStatus":
                raise PayloadError(f"unknown Delivery Hero webhook path {context.path!r}")
            return self._status_event(payload, remote_id=segments[1], remote_order_id=segments[3])
        if (segments and segments[0].lower().startswith("catalog")) or "catalogImportId" in payload:
            return self._catalog_event(payload)
        raise PayloadError(f"unknown Delivery Hero webhook path {context.path!r}")

    def parse_order(self, payload, context):
        """The middleware's order (talabat-order-example.json) as a UnifiedOrder."""
        payload = obj(payload, "body")
        q = currency_quantum(context.currency)
        code = identifier(payload.get("code"), "code")
        order_type = self._order_type(payload.get("expeditionType"))
        delivery = obj(payload.get("delivery"), "delivery", required=False)
        pickup = obj(payload.get("pickup"), "pickup", required=False)
        customer = obj(payload.get("customer"), "customer", required=False)
        comments = obj(payload.get("comments"), "comments", required=False)
        payment = obj(payload.get("payment"), "payment", required=False)
        price = obj(payload.get("price"), "price")
        address = obj(delivery.get("address"), "delivery.address", required=False)

        expected_at = (timestamp(delivery.get("expectedDeliveryTime"), "delivery.expectedDeliveryTime")
                       or timestamp(pickup.get("pickupTime"), "pickup.pickupTime"))
        is_pre_order = boolean(payload.get("preOrder"), "preOrder")

        items, item_discounts, toppings_total = [], [], ZERO
        for index, raw in enumerate(arr(payload.get("products"), "products")):
            item, topping_sum = self._item(raw, f"products[{index}]", q)
            items.append(item)
            item_discounts.extend(item.discounts)
            toppings_total += topping_sum
        # DH's plugin documentation: the amounts of product and topping discounts are included in the
        # top-level `discounts`. When the order has them, they are its discounts (the lines keep theirs
        # for display); only without them are the lines' discounts the order's.
        order_discounts = arr(payload.get("discounts"), "discounts")
        discounts = self._discounts(order_discounts, "discounts", q) if order_discounts else list(item_discounts)

        fees = arr(price.get("deliveryFees"), "price.deliveryFees")
        if fees:
            delivery_fee = sum((money(obj(fee, f"price.deliveryFees[{i}]").get("value"),
                                      f"price.deliveryFees[{i}].value", q, required=True)
                                for i, fee in enumerate(fees)), ZERO)
        else:
            delivery_fee = money(price.get("deliveryFee"), "price.deliveryFee", q, default=ZERO)
        subtotal = money(price.get("subTotal"), "price.subTotal", q)
        if subtotal is None:
            subtotal = round_money(sum((item.line_total for item in items), ZERO) + toppings_total, q)

        notes = [text(comments.get("customerComment"), "comments.customerComment"),
                 text(address.get("deliveryInstructions"), "delivery.address.deliveryInstructions")]
        name = " ".join(part for part in (text(customer.get("firstName"), "customer.firstName"),
                                          text(customer.get("lastName"), "customer.lastName")) if part)
        email = text(customer.get("email"), "customer.email")
        return UnifiedOrder(
            platform_order_id=code,
            order_number=code,
            status=OrderStatus.PENDING,
            short_code=text(payload.get("shortCode"), "shortCode"),
            platform_token=identifier(payload.get("token"), "token"),
            order_type=order_type,
            is_test=boolean(payload.get("test"), "test"),
            currency=context.currency,
            subtotal=subtotal,
            discounts=discounts,
            delivery_fee=round_money(delivery_fee, q),
            service_fee=round_money(ZERO, q),
            tax_amount=money(price.get("vatTotal"), "price.vatTotal", q, default=ZERO),
            tip_amount=money(price.get("riderTip"), "price.riderTip", q, default=ZERO),
            total_amount=money(price.get("grandTotal"), "price.grandTotal", q, required=True),
            collect_from_customer=money(price.get("collectFromCustomer"), "price.collectFromCustomer", q),
            payment_method=text(payment.get("type"), "payment.type"),
            customer_name=name or None,
            customer_phone=normalize_phone(text(customer.get("mobilePhone"), "customer.mobilePhone"),
                                           context.country_code),
            customer_email=email if email and "@" in email else None,
            delivery_address=self._address(address),
            delivery_notes="\n".join(note for note in notes if note) or None,
            placed_at=timestamp(payload.get("createdAt"), "createdAt"),
            accept_by=timestamp(payload.get("expiryDate"), "expiryDate"),
            expected_at=expected_at,
            scheduled_at=expected_at if is_pre_order else None,
            items=items,
        )

    def _order_type(self, value):
        """PICKUP or DELIVERY from expeditionType (missing: DELIVERY)."""
        raw = word(value, "expeditionType")
        if raw is None:
            return "DELIVERY"
        try:
            return EXPEDITION_TYPES[raw.lower()]
        except KeyError:
            raise PayloadError(f"expeditionType: unknown value {raw!r}") from None

    def _item(self, raw, where, q):
        """One product with its toppings and discounts, plus the toppings' total for the subtotal."""
        product = obj(raw, where)
        name = text(product.get("name"), f"{where}.name")
        if name is None:
            raise PayloadError(f"{where}.name is missing")
        count = quantity(product.get("quantity"), f"{where}.quantity")
        unit_price = money(product.get("unitPrice"), f"{where}.unitPrice", q, required=True)
        line_total = money(product.get("paidPrice"), f"{where}.paidPrice", q)
        if line_total is None:
            line_total = round_money(unit_price * count, q)
        modifiers, discounts, toppings_total = [], [], ZERO
        variation = obj(product.get("variation"), f"{where}.variation", required=False)
        variation_name = text(variation.get("name"), f"{where}.variation.name")
        if variation_name and variation_name != name:
            modifiers.append(Modifier(name=variation_name))
        for index, topping in enumerate(arr(product.get("selectedToppings"), f"{where}.selectedToppings")):
            modifier, topping_sum = self._topping(topping, f"{where}.selectedToppings[{index}]", q, discounts, 1)
            modifiers.append(modifier)
            toppings_total += topping_sum
        discounts[:0] = self._discounts(product.get("discounts"), f"{where}.discounts", q)
        item = OrderItem(name=name, quantity=count, unit_price=unit_price, line_total=line_total,
                         platform_product_id=text(product.get("id"), f"{where}.id"),
                         local_product_id=text(product.get("remoteCode"), f"{where}.remoteCode"),
                         modifiers=modifiers, discounts=discounts,
                         notes=text(product.get("comment"), f"{where}.comment"))
        return item, toppings_total

    def _topping(self, raw, where, q, discounts, depth):
        """A selected topping and its children; its discounts are appended to `discounts`."""
        if depth > MAX_TOPPING_DEPTH:
            raise PayloadError(f"{where}: toppings nested deeper than {MAX_TOPPING_DEPTH} levels")
        topping = obj(raw, where)
        name = text(topping.get("name"), f"{where}.name")
        if name is None:
            raise PayloadError(f"{where}.name is missing")
        price = money(topping.get("price"), f"{where}.price", q, default=ZERO)
        # DH documents a topping's price as "based on quantity": it is already the line's amount.
        total = price
        children = []
        for index, child in enumerate(arr(topping.get("children"), f"{where}.children")):
            modifier, child_total = self._topping(child, f"{where}.children[{index}]", q, discounts, depth + 1)
            children.append(modifier)
            total += child_total
        discounts.extend(self._discounts(topping.get("discounts"), f"{where}.discounts", q))
        modifier = Modifier(name=name, quantity=quantity(topping.get("quantity"), f"{where}.quantity", default=1),
                            price=price, platform_id=text(topping.get("id"), f"{where}.id"),
                            local_id=text(topping.get("remoteCode"), f"{where}.remoteCode"), children=children)
        return modifier, total

    def _discounts(self, raw, where, q):
        """Discounts split by sponsor; what the sponsorships leave unsplit is SPONSOR_UNKNOWN's.

        A discount without sponsorships, or whose sponsorships add up to less than its amount, does
        not say who pays the rest: that part is booked as payer unknown, never to the restaurant and
        never dropped. Without an amount, the sponsorships' sum is the discount.
        """
        result = []
        for index, entry in enumerate(arr(raw, where)):
            here = f"{where}[{index}]"
            discount = obj(entry, here)
            name = text(discount.get("name"), f"{here}.name") or "Discount"
            amount = money(discount.get("amount"), f"{here}.amount", q)
            split = ZERO
            for position, raw_share in enumerate(arr(discount.get("sponsorships"), f"{here}.sponsorships")):
                share_where = f"{here}.sponsorships[{position}]"
                share = obj(raw_share, share_where)
                sponsor = (word(share.get("sponsor"), f"{share_where}.sponsor") or "").upper()
                if sponsor not in SPONSORS:
                    raise PayloadError(f"{share_where}.sponsor: expected one of {', '.join(SPONSORS)}, "
                                       f"got {share.get('sponsor')!r}")
                share_amount = money(share.get("amount"), f"{share_where}.amount", q, required=True)
                split += share_amount
                if share_amount:
                    result.append(Discount(name=name, amount=share_amount, sponsor=sponsor))
            if amount is not None and amount > split:
                result.append(Discount(name=name, amount=amount - split, sponsor=SPONSOR_UNKNOWN))
        return result

    def _address(self, address):
        """The delivery address as one readable line: street and number, building details, postcode city."""
        def part(key):
            return text(address.get(key), f"delivery.address.{key}")

        street = " ".join(p for p in (part("street"), part("number")) if p)
        town = " ".join(p for p in (part("postcode"), part("city")) if p)
        parts = [street] + [part(key) for key in ADDRESS_FIELDS] + [town]
        return ", ".join(p for p in parts if p) or None

    def _status_event(self, payload, remote_id, remote_order_id):
        """A posOrderStatus webhook: cancelled and picked-up change the order; the rest is information."""
        status = word(payload.get("status"), "status")
        if status is None:
            raise PayloadError("status is missing")
        occurred_raw = text(payload.get("occurredAt"), "occurredAt")
        occurred_at = timestamp(occurred_raw, "occurredAt")
        message = text(payload.get("message"), "message")
        event_id = f"{remote_order_id}:{status}:{occurred_raw or ''}"
        details = {"status": status, "message": message, "remote_id": remote_id,
                   "remote_order_id": remote_order_id}
        if status not in POS_STATUSES:
            return WebhookEvent(kind="ignored", event_type=status, event_id=event_id, details=details)
        update = StatusUpdate(platform_order_id=remote_order_id, status=POS_STATUSES[status],
                              reason=message if status == "ORDER_CANCELLED" else None, occurred_at=occurred_at)
        return WebhookEvent(kind="status", event_type=status, event_id=event_id, status=update, details=details)

    def _catalog_event(self, payload):
        """The catalog-import callback: in_progress, done, done_with_errors or failed."""
        status = text(payload.get("status"), "status")
        if status is None:
            raise PayloadError("status is missing")
        import_id = text(payload.get("catalogImportId"), "catalogImportId")
        details = {"catalog_import_id": import_id, "status": status,
                   "message": text(payload.get("message"), "message"),
                   "details": arr(payload.get("details"), "details")}
        return WebhookEvent(kind="catalog", event_type="CATALOG_IMPORT",
                            event_id=f"{import_id}:{status}" if import_id else None, details=details)

    def ack_body(self, event, order_id=None):
        """For an order, `remoteResponse.remoteOrderId` = the DH code (status webhooks then name it)."""
        if event.kind == "order" and event.order is not None:
            return {"remoteResponse": {"remoteOrderId": event.order.platform_order_id}}
        return {"status": "ok"}

    # ----------------------------------------------------------------- outbound

    def status_request(self, order, status, reason=None, preparation_minutes=None, *, now=None):
        """The middleware call for accept, reject/cancel, prepared (DH rider) or picked up (vendor delivery)."""
        status = OrderStatus(status)
        token = getattr(order, "platform_token", None)
        if status not in OUTBOUND_STATUSES and status is not OrderStatus.READY_FOR_PICKUP:
            return None
        if not token:
            raise ValueError("a Delivery Hero order needs its platform_token for status calls")
        rider_collects = self.rider_collects(order)
        if status is OrderStatus.READY_FOR_PICKUP:
            if not rider_collects:
                return None
            return OutboundRequest("POST", f"/v2/orders/{token}/preparation-completed",
                                   description="Order prepared")
        if status is OrderStatus.OUT_FOR_DELIVERY:
            if rider_collects:
                return None   # the DH rider's app reports the pick-up; the middleware refuses ours
            return OutboundRequest("POST", f"/v2/order/status/{token}", json={"status": "order_picked_up"},
                                   description="Order picked up")
        if status is OrderStatus.ACCEPTED:
            moment = utc(now)
            if preparation_minutes is not None:
                moment = minutes_after(moment, positive_minutes(preparation_minutes, "preparation_minutes"))
            body = {"status": "order_accepted", "acceptanceTime": iso_utc(moment),
                    "remoteOrderId": order.platform_order_id}
            return OutboundRequest("POST", f"/v2/order/status/{token}", json=body, description="Order accepted")
        check_choice(reason, REJECT_REASONS, "Delivery Hero reject reason")
        return OutboundRequest("POST", f"/v2/order/status/{token}",
                               json={"status": "order_rejected", "reason": reason, "message": ""},
                               description="Order rejected" if status is OrderStatus.REJECTED else "Order cancelled")

    def rider_collects(self, order):
        """True when a DH rider collects the order (delivery with a riderPickupTime, or unknown delivery)."""
        if getattr(order, "order_type", "DELIVERY") == "PICKUP":
            return False
        raw = getattr(order, "platform_data", None)
        if isinstance(raw, dict) and isinstance(raw.get("delivery"), dict):
            return raw["delivery"].get("riderPickupTime") is not None
        return True

    def availability_requests(self, items, *, store_id=None):
        """PUT /v2/catalog/availability with products [{remoteCode, active}] (undocumented: best reading)."""
        requests = []
        for chunk in chunks(list(items), self.capabilities.max_items_per_availability_call):
            products = [{"remoteCode": _product_id(product_id), "active": bool(available)}
                        for product_id, available in chunk]
            body = {"products": products}
            if store_id:
                body["remoteId"] = store_id
            requests.append(OutboundRequest("PUT", "/v2/catalog/availability", json=body,
                                            description=f"Availability of {len(products)} items"))
        return requests

    def store_status_request(self, open_, minutes=None, reason=None, *, store_id=None, now=None):
        """PUT /remoteId/{remoteId}/availability: closures [] to open, one closure to close or pause."""
        if not store_id:
            raise ValueError("the Delivery Hero remote id (store_id) is needed to open or close the store")
        moment = utc(now)
        if open_:
            return OutboundRequest("PUT", f"/remoteId/{store_id}/availability",
                                   json={"timestamp": iso_utc(moment), "closures": []}, description="Store open")
        reason = reason or ("TOO_BUSY_KITCHEN" if minutes else "CLOSED")
        if reason not in CLOSURE_REASONS:
            raise ValueError(f"Delivery Hero closure reason must be one of {', '.join(CLOSURE_REASONS)}; "
                             f"got {reason!r}")
        closure = {"reason": reason, "start": iso_utc(moment), "changeable": True}
        if minutes is not None:
            closure["end"] = iso_utc(minutes_after(moment, positive_minutes(minutes)))
        return OutboundRequest("PUT", f"/remoteId/{store_id}/availability",
                               json={"timestamp": iso_utc(moment), "closures": [closure]},
                               description=f"Store closed for {minutes} min" if minutes else "Store closed")

    def menu_request(self, items, *, store_id=None, merchant_id=None, currency=None, diff=False):
        """PUT /v2/chains/{chainCode}/catalog for the vendor: products in categories, one delivery menu.

        Delivery Hero imports whole catalogs, so `diff` changes nothing. Modifier groups become
        Topping entries whose products are the options (best reading of the public catalog shape)."""
        if not merchant_id or not store_id:
            raise ValueError("the chain code (merchant_id) and remote id (store_id) are needed to push a menu")
        quantum = currency_quantum(currency) if currency else None
        catalog, categories, codes, toppings = {}, {}, [], {}
        for index, item in enumerate(items):
            code = _product_id(item.get("platform_product_id") or item.get("local_product_id"))
            codes.append(code)
            catalog[code] = {"id": code, "type": "Product", "title": _titles(item),
                             "price": _decimal_text(item, quantum),
                             "active": bool(item.get("available", True))}
            if item.get("description"):
                arabic = {"ar": item["description_ar"]} if item.get("description_ar") else {}
                catalog[code]["description"] = {"default": item["description"], **arabic}
            if item.get("image_url"):
                catalog[code]["images"] = {"main": {"id": "main", "type": "Image", "url": item["image_url"]}}
            for group in item.get("modifier_groups") or []:
                group_id = _product_id(group.get("id"))
                catalog[code].setdefault("toppings", {})[group_id] = {"id": group_id, "type": "Topping"}
                toppings[group_id] = {"id": group_id, "type": "Topping", "title": _titles(group),
                                      "quantity": {"minimum": int(group.get("min", 0)),
                                                   "maximum": int(group.get("max", 1))},
                                      "products": {}}
                for order, option in enumerate(group.get("options", []), start=1):
                    option_id = _product_id(option.get("id"))
                    toppings[group_id]["products"][option_id] = {"id": option_id, "type": "Product", "order": order}
                    toppings[option_id] = {"id": option_id, "type": "Product", "title": _titles(option),
                                           "price": _decimal_text(option, quantum),
                                           "active": bool(option.get("available", True)), "isTopping": True}
            category = item.get("category") or "Menu"
            category_id = f"category-{_slug(category)}"
            categories.setdefault(category_id, {"id": category_id, "type": "Category",
                                                "title": {"default": category}, "products": {}})
            categories[category_id]["products"][code] = {"id": code, "type": "Product", "order": index + 1}
        catalog.update(categories)
        catalog.update(toppings)
        catalog["menu-delivery"] = {"id": "menu-delivery", "type": "Menu", "menuType": "DELIVERY",
                                    "title": {"default": "Delivery"},
                                    "products": {code: {"id": code, "type": "Product"} for code in codes}}
        return OutboundRequest("PUT", f"/v2/chains/{merchant_id}/catalog",
                               json={"vendors": [store_id], "catalog": {"items": catalog}},
                               description=f"Catalog of {len(items)} items")


def _product_id(value):
    """A non-empty product id for an outbound call."""
    if value is None or not str(value).strip():
        raise ValueError("every item needs a product id")
    return str(value).strip()


def _titles(item):
    """DH localized titles: the default name plus Arabic when we have it."""
    titles = {"default": item.get("name") or ""}
    if item.get("name_ar"):
        titles["ar"] = item["name_ar"]
    return titles


def _decimal_text(item, quantum=None):
    """A price as the decimal string DH uses ("6.00"), at the currency's precision when known."""
    price = item.get("price")
    if price is None:
        raise ValueError(f"item {item.get('name')!r} has no price")
    price = price if isinstance(price, Decimal) else Decimal(str(price))
    return str(round_money(price, quantum) if quantum is not None else price)


def _slug(value):
    """A category name as an id fragment (letters of any script, digits and dashes)."""
    return "-".join("".join(ch if ch.isalnum() else " " for ch in str(value).lower()).split()) or "menu"


class TalabatAdapter(DeliveryHeroAdapter):
    platform = DeliveryPlatform.TALABAT
    display_name = "Talabat"
    brand_colour = "#ff5a00"


class HungerStationAdapter(DeliveryHeroAdapter):
    platform = DeliveryPlatform.HUNGERSTATION
    display_name = "HungerStation"
    brand_colour = "#ffd400"
