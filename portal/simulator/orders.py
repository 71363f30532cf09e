"""Realistic orders in each platform's own format, and the events that follow them.

Everything here is pure: a `Target` (what the platform knows about the restaurant: integration id,
webhook secret, store ids, mapped menu) and a random generator in, JSON bodies out.

- Talabat / HungerStation: the Delivery Hero plugin order (tests/fixtures/payloads/talabat-order-example.json),
  POSTed to `.../order/<remoteId>`; a cancellation is a PUT to
  `.../remoteId/<remoteId>/remoteOrder/<code>/posOrderStatus`.
- Careem: the `ORDER_CREATED` envelope (careem-order-created-example.json) and `ORDER_STATUS_UPDATED`
  for cancellations and the captain's trip.
- DHUB, Nashmi, Top Delivery, Jood Delivery, Yallow, Tawasi: the generic format of
  docs/GENERIC_WEBHOOKS.md.

Amounts add up in the company's currency precision: total = items − discounts + fees + tax, where
"items" includes toppings/options and each platform carries the parts in its own fields.
"""
import json
import random
import string
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import phonenumbers
from babel.numbers import get_currency_precision

from ..platforms import adapter_for, all_adapters


def _speaking(family):
    """The platforms (enum values) whose adapters speak `family`'s API, in the enum's order."""
    return tuple(adapter.platform.value for adapter in all_adapters() if adapter.family == family)


# Each format below is written once per API family; which platform speaks which is the adapters' fact.
DELIVERY_HERO = _speaking("delivery_hero")
CAREEM = _speaking("careem")
GENERIC = _speaking("generic")
ALL_PLATFORMS = DELIVERY_HERO + CAREEM + GENERIC

# VAT by country (added on top of menu prices, as the demo's orders do): KSA 15 %, UAE/Oman 5 %,
# Bahrain 10 %, Kuwait and Qatar none.
VAT_PERCENT = {"SA": 15, "AE": 5, "OM": 5, "BH": 10, "KW": 0, "QA": 0, "JO": 16}
# Menu-independent amounts are written in SAR and converted (roughly) to the company's currency.
SAR_RATE = {"SAR": "1", "AED": "0.98", "QAR": "0.97", "KWD": "0.082", "BHD": "0.1", "OMR": "0.1", "JOD": "0.19"}

# (local id, English, Arabic, price in SAR): toppings and options every restaurant offers.
MODIFIERS = [
    ("MOD-EXTRA-CHEESE", "Extra cheese", "جبنة إضافية", "3.00"),
    ("MOD-NO-ONIONS", "No onions", "بدون بصل", "0.00"),
    ("MOD-SPICY", "Spicy", "حار", "0.00"),
    ("MOD-GARLIC", "Extra garlic sauce", "ثومية إضافية", "2.00"),
    ("MOD-LARGE", "Large", "كبير", "5.00"),
    ("MOD-ADD-FRIES", "Add fries", "إضافة بطاطس", "8.00"),
    ("MOD-EXTRA-MEAT", "Extra meat", "لحم إضافي", "9.00"),
]
ITEM_NOTES = ["No pickles", "Well done", "Sauce on the side", "Extra napkins", "Cut in half", "Less salt"]
ORDER_NOTES = ["Please ring the bell", "Call on arrival", "Leave at the door", "No cutlery, please",
               "The building has a blue gate", "من فضلك اتصل عند الوصول", "لا تطرق الباب، الطفل نائم"]

FIRST_NAMES_EN = ["Mohammed", "Ahmed", "Abdullah", "Khalid", "Faisal", "Sultan", "Fahad", "Saud", "Omar",
                  "Yousef", "Turki", "Nasser", "Fatimah", "Noura", "Sara", "Reem", "Maha", "Hessa", "Aisha",
                  "Latifa", "Mariam", "Dana", "Lulwa", "Shaikha"]
LAST_NAMES_EN = ["Al-Harbi", "Al-Qahtani", "Al-Otaibi", "Al-Ghamdi", "Al-Zahrani", "Al-Dosari", "Al-Shehri",
                 "Al-Mutairi", "Al-Subaie", "Al-Shammari", "Al-Kuwari", "Al-Mansoori", "Al-Nuaimi", "Al-Sabah"]
