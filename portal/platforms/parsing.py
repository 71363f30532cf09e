"""Reading platform JSON strictly: objects, ids, amounts, quantities and timestamps, with precise errors.

Every reader takes `where`, the field's path in the payload ("products[0].paidPrice"), so a PayloadError
says exactly what could not be read. Shared by the adapters; pure, no I/O.
"""
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import get_currency_precision

from ..models import AnalyticsDailyItem, DeliveryOrder
from .base import PayloadError

ZERO = Decimal("0")
MAX_QUANTITY = 10_000  # of one line or modifier: no kitchen sells more, and day sums stay integers


def currency_quantum(currency):
    """The smallest unit of a currency as a Decimal exponent: 0.01 for SAR/AED, 0.001 for KWD/BHD/OMR."""
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise ValueError(f"not an ISO 4217 currency code: {currency!r}")
    return Decimal(1).scaleb(-get_currency_precision(currency.upper()))


def round_money(amount, quantum):
    """`amount` rounded half-up to `quantum` (the currency's unit), as the whole portal rounds money."""
    return amount.quantize(quantum, rounding=ROUND_HALF_UP)


def utc(moment=None):
    """`moment` as an aware UTC datetime (naive values are taken as UTC); now when None."""
    if moment is None:
        return datetime.now(timezone.utc)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def iso_utc(moment, millis=True):
    """ISO-8601 UTC with a Z, as the platforms write it: 2016-03-14T17:00:00.000Z."""
    moment = utc(moment)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def header(headers, name):
    """A request header by case-insensitive name from werkzeug Headers, a dict or any mapping; None if absent."""
    if headers is None:
        return None
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        items = headers.items() if hasattr(headers, "items") else headers
        for key, candidate in items:
            if str(key).lower() == wanted:
                value = candidate
                break
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return str(value).strip()


def obj(value, where, required=True):
    """A JSON object; {} for a missing optional one."""
    if value is None:
        if required:
            raise PayloadError(f"{where} is missing")
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: expected an object, got {_kind(value)}")
    return value


def arr(value, where, required=False):
    """A JSON array; [] for a missing optional one."""
    if value is None:
        if required:
            raise PayloadError(f"{where} is missing")
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{where}: expected an array, got {_kind(value)}")
    return value


def text(value, where):
    """A string field, stripped; None when missing or blank. Numbers are accepted and written as text."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise PayloadError(f"{where}: expected text, got a boolean")
    if isinstance(value, (int, float, Decimal)):
        value = str(value)
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected text, got {_kind(value)}")
    return value.strip() or None


def word(value, where):
    """An enumerated value (a status, an event type): a string, stripped; None when missing or blank."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected text, got {_kind(value)}")
    return value.strip() or None


def identifier(value, where):
    """A required id (string or integer), as a non-empty string."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, float):
        raise PayloadError(f"{where}: expected an id, got the number {value!r}")
    result = text(value, where)
    if result is None:
        raise PayloadError(f"{where} is missing")
    return result


def boolean(value, where, default=False):
    """A JSON boolean; `default` when missing."""
    if value is None:
        return default
    if not isinstance(value, bool):
        raise PayloadError(f"{where}: expected true or false, got {_kind(value)}")
    return value


def money(value, where, quantum, default=None, required=False, allow_negative=False):
    """A non-negative amount from a decimal string or a JSON number, rounded half-up to the currency's unit."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise PayloadError(f"{where} is missing")
        return round_money(default, quantum) if isinstance(default, Decimal) else default
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise PayloadError(f"{where}: expected an amount, got {_kind(value)}")
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(str(value))
    except InvalidOperation:
        raise PayloadError(f"{where}: {value!r} is not an amount") from None
    if not amount.is_finite():
        raise PayloadError(f"{where}: {value!r} is not an amount")
    if amount < 0 and not allow_negative:
        raise PayloadError(f"{where}: {value!r} must not be negative")
    try:
        return round_money(amount, quantum)
    except InvalidOperation:  # more digits than the decimal context holds
        raise PayloadError(f"{where}: {_short(value)} is too large an amount") from None


