"""Careem: the ORDER_CREATED envelope and ORDER_STATUS_UPDATED events."""
import json
from datetime import timedelta

from .formats import money_number, rfc3339, summary
from .model import SimOrder, Webhook
from .people import EXPAT_NAMES, ORDER_NOTES


CAREEM_SEGMENTS = [{"en": "New Customer", "ar": "عميل جديد"}, {"en": "Repeat Customer", "ar": "عميل متكرر"},
                   {"en": "High Value Customer (5+ Orders)", "ar": "عميل ذو قيمة عالية، أكثر من ٥ طلبات"}]
CAREEM_CANCEL_REASONS = ["CUSTOMER_CANCELLED", "CAPTAIN_NOT_FOUND", "PAYMENT_FAILED", "OTHER"]


class CareemPayloads:
    """OrderFactory's Careem part: needs its rng, amounts and customer."""

    def careem_order(self, target, now):
        rng, q = self.rng, target.quantum
        lines = self.basket(target)
        merchant_delivery = rng.random() < 0.3
        # Careem: total_taxable_price = original × (1 + tax %) − discounts − promos + delivery + service fee.
        amounts = self.amounts(target, lines, delivery_fee=True, service_fee=rng.random() < 0.5,
                               tax_on_discounted=False)
        customer = self.customer(target)
        scheduled = self.schedule(now)
        cash = rng.random() < self.cash_share
        order_id = rng.randint(60_000_000, 99_999_999)
        total = amounts.total
        items = []
        for line in lines:
            options = [{"id": local_id, "quantity": line.quantity, "discount": 0, "careem_discount_amount": 0,
                        "merchant_discount_amount": 0, "total_price": money_number(price * line.quantity, q)}
                       for local_id, *_, price in line.modifiers]
            items.append({
                "id": line.item.local_product_id, "event": None, "notes": line.note or "",
                "groups": [{"id": "extras", "options": options}] if options else [],
                "quantity": line.quantity, "delta_quantity": 0, "discount": 0, "careem_discount_amount": 0,
                "merchant_discount_amount": 0, "item_price": money_number(line.base_total, q),
                "unit_price": money_number(line.unit_price, q), "total_price": money_number(line.total, q), "tags": [],
            })
        platform_pays = amounts.discount_sponsor == "PLATFORM"
        details = {
            "id": order_id,
            "status": "pending",
            "branch": {"name": target.company_name, "id": target.store_id, "brand_id": target.merchant_id,
                       "state": "MAPPED", "created_at": "2024-01-01T08:00:00Z", "updated_at": "2024-01-01T08:00:00Z",
                       "active": True, "catalog_id": None},
            "merchant_pay_type": "cash" if cash else "prepaid",
            "delivery_type": "merchant" if merchant_delivery else "careem",
            "delivery": {"type": "merchant" if merchant_delivery else "careem",
                         "delivery_mode": "scheduled" if scheduled else "asap",
                         "schedule_detail": {"time_slot": {"start": rfc3339(scheduled),
                                                           "end": rfc3339(scheduled + timedelta(minutes=30))}}
                         if scheduled else None},
            "notes": rng.choice([""] * 3 + ORDER_NOTES),
            "price": {
                "original_total_price": money_number(amounts.items, q),
                "merchant_discount_amount": 0 if platform_pays else money_number(amounts.discount, q),
                "careem_discount_amount": money_number(amounts.discount, q) if platform_pays else 0,
                "merchant_promo_amount": 0, "careem_promo_amount": 0, "free_delivery_discount_value": 0,
                "tax_percentage": amounts.tax_percent,
                "total_taxable_price": money_number(total, q),
                "delivery_fee": money_number(amounts.delivery_fee, q),
                "service_fee": money_number(amounts.service_fee, q),
                "promo_code": "",
            },
            "customer": {
                # Careem fills name, phone and address only when the restaurant delivers itself.
                "name": customer.name if merchant_delivery else "",
                "phone_number": customer.phone if merchant_delivery else 0,
                "address": {"area": customer.district, "city": customer.city, "name": "Home",
                            "note": "", "number": customer.flat, "street": customer.street,
                            "building": customer.building,
                            "location": {"lat": str(customer.lat), "lng": str(customer.lng)}}
                if merchant_delivery else {"area": "", "city": "", "name": "", "note": "", "number": "",
                                           "street": "", "building": "", "location": {"lat": "", "lng": ""}},
                "segments": [rng.choice(CAREEM_SEGMENTS)],
                "payment_type": "cash" if cash else rng.choice(["card", "wallet", "apple_pay"]),
            },
            "captain": {"name": "", "phone_number": "",
                        "eta": rfc3339(now + timedelta(minutes=rng.randint(10, 25)), millis=True)},
            "cash_in": money_number(total, q) if cash else 0,
            "items": items,
            "cancellation_reason": "",
            "created_at": rfc3339(now),
            "is_scheduled": scheduled is not None,
            "updated_at": None,
            "metadata": {"order_instructions": {
                "merchant_notes": "",
                "merchant_instructions": [{"label": "INCLUDE_CUTLERY", "icon_url": "",
                                           "name_localized": {"en": "Include Cutlery", "ar": "أدوات المائدة متضمنة"}}]
                if rng.random() < 0.4 else []}, "tags": []},
        }
        webhook = Webhook(platform=target.platform, event="ORDER_CREATED", order_id=str(order_id),
                          body={"event_type": "ORDER_CREATED", "details": details},
                          summary=summary(target, lines, total, scheduled, False))
        return SimOrder(target=target, platform_order_id=str(order_id), webhook=webhook, amounts=amounts,
                        lines=lines, placed_at=now, scheduled_for=scheduled, extra={"details": details})

    def careem_status(self, order, status, now, reason=""):
        details = json.loads(json.dumps(order.extra["details"]))   # a deep copy of the order as sent
        details.update(status=status, updated_at=rfc3339(now),
                       cancellation_reason=reason if status == "cancelled" else "")
        if status in ("trip_started", "trip_ended"):
            first, last = self.rng.choice(EXPAT_NAMES)
            details["captain"] = {"name": f"{first} {last}", "phone_number": self.phone(order.target.country_code),
                                  "eta": rfc3339(now + timedelta(minutes=self.rng.randint(8, 20)), millis=True)}
            details["pickup_time"] = rfc3339(now)
        return Webhook(platform=order.platform, event=status, order_id=order.platform_order_id,
                       body={"event_type": "ORDER_STATUS_UPDATED", "details": details})

    # ------------------------------------------------------------------ generic (docs/GENERIC_WEBHOOKS.md)