FIRST_NAMES_AR = ["محمد", "أحمد", "عبدالله", "خالد", "فيصل", "سلطان", "فهد", "نورة", "سارة", "ريم", "مها",
                  "لطيفة", "مريم", "دانة"]
LAST_NAMES_AR = ["الحربي", "القحطاني", "العتيبي", "الغامدي", "الزهراني", "الدوسري", "الشمري", "المطيري",
                 "السبيعي", "الكواري", "المنصوري"]
EXPAT_NAMES = [("Rahul", "Menon"), ("Maria", "Santos"), ("Ali", "Khan"), ("John", "Mathew"),
               ("Ayesha", "Siddiqui"), ("Mark", "Wilson")]

# Country → (calling code, national mobile number patterns: prefix + random digits to fill the length)
MOBILE = {
    "SA": ("966", [("5", 8)]),
    "AE": ("971", [("50", 7), ("52", 7), ("55", 7), ("56", 7)]),
    "KW": ("965", [("5", 7), ("9", 7), ("66", 6), ("99", 6)]),
    "QA": ("974", [("3", 7), ("5", 7), ("66", 6), ("77", 6)]),
    "BH": ("973", [("33", 6), ("36", 6), ("39", 6)]),
    "OM": ("968", [("9", 7), ("7", 7)]),
}
# Country → (city, districts, streets, (lat, lng) centre)
PLACES = {
    "SA": ("Riyadh", ["Al Olaya", "Al Malqa", "Hittin", "Al Nakheel", "Al Yasmin", "Al Sahafa", "Al Muruj"],
           ["King Fahd Road", "Olaya Street", "Prince Turki Street", "Anas Ibn Malik Road", "Takhassusi Street"],
           (24.7136, 46.6753)),
    "AE": ("Dubai", ["Dubai Marina", "JLT", "Al Barsha", "Business Bay", "Jumeirah", "Deira"],
           ["Sheikh Zayed Road", "Al Wasl Road", "Al Khail Road", "Marina Walk"], (25.2048, 55.2708)),
    "KW": ("Kuwait City", ["Salmiya", "Hawalli", "Jabriya", "Mishref", "Sharq", "Fintas"],
           ["Gulf Road", "Salem Al Mubarak Street", "Tunis Street", "Beirut Street"], (29.3759, 47.9774)),
    "QA": ("Doha", ["West Bay", "Al Sadd", "The Pearl", "Al Waab", "Lusail"],
           ["Al Corniche Street", "Salwa Road", "C Ring Road", "Al Waab Street"], (25.2854, 51.5310)),
    "BH": ("Manama", ["Seef", "Juffair", "Adliya", "Riffa", "Muharraq"],
           ["Road 2832", "Road 4609", "Exhibition Avenue", "Osama Bin Zaid Avenue"], (26.2285, 50.5860)),
    "OM": ("Muscat", ["Al Khuwair", "Qurum", "Al Mouj", "Ruwi", "Madinat Sultan Qaboos"],
           ["Sultan Qaboos Street", "18th November Street", "Al Kharjiyah Street"], (23.5880, 58.3829)),
}
CURRENCY_SYMBOLS = {"SAR": "SAR", "AED": "AED", "KWD": "KWD", "QAR": "QAR", "BHD": "BHD", "OMR": "OMR"}
UNAVAILABILITY = ["REMOVE", "REDUCE_QUANTITY", "CALL_CUSTOMER_AND_REPLACE", "CANCEL_ORDER"]
GENERIC_PREFIXES = {"DHUB": "DHB", "NASHMI": "NSH", "TOP_DELIVERY": "TOP", "JOOD_DELIVERY": "JOOD",
                    "YALLOW": "YLW", "TAWASI": "TWS"}
CAREEM_SEGMENTS = [{"en": "New Customer", "ar": "عميل جديد"}, {"en": "Repeat Customer", "ar": "عميل متكرر"},
                   {"en": "High Value Customer (5+ Orders)", "ar": "عميل ذو قيمة عالية، أكثر من ٥ طلبات"}]
CAREEM_CANCEL_REASONS = ["CUSTOMER_CANCELLED", "CAPTAIN_NOT_FOUND", "PAYMENT_FAILED", "OTHER"]
DH_CANCEL_MESSAGES = ["Customer cancelled the order", "No rider available", "Payment could not be completed",
                      "Order cancelled by customer care"]


