"""How the platforms write money and time, and the short texts the simulator's log shows."""
import string
from datetime import timezone
from decimal import ROUND_HALF_UP, Decimal

CURRENCY_SYMBOLS = {"SAR": "SAR", "AED": "AED", "KWD": "KWD", "QAR": "QAR", "BHD": "BHD", "OMR": "OMR"}


def money_text(amount, q):
    """Decimal string in the currency's precision (Delivery Hero money)."""
    return str(Decimal(amount).quantize(q, ROUND_HALF_UP))


def money_number(amount, q):
    """A JSON number in major units (Careem money): an int when whole, else a float of the exact decimal."""
    value = Decimal(amount).quantize(q, ROUND_HALF_UP)
    return int(value) if value == value.to_integral_value() else float(value)


def iso_millis(moment):
    """2016-03-14T17:00:00.000Z (Delivery Hero)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def rfc3339(moment, millis=False):
    """RFC 3339 UTC, with or without milliseconds (Careem)."""
    if moment is None:
        return None
    return iso_millis(moment) if millis else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_id(rng):
    return f"evt-{rng.getrandbits(64):016x}"


def alnum(rng, length):
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=length))


def summary(target, lines, total, scheduled, pickup):
    count = sum(line.quantity for line in lines)
    parts = [f"{count} item{'s' if count != 1 else ''}", f"{target.currency} {total}"]
    if pickup:
        parts.append("pickup")
    if scheduled:
        parts.append(f"scheduled {scheduled.strftime('%H:%M')} UTC")
    if any(line.modifiers for line in lines):
        parts.append("with extras")
    return ", ".join(parts)
