"""Reading orders: the list's filters, search, sort and keyset pages; one order's timeline; the export.

Every query names `company_id` explicitly so PostgreSQL can use the indexes that lead with it; row-level
security would scope the rows anyway.
"""
import base64
import binascii
import csv
import io
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import phonenumbers
from babel.numbers import get_currency_precision
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, literal, select, tuple_
from sqlalchemy.orm import defer

from ..extensions import db
from ..i18n import PLATFORM_LABELS, STATUS_LABELS, localized
from ..models import CallStatus, DeliveryOrder, DeliveryPlatform, OrderStatus, OrderStatusHistory, PlatformCall, User
from ..phones import normalize_phone
from ..platforms import adapter_for

PER_PAGE = 50
EXPORT_BATCH = 500
MAX_AMOUNT = Decimal("999999999.999")  # NUMERIC(12, 3)
# sort key -> (label, column, descending)
SORTS = {
    "newest": (_l("Newest first"), DeliveryOrder.created_at, True),
    "oldest": (_l("Oldest first"), DeliveryOrder.created_at, False),
    "total_high": (_l("Total: high to low"), DeliveryOrder.total_amount, True),
    "total_low": (_l("Total: low to high"), DeliveryOrder.total_amount, False),
}
PUSH_LABELS = {CallStatus.QUEUED: _l("Queued"), CallStatus.SENDING: _l("Sending"), CallStatus.SUCCEEDED: _l("Sent"),
               CallStatus.FAILED: _l("Failed"), CallStatus.DEAD: _l("Gave up"), CallStatus.SKIPPED: _l("Not needed")}
ORDER_TYPE_LABELS = {"DELIVERY": _l("Delivery"), "PICKUP": _l("Pickup")}
PAYMENT_LABELS = {"CARD": _l("Card"), "CASH": _l("Cash"), "APPLE_PAY": "Apple Pay", "ONLINE": _l("Paid online"),
                  "PAID": _l("Paid online"), "WALLET": _l("Wallet")}