@dataclass(frozen=True)
class MenuItem:
    """A product as the platform knows it: our local id, the platform's id, name and price."""

    local_product_id: str
    name: str
    price: Decimal
    name_ar: str | None = None
    platform_product_id: str | None = None
    category: str | None = None


@dataclass
class Target:
    """One integration the simulator sends to, with everything the platform would know about it."""

    platform: str                 # DeliveryPlatform value: TALABAT, CAREEM, NASHMI…
    integration_id: str
    secret: str                   # the integration's webhook secret (plain text)
    menu: list[MenuItem]
    store_id: str | None = None   # DH remote id / Careem branch id / generic store id
    merchant_id: str | None = None
    currency: str = "SAR"
    country_code: str = "SA"
    company_name: str = "Restaurant"

    @property
    def quantum(self):
        return Decimal(1).scaleb(-get_currency_precision(self.currency))


@dataclass
class Webhook:
    """One request the platform makes to the portal, relative to /webhooks/<platform>/<integration_id>."""

    platform: str
    event: str                    # ORDER, ORDER_CANCELLED, trip_started…
    order_id: str                 # the platform's order id, for people reading the log
    body: dict
    path: str = ""                # e.g. "order/<remoteId>"; "" for the integration URL itself
    method: str = "POST"
    summary: str = ""

    def raw(self):
        return json.dumps(self.body, ensure_ascii=False).encode()


@dataclass
class Line:
    item: MenuItem
    quantity: int
    unit_price: Decimal
    modifiers: list[tuple[str, str, str, Decimal]]   # (local id, English, Arabic, unit price)
    note: str | None

    @property
    def base_total(self):
        return self.unit_price * self.quantity

    @property
    def modifiers_total(self):
        return sum((price for *_, price in self.modifiers), Decimal(0)) * self.quantity

    @property
    def total(self):
        return self.base_total + self.modifiers_total


@dataclass
class Customer:
    first_name: str
    last_name: str
    phone: str
    email: str
    city: str
    district: str
    street: str
    building: str
    flat: str
    lat: float
    lng: float

    @property
    def name(self):
        return f"{self.first_name} {self.last_name}"


@dataclass
class Amounts:
    """An order's money, all in the company's currency precision."""

    items: Decimal
    discount: Decimal
    discount_sponsor: str          # PLATFORM or VENDOR
    delivery_fee: Decimal
    service_fee: Decimal
    tax: Decimal
    tax_percent: int

    @property
    def total(self):
        return self.items - self.discount + self.delivery_fee + self.service_fee + self.tax


@dataclass
class SimOrder:
    """An order the simulator placed, and what it needs to send its follow-up events."""

    target: Target
    platform_order_id: str
    webhook: Webhook
    amounts: Amounts
    lines: list[Line]
    placed_at: datetime
    scheduled_for: datetime | None = None
    token: str | None = None      # DH token (the portal's calls name the order by it)
    extra: dict = field(default_factory=dict)

    @property
    def platform(self):
        return self.target.platform


