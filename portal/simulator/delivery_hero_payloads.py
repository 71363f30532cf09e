"""Talabat and HungerStation (Delivery Hero): the plugin order and its status updates."""
import uuid
from datetime import timedelta
from decimal import Decimal

from ..platforms import adapter_for
from .formats import CURRENCY_SYMBOLS, alnum, iso_millis, money_text, summary
from .model import SimOrder, Webhook
from .people import ORDER_NOTES


DH_CANCEL_MESSAGES = ["Customer cancelled the order", "No rider available", "Payment could not be completed",
                      "Order cancelled by customer care"]
UNAVAILABILITY = ["REMOVE", "REDUCE_QUANTITY", "CALL_CUSTOMER_AND_REPLACE", "CANCEL_ORDER"]


class DeliveryHeroPayloads:
    """OrderFactory's Delivery Hero part: needs its rng, amounts and customer."""

    def delivery_hero_order(self, target, now):
        rng, q = self.rng, target.quantum
        lines = self.basket(target)
        pickup = rng.random() < self.pickup_share
        vendor_delivery = not pickup and rng.random() < 0.2
        amounts = self.amounts(target, lines, delivery_fee=not pickup)
        customer = self.customer(target)
        scheduled = self.schedule(now)
        expected = scheduled or now + timedelta(minutes=rng.randint(30, 50))
        cash = rng.random() < self.cash_share
        brand = adapter_for(target.platform).display_name
        code = f"{alnum(rng, 4)}-{alnum(rng, 4)}"
        token = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        remote_id = target.store_id or "remote-1"

        products = []
        for line in lines:
            products.append({
                "categoryName": line.item.category or "Menu",
                "name": line.item.name,
                "paidPrice": money_text(line.base_total, q),            # unit price × quantity, toppings excluded
                "unitPrice": money_text(line.unit_price, q),
                "quantity": str(line.quantity),
                "remoteCode": line.item.local_product_id,
                "comment": line.note or "",
                "id": line.item.platform_product_id or f"dh-{line.item.local_product_id}",
                "itemUnavailabilityHandling": rng.choice(UNAVAILABILITY),
                "variation": {"name": line.item.name},
                "discounts": [],
                "selectedToppings": [{
                    "children": [], "name": name, "price": money_text(price * line.quantity, q),  # per line
                    "quantity": 1, "id": f"dh-{local_id}", "remoteCode": local_id, "type": "EXTRA",
                    "itemUnavailabilityHandling": "REMOVE", "discounts": [],
                } for local_id, name, _, price in line.modifiers],
            })
        discounts = []
        if amounts.discount:
            offer = "deal" if amounts.discount_sponsor == "PLATFORM" else "restaurant offer"
            discounts.append({"name": f"{brand} {offer}",
                              "amount": money_text(amounts.discount, q),
                              "sponsorships": [{"sponsor": amounts.discount_sponsor,
                                                "amount": money_text(amounts.discount, q)}]})
        total = amounts.total
        body = {
            "token": token,
            "code": code,
            "comments": {"customerComment": rng.choice([""] * 3 + ORDER_NOTES)},
            "createdAt": iso_millis(now),
            "customer": {"email": customer.email, "firstName": customer.first_name, "lastName": customer.last_name,
                         "mobilePhone": customer.phone, "flags": rng.choice([[], [], ["NEW_CUSTOMER"]])},
            "delivery": {
                "address": None if pickup else {
                    "postcode": str(rng.randint(11000, 14999)) if target.country_code == "SA" else "",
                    "city": customer.city, "street": customer.street, "number": customer.building,
                    "flatNumber": customer.flat,
                    "deliveryArea": customer.district, "latitude": customer.lat, "longitude": customer.lng,
                },
                "expectedDeliveryTime": None if pickup else iso_millis(expected),
                "expressDelivery": False,
                "riderPickupTime": None if pickup or vendor_delivery else iso_millis(expected - timedelta(minutes=15)),
            },
            "discounts": discounts,
            "expeditionType": "pickup" if pickup else "delivery",
            "expiryDate": iso_millis(now + timedelta(minutes=10)),
            "extraParameters": {},
            "invoicingInformation": {"carrierType": "", "carrierValue": ""},
            "localInfo": {"countryCode": target.country_code, "currencySymbol": CURRENCY_SYMBOLS.get(
                target.currency, target.currency), "platform": brand,
                "platformKey": f"{'TB' if brand == 'Talabat' else 'HS'}_{target.country_code}"},
            "payment": {"status": "pending" if cash else "paid", "type": "cash" if cash else "paid"},
            "test": False,
            "shortCode": str(rng.randint(10, 999)),
            "preOrder": scheduled is not None,
            "pickup": ({"pickupTime": iso_millis(expected), "pickupCode": str(rng.randint(1000, 9999))}
                       if pickup else None),
            "platformRestaurant": {"id": f"{brand[:2].lower()}-{remote_id}"},
            "price": {
                "deliveryFees": [{"name": "Delivery fee", "value": float(amounts.delivery_fee)}]
                if amounts.delivery_fee else [],
                "grandTotal": money_text(total, q),
                "payRestaurant": money_text(total, q),
                "riderTip": money_text(Decimal(0), q),
                "subTotal": money_text(amounts.items, q),
                "discountAmountTotal": money_text(amounts.discount, q),
                "totalNet": money_text(total - amounts.tax, q),
                "vatTotal": money_text(amounts.tax, q),
                "vatPercent": str(amounts.tax_percent),
                "collectFromCustomer": money_text(total if cash else Decimal(0), q),
            },
            "products": products,
            "corporateTaxId": "",
            "callbackUrls": None,   # the portal falls back to /v2/order/status/{token} on its base URL
        }
        if scheduled is None:
            body["preparationTimeAdjustmentInformation"] = {
                "minPickUpTimestamp": iso_millis(now + timedelta(minutes=10)),
                "maxPickUpTimestamp": iso_millis(now + timedelta(minutes=60)),
                "preparationTimeChangeIntervalsInMinutes": [5, 10, 15, 20],
            }
        webhook = Webhook(platform=target.platform, event="ORDER", order_id=code, body=body,
                          path=f"order/{remote_id}", summary=summary(target, lines, total, scheduled, pickup))
        return SimOrder(target=target, platform_order_id=code, webhook=webhook, amounts=amounts, lines=lines,
                        placed_at=now, scheduled_for=scheduled, token=token)

    def delivery_hero_status(self, order, status, now, message=None):
        remote_id = order.target.store_id or "remote-1"
        body = {"status": status, "message": message or "", "occurredAt": iso_millis(now)}
        return Webhook(platform=order.platform, event=status, order_id=order.platform_order_id, body=body,
                       method="PUT",
                       path=f"remoteId/{remote_id}/remoteOrder/{order.platform_order_id}/posOrderStatus")

    # ------------------------------------------------------------------ Careem
