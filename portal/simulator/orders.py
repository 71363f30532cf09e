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
"items" includes toppings/options and each platform carries the parts in its own fields. The
payloads are built in delivery_hero_payloads.py, careem_payloads.py and generic_payloads.py (the
OrderFactory's parts), from the pieces in model.py, the fake customers of people.py and the
formats of formats.py.
"""
import random
import string
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import phonenumbers

from ..platforms import all_adapters
from .careem_payloads import CAREEM_CANCEL_REASONS, CareemPayloads
from .delivery_hero_payloads import DH_CANCEL_MESSAGES, DeliveryHeroPayloads
from .generic_payloads import GenericPayloads
from .model import Amounts, Line
from .people import (EXPAT_NAMES, FIRST_NAMES_AR, FIRST_NAMES_EN, ITEM_NOTES, LAST_NAMES_AR, LAST_NAMES_EN, MOBILE,
                     PLACES, Customer)


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
class OrderFactory(DeliveryHeroPayloads, CareemPayloads, GenericPayloads):
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