class OrderFactory:
    """Makes orders for targets; `rng` makes a run reproducible, `now` pins the clock."""

    def __init__(self, rng=None, scheduled_share=0.15, modifier_share=0.35, discount_share=0.2,
                 pickup_share=0.1, cash_share=0.25):
        self.rng = rng or random.Random()
        self.scheduled_share = scheduled_share
        self.modifier_share = modifier_share
        self.discount_share = discount_share
        self.pickup_share = pickup_share
        self.cash_share = cash_share

    # ------------------------------------------------------------------ shared pieces

    def sar(self, target, amount):
        """An amount written in SAR, in the target's currency and precision."""
        rate = Decimal(SAR_RATE.get(target.currency, "1"))
        return (Decimal(amount) * rate).quantize(target.quantum, ROUND_HALF_UP)

    def basket(self, target):
        if not target.menu:
            raise ValueError(f"{target.platform} integration {target.integration_id} has no mapped products")
        rng = self.rng
        lines = []
        for item in rng.sample(target.menu, min(len(target.menu), rng.randint(1, 4))):
            modifiers = []
            if rng.random() < self.modifier_share:
                for local_id, name, name_ar, price in rng.sample(MODIFIERS, rng.choice([1, 1, 2])):
                    modifiers.append((local_id, name, name_ar, self.sar(target, price)))
            lines.append(Line(item=item, quantity=rng.choice([1, 1, 1, 2, 2, 3]),
                              unit_price=Decimal(item.price).quantize(target.quantum, ROUND_HALF_UP),
                              modifiers=modifiers, note=rng.choice([None, None, None] + ITEM_NOTES)))
        return lines

    def amounts(self, target, lines, delivery_fee=True, service_fee=False, tax_on_discounted=True):
        rng, q = self.rng, target.quantum
        items = sum((line.total for line in lines), Decimal(0)).quantize(q)
        discount, sponsor = Decimal(0).quantize(q), "VENDOR"
        if rng.random() < self.discount_share:
            discount = (items * Decimal(rng.choice([10, 15, 20])) / 100).quantize(q, ROUND_HALF_UP)
            sponsor = rng.choice(["PLATFORM", "VENDOR"])
        fee = self.sar(target, rng.choice(["5.00", "7.00", "9.00", "0.00"])) if delivery_fee else Decimal(0).quantize(q)
        service = self.sar(target, rng.choice(["1.50", "2.00", "3.00"])) if service_fee else Decimal(0).quantize(q)
        percent = VAT_PERCENT.get(target.country_code, 0)
        taxable = items - discount if tax_on_discounted else items
        tax = (taxable * percent / 100).quantize(q, ROUND_HALF_UP)
        return Amounts(items=items, discount=discount, discount_sponsor=sponsor, delivery_fee=fee,
                       service_fee=service, tax=tax, tax_percent=percent)

    def customer(self, target):
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            first, last = rng.choice(FIRST_NAMES_AR), rng.choice(LAST_NAMES_AR)
        elif roll < 0.9:
            first, last = rng.choice(FIRST_NAMES_EN), rng.choice(LAST_NAMES_EN)
        else:
            first, last = rng.choice(EXPAT_NAMES)
        city, districts, streets, (lat, lng) = PLACES.get(target.country_code, PLACES["SA"])
        return Customer(first_name=first, last_name=last, phone=self.phone(target.country_code),
                        email="".join(rng.choices(string.ascii_lowercase + string.digits, k=18)),
                        city=city, district=rng.choice(districts), street=rng.choice(streets),
                        building=str(rng.randint(1, 9999)), flat=str(rng.randint(1, 40)),
                        lat=round(lat + rng.uniform(-0.08, 0.08), 6), lng=round(lng + rng.uniform(-0.08, 0.08), 6))

    def phone(self, country_code):
        """A valid mobile number of the country in E.164 (+9665…)."""
        code, patterns = MOBILE.get(country_code, MOBILE["SA"])
        for _ in range(50):
            prefix, digits = self.rng.choice(patterns)
            number = f"+{code}{prefix}{self.rng.randrange(10 ** digits):0{digits}d}"
            if phonenumbers.is_valid_number(phonenumbers.parse(number)):
                return number
        return number

    def schedule(self, now):
        """None for an order wanted now, or a time 1–3 hours ahead (rounded to 5 minutes)."""
        if self.rng.random() >= self.scheduled_share:
            return None
        moment = now + timedelta(minutes=self.rng.randint(60, 180))
        return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)

    # ------------------------------------------------------------------ dispatch

    def order(self, target, now=None):
        """A new order for `target` in its platform's format."""
        now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
        if target.platform in DELIVERY_HERO:
            return self.delivery_hero_order(target, now)
        if target.platform in CAREEM:
            return self.careem_order(target, now)
        if target.platform in GENERIC:
            return self.generic_order(target, now)
        raise ValueError(f"unknown platform {target.platform!r}")

    def cancellation(self, order, now=None):
        """The platform cancelling `order` (customer changed their mind, no rider…)."""
        now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
        if order.platform in DELIVERY_HERO:
            return self.delivery_hero_status(order, "ORDER_CANCELLED", now, self.rng.choice(DH_CANCEL_MESSAGES))
        if order.platform in CAREEM:
            return self.careem_status(order, "cancelled", now, reason=self.rng.choice(CAREEM_CANCEL_REASONS))
        return self.generic_status(order, "CANCELLED", now, reason=self.rng.choice(DH_CANCEL_MESSAGES))

    def picked_up(self, order, now=None):
        """The platform's rider/captain collecting `order` (after the portal marked it ready)."""
        now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
        if order.platform in DELIVERY_HERO:
            return self.delivery_hero_status(order, "ORDER_PICKED_UP", now)
        if order.platform in CAREEM:
            return self.careem_status(order, "trip_started", now)
        return self.generic_status(order, "PICKED_UP", now)

    def delivered(self, order, now=None):
        """The captain handing `order` over (Careem and generic; DH tells the plugin nothing)."""
        now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
        if order.platform in CAREEM:
            return self.careem_status(order, "trip_ended", now)
        if order.platform in GENERIC:
            return self.generic_status(order, "DELIVERED", now)
        return None

    # ------------------------------------------------------------------ Delivery Hero

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
        code = f"{_alnum(rng, 4)}-{_alnum(rng, 4)}"
        token = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        remote_id = target.store_id or "remote-1"

        products = []
        for line in lines:
            products.append({
                "categoryName": line.item.category or "Menu",
                "name": line.item.name,
                "paidPrice": _s(line.base_total, q),            # unit price × quantity, toppings excluded
                "unitPrice": _s(line.unit_price, q),
                "quantity": str(line.quantity),
                "remoteCode": line.item.local_product_id,
                "comment": line.note or "",
                "id": line.item.platform_product_id or f"dh-{line.item.local_product_id}",
                "itemUnavailabilityHandling": rng.choice(UNAVAILABILITY),
                "variation": {"name": line.item.name},
                "discounts": [],
                "selectedToppings": [{
                    "children": [], "name": name, "price": _s(price * line.quantity, q),  # per line
                    "quantity": 1, "id": f"dh-{local_id}", "remoteCode": local_id, "type": "EXTRA",
                    "itemUnavailabilityHandling": "REMOVE", "discounts": [],
                } for local_id, name, _, price in line.modifiers],
            })
        discounts = []
        if amounts.discount:
            offer = "deal" if amounts.discount_sponsor == "PLATFORM" else "restaurant offer"
            discounts.append({"name": f"{brand} {offer}",
                              "amount": _s(amounts.discount, q),
                              "sponsorships": [{"sponsor": amounts.discount_sponsor,
                                                "amount": _s(amounts.discount, q)}]})
        total = amounts.total
        body = {
            "token": token,
            "code": code,
            "comments": {"customerComment": rng.choice([""] * 3 + ORDER_NOTES)},
            "createdAt": _iso(now),
            "customer": {"email": customer.email, "firstName": customer.first_name, "lastName": customer.last_name,
                         "mobilePhone": customer.phone, "flags": rng.choice([[], [], ["NEW_CUSTOMER"]])},
            "delivery": {
                "address": None if pickup else {
                    "postcode": str(rng.randint(11000, 14999)) if target.country_code == "SA" else "",
                    "city": customer.city, "street": customer.street, "number": customer.building,
                    "flatNumber": customer.flat,
                    "deliveryArea": customer.district, "latitude": customer.lat, "longitude": customer.lng,
                },
                "expectedDeliveryTime": None if pickup else _iso(expected),
                "expressDelivery": False,
                "riderPickupTime": None if pickup or vendor_delivery else _iso(expected - timedelta(minutes=15)),
            },
            "discounts": discounts,
            "expeditionType": "pickup" if pickup else "delivery",
            "expiryDate": _iso(now + timedelta(minutes=10)),
            "extraParameters": {},
            "invoicingInformation": {"carrierType": "", "carrierValue": ""},
            "localInfo": {"countryCode": target.country_code, "currencySymbol": CURRENCY_SYMBOLS.get(
                target.currency, target.currency), "platform": brand,
                "platformKey": f"{'TB' if brand == 'Talabat' else 'HS'}_{target.country_code}"},
            "payment": {"status": "pending" if cash else "paid", "type": "cash" if cash else "paid"},
            "test": False,
            "shortCode": str(rng.randint(10, 999)),
            "preOrder": scheduled is not None,
            "pickup": {"pickupTime": _iso(expected), "pickupCode": str(rng.randint(1000, 9999))} if pickup else None,
            "platformRestaurant": {"id": f"{brand[:2].lower()}-{remote_id}"},
            "price": {
                "deliveryFees": [{"name": "Delivery fee", "value": float(amounts.delivery_fee)}]
                if amounts.delivery_fee else [],
                "grandTotal": _s(total, q),
                "payRestaurant": _s(total, q),
                "riderTip": _s(Decimal(0), q),
                "subTotal": _s(amounts.items, q),
                "discountAmountTotal": _s(amounts.discount, q),
                "totalNet": _s(total - amounts.tax, q),
                "vatTotal": _s(amounts.tax, q),
                "vatPercent": str(amounts.tax_percent),
                "collectFromCustomer": _s(total if cash else Decimal(0), q),
            },
            "products": products,
            "corporateTaxId": "",
            "callbackUrls": None,   # the portal falls back to /v2/order/status/{token} on its base URL
        }
        if scheduled is None:
            body["preparationTimeAdjustmentInformation"] = {
                "minPickUpTimestamp": _iso(now + timedelta(minutes=10)),
                "maxPickUpTimestamp": _iso(now + timedelta(minutes=60)),
                "preparationTimeChangeIntervalsInMinutes": [5, 10, 15, 20],
            }
        webhook = Webhook(platform=target.platform, event="ORDER", order_id=code, body=body,
                          path=f"order/{remote_id}", summary=_summary(target, lines, total, scheduled, pickup))
        return SimOrder(target=target, platform_order_id=code, webhook=webhook, amounts=amounts, lines=lines,
                        placed_at=now, scheduled_for=scheduled, token=token)

    def delivery_hero_status(self, order, status, now, message=None):
        remote_id = order.target.store_id or "remote-1"
        body = {"status": status, "message": message or "", "occurredAt": _iso(now)}
        return Webhook(platform=order.platform, event=status, order_id=order.platform_order_id, body=body,
                       method="PUT",
                       path=f"remoteId/{remote_id}/remoteOrder/{order.platform_order_id}/posOrderStatus")

    # ------------------------------------------------------------------ Careem

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
                        "merchant_discount_amount": 0, "total_price": _n(price * line.quantity, q)}
                       for local_id, *_, price in line.modifiers]
            items.append({
                "id": line.item.local_product_id, "event": None, "notes": line.note or "",
                "groups": [{"id": "extras", "options": options}] if options else [],
                "quantity": line.quantity, "delta_quantity": 0, "discount": 0, "careem_discount_amount": 0,
                "merchant_discount_amount": 0, "item_price": _n(line.base_total, q),
                "unit_price": _n(line.unit_price, q), "total_price": _n(line.total, q), "tags": [],
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
                         "schedule_detail": {"time_slot": {"start": _rfc(scheduled),
                                                           "end": _rfc(scheduled + timedelta(minutes=30))}}
                         if scheduled else None},
            "notes": rng.choice([""] * 3 + ORDER_NOTES),
            "price": {
                "original_total_price": _n(amounts.items, q),
                "merchant_discount_amount": 0 if platform_pays else _n(amounts.discount, q),
                "careem_discount_amount": _n(amounts.discount, q) if platform_pays else 0,
                "merchant_promo_amount": 0, "careem_promo_amount": 0, "free_delivery_discount_value": 0,
                "tax_percentage": amounts.tax_percent,
                "total_taxable_price": _n(total, q),
                "delivery_fee": _n(amounts.delivery_fee, q),
                "service_fee": _n(amounts.service_fee, q),
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
                        "eta": _rfc(now + timedelta(minutes=rng.randint(10, 25)), millis=True)},
            "cash_in": _n(total, q) if cash else 0,
            "items": items,
            "cancellation_reason": "",
            "created_at": _rfc(now),
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
                          summary=_summary(target, lines, total, scheduled, False))
        return SimOrder(target=target, platform_order_id=str(order_id), webhook=webhook, amounts=amounts,
                        lines=lines, placed_at=now, scheduled_for=scheduled, extra={"details": details})

    def careem_status(self, order, status, now, reason=""):
        details = json.loads(json.dumps(order.extra["details"]))   # a deep copy of the order as sent
        details.update(status=status, updated_at=_rfc(now), cancellation_reason=reason if status == "cancelled" else "")
        if status in ("trip_started", "trip_ended"):
            first, last = self.rng.choice(EXPAT_NAMES)
            details["captain"] = {"name": f"{first} {last}", "phone_number": self.phone(order.target.country_code),
                                  "eta": _rfc(now + timedelta(minutes=self.rng.randint(8, 20)), millis=True)}
            details["pickup_time"] = _rfc(now)
        return Webhook(platform=order.platform, event=status, order_id=order.platform_order_id,
                       body={"event_type": "ORDER_STATUS_UPDATED", "details": details})

    # ------------------------------------------------------------------ generic (docs/GENERIC_WEBHOOKS.md)

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
                              "amount": _s(amounts.discount, q),
                              "sponsor": "platform" if amounts.discount_sponsor == "PLATFORM" else "restaurant"})
        order = {
            "id": order_id,
            "number": str(number),
            "short_code": f"{rng.choice(string.ascii_uppercase)}{rng.randint(1, 99)}",
            "status": "new",
            "type": "pickup" if pickup else "delivery",
            "test": False,
            "currency": target.currency,
            "placed_at": _rfc(now),
            "accept_by": _rfc(now + timedelta(minutes=8)),
            "scheduled_for": _rfc(scheduled),
            "expected_at": _rfc(scheduled or now + timedelta(minutes=rng.randint(30, 50))),
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
                "unit_price": _s(line.unit_price, q),
                "total": _s(line.total, q),          # quantity × (unit price + modifiers)
                "notes": line.note,
                "modifiers": [{"id": f"opt-{local_id.lower()}", "plu": local_id, "name": name, "quantity": 1,
                               "price": _s(price, q), "modifiers": []} for local_id, name, _, price in line.modifiers],
            } for line in lines],
            "discounts": discounts,
            "totals": {
                "subtotal": _s(amounts.items, q),
                "delivery_fee": _s(amounts.delivery_fee, q),
                "service_fee": _s(amounts.service_fee, q),
                "tax": _s(amounts.tax, q),
                "tip": _s(Decimal(0), q),
                "total": _s(total, q),
                "collect_from_customer": _s(total if cash else Decimal(0), q),
            },
        }
        body = {"event": "order.created", "event_id": _event_id(rng), "occurred_at": _rfc(now), "order": order}
        webhook = Webhook(platform=target.platform, event="order.created", order_id=order_id, body=body,
                          summary=_summary(target, lines, total, scheduled, pickup))
        return SimOrder(target=target, platform_order_id=order_id, webhook=webhook, amounts=amounts, lines=lines,
                        placed_at=now, scheduled_for=scheduled)

    def generic_status(self, order, status, now, reason=None):
        body = {"event": "order.status_changed", "event_id": _event_id(self.rng), "occurred_at": _rfc(now),
                "order": {"id": order.platform_order_id, "status": status.lower()}}
        if reason:
            body["reason"] = reason
        return Webhook(platform=order.platform, event=status.lower(), order_id=order.platform_order_id, body=body)


def _s(amount, q):
    """Decimal string in the currency's precision (Delivery Hero money)."""
    return str(Decimal(amount).quantize(q, ROUND_HALF_UP))


def _n(amount, q):
    """A JSON number in major units (Careem money): an int when whole, else a float of the exact decimal."""
    value = Decimal(amount).quantize(q, ROUND_HALF_UP)
    return int(value) if value == value.to_integral_value() else float(value)


def _iso(moment):
    """2016-03-14T17:00:00.000Z (Delivery Hero)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _rfc(moment, millis=False):
    """RFC 3339 UTC, with or without milliseconds (Careem)."""
    if moment is None:
        return None
    return _iso(moment) if millis else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_id(rng):
    return f"evt-{rng.getrandbits(64):016x}"


def _alnum(rng, length):
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=length))


def _summary(target, lines, total, scheduled, pickup):
    count = sum(line.quantity for line in lines)
    parts = [f"{count} item{'s' if count != 1 else ''}", f"{target.currency} {total}"]
    if pickup:
        parts.append("pickup")
    if scheduled:
        parts.append(f"scheduled {scheduled.strftime('%H:%M')} UTC")
    if any(line.modifiers for line in lines):
        parts.append("with extras")
    return ", ".join(parts)
