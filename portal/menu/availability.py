"""Availability on the platforms: the "86" switch, availability hours, and telling each platform.

What a platform should show is worked out from four things: the product's own switch
(`products.is_available`), the per-platform switch (`menu_mappings.is_available`), an open "86"
(`menu_sold_out`) and the availability hours (`menu_mappings.availability_schedule`, evaluated in the
company's time zone). `reconcile` compares that with what the platform was last told
(`menu_mappings.platform_available`) and queues availability calls for the differences only,
chunked by each platform's limit (Careem: 40 items a call). The worker ends 86s at their time and
re-evaluates the hours once a minute (`tick`).

Schedule JSON (the seed's `availability_schedule`): ``{"rules": [{"days": [0, 1, 2, 3, 4],
"start": "06:00", "end": "11:00"}]}``; days are Monday = 0 … Sunday = 6; an `end` at or before
`start` runs past midnight (the rule belongs to the day it starts). No schedule: always.
"""
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select

from ..extensions import db
from ..integrations.outbound import queue_call
from ..queue import defer
from ..models import AvailabilityPush, CallStatus, IntegrationConfig, MenuMapping, PlatformCall, Product, SoldOut
from ..platforms import adapter_for
from .services import MenuError, utcnow

UNTIL_KINDS = ("END_OF_DAY", "UNTIL_TIME", "INDEFINITE")
UNTIL_LABELS = {"END_OF_DAY": _l("Until end of day"), "UNTIL_TIME": _l("Until a time"),
                "INDEFINITE": _l("Until switched back on")}
# A restaurant's day ends in the small hours, not at midnight: "end of day" is the next 04:00 local.
DAY_ENDS_AT = time(4, 0)
TIME_PATTERN = re.compile(r"^\s*([01]?\d|2[0-3])[:.]([0-5]\d)\s*$")
DAY_LABELS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
MAX_RULES = 4
CALL_LABELS = {CallStatus.QUEUED: _l("Sending…"), CallStatus.SENDING: _l("Sending…"),
               CallStatus.FAILED: _l("Retrying"), CallStatus.SUCCEEDED: _l("Done"), CallStatus.DEAD: _l("Failed")}


@dataclass
class PlatformResult:
    """What was queued for one platform by one change."""

    integration_id: object
    platform: object
    available: bool
    product_ids: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    error: str | None = None


# --------------------------------------------------------------------------- times

