"""What the simulator's orders are made of: the menu and integration it sends to, the lines, the money,
the webhooks it sends."""
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from babel.numbers import get_currency_precision


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
