"""The adapter contract every delivery platform implements, and the unified order it produces.

Adapters are pure: they verify, parse and build requests, and never touch the database or the
network. The webhook receiver stores and upserts; the jobs send what `*_request` methods build.
"""
import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from ..models import DeliveryPlatform, OrderStatus


class WebhookError(Exception):
    """A webhook the portal refuses; `status_code` is the HTTP answer and the message is logged."""

    status_code = 400

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class SignatureError(WebhookError):
    """Missing, wrong or stale authentication: 401, no order."""

    status_code = 401


class PayloadError(WebhookError):
    """A body that is not JSON, or JSON that is not an order this platform sends: 400/422."""

    status_code = 422


@dataclass(frozen=True)
class Capabilities:
    """What a platform lets the portal do; the UI greys out what it does not support."""

    busy_mode: bool = False            # slow down (longer prep) without closing
    timed_pause: bool = False          # close the store until a time, reopening by itself
    store_close: bool = True           # close/open the store
    item_snooze: bool = True           # mark items unavailable
    prep_time_change: bool = False     # change the preparation time of an accepted order
    mark_prepared: bool = True         # tell the platform the order is ready
    picked_up: bool = False            # tell the platform the order was picked up (vendor delivery)
    max_items_per_availability_call: int = 100
    status_api: bool = True            # False: statuses are handled in the portal only
    max_catalog_items: int = 0         # the most items one catalog push may carry (0: no known limit)
    catalog_callback: bool = False     # the platform reports a catalog import's outcome by webhook
    menu_import: bool = False          # the platform can hand us its menu ("Import from platform")


# The sponsor of a discount (or the part of one) the platform does not split: its payer is not given.
# It counts in the order's discount_amount but in none of the platform/vendor/third-party columns,
# so the analytics show it as "Discounts, payer not given" and the order page as "Payer not given".
SPONSOR_UNKNOWN = "UNKNOWN"


@dataclass
class Discount:
    """A discount and who pays for it: PLATFORM, VENDOR (the restaurant), THIRD_PARTY or SPONSOR_UNKNOWN."""

    name: str
    amount: Decimal
    sponsor: str = "VENDOR"


@dataclass
class Modifier:
    """A topping, option or variant of an item; may nest.

    `price` is the modifier's price as the platform sends it (DH: the topping's `price`, Careem: the
    option's `total_price`, generic: the price of one unit of the modifier).
    """

    name: str
    quantity: int = 1
    price: Decimal = Decimal("0")
    platform_id: str | None = None
    local_id: str | None = None
    children: list["Modifier"] = field(default_factory=list)
    name_ar: str | None = None
    # False when the platform sent no name and `name` is only a label made from the option's code
    # (Careem): the receiver then names it from the company's catalog (modifier options).
    named: bool = True


@dataclass
class OrderItem:
    """One line of an order.

    `line_total` is the line as the platform prices it, before discounts: DH `paidPrice` (unit price ×
    quantity, toppings excluded), Careem `total_price`, generic `total`.
    """

    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    platform_product_id: str | None = None
    local_product_id: str | None = None   # our PLU / remoteCode, when the platform sends it
    modifiers: list[Modifier] = field(default_factory=list)
    discounts: list[Discount] = field(default_factory=list)
    notes: str | None = None


@dataclass
class UnifiedOrder:
    """An order from any platform, in the portal's shape (amounts in the order's currency)."""

    platform_order_id: str
    order_number: str
    status: OrderStatus = OrderStatus.PENDING
    short_code: str | None = None
    platform_token: str | None = None       # DH `token`: every callback names the order by it
    order_type: str = "DELIVERY"            # or PICKUP
    is_test: bool = False
    currency: str | None = None
    subtotal: Decimal = Decimal("0")
    discounts: list[Discount] = field(default_factory=list)
    delivery_fee: Decimal = Decimal("0")
    service_fee: Decimal = Decimal("0")
    tax_amount: Decimal = Decimal("0")
    tip_amount: Decimal = Decimal("0")
    total_amount: Decimal = Decimal("0")
    collect_from_customer: Decimal | None = None
    payment_method: str | None = None
    customer_name: str | None = None
    customer_phone: str | None = None       # E.164 (portal.phones.normalize_phone), or None
    customer_email: str | None = None
    delivery_address: str | None = None
    delivery_notes: str | None = None
    placed_at: datetime | None = None
    accept_by: datetime | None = None       # the platform cancels the order if not accepted by then
    expected_at: datetime | None = None     # expected delivery / pickup time
    scheduled_at: datetime | None = None    # pre-orders
    items: list[OrderItem] = field(default_factory=list)
    # What the portal changed to store the order (text cut to its column…), said on the order's timeline.
    adjustments: list[str] = field(default_factory=list)

    @property
    def discount_amount(self):
        return sum((discount.amount for discount in self.discounts), Decimal("0"))

    def discount_by_sponsor(self, sponsor):
        return sum((d.amount for d in self.discounts if d.sponsor == sponsor), Decimal("0"))


