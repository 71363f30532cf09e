"""DHUB, Nashmi, Top Delivery, Jood Delivery, Yallow, Tawasi: the generic format (docs/GENERIC_WEBHOOKS.md)."""
import string
from datetime import timedelta
from decimal import Decimal

from .formats import event_id, money_text, rfc3339, summary
from .model import SimOrder, Webhook
from .people import ORDER_NOTES


GENERIC_PREFIXES = {"DHUB": "DHB", "NASHMI": "NSH", "TOP_DELIVERY": "TOP", "JOOD_DELIVERY": "JOOD",
                    "YALLOW": "YLW", "TAWASI": "TWS"}


class GenericPayloads:
    """OrderFactory's part for the generic platforms: needs its rng, amounts and customer."""

    def generic_order(self, target, now):
        rng, q = self.rng, target.quantum
        lines = self.basket(target)
        pickup = rng.random() < self.pickup_share
        amounts = self.amounts(target, lines, delivery_fee=not pickup, service_fee=rng.random() < 0.3)
        customer = self.customer(target)
        scheduled = self.schedule(now)
        cash = rng.random() < self.cash_share
        number = rng.randint(10_000, 999_999)
        order_id = f"{GENERIC_PREFIXES.get(target.platform, 'ORD')}-{number}"
        total = amounts.total
        phone = customer.phone
        if phone.startswith("+966") and rng.random() < 0.5:
            phone = "0" + phone[4:]          # "as you have them": the portal normalises to E.164
        discounts = []
        if amounts.discount:
            discounts.append({"name": "Welcome offer" if amounts.discount_sponsor == "PLATFORM" else "Happy hour",
                              "amount": money_text(amounts.discount, q),
                              "sponsor": "platform" if amounts.discount_sponsor == "PLATFORM" else "restaurant"})
        order = {
            "id": order_id,
            "number": str(number),
            "short_code": f"{rng.choice(string.ascii_uppercase)}{rng.randint(1, 99)}",
            "status": "new",
            "type": "pickup" if pickup else "delivery",
            "test": False,
            "currency": target.currency,
            "placed_at": rfc3339(now),
            "accept_by": rfc3339(now + timedelta(minutes=8)),
            "scheduled_for": rfc3339(scheduled),
            "expected_at": rfc3339(scheduled or now + timedelta(minutes=rng.randint(30, 50))),
            "customer": {"name": customer.name, "phone": phone, "email": None},
            "delivery": {"address": None if pickup else
                         f"{customer.street} {customer.building}, flat {customer.flat}, {customer.district}, "
                         f"{customer.city}",
                         "notes": rng.choice([None, None] + ORDER_NOTES)},
            "payment": {"method": "cash" if cash else rng.choice(["card", "card", "wallet", "apple_pay"])},
            "items": [{
                "id": line.item.platform_product_id or line.item.local_product_id,
                "plu": line.item.local_product_id,
                "name": line.item.name,
                "quantity": line.quantity,
                "unit_price": money_text(line.unit_price, q),
                "total": money_text(line.total, q),          # quantity × (unit price + modifiers)
                "notes": line.note,
                "modifiers": [{"id": f"opt-{local_id.lower()}", "plu": local_id, "name": name, "quantity": 1,
                               "price": money_text(price, q), "modifiers": []}
                              for local_id, name, _, price in line.modifiers],
            } for line in lines],
            "discounts": discounts,
            "totals": {
                "subtotal": money_text(amounts.items, q),
                "delivery_fee": money_text(amounts.delivery_fee, q),
                "service_fee": money_text(amounts.service_fee, q),
                "tax": money_text(amounts.tax, q),
                "tip": money_text(Decimal(0), q),
                "total": money_text(total, q),
                "collect_from_customer": money_text(total if cash else Decimal(0), q),
            },
        }
        body = {"event": "order.created", "event_id": event_id(rng), "occurred_at": rfc3339(now), "order": order}
        webhook = Webhook(platform=target.platform, event="order.created", order_id=order_id, body=body,
                          summary=summary(target, lines, total, scheduled, pickup))
        return SimOrder(target=target, platform_order_id=order_id, webhook=webhook, amounts=amounts, lines=lines,
                        placed_at=now, scheduled_for=scheduled)

    def generic_status(self, order, status, now, reason=None):
        body = {"event": "order.status_changed", "event_id": event_id(self.rng), "occurred_at": rfc3339(now),
                "order": {"id": order.platform_order_id, "status": status.lower()}}
        if reason:
            body["reason"] = reason
        return Webhook(platform=order.platform, event=status.lower(), order_id=order.platform_order_id, body=body)
