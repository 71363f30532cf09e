"""Reading a webhook body for the log: the JSON that JSONB can hold, or the exact bytes and why not.

PostgreSQL's JSONB refuses some JSON that Python reads: NaN and Infinity (and 1e400, which Python
reads as infinity), `\\u0000`, lone surrogates (`\\ud800`); Python itself gives up on very deep
nesting and on integers of more than 4300 digits. Such a body is stored byte for byte in
`raw_body` and answered 400 with the reason, so the platform stops retrying it. Strings that only
carry a NUL or a lone surrogate are cleaned (the raw bytes are kept too) and the webhook is processed.
"""
import json
import math
import re
from dataclasses import dataclass

MAX_DEPTH = 64  # the platforms' bodies nest about eight levels deep
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a valid pair is one character once decoded


@dataclass
class Body:
    """A webhook body as stored: `payload` for the JSONB column, `raw` for the bytes column."""

    payload: object | None  # the JSON to store and process; None when there is none
    raw: bytes | None       # the exact bytes, when `payload` is not exactly the body
    problem: str | None = None  # why the body cannot be processed (answered 400)


class _Unstorable(ValueError):
    pass


def clean_text(value):
    """`value` without what PostgreSQL text cannot hold: NUL characters and lone surrogates (→ U+FFFD)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if _LONE_SURROGATE.search(value):
        value = _LONE_SURROGATE.sub("\ufffd", value)
    return value


def _refuse_constant(name):
    raise _Unstorable(f"body is not JSON: {name} is not a number JSON allows")


def _clean(value, depth=0):
    """`value` with every string cleaned; raises _Unstorable for what JSONB cannot hold at all."""
    if depth > MAX_DEPTH:
        raise _Unstorable(f"body is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise _Unstorable("body has a number too large to read")
    if isinstance(value, list):
        return [_clean(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {clean_text(key): _clean(item, depth + 1) for key, item in value.items()}
    return value


def read_body(raw_body):
    """The body as the webhook log keeps it; never raises."""
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError as error:
        return Body(None, raw_body, f"body is not UTF-8 text (byte {error.start} is not)")
    try:
        payload = json.loads(text, parse_constant=_refuse_constant)
        cleaned = _clean(payload)
    except RecursionError:
        return Body(None, raw_body, f"body is nested deeper than {MAX_DEPTH} levels")
    except _Unstorable as error:
        return Body(None, raw_body, str(error))
    except ValueError as error:  # not JSON, or an integer of more digits than Python reads
        return Body(None, raw_body, f"body is not JSON: {error}"[:300])
    if cleaned != payload:
        return Body(cleaned, raw_body)
    return Body(payload, None)
