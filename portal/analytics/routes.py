"""The reports: overview, money, reconciliation, integration health, a printable report, and CSV exports."""
from datetime import datetime, timedelta
from functools import lru_cache
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, g, render_template, request, url_for
from babel.numbers import get_currency_precision
from flask_babel import format_date, format_decimal, get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from ..auth.decorators import roles_required
from ..i18n import PLATFORM_LABELS
from ..i18n import money as format_money
from ..integrations.services import SYNC_LABELS
from ..models import DeliveryPlatform, UserRole
from ..web import csv_download, page_or_fragment
from .forms import PRESETS, parse_range
from .services import (build_report, health_report, reconciliation, reconciliation_table, table_csv,
                       weekday_names)

bp = Blueprint("analytics", __name__, url_prefix="/reports")

OVERVIEW_TABLES = ("orders_by_day", "revenue_by_day", "rates", "durations", "peak_hours", "top_items",
                   "top_modifiers", "customers", "money")
HEALTH_TABLES = ("webhooks", "api_times", "errors", "silence")


def _today():
    return datetime.now(ZoneInfo(g.company.timezone)).date()


def _range():
    return parse_range(request.args, _today())


def _render(page, fragment, **context):
    """The page, or only its report region for htmx; the address bar keeps the range shareable."""
    report_range = context["report_range"]
    response = page_or_fragment(page, fragment, platforms=list(DeliveryPlatform), presets=PRESETS,
                                endpoint=request.endpoint, **context)
    if request.htmx:
        response.headers["HX-Push-Url"] = url_for(request.endpoint, **report_range.args())
    return response


@bp.get("/")
@roles_required(UserRole.MANAGER)
def index():
    """The overview: orders and revenue per day, rates, times, peak hours, top items, customers."""
    report_range = _range()
    return _render("analytics/index.html", "analytics/_overview.html", report_range=report_range,
                   report=build_report(g.company, report_range), weekdays=weekday_names())


@bp.get("/money")
@roles_required(UserRole.MANAGER)
def money():
    """Gross sales, discounts by who paid, fees, commission and net revenue per platform."""
    report_range = _range()
    return _render("analytics/money.html", "analytics/_money.html", report_range=report_range,
                   report=build_report(g.company, report_range))


@bp.get("/reconciliation")
@roles_required(UserRole.MANAGER)
def reconciliation_index():
    """Orders whose platform-reported totals disagree with what their items add up to."""
    report_range = _range()
    return _render("analytics/reconciliation.html", "analytics/_reconciliation.html", report_range=report_range,
                   orders=reconciliation(g.company, report_range))


@bp.get("/health")
@roles_required(UserRole.MANAGER)
def health():
    """Integration health: webhooks, calls, errors, time since the last order, sync failures."""
    report_range = _range()
    return _render("analytics/health.html", "analytics/_health.html", report_range=report_range,
                   health=health_report(g.company, report_range))


@bp.get("/print")
@roles_required(UserRole.MANAGER)
def printable():
    """A daily or weekly report to print: ?period=day|week&date=YYYY-MM-DD (the last day it covers)."""
    today = _today()
    period = request.args.get("period") if request.args.get("period") in ("day", "week") else "day"
    args = {"to": request.args.get("date") or today.isoformat(), "platform": request.args.get("platform", "")}
    report_range = parse_range(args, today)
    notes = report_range.notes
    first = report_range.end - timedelta(days=6 if period == "week" else 0)
    report_range = parse_range({**args, "to": report_range.end.isoformat(), "from": first.isoformat()}, today)
    report_range.notes = notes + report_range.notes
    return render_template("analytics/print.html", report_range=report_range, period=period,
                           report=build_report(g.company, report_range), printed_at=datetime.now(ZoneInfo("UTC")))


@bp.get("/export/<name>.csv")
@roles_required(UserRole.MANAGER)
def export(name):
    """One chart's data (the table beside it) as a CSV file."""
    report_range = _range()
    if name in OVERVIEW_TABLES:
        table = build_report(g.company, report_range).tables[name]
    elif name in HEALTH_TABLES:
        table = health_report(g.company, report_range).tables[name]
    elif name == "reconciliation":
        table = reconciliation_table(reconciliation(g.company, report_range, limit=10_000))
    else:
        abort(404)
    filename = f"{name}_{report_range.start.isoformat()}_{report_range.end.isoformat()}.csv"
    return csv_download(table_csv(table, g.company.currency), filename)


def report_value(value, kind, currency=None):
    """A report cell in its kind (money, percent, duration, platform, day…), as HTML.

    Python rather than a template macro: a year's tables hold a few thousand cells, and a macro call
    per cell cost more than the rest of the page.
    """
    if value is None:
        return "—"
    if kind == "money":
        return _formatted(kind, value, currency or g.company.currency, str(get_locale()))
    if kind in ("int", "percent"):
        return _formatted(kind, value, None, str(get_locale()))
    if kind == "change":
        return ("+" if value > 0 else "") + percent(value)
    if kind == "seconds":
        return Markup("<bdi>%s</bdi>") % duration(value)
    if kind == "platform":
        key = getattr(value, "value", value)
        return Markup('<span class="badge platform-%s">%s</span>') % (str(key).lower(), PLATFORM_LABELS.get(key, key))
    if kind == "date":
        return Markup('<span class="nowrap">%s</span>') % format_day(value)
    return value


@lru_cache(maxsize=20_000)
def _formatted(kind, value, currency, locale):
    """Numbers as the page's language writes them; counts and shares repeat a lot in a year's tables."""
    if kind == "money":
        return Markup('<span class="amount">%s</span>') % format_money(value, currency)
    if kind == "percent":
        return percent(value)
    return number(value) if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else value


def duration(seconds):
    """45 s, 3 min 05 s, 1 h 10 min: how long something took."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return _("%(s)s s", s=seconds)
    if seconds < 3600:
        return _("%(m)s min %(s)02d s", m=seconds // 60, s=seconds % 60)
    return _("%(h)s h %(m)02d min", h=seconds // 3600, m=(seconds % 3600) // 60)


def percent(value, digits=1):
    """12.5 %, in the page's language."""
    if value is None:
        return "—"
    return format_decimal(value, "0." + "0" * digits if digits else "0") + "\u00a0%"


def number(value):
    """1,234 (or ١٬٢٣٤-style grouping as the page's language writes it)."""
    return "—" if value is None else format_decimal(value)


def format_day(day):
    """'Sun 3 Mar 2025': a report day, weekday first."""
    return format_date(day, "EEE d MMM y")


def currency_places(currency):
    return get_currency_precision(currency)


def sync_label(status):
    return SYNC_LABELS.get(status, status)


def minutes_label(minutes):
    """7 min, 2 h 05 min, 3 days: how long ago, to the minute."""
    if minutes is None:
        return "—"
    if minutes < 60:
        return _("%(m)s min", m=minutes)
    if minutes < 48 * 60:
        return _("%(h)s h %(m)02d min", h=minutes // 60, m=minutes % 60)
    return _("%(d)s days", d=minutes // (24 * 60))