def quantity(value, where, default=None):
    """A whole, non-negative quantity from an integer, an integral number or a digit string ("2")."""
    if value is None:
        if default is None:
            raise PayloadError(f"{where} is missing")
        return default
    if isinstance(value, bool):
        raise PayloadError(f"{where}: expected a quantity, got a boolean")
    if isinstance(value, str):
        stripped = value.strip()
        try:
            value = int(stripped) if stripped.lstrip("+-").isdigit() else Decimal(stripped)
        except (InvalidOperation, ValueError):  # ValueError: more digits than Python reads
            raise PayloadError(f"{where}: {value!r} is not a quantity") from None
    if isinstance(value, float):
        value = Decimal(str(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise PayloadError(f"{where}: {value!r} is not a quantity")
        if value.copy_abs() > MAX_QUANTITY:  # before to_integral_value, which would overflow on 1e999999999
            raise PayloadError(f"{where}: more than {MAX_QUANTITY}")
        if value != value.to_integral_value():
            raise PayloadError(f"{where}: {value} is not a whole quantity")
        value = int(value)
    if not isinstance(value, int):
        raise PayloadError(f"{where}: expected a quantity, got {_kind(value)}")
    if value < 0:
        raise PayloadError(f"{where}: {value} must not be negative")
    if value > MAX_QUANTITY:
        raise PayloadError(f"{where}: more than {MAX_QUANTITY}")
    return value


def timestamp(value, where):
    """An ISO-8601 / RFC 3339 timestamp as an aware UTC datetime; None when missing or blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected an ISO-8601 timestamp, got {_kind(value)}")
    raw = value.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise PayloadError(f"{where}: {value!r} is not an ISO-8601 timestamp") from None
    return utc(moment)


def minutes_after(moment, minutes):
    """`moment` plus a number of minutes (used for closures and promised times)."""
    return utc(moment) + timedelta(minutes=minutes)


def chunks(sequence, size):
    """Consecutive slices of at most `size` elements."""
    return [sequence[start:start + size] for start in range(0, len(sequence), size)]


def check_choice(value, choices, what):
    """Raise ValueError unless `value` is one of the (code, label) `choices` (exact, case-sensitive)."""
    codes = [code for code, _label in choices]
    if value not in codes:
        raise ValueError(f"{what} must be one of {', '.join(codes)}; got {value!r}")
    return value


def positive_minutes(minutes, what="minutes"):
    """A positive whole number of minutes, or ValueError."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise ValueError(f"{what} must be a positive whole number, got {minutes!r}")
    return minutes


def _short(value):
    """`value` for an error message, cut when long (a 4000-digit number says nothing more than its start)."""
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _kind(value):
    """A JSON-ish name for the type of `value`, for error messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, (int, float, Decimal)):
        return f"the number {value!r}"
    return type(value).__name__


# --- What the order columns hold ----------------------------------------------------------------
# The one place that knows the limits, read from the model's column types, so an order that passes
# here is an order the database takes: a webhook is never acknowledged and then failed on insert
# (every platform retry would fail the same way). Ids and codes that do not fit are refused (422):
# cut, they would name another order. Free text is cut to the column and the cut said on the order;
# a phone or e-mail that does not fit is no phone or e-mail, so it is left out (the raw payload keeps it).

def _length(column):
    return getattr(column.type, "length", None)


_COLUMNS = DeliveryOrder.__table__.columns
_ITEM_COLUMNS = AnalyticsDailyItem.__table__.columns
MONEY_LIMIT = Decimal(10) ** (_COLUMNS["total_amount"].type.precision - _COLUMNS["total_amount"].type.scale)
REFUSED_IF_LONG = ("platform_order_id", "order_number", "short_code", "platform_token", "order_type", "currency")
CUT_IF_LONG = ("customer_name", "payment_method", "delivery_address", "delivery_notes")
LEFT_OUT_IF_LONG = ("customer_phone", "customer_email")
AMOUNTS = ("subtotal", "delivery_fee", "service_fee", "tax_amount", "tip_amount", "total_amount",
           "collect_from_customer")
ITEM_NAME_LENGTH = _length(_ITEM_COLUMNS["name"])  # the item reports keep names this long


def _cut(value, limit):
    return value[:limit - 1] + "…"


def _check_amount(amount, where):
    if amount is not None and amount.copy_abs() >= MONEY_LIMIT:
        raise PayloadError(f"{where}: {_short(str(amount))} is more than an order can hold "
                           f"(less than {MONEY_LIMIT:,} at most)")


def fit_order(order):
    """Check and fit a UnifiedOrder to the columns; raises PayloadError for what cannot be stored.

    Returns what was changed to fit (also kept on `order.adjustments`), e.g. ["customer name cut to 200 characters"].
    """
    notes = order.adjustments
    for name in REFUSED_IF_LONG:
        value = getattr(order, name)
        limit = _length(_COLUMNS[name])
        if value is not None and limit and len(value) > limit:
            raise PayloadError(f"{name}: {len(value)} characters; the portal keeps at most {limit}")
    for name in CUT_IF_LONG:
        value = getattr(order, name)
        limit = _length(_COLUMNS[name])
        if value is not None and limit and len(value) > limit:
            setattr(order, name, _cut(value, limit))
            notes.append(f"{name.replace('_', ' ')} cut to {limit} characters")
    for name in LEFT_OUT_IF_LONG:
        value = getattr(order, name)
        limit = _length(_COLUMNS[name])
        if value is not None and limit and len(value) > limit:
            setattr(order, name, None)
            notes.append(f"{name.replace('_', ' ')} left out: {len(value)} characters, more than {limit}")
    for name in AMOUNTS:
        _check_amount(getattr(order, name), name)
    for sponsor in ("PLATFORM", "VENDOR", "THIRD_PARTY"):
        _check_amount(order.discount_by_sponsor(sponsor), f"discounts ({sponsor.lower()})")
    _check_amount(order.discount_amount, "discounts")
    for index, item in enumerate(order.items):
        where = f"items[{index}]"
        _check_amount(item.unit_price, f"{where}.unit_price")
        _check_amount(item.line_total, f"{where}.line_total")
        for discount in item.discounts:
            _check_amount(discount.amount, f"{where}.discounts")
        if item.name and len(item.name) > ITEM_NAME_LENGTH:
            item.name = _cut(item.name, ITEM_NAME_LENGTH)
            notes.append(f"{where} name cut to {ITEM_NAME_LENGTH} characters")
        _fit_modifiers(item.modifiers, f"{where}.modifiers", notes)
    return notes


def _fit_modifiers(modifiers, where, notes):
    for index, modifier in enumerate(modifiers):
        here = f"{where}[{index}]"
        _check_amount(modifier.price, f"{here}.price")
        if modifier.name and len(modifier.name) > ITEM_NAME_LENGTH:
            modifier.name = _cut(modifier.name, ITEM_NAME_LENGTH)
            notes.append(f"{here} name cut to {ITEM_NAME_LENGTH} characters")
        _fit_modifiers(modifier.children, f"{here}.children", notes)


def fit_event(event):
    """A parsed webhook made to fit the columns (see fit_order); raises PayloadError for what cannot."""
    if event.order is not None:
        fit_order(event.order)
    if event.status is not None:
        limit = _length(_COLUMNS["platform_order_id"])
        if len(event.status.platform_order_id) > limit:
            raise PayloadError(f"platform_order_id: {len(event.status.platform_order_id)} characters; "
                               f"the portal keeps at most {limit}")
    return event