@dataclass
class StatusUpdate:
    """A platform telling us an order's status changed (e.g. cancelled by the platform, picked up)."""

    platform_order_id: str
    status: OrderStatus
    reason: str | None = None
    occurred_at: datetime | None = None


@dataclass
class WebhookEvent:
    """What one inbound webhook means. `kind`: order, status, catalog or ignored.

    - order: `order` is a new (or re-sent) order; upsert it.
    - status: `status` is a status change of `status.platform_order_id`; when the platform sends the
      whole order with it (Careem, generic), `order` is filled too, so an order never seen can be
      created. On an order that exists, apply `status`, not `order.status`.
    - catalog: a menu/catalog sync report or request; `details` says what.
    - ignored: understood but nothing to do (e.g. "driver is coming"); `details` keeps what it said.
    `event_id` is the dedupe key: the same event retried by the platform has the same id.
    """

    kind: str
    event_type: str
    event_id: str | None = None
    order: UnifiedOrder | None = None
    status: StatusUpdate | None = None
    details: dict = field(default_factory=dict)


@dataclass
class ParseContext:
    """What an adapter needs to know about the receiving integration."""

    currency: str = "SAR"
    country_code: str = "SA"
    path: str = ""                           # the part of the webhook URL after the integration id


@dataclass
class OutboundRequest:
    """An HTTP call to a platform, built by an adapter and sent by a job."""

    method: str
    path: str
    json: dict | list | None = None
    description: str = ""