# Arabic-Indic (٠-٩) and Eastern Arabic-Indic (۰-۹) digits and the Arabic decimal separator, as typed.
_NUMERALS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")
_PREFIX_TERM = re.compile(r"^[\w+\-]+$")
_PHONE_LIKE = re.compile(r"^\+?\d{4,15}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class OrderFilters:
    """What the orders list (and its export) is limited to; `notes` say which input was ignored and why."""

    date_from: date | None = None
    date_to: date | None = None
    platform: str = ""
    statuses: list = field(default_factory=list)
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    q: str = ""
    sort: str = "newest"
    show_test: bool = False
    notes: list = field(default_factory=list)

    @property
    def active(self):
        """True when anything narrows the list (the sort alone does not)."""
        return bool(self.date_from or self.date_to or self.platform or self.statuses or self.q
                    or self.amount_min is not None or self.amount_max is not None)

    def args(self, **extra):
        """The filters as query-string arguments, for links that keep them (pages, export, clear sort)."""
        args = {"q": self.q, "date_from": self.date_from.isoformat() if self.date_from else "",
                "date_to": self.date_to.isoformat() if self.date_to else "", "platform": self.platform,
                "status": list(self.statuses),
                "min_total": "" if self.amount_min is None else str(self.amount_min),
                "max_total": "" if self.amount_max is None else str(self.amount_max),
                "sort": "" if self.sort == "newest" else self.sort, "test": "1" if self.show_test else ""}
        args.update(extra)
        return {key: value for key, value in args.items() if value not in ("", None, [])}


def _parse_date(value):
    day = datetime.strptime(value.translate(_NUMERALS).strip(), "%Y-%m-%d").date()
    if not 2000 <= day.year <= 2100:  # far-off years overflow once shifted to UTC, and hold no orders
        raise ValueError(value)
    return day


def _parse_amount(value):
    amount = Decimal(value.translate(_NUMERALS).strip())
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise InvalidOperation
    return amount


def parse_filters(args):
    """The filters a request asked for; anything unreadable is dropped with a note for the page."""
    filters = OrderFilters(q=" ".join(_CONTROL.sub(" ", args.get("q") or "").split())[:100],
                           show_test=args.get("test") in ("1", "on", "true"))
    platform = args.get("platform") or ""
    filters.platform = platform if platform in DeliveryPlatform.__members__ else ""
    filters.statuses = [status for status in OrderStatus.__members__ if status in args.getlist("status")]
    sort = args.get("sort") or "newest"
    filters.sort = sort if sort in SORTS else "newest"

    for name, attribute, label in (("date_from", "date_from", _l("From")), ("date_to", "date_to", _l("To"))):
        raw = (args.get(name) or "").strip()
        if raw:
            try:
                setattr(filters, attribute, _parse_date(raw))
            except ValueError:
                filters.notes.append(_("“%(label)s” is not a date (%(value)s), so it was ignored.",
                                       label=label, value=raw[:20]))
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        filters.date_from, filters.date_to = filters.date_to, filters.date_from
        filters.notes.append(_("The dates were the wrong way round, so they were swapped."))

    for name, attribute, label in (("min_total", "amount_min", _l("Lowest total")),
                                   ("max_total", "amount_max", _l("Highest total"))):
        raw = (args.get(name) or "").strip()
        if raw:
            try:
                setattr(filters, attribute, _parse_amount(raw))
            except (InvalidOperation, ValueError):
                filters.notes.append(_("“%(label)s” must be an amount such as 25 or 25.50; “%(value)s” was ignored.",
                                       label=label, value=raw[:20]))
    if filters.amount_min is not None and filters.amount_max is not None and filters.amount_min > filters.amount_max:
        filters.amount_min, filters.amount_max = filters.amount_max, filters.amount_min
        filters.notes.append(_("The lowest total was above the highest, so they were swapped."))
    return filters


def day_bounds(day, timezone_name):
    """Midnight at the start of `day` in the company's time zone, and the next midnight (aware datetimes)."""
    zone = ZoneInfo(timezone_name)
    start = datetime.combine(day, time(), zone)
    return start, datetime.combine(day + timedelta(days=1), time(), zone)


def _prefix_query(q):
    """Partial order numbers and names as they are typed ('T009' matches T00912), through the GIN index.

    Only the last word is a prefix, and only from 3 characters: a prefix on every word (the 'al' of
    "Al-Kuwari") matches half of all orders and made name searches 40x slower (bench/README.md).
    """
    words = [word for word in re.split(r"[\s\-]+", q) if word][:5]
    if not words or not all(_PREFIX_TERM.match(word) for word in words):
        return None
    *head, last = words
    terms = [f"'{word}'" for word in head if len(word) >= 3]
    terms.append(f"'{last}':*" if len(last) >= 3 else f"'{last}'")
    return func.to_tsquery("simple", " & ".join(terms))


def _phone_query(q, country_code):
    """The customer phone as stored (E.164) for what was typed: 0551234567, +966 55 123 4567, 966551234567.

    A complete number matches exactly; a partial one (at least 4 digits) as a prefix of the E.164 form.
    """
    compact = re.sub(r"[\s\-().]", "", q.translate(_NUMERALS))
    if not _PHONE_LIKE.match(compact):
        return None
    phone = normalize_phone(compact, country_code or "SA")
    if phone:
        return func.to_tsquery("simple", f"'{phone}'")
    if compact.startswith("+"):
        prefix = compact
    elif compact.startswith("0"):
        prefix = f"+{phonenumbers.country_code_for_region(country_code or 'SA')}{compact.lstrip('0')}"
    else:
        prefix = "+" + compact
    return func.to_tsquery("simple", f"'{prefix}':*")


def search_condition(q, country_code):
    """Full-text search over order number, customer name and phone: one `@@` the GIN index answers."""
    query = func.websearch_to_tsquery("simple", q)
    for extra in (_prefix_query(q), _phone_query(q, country_code)):
        if extra is not None:
            query = query.op("||")(extra)
    return DeliveryOrder.search_vector.op("@@")(query)


def filtered_orders(company, filters):
    """SELECT of the company's orders matching `filters` (unsorted; see `orders_page`)."""
    query = (select(DeliveryOrder).where(DeliveryOrder.company_id == company.id)
             .options(defer(DeliveryOrder.platform_data)))
    if not filters.show_test:
        query = query.where(DeliveryOrder.is_test.is_(False))
    if filters.date_from:
        query = query.where(DeliveryOrder.created_at >= day_bounds(filters.date_from, company.timezone)[0])
    if filters.date_to:
        query = query.where(DeliveryOrder.created_at < day_bounds(filters.date_to, company.timezone)[1])
    if filters.platform:
        query = query.where(DeliveryOrder.platform == DeliveryPlatform(filters.platform))
    if filters.statuses:
        query = query.where(DeliveryOrder.status.in_([OrderStatus(status) for status in filters.statuses]))
    if filters.amount_min is not None:
        query = query.where(DeliveryOrder.total_amount >= filters.amount_min)
    if filters.amount_max is not None:
        query = query.where(DeliveryOrder.total_amount <= filters.amount_max)
    if filters.q:
        query = query.where(search_condition(filters.q, company.country_code))
    return query


# --- Keyset pages ---------------------------------------------------------------------------------

def encode_cursor(sort, order):
    """An opaque `after`/`before` value: the sort, the row's sort value and its id."""
    value = order.created_at.isoformat() if SORTS[sort][1] is DeliveryOrder.created_at else str(order.total_amount)
    raw = json.dumps([sort, value, str(order.id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token, sort):
    """(sort value, id) of a cursor made for this sort, or None for anything else."""
    if not token or len(token) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        cursor_sort, value, order_id = json.loads(raw)
        if cursor_sort != sort:
            return None
        if SORTS[sort][1] is DeliveryOrder.created_at:
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                return None
        else:
            value = Decimal(value)
            if not value.is_finite():
                return None
        return value, uuid.UUID(order_id)
    except (ValueError, TypeError, AttributeError, binascii.Error, InvalidOperation, UnicodeDecodeError):
        return None


def _after(column, descending, cursor):
    """Rows strictly after `cursor` in the sort order; the single-column bound lets the index range-scan."""
    value, order_id = cursor
    if descending:
        return and_(column <= value, tuple_(column, DeliveryOrder.id) < tuple_(literal(value, column.type), order_id))
    return and_(column >= value, tuple_(column, DeliveryOrder.id) > tuple_(literal(value, column.type), order_id))


def sorted_orders(query, sort, cursor=None, reverse=False):
    """`query` in the order of `sort` (or its reverse), starting after `cursor`."""
    _, column, descending = SORTS[sort]
    descending = descending != reverse
    if cursor is not None:
        query = query.where(_after(column, descending, cursor))
    if descending:
        return query.order_by(column.desc(), DeliveryOrder.id.desc())
    return query.order_by(column.asc(), DeliveryOrder.id.asc())


@dataclass
class OrdersPage:
    """One page of the list, and the cursors of the pages around it."""

    orders: list
    next_cursor: str | None
    previous_cursor: str | None
    is_first: bool


def orders_page(company, filters, after=None, before=None, per_page=PER_PAGE):
    """A keyset page: the `per_page` orders after cursor `after` (or before `before`), in the chosen sort."""
    query = filtered_orders(company, filters)
    after_cursor, before_cursor = decode_cursor(after, filters.sort), decode_cursor(before, filters.sort)
    if before_cursor is not None:
        rows = db.session.scalars(sorted_orders(query, filters.sort, before_cursor, reverse=True)
                                  .limit(per_page + 1)).all()
        more_before = len(rows) > per_page
        orders = list(reversed(rows[:per_page]))
        return OrdersPage(orders, encode_cursor(filters.sort, orders[-1]) if orders else None,
                          encode_cursor(filters.sort, orders[0]) if orders and more_before else None,
                          is_first=not more_before)
    rows = db.session.scalars(sorted_orders(query, filters.sort, after_cursor).limit(per_page + 1)).all()
    orders = rows[:per_page]
    more_after = len(rows) > per_page
    return OrdersPage(orders, encode_cursor(filters.sort, orders[-1]) if orders and more_after else None,
                      encode_cursor(filters.sort, orders[0]) if orders and after_cursor is not None else None,
                      is_first=after_cursor is None)


def has_any_orders(company, show_test=False):
    """Whether the company has any order at all (the list's empty state vs. its "no match" state)."""
    query = select(DeliveryOrder.id).where(DeliveryOrder.company_id == company.id)
    if not show_test:
        query = query.where(DeliveryOrder.is_test.is_(False))
    return db.session.scalar(query.limit(1)) is not None


# --- One order --------------------------------------------------------------------------------------

def get_order(company, order_id):
    """The company's order with this id, or None (another company's id or a malformed one included)."""
    try:
        order_uuid = uuid.UUID(str(order_id))
    except ValueError:
        return None
    return db.session.scalar(select(DeliveryOrder).where(DeliveryOrder.company_id == company.id,
                                                         DeliveryOrder.id == order_uuid))


def items_count(order):
    """How many things were ordered (quantities added up)."""
    total = 0
    for item in order.order_items or []:
        try:
            total += int(item.get("quantity") or 1)
        except (TypeError, ValueError, AttributeError):
            total += 1
    return total


def item_name(item, locale=None):
    """The item's (or modifier's) Arabic name on an Arabic page when the order has one, else its name."""
    return localized(item) or "?"


def first_name(order):
    """The customer's first name only (the list shows no more of them)."""
    return (order.customer_name or "").split(" ")[0] or None


@dataclass
class TimelineEntry:
    """One line of an order's timeline: a status change, or a call the portal made to the platform."""

    at: datetime
    kind: str                  # "status" or "call"
    from_status: object = None
    to_status: object = None
    who: str = ""
    reason: str | None = None
    call: PlatformCall | None = None


def order_timeline(order):
    """Status changes and platform calls of an order, oldest first."""
    history = db.session.execute(
        select(OrderStatusHistory, User.first_name, User.last_name)
        .outerjoin(User, and_(User.company_id == OrderStatusHistory.company_id, User.id == OrderStatusHistory.user_id))
        .where(OrderStatusHistory.company_id == order.company_id, OrderStatusHistory.order_id == order.id)
        .order_by(OrderStatusHistory.created_at)).all()
    calls = db.session.scalars(
        select(PlatformCall).where(PlatformCall.company_id == order.company_id, PlatformCall.order_id == order.id)
        .order_by(PlatformCall.created_at)).all()
    sources = {"PLATFORM": _("Platform"), "SYSTEM": _("System")}
    entries = []
    for change, user_first, user_last in history:
        if user_first is not None:
            who = f"{user_first} {user_last}".strip()
        else:
            who = sources.get(change.source, _("Staff"))  # a staff change whose user is gone
        entries.append(TimelineEntry(change.created_at, "status", change.from_status, change.to_status, who,
                                     change.reason))
    entries.extend(TimelineEntry(call.created_at, "call", call=call) for call in calls)
    # Stable: a status change and the call it caused share a timestamp; the change comes first.
    return sorted(entries, key=lambda entry: (entry.at, entry.kind != "status"))


def payment_label(method):
    """'CARD' -> 'Card'; methods a platform invents are shown as it sends them, tidied."""
    if not method:
        return None
    return PAYMENT_LABELS.get(method.upper(), method.replace("_", " ").capitalize())


# Reasons the portal itself writes into the status history (webhooks/services.py), shown translated.
SYSTEM_REASONS = {"received from the platform": _l("received from the platform"), "auto-accepted": _l("auto-accepted")}


def reason_labels(order):
    """Reason codes of the order's platform with their labels, for the timeline."""
    adapter = adapter_for(order.platform)
    return {**SYSTEM_REASONS, **dict(tuple(adapter.reject_reasons) + tuple(adapter.cancel_reasons))}


def money_breakdown(order):
    """The money of an order in the order the detail page shows it."""
    commission = order.commission_amount
    discounts = [(_("Paid by the platform"), order.platform_discount),
                 (_("Paid by the restaurant"), order.vendor_discount),
                 (_("Paid by a third party"), order.third_party_discount)]
    # Orders from before the split (or a platform that does not say who pays) keep only the sum.
    unsplit = (order.discount_amount or 0) - sum(amount or 0 for _label, amount in discounts)
    if unsplit > 0:
        discounts.append((_("Payer not given"), unsplit))
    return {
        "discounts": discounts,
        "after_commission": (order.total_amount - commission) if commission is not None else None,
        "payment": payment_label(order.payment_method),
        "commission_rate": (format_decimal(order.commission_rate, "0.##") + "%"
                            if order.commission_rate is not None else None),
    }


# --- CSV export --------------------------------------------------------------------------------------

CSV_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """A spreadsheet cell that cannot run as a formula (CSV injection): text starting = + - @ gets a '."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(CSV_DANGEROUS) else text


def export_header():
    return [_("Placed at"), _("Platform"), _("Order number"), _("Short code"), _("Status"), _("Type"),
            _("Customer name"), _("Customer phone"), _("Subtotal"), _("Platform discount"),
            _("Restaurant discount"), _("Third-party discount"), _("Delivery fee"), _("Service fee"), _("Tax"),
            _("Tip"), _("Total"), _("Commission"), _("Currency")]


def _amount(value, places):
    if value is None:
        return ""
    return str(Decimal(value).quantize(Decimal(1).scaleb(-places)))


def export_row(order, zone):
    """One order as a CSV row; amounts are plain numbers in the currency's precision."""
    places = get_currency_precision(order.currency)
    placed = (order.placed_at or order.created_at).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    amounts = [_amount(value, places) for value in (
        order.subtotal, order.platform_discount, order.vendor_discount, order.third_party_discount,
        order.delivery_fee, order.service_fee, order.tax_amount, order.tip_amount, order.total_amount,
        order.commission_amount)]
    status = str(STATUS_LABELS.get(order.status.value, order.status.value))
    text = [placed, PLATFORM_LABELS.get(order.platform.value, order.platform.value), order.order_number,
            order.short_code, status, str(ORDER_TYPE_LABELS.get(order.order_type, order.order_type)),
            order.customer_name, order.customer_phone]
    return [csv_safe(cell) for cell in text] + amounts + [order.currency]


def export_csv(company, filters):
    """The CSV of every order matching `filters`, as text chunks: BOM and header first, then batches.

    Batches are keyset pages, and each ends its transaction, so a long download holds no database
    connection (or PgBouncer slot) between batches.
    """
    zone = ZoneInfo(company.timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export_header())
    yield "\ufeff" + buffer.getvalue()
    query = filtered_orders(company, filters)
    cursor = None
    while True:
        batch = db.session.scalars(sorted_orders(query, filters.sort, cursor).limit(EXPORT_BATCH)).all()
        if not batch:
            break
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(export_row(order, zone) for order in batch)
        last = batch[-1]
        cursor = (last.created_at if SORTS[filters.sort][1] is DeliveryOrder.created_at else last.total_amount,
                  last.id)
        db.session.rollback()  # read-only: end the transaction between batches
        yield buffer.getvalue()
        if len(batch) < EXPORT_BATCH:
            break


def export_filename(filters, today):
    """orders_2025-03-01_2025-03-31.csv: the date range the file covers."""
    start = filters.date_from.isoformat() if filters.date_from else "start"
    end = (filters.date_to or today).isoformat()
    return f"orders_{start}_{end}.csv"