def parse_time(text, field="until_time"):
    match = TIME_PATTERN.match(str(text or "").translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")))
    if not match:
        raise MenuError(_("Enter a time as HH:MM, e.g. 15:30."), field)
    return time(int(match.group(1)), int(match.group(2)))


def _at_local(day, moment_of_day, zone):
    """The instant of a local wall-clock time. A time a DST jump skips is read with the offset before
    the jump, i.e. as the moment just after it (02:30 on a spring-forward night is 03:30)."""
    return datetime.combine(day, moment_of_day, tzinfo=zone).astimezone(timezone.utc)


def next_local(moment_of_day, zone_name, now):
    """The next instant after `now` at which the company's clock shows `moment_of_day`."""
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    for offset in (0, 1, 2):
        instant = _at_local(today + timedelta(days=offset), moment_of_day, zone)
        if instant > now:
            return instant
    raise AssertionError("unreachable")


def sold_out_until(kind, until_text, zone_name, now):
    """When an 86 of this kind ends (UTC), or None for indefinitely; raises MenuError."""
    if kind not in UNTIL_KINDS:
        raise MenuError(_("Choose how long the item stays sold out."), "until")
    if kind == "INDEFINITE":
        return None
    if kind == "END_OF_DAY":
        return next_local(DAY_ENDS_AT, zone_name, now)
    return next_local(parse_time(until_text), zone_name, now)


# --------------------------------------------------------------------------- schedules

def clean_schedule(rules):
    """Validated schedule JSON from [(days, start, end)] as typed, or None when there are no rules."""
    cleaned = []
    for index, (days, start, end) in enumerate(rules):
        if not days and not (start or "").strip() and not (end or "").strip():
            continue
        field_name = f"rule-{index}"
        try:
            day_numbers = sorted({int(day) for day in days})
        except (TypeError, ValueError):
            raise MenuError(_("Choose the days of the week."), field_name) from None
        if not day_numbers or any(day < 0 or day > 6 for day in day_numbers):
            raise MenuError(_("Choose at least one day for these hours."), field_name)
        start_time, end_time = parse_time(start, field_name), parse_time(end, field_name)
        if start_time == end_time:
            raise MenuError(_("The hours must not start and end at the same time."), field_name)
        cleaned.append({"days": day_numbers, "start": start_time.strftime("%H:%M"), "end": end_time.strftime("%H:%M")})
    if len(cleaned) > MAX_RULES:
        raise MenuError(_("At most %(count)s sets of hours.", count=MAX_RULES), "rule-0")
    return {"rules": cleaned} if cleaned else None


def schedule_open(schedule, local_moment):
    """True when a schedule allows the item at this local time (no schedule: always)."""
    rules = (schedule or {}).get("rules") if isinstance(schedule, dict) else None
    if not rules:
        return True
    day, now_time = local_moment.weekday(), local_moment.time().replace(tzinfo=None)
    for rule in rules:
        try:
            start, end = parse_time(rule["start"]), parse_time(rule["end"])
            days = set(rule["days"])
        except (KeyError, TypeError, MenuError):
            continue
        if start < end:
            if day in days and start <= now_time < end:
                return True
        else:  # past midnight: the evening belongs to its day, the small hours to the day before
            if (day in days and now_time >= start) or ((day - 1) % 7 in days and now_time < end):
                return True
    return False


def describe_schedule(schedule):
    """'Mon–Fri 06:00–11:00' style lines for a schedule."""
    lines = []
    for rule in (schedule or {}).get("rules", []) if isinstance(schedule, dict) else []:
        days = ", ".join(str(DAY_LABELS[day]) for day in rule.get("days", []) if 0 <= day <= 6)
        lines.append(f"{days} {rule.get('start')}–{rule.get('end')}")
    return lines


def set_schedule(company, product, schedule, user=None, now=None):
    """The product's availability hours on every platform (None: always); tells the platforms now."""
    for mapping in db.session.scalars(select(MenuMapping).where(
            MenuMapping.local_product_id == product.local_product_id)):
        mapping.availability_schedule = schedule
    db.session.flush()
    return reconcile(company, [product.id], now=now, source="SCHEDULE", user_id=getattr(user, "id", None))


# --------------------------------------------------------------------------- 86

def open_window(product_id):
    return db.session.scalar(select(SoldOut).where(SoldOut.product_id == product_id, SoldOut.ended_at.is_(None)))


def sell_out(company, product, kind, until_text=None, user=None, now=None, reason=None):
    """Mark a product sold out on every platform until `kind` says; returns (window, [PlatformResult])."""
    now = now or utcnow()
    until = sold_out_until(kind, until_text, company.timezone, now)
    # One open 86 per product: the product row's lock orders two people clicking at once.
    db.session.execute(select(Product.id).where(Product.id == product.id).with_for_update())
    window = open_window(product.id)
    if window is None:
        window = SoldOut(company_id=company.id, product_id=product.id, starts_at=now,
                         created_by=getattr(user, "id", None))
        db.session.add(window)
    window.until_at, window.until_kind = until, kind
    window.reason = (reason or "").strip()[:200] or None
    db.session.flush()
    results = reconcile(company, [product.id], now=now, source="SOLD_OUT", user_id=getattr(user, "id", None))
    if until is not None:  # back on time even between the worker's minute ticks
        defer("menu_availability_due", at=until, company_id=company.id)
    return window, results


def back_on(company, product, user=None, now=None):
    """End the product's 86 now; the platforms are told at once (unless hours or a switch keep it off)."""
    now = now or utcnow()
    db.session.execute(select(Product.id).where(Product.id == product.id).with_for_update())
    window = open_window(product.id)
    if window is not None:
        window.ended_at, window.end_reason, window.ended_by = now, "MANUAL", getattr(user, "id", None)
        db.session.flush()
    return window, reconcile(company, [product.id], now=now, source="BACK", user_id=getattr(user, "id", None))


def tick(company, now=None):
    """The worker's minute: end 86s whose time has come, re-evaluate availability hours; returns results."""
    now = now or utcnow()
    ended = []
    for window in db.session.scalars(select(SoldOut).where(SoldOut.ended_at.is_(None), SoldOut.until_at.is_not(None),
                                                           SoldOut.until_at <= now).with_for_update(skip_locked=True)):
        window.ended_at, window.end_reason = window.until_at, "EXPIRED"
        ended.append(window.product_id)
    db.session.flush()
    scheduled = set(db.session.scalars(
        select(Product.id).join(MenuMapping, and_(MenuMapping.company_id == Product.company_id,
                                                  MenuMapping.local_product_id == Product.local_product_id))
        .where(MenuMapping.availability_schedule.is_not(None)).distinct()))
    product_ids = set(ended) | scheduled
    if not product_ids:
        return []
    return reconcile(company, product_ids, now=now, source="SCHEDULE",
                     source_by_product={product_id: "BACK" for product_id in ended})


# --------------------------------------------------------------------------- telling the platforms

def _rows(product_ids):
    query = (select(MenuMapping, Product.id, Product.is_available, IntegrationConfig)
             .join(Product, and_(Product.company_id == MenuMapping.company_id,
                                 Product.local_product_id == MenuMapping.local_product_id))
             .join(IntegrationConfig, IntegrationConfig.id == MenuMapping.integration_config_id)
             .where(Product.deleted_at.is_(None), IntegrationConfig.is_enabled))
    if product_ids is not None:
        query = query.where(Product.id.in_(list(product_ids)))
    return db.session.execute(query.order_by(IntegrationConfig.platform, MenuMapping.local_product_id)).all()


def sold_out_ids(now, product_ids=None):
    query = select(SoldOut.product_id).where(SoldOut.ended_at.is_(None),
                                             (SoldOut.until_at.is_(None)) | (SoldOut.until_at > now))
    if product_ids is not None:
        query = query.where(SoldOut.product_id.in_(list(product_ids)))
    return set(db.session.scalars(query))


def should_show(product_available, mapping, sold_out, local_moment):
    """Whether a platform should offer the item now."""
    return bool(product_available and mapping.is_available and not sold_out
                and schedule_open(mapping.availability_schedule, local_moment))


@dataclass(frozen=True)
class ShownState:
    """What the Sold out page says about a product now, and why: one truthful state per product.

    kind: OFF_MENU (the product is off), SOLD_OUT (an open 86), OUTSIDE_HOURS (its hours hide it on
    every platform it is mapped to), SWITCHED_OFF (every platform's switch is off) or AVAILABLE;
    hidden_on names the platforms where hours or a switch hide an otherwise available product.
    """

    kind: str
    hidden_on: tuple = ()
    hours: tuple = ()


def shown_states(company, products, now=None):
    """{product id: ShownState} at this moment, by the same rules `reconcile` tells the platforms."""
    now = now or utcnow()
    local_moment = now.astimezone(ZoneInfo(company.timezone))
    ids = [product.id for product in products]
    sold = sold_out_ids(now, ids)
    reasons = {}  # product id -> [(platform, "HOURS" | "SWITCH" | None, schedule)]
    for mapping, product_id, _available, integration in _rows(ids) if ids else ():
        if not mapping.is_available:
            why = "SWITCH"
        elif not schedule_open(mapping.availability_schedule, local_moment):
            why = "HOURS"
        else:
            why = None
        reasons.setdefault(product_id, []).append((integration.platform, why, mapping.availability_schedule))
    states = {}
    for product in products:
        per_platform = reasons.get(product.id, [])
        hidden = [(platform, why, schedule) for platform, why, schedule in per_platform if why]
        hours = tuple(dict.fromkeys(line for _p, why, schedule in hidden if why == "HOURS"
                                    for line in describe_schedule(schedule)))
        if not product.is_available:
            states[product.id] = ShownState("OFF_MENU")
        elif product.id in sold:
            states[product.id] = ShownState("SOLD_OUT")
        elif per_platform and len(hidden) == len(per_platform):
            kind = "OUTSIDE_HOURS" if any(why == "HOURS" for _p, why, _s in hidden) else "SWITCHED_OFF"
            states[product.id] = ShownState(kind, hours=hours)
        else:
            states[product.id] = ShownState("AVAILABLE", hidden_on=tuple(platform for platform, *_ in hidden),
                                            hours=hours)
    return states


def reconcile(company, product_ids=None, now=None, source="SWITCH", user_id=None, source_by_product=None):
    """Queue availability calls where a platform shows something else than it should; returns results."""
    now = now or utcnow()
    local_moment = now.astimezone(ZoneInfo(company.timezone))
    rows = _rows(product_ids)
    sold = sold_out_ids(now, product_ids)
    # A person's 86 or "back on" is said to every platform; the worker's tick only says what changed.
    force = source in ("SOLD_OUT", "BACK")
    changes = {}
    for mapping, product_id, product_available, integration in rows:
        wanted = should_show(product_available, mapping, product_id in sold, local_moment)
        if not force:
            if mapping.platform_available is None and wanted:
                mapping.platform_available = True   # never told otherwise: a synced item is shown
                continue
            if mapping.platform_available is wanted:
                continue
        changes.setdefault(integration.id, (integration, []))[1].append((mapping, product_id, wanted))
    results = []
    for integration, items in changes.values():
        results.extend(_queue(integration, items, source, user_id, source_by_product or {}, product_ids))
    db.session.flush()
    return results


def _queue(integration, items, source, user_id, source_by_product, product_ids):
    adapter = adapter_for(integration.platform)
    limit = max(1, adapter.capabilities.max_items_per_availability_call)
    results = []
    for wanted in (False, True):
        group = [item for item in items if item[2] is wanted]
        if not group:
            continue
        result = PlatformResult(integration.id, integration.platform, wanted, [item[1] for item in group])
        results.append(result)
        for start in range(0, len(group), limit):
            chunk = group[start:start + limit]
            try:
                outbound, = adapter.availability_requests(
                    [(mapping.platform_product_id, wanted) for mapping, _, _ in chunk], store_id=integration.store_id)
                call = queue_call(integration, outbound, "AVAILABILITY", user_id=user_id)
            except ValueError as error:   # e.g. Careem without a branch id: visible as a failed call
                result.error = str(error)
                call = PlatformCall(company_id=integration.company_id, integration_config_id=integration.id,
                                    action="AVAILABILITY", method="-", url="(not sent)", status=CallStatus.DEAD,
                                    error=str(error)[:1000], completed_at=utcnow(), user_id=user_id)
                db.session.add(call)
            db.session.flush()
            result.calls.append(call)
            for mapping, product_id, _platform_id in chunk:
                mapping.platform_available = wanted
                db.session.add(AvailabilityPush(
                    company_id=integration.company_id, platform_call_id=call.id, product_id=product_id,
                    integration_config_id=integration.id, available=wanted,
                    source=source_by_product.get(product_id, source)))
    return results


def platform_results(product_ids):
    """{product id: {integration id: (push, call)}}: the latest availability call per platform."""
    ids = list(product_ids)
    if not ids:
        return {}
    # The latest push per (product, platform) first, straight from the index, and only those joined
    # to their calls: the history grows with every 86, and joining all of it cost 100+ ms once a
    # product had been switched a few hundred times.
    latest = (select(AvailabilityPush.id).where(AvailabilityPush.product_id.in_(ids))
              .distinct(AvailabilityPush.product_id, AvailabilityPush.integration_config_id)
              .order_by(AvailabilityPush.product_id, AvailabilityPush.integration_config_id,
                        AvailabilityPush.created_at.desc(), AvailabilityPush.id))
    rows = db.session.execute(
        select(AvailabilityPush, PlatformCall)
        .join(PlatformCall, PlatformCall.id == AvailabilityPush.platform_call_id)
        .where(AvailabilityPush.id.in_(latest))).all()
    results = {}
    for push, call in rows:
        results.setdefault(push.product_id, {})[push.integration_config_id] = (push, call)
    return results


def open_windows(product_ids=None):
    """{product id: open SoldOut} for these products (or all)."""
    query = select(SoldOut).where(SoldOut.ended_at.is_(None))
    if product_ids is not None:
        query = query.where(SoldOut.product_id.in_(list(product_ids)))
    return {window.product_id: window for window in db.session.scalars(query)}


def availability_page(q=None, only_sold_out=False, page=1, per_page=30):
    """Products for the availability page: search, or only what is sold out now."""
    from .services import product_query
    query = product_query(q)
    if only_sold_out:
        query = query.where(Product.id.in_(select(SoldOut.product_id).where(SoldOut.ended_at.is_(None))))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def enabled_integrations():
    return db.session.scalars(select(IntegrationConfig).where(IntegrationConfig.is_enabled)
                              .order_by(IntegrationConfig.platform)).all()