class PlatformAdapter(abc.ABC):
    """The contract; one subclass per platform in this package, registered in registry.py."""

    platform: DeliveryPlatform
    display_name: str
    """The platform's name as people know it ("HungerStation"): how the portal labels it everywhere."""

    family: str
    """The API the platform speaks, which the simulator imitates: "delivery_hero" (Delivery Hero's POS
    middleware: Talabat, HungerStation), "careem" (Careem's POS API) or "generic" (docs/GENERIC_WEBHOOKS.md)."""

    brand_colour: str | None = None
    """The platform's colour (#rrggbb): its .platform-* badge in static/css/portal.css and its series
    in the report charts."""

    uses_plugin_url = False
    """True when the platform calls `<plugin URL>/order/<remoteId>` (Delivery Hero's middleware) rather
    than the connection's webhook address; the Integrations page then shows the plugin URL."""

    pause_reason: str | None = None
    """The reason code sent with a pause from the order board (`store_status_request(reason=...)`), or
    None when the platform takes no reason."""

    menu_sync_min_interval: timedelta | None = None
    """The shortest time the platform allows between two menu syncs of one store, or None for no limit."""

    webhook_user_agent: str = ""
    """The User-Agent the platform's webhooks carry (the simulator sends it, with "/simulator" added)."""

    capabilities = Capabilities()
    # (code, English label) pairs; shown as choices, never free text.
    reject_reasons: tuple[tuple[str, str], ...] = ()
    cancel_reasons: tuple[tuple[str, str], ...] = ()
    # What the integration form asks for: (field, label, required)
    credential_fields: tuple[tuple[str, str, bool], ...] = ()
    # False when orders name items only by id (Careem): the receiver names them from the catalog.
    sends_item_names = True
    # False when the platform refuses an item priced 0 (Careem's catalog API: price must be positive).
    accepts_zero_price = True

    def rider_collects(self, order) -> bool:
        """True when the platform's rider collects the order and reports its pick-up and delivery.

        False for pickup orders (the customer collects) and for orders the restaurant delivers itself:
        only those may be marked picked up or delivered by staff. `order` needs order_type and, where
        the platform says who delivers in its payload, platform_data. Here: every delivery order is
        carried by the platform (the generic platforms are delivery companies).
        """
        return getattr(order, "order_type", "DELIVERY") != "PICKUP"

    @abc.abstractmethod
    def verify(self, headers, raw_body: bytes, secret: str, now: datetime | None = None) -> None:
        """Raise SignatureError unless the request is authentic for this integration's secret."""

    @abc.abstractmethod
    def sign(self, raw_body: bytes, secret: str, now: datetime | None = None) -> dict:
        """Headers that make `raw_body` authentic (the simulator and the tests sign with this)."""

    @abc.abstractmethod
    def parse_webhook(self, payload, context: ParseContext) -> WebhookEvent:
        """Turn a decoded JSON body into a WebhookEvent; raise PayloadError on what it cannot read."""

    @abc.abstractmethod
    def status_request(self, order, status: OrderStatus, reason: str | None = None,
                       preparation_minutes: int | None = None, *,
                       now: datetime | None = None) -> OutboundRequest | None:
        """The call that tells the platform about our status change, or None if it has no such call.

        `order` is any object with platform_order_id, platform_token and order_type (a DeliveryOrder
        or a UnifiedOrder). Raises ValueError for a reason the platform does not accept.
        """

    @abc.abstractmethod
    def availability_requests(self, items: list[tuple[str, bool]], *,
                              store_id: str | None = None) -> list[OutboundRequest]:
        """Calls that mark (platform_product_id, available) items, chunked by the platform's limit."""

    @abc.abstractmethod
    def store_status_request(self, open_: bool, minutes: int | None = None, reason: str | None = None, *,
                             store_id: str | None = None,
                             now: datetime | None = None) -> OutboundRequest | None:
        """The call that opens, closes or pauses the store (for `minutes` when timed).

        `store_id` is the integration's store id (DH remote id, Careem branch id).
        """

    @abc.abstractmethod
    def menu_request(self, items: list[dict], *, store_id: str | None = None, merchant_id: str | None = None,
                     currency: str | None = None, diff: bool = False) -> OutboundRequest | None:
        """The call that pushes the mapped catalog.

        `items`: dicts with local_product_id, platform_product_id, name, name_ar, price (Decimal),
        available and category; optionally description, description_ar, image_url and
        modifier_groups ([{id, name, name_ar, min, max, options: [{id, name, name_ar, price, available}]}]).
        `diff=True` (the menu sync's "changes only") asks for a partial update where the platform has
        one. `store_id`/`merchant_id` are the integration's ids (DH: remote id and chain code; Careem:
        branch and brand).
        """

    # Why "Import from platform" is not offered, when `capabilities.menu_import` is False.
    menu_import_note = "This platform's API has no call that returns its menu."

    def menu_import_request(self, *, store_id: str | None = None,
                            merchant_id: str | None = None) -> OutboundRequest | None:
        """The call that reads the platform's menu, or None when the platform offers none."""
        return None

    def parse_menu_import(self, payload) -> list[dict]:
        """The platform's menu as dicts with platform_product_id, local_product_id (PLU or None), name,
        price (Decimal or None), category and available; raise PayloadError on what it cannot read."""
        raise PayloadError("this platform does not hand out its menu")

    def catalog_request_id(self, response_json) -> str | None:
        """The id a platform gives a catalog push (to match its import callback later), if any."""
        if isinstance(response_json, dict):
            for key in ("request_id", "catalogImportId", "import_id", "id"):
                if response_json.get(key) not in (None, ""):
                    return str(response_json[key])[:100]
        return None

    def ack_body(self, event: WebhookEvent, order_id=None) -> dict:
        """The JSON the platform expects back on success."""
        return {"status": "ok"}

    def request_headers(self, credentials: Mapping) -> dict:
        """Platform-specific headers every outbound call carries, from the integration's credentials.

        Authentication (DH login token, Careem OAuth token) is the sender's job; this adds only what
        the adapter knows, e.g. Careem's Brand-Id and Branch-Id.
        """
        return {}
