"""The reports: figures, charts and their tables for a range of local days, compared with the previous period.

Definitions used everywhere (and said on the pages):
- orders: every order received that is not a test order; *sold* orders are those not cancelled or rejected;
- revenue: what customers paid for sold orders (`total_amount`), as on the dashboard; average order =
  revenue / sold orders;
- gross sales: the items' value of sold orders (`subtotal`);
- net revenue: gross sales − discounts the restaurant paid (its own, and those whose payer the
  platform did not say) − the platform's commission. Platform- and third-party-paid discounts, delivery
  and service fees, tax and tips are not the restaurant's money, so they are shown but not subtracted;
- acceptance / rejection / cancellation rate: share of orders received that were accepted / rejected /
  cancelled; time to accept and time to ready: from receiving the order to accepting it / to ready;
- new customer: first sold order (by phone, any platform) in the period; returning: ordered before it.
"""
import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import get_day_names, get_month_names
from babel.numbers import get_currency_precision
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import PLATFORM_LABELS, OUTCOME_LABELS
from ..models import CallStatus
from ..platforms import all_adapters
from . import queries

PLATFORM_COLOURS = {adapter.platform.value: adapter.brand_colour for adapter in all_adapters()}
SUM_FIELDS = ("orders", "sold_orders", "accepted_orders", "rejected_orders", "cancelled_orders", "delivered_orders",
              "gross_sales", "revenue", "platform_discount", "vendor_discount", "third_party_discount",
              "other_discount", "delivery_fees", "service_fees", "tax", "tips", "commission", "mismatched_orders")
TOP = 10
# Sunday first, as the Gulf's working week; ISO weekday numbers.
WEEKDAYS = (7, 1, 2, 3, 4, 5, 6)
SILENCE_BASELINE_DAYS = 28
SILENCE_EXPECTED_ORDERS = 3  # no order while 3 were expected happens by chance ~5 % of the time (Poisson)


def platform_label(platform):
    return PLATFORM_LABELS.get(platform, platform)


def percentile(sorted_values, fraction):
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks; None when empty."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    lower = int(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * (position - lower)


def change(current, previous):
    """Relative change in percent, or None when there is nothing to compare with."""
    if current is None or previous is None or previous == 0:
        return None
    return (Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)


def share(part, whole):
    """part / whole in percent, or None for an empty whole."""
    return Decimal(part) * 100 / Decimal(whole) if whole else None


# --- Tables (every chart's data: shown as a table, exported as CSV) --------------------------------

@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text, platform, date, int, money, percent, seconds, change


@dataclass
class Table:
    """A chart's data as rows; the page shows it, the CSV export writes it."""

    name: str
    title: str
    columns: list
    rows: list = field(default_factory=list)
    footer: list | None = None

    @property
    def empty(self):
        return not self.rows


def csv_cell(value, kind, places):
    """A CSV value: plain numbers in the currency's precision, no thousands separators; text made formula-safe."""
    from ..orders.queries import csv_safe
    if value is None:
        return ""
    if kind == "money":
        return str(Decimal(value).quantize(Decimal(1).scaleb(-places)))
    if kind in ("percent", "change"):
        return str(Decimal(value).quantize(Decimal("0.1")))
    if kind == "seconds":
        return str(int(round(value)))
    if kind == "platform":
        return platform_label(value)
    if kind == "date" and hasattr(value, "isoformat"):
        return value.isoformat()
    return csv_safe(str(value))


def table_csv(table, currency):
    """The table as CSV text (UTF-8 BOM first, so Excel shows Arabic names)."""
    places = get_currency_precision(currency)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(column.label) + (f" ({currency})" if column.kind == "money" else "")
                     + (" (s)" if column.kind == "seconds" else "") + (" (%)" if column.kind in ("percent", "change")
                                                                       else "")
                     for column in table.columns])
    for row in table.rows + ([table.footer] if table.footer and table.rows else []):
        writer.writerow([csv_cell(value, column.kind, places)
                         for value, column in zip(row, table.columns, strict=True)])
    return "\ufeff" + buffer.getvalue()


# --- The dashboard ------------------------------------------------------------------------------------

@dataclass
class Figure:
    """One headline number and the same number for the previous period."""

    key: str
    label: str
    value: object
    previous: object
    kind: str = "int"        # int, money, percent, seconds
    better: str = "up"       # which way is good: up, down

    @property
    def change(self):
        if self.kind == "percent":  # rates compare in points, not in percent of a percent
            return None if self.value is None or self.previous is None else Decimal(self.value) - Decimal(self.previous)
        return change(self.value, self.previous)

    @property
    def trend(self):
        """good, bad or flat, for the colour of the comparison."""
        delta = self.change
        if delta is None or abs(delta) < Decimal("0.05"):
            return "flat"
        return "good" if (delta > 0) == (self.better == "up") else "bad"


@dataclass
class Totals:
    """The rows of one period added up, with the durations' sorted values."""

    sums: dict
    accept_seconds: list
    ready_seconds: list

    def __getitem__(self, key):
        return self.sums[key]

    @property
    def net_revenue(self):
        return net_revenue(self.sums)

    @property
    def average_order(self):
        return self["revenue"] / self["sold_orders"] if self["sold_orders"] else None


def net_revenue(sums):
    """Gross sales − the discounts the restaurant paid (its own and those without a payer) − commission."""
    return sums["gross_sales"] - sums["vendor_discount"] - sums["other_discount"] - sums["commission"]


def add_up(rows, durations=True):
    """Totals of daily rows (one period, the platforms already filtered); the durations sorted if asked."""
    sums = {key: (Decimal(0) if key not in ("orders", "sold_orders", "accepted_orders", "rejected_orders",
                                            "cancelled_orders", "delivered_orders", "mismatched_orders") else 0)
            for key in SUM_FIELDS}
    accept, ready = [], []
    for row in rows:
        for key in SUM_FIELDS:
            sums[key] += row[key]
        if durations:
            accept.extend(row["accept_seconds"])  # each day's values come sorted: Timsort merges the runs
            ready.extend(row["ready_seconds"])
    accept.sort()
    ready.sort()
    return Totals(sums, accept, ready)


@dataclass
class Report:
    """Everything the analytics pages show for one range."""

    range: object
    currency: str
    current: Totals
    previous: Totals
    figures: list
    tables: dict
    charts: dict
    has_orders: bool
    heatmap: dict
    customers: dict
    money_current: dict = None
    money_previous: dict = None


def local_bounds(first, last, timezone):
    """UTC-aware [midnight of `first`, midnight after `last`) in the company's time zone."""
    zone = ZoneInfo(timezone)
    return datetime.combine(first, time(), zone), datetime.combine(last + timedelta(days=1), time(), zone)


def day_labels(days):
    """'3 Mar' for each day (the month names of the page's language, looked up once)."""
    months = get_month_names("abbreviated", locale=get_locale())
    return [f"{day.day} {months[day.month]}" for day in days]


def build_report(company, report_range):
    """The dashboard and money figures of `report_range` and of the period before it."""
    rng = report_range
    first, start, last = rng.previous_start, rng.start, rng.end
    queries.without_jit()
    live = queries.live_days(company.id, first, last, rng.today)
    rows = queries.daily_rows(company.id, first, last, live, rng.platforms)
    current_rows = [row for row in rows if row["day"] >= start]
    previous_rows = [row for row in rows if row["day"] < start]
    current, previous = add_up(current_rows), add_up(previous_rows)
    items = queries.item_rows(company.id, first, start, last, live, rng.platforms)
    history = queries.history_live_days(company.id, last, rng.today)
    customers = queries.customer_counts(company.id, first, start, last, history, rng.platforms)

    figures = _figures(current, previous, customers)
    platforms = sorted({row["platform"] for row in current_rows},
                       key=lambda p: -sum(r["orders"] for r in current_rows if r["platform"] == p))
    per_platform = ({platforms[0]: current} if len(platforms) == 1 else
                    {p: add_up([row for row in current_rows if row["platform"] == p]) for p in platforms})
    tables, charts = {}, {}
    _by_day(rng, current_rows, platforms, tables, charts)
    _rates_and_durations(per_platform, platforms, tables, charts)
    heatmap = _peak_hours(current_rows, tables)
    _top_items(items, tables, charts)
    customer_figures = _customers(customers, tables, charts)
    _money(per_platform, current, platforms, tables, charts)
    return Report(rng, company.currency, current, previous, figures, tables, charts,
                  has_orders=current["orders"] > 0, heatmap=heatmap, customers=customer_figures,
                  money_current=money_line(current.sums), money_previous=money_line(previous.sums))


def _figures(current, previous, customers):
    def rate(totals, key):
        return share(totals[key], totals["orders"])

    def p(totals, key, fraction):
        return percentile(getattr(totals, key), fraction)

    (cur_customers, cur_returning), (prev_customers, prev_returning) = customers[True], customers[False]
    return [
        Figure("orders", _("Orders"), current["orders"], previous["orders"]),
        Figure("revenue", _("Revenue"), current["revenue"], previous["revenue"], "money"),
        Figure("average_order", _("Average order"), current.average_order, previous.average_order, "money"),
        Figure("net_revenue", _("Net revenue"), current.net_revenue, previous.net_revenue, "money"),
        Figure("acceptance_rate", _("Accepted"), rate(current, "accepted_orders"), rate(previous, "accepted_orders"),
               "percent"),
        Figure("rejection_rate", _("Rejected"), rate(current, "rejected_orders"), rate(previous, "rejected_orders"),
               "percent", "down"),
        Figure("cancellation_rate", _("Cancelled"), rate(current, "cancelled_orders"),
               rate(previous, "cancelled_orders"), "percent", "down"),
        Figure("accept_p50", _("Time to accept (median)"), p(current, "accept_seconds", 0.5),
               p(previous, "accept_seconds", 0.5), "seconds", "down"),
        Figure("accept_p95", _("Time to accept (95 %)"), p(current, "accept_seconds", 0.95),
               p(previous, "accept_seconds", 0.95), "seconds", "down"),
        Figure("ready_p50", _("Time to ready (median)"), p(current, "ready_seconds", 0.5),
               p(previous, "ready_seconds", 0.5), "seconds", "down"),
        Figure("ready_p95", _("Time to ready (95 %)"), p(current, "ready_seconds", 0.95),
               p(previous, "ready_seconds", 0.95), "seconds", "down"),
        Figure("new_customers", _("New customers"), cur_customers - cur_returning, prev_customers - prev_returning),
        Figure("returning_customers", _("Returning customers"), cur_returning, prev_returning),
    ]


def _dataset(platform, values):
    return {"label": platform_label(platform), "data": values, "backgroundColor": PLATFORM_COLOURS.get(platform),
            "platform": platform}


def _by_day(rng, rows, platforms, tables, charts):
    days = rng.dates()
    index = {day: position for position, day in enumerate(days)}
    orders = {platform: [0] * len(days) for platform in platforms}
    revenue = {platform: [Decimal(0)] * len(days) for platform in platforms}
    for row in rows:
        platform = row["platform"]
        orders[platform][index[row["day"]]] += row["orders"]
        revenue[platform][index[row["day"]]] += row["revenue"]
    labels = day_labels(days)
    columns = [Column("day", _("Day"), "date")] + [Column(p, platform_label(p), "int") for p in platforms] + [
        Column("total", _("Total"), "int")]
    tables["orders_by_day"] = Table("orders_by_day", _("Orders per day by platform"), columns, [
        [day] + [orders[p][i] for p in platforms] + [sum(orders[p][i] for p in platforms)]
        for i, day in enumerate(days)] if rows else [],
        footer=[_("Total")] + [sum(orders[p]) for p in platforms] + [sum(sum(orders[p]) for p in platforms)])
    money_columns = [Column("day", _("Day"), "date")] + [Column(p, platform_label(p), "money") for p in platforms] + [
        Column("total", _("Total"), "money")]
    tables["revenue_by_day"] = Table("revenue_by_day", _("Revenue per day by platform"), money_columns, [
        [day] + [revenue[p][i] for p in platforms] + [sum((revenue[p][i] for p in platforms), Decimal(0))]
        for i, day in enumerate(days)] if rows else [],
        footer=[_("Total")] + [sum(revenue[p], Decimal(0)) for p in platforms]
        + [sum((sum(revenue[p], Decimal(0)) for p in platforms), Decimal(0))])
    charts["orders_by_day"] = {"type": "stacked-bar", "labels": labels, "format": "int",
                               "datasets": [_dataset(p, orders[p]) for p in platforms]}
    charts["revenue_by_day"] = {"type": "stacked-bar", "labels": labels, "format": "money",
                                "datasets": [_dataset(p, [float(v) for v in revenue[p]]) for p in platforms]}


def _rates_and_durations(per_platform, platforms, tables, charts):
    tables["rates"] = Table("rates", _("Accepted, rejected and cancelled by platform"), [
        Column("platform", _("Platform"), "platform"), Column("orders", _("Orders"), "int"),
        Column("accepted", _("Accepted"), "percent"), Column("rejected", _("Rejected"), "percent"),
        Column("cancelled", _("Cancelled"), "percent")], [
        [p, t["orders"], share(t["accepted_orders"], t["orders"]), share(t["rejected_orders"], t["orders"]),
         share(t["cancelled_orders"], t["orders"])] for p, t in per_platform.items()])
    tables["durations"] = Table("durations", _("Time to accept and to ready by platform"), [
        Column("platform", _("Platform"), "platform"),
        Column("accept_p50", _("Accept, median"), "seconds"), Column("accept_p95", _("Accept, 95 %"), "seconds"),
        Column("ready_p50", _("Ready, median"), "seconds"), Column("ready_p95", _("Ready, 95 %"), "seconds")], [
        [p, percentile(t.accept_seconds, 0.5), percentile(t.accept_seconds, 0.95), percentile(t.ready_seconds, 0.5),
         percentile(t.ready_seconds, 0.95)] for p, t in per_platform.items()])
    charts["rates"] = {"type": "stacked-bar", "horizontal": True, "format": "percent", "max": 100,
                       "labels": [platform_label(p) for p in platforms], "datasets": [
                           {"label": str(label), "backgroundColor": colour, "data": [
                               float(share(per_platform[p][key], per_platform[p]["orders"]) or 0) for p in platforms]}
                           for key, label, colour in (
                               ("accepted_orders", _l("Accepted"), "#15803d"),
                               ("rejected_orders", _l("Rejected"), "#b91c1c"),
                               ("cancelled_orders", _l("Cancelled"), "#b45309"))]}
    charts["durations"] = {"type": "bar", "format": "seconds", "labels": [platform_label(p) for p in platforms],
                           "datasets": [
                               {"label": str(label), "backgroundColor": colour, "data": [
                                   percentile(getattr(per_platform[p], key), fraction) for p in platforms]}
                               for key, fraction, label, colour in (
                                   ("accept_seconds", 0.5, _l("Accept, median"), "#93c5fd"),
                                   ("accept_seconds", 0.95, _l("Accept, 95 %"), "#2563eb"),
                                   ("ready_seconds", 0.5, _l("Ready, median"), "#99f6e4"),
                                   ("ready_seconds", 0.95, _l("Ready, 95 %"), "#0f766e"))]}


def weekday_names():
    names = get_day_names("abbreviated", locale=get_locale())
    return {iso: names[(iso - 1) % 7] for iso in WEEKDAYS}  # babel: 0 = Monday


def _peak_hours(rows, tables):
    grid = {weekday: [0] * 24 for weekday in WEEKDAYS}
    for row in rows:
        hours = grid[row["day"].isoweekday()]
        for hour, count in enumerate(row["hourly_orders"]):
            hours[hour] += count
    names = weekday_names()
    highest = max((max(hours) for hours in grid.values()), default=0)
    tables["peak_hours"] = Table(
        "peak_hours", _("Orders by weekday and hour"),
        [Column("weekday", _("Weekday"))] + [Column(f"h{hour:02d}", f"{hour:02d}", "int") for hour in range(24)],
        [[names[weekday]] + grid[weekday] for weekday in WEEKDAYS] if rows else [])
    return {"grid": grid, "names": names, "max": highest}


def _top_items(items, tables, charts):
    locale = str(get_locale())
    for kind, name, title in (("ITEM", "top_items", _("Top items")), ("MODIFIER", "top_modifiers", _("Top modifiers"))):
        chosen = sorted((row for row in items if row["kind"] == kind and row["quantity"] > 0),
                        key=lambda row: (-row["quantity"], -row["sales"], row["name"]))[:TOP]
        label = (lambda row: row["name_ar"] or row["name"]) if locale.startswith("ar") else (lambda row: row["name"])
        tables[name] = Table(name, title, [
            Column("name", _("Item") if kind == "ITEM" else _("Modifier")), Column("quantity", _("Quantity"), "int"),
            Column("sales", _("Sales"), "money"), Column("previous", _("Previous period"), "int"),
            Column("change", _("Change"), "change")],
            [[label(row), row["quantity"], row["sales"], row["previous_quantity"],
              change(row["quantity"], row["previous_quantity"])] for row in chosen])
        charts[name] = {"type": "bar", "horizontal": True, "format": "int", "labels": [label(row) for row in chosen],
                        "datasets": [{"label": str(_l("Quantity")), "backgroundColor": "#0f766e",
                                      "data": [row["quantity"] for row in chosen]},
                                     {"label": str(_l("Previous period")), "backgroundColor": "#cbd5e1",
                                      "data": [row["previous_quantity"] for row in chosen]}]}


def _customers(customers, tables, charts):
    (customers_now, returning_now), (customers_before, returning_before) = customers[True], customers[False]
    figures = {"current": (customers_now - returning_now, returning_now),
               "previous": (customers_before - returning_before, returning_before)}
    tables["customers"] = Table("customers", _("New and returning customers"), [
        Column("period", _("Period")), Column("customers", _("Customers"), "int"), Column("new", _("New"), "int"),
        Column("returning", _("Returning"), "int"), Column("returning_share", _("Returning"), "percent")], [
        [_("This period"), customers_now, customers_now - returning_now, returning_now,
         share(returning_now, customers_now)],
        [_("Previous period"), customers_before, customers_before - returning_before, returning_before,
         share(returning_before, customers_before)]] if customers_now or customers_before else [])
    charts["customers"] = {"type": "stacked-bar", "format": "int",
                           "labels": [str(_l("This period")), str(_l("Previous period"))], "datasets": [
                               {"label": str(_l("New")), "backgroundColor": "#0f766e",
                                "data": [figures["current"][0], figures["previous"][0]]},
                               {"label": str(_l("Returning")), "backgroundColor": "#5eead4",
                                "data": [figures["current"][1], figures["previous"][1]]}]}
    return figures


def money_line(sums):
    """One platform's (or the total's) money: what customers paid, what the platform kept, what is left."""
    restaurant_discounts = sums["vendor_discount"] + sums["other_discount"]
    net = net_revenue(sums)
    return {
        "sold_orders": sums["sold_orders"], "gross_sales": sums["gross_sales"],
        "platform_discount": sums["platform_discount"], "vendor_discount": sums["vendor_discount"],
        "third_party_discount": sums["third_party_discount"], "other_discount": sums["other_discount"],
        "fees": sums["delivery_fees"] + sums["service_fees"], "tax": sums["tax"], "tips": sums["tips"],
        "revenue": sums["revenue"], "commission": sums["commission"], "net_revenue": net,
        "cost": restaurant_discounts + sums["commission"],
        "cost_share": share(restaurant_discounts + sums["commission"], sums["gross_sales"]),
    }


MONEY_COLUMNS = [
    ("sold_orders", _l("Sold orders"), "int"), ("gross_sales", _l("Gross sales"), "money"),
    ("platform_discount", _l("Discounts paid by the platform"), "money"),
    ("vendor_discount", _l("Discounts paid by the restaurant"), "money"),
    ("third_party_discount", _l("Discounts paid by a third party"), "money"),
    ("other_discount", _l("Discounts, payer not given"), "money"),
    ("fees", _l("Delivery and service fees"), "money"), ("tax", _l("Tax"), "money"), ("tips", _l("Tips"), "money"),
    ("revenue", _l("Paid by customers"), "money"), ("commission", _l("Commission"), "money"),
    ("net_revenue", _l("Net revenue"), "money"), ("cost_share", _l("Platform cost"), "percent"),
]


def _money(per_platform, current, platforms, tables, charts):
    lines = {p: money_line(per_platform[p].sums) for p in platforms}
    total = money_line(current.sums)
    columns = [Column("platform", _("Platform"), "platform")] + [Column(k, str(label), kind)
                                                                  for k, label, kind in MONEY_COLUMNS]
    tables["money"] = Table("money", _("Money by platform"), columns,
                            [[p] + [line[k] for k, _label, _kind in MONEY_COLUMNS] for p, line in lines.items()],
                            footer=([_("Total")] + [total[k] for k, _label, _kind in MONEY_COLUMNS]
                                    if platforms else None))
    charts["money"] = {"type": "stacked-bar", "horizontal": True, "format": "money",
                       "labels": [platform_label(p) for p in platforms], "datasets": [
                           {"label": str(label), "backgroundColor": colour,
                            "data": [float(lines[p][key]) for p in platforms]}
                           for key, label, colour in (
                               ("net_revenue", _l("Net revenue"), "#0f766e"),
                               ("commission", _l("Commission"), "#b91c1c"),
                               ("vendor_discount", _l("Discounts paid by the restaurant"), "#f59e0b"),
                               ("other_discount", _l("Discounts, payer not given"), "#fcd34d"))]}


# --- Reconciliation -----------------------------------------------------------------------------------

MISMATCH_REASONS = {
    "ITEMS": _l("The items do not add up to the subtotal"),
    "TOTAL": _l("Subtotal, discounts, fees, tax and tip do not add up to the total"),
    "ITEMS_UNREADABLE": _l("The order has no items, or an item without a price"),
}


def reconciliation(company, report_range, limit=200):
    """Orders of the range whose platform-reported totals disagree with what their items add up to."""
    rng = report_range
    queries.without_jit()
    live = queries.live_days(company.id, rng.start, rng.end, rng.today)
    rows = queries.mismatched_orders(company.id, rng.start, rng.end, live, rng.platforms, limit=limit)
    result = []
    for row in rows:
        expected_total = (row["subtotal"] - row["discount_amount"] + row["delivery_fee"] + row["service_fee"]
                          + row["tax_amount"] + row["tip_amount"])
        result.append({**row, "reason_label": MISMATCH_REASONS.get(row["reason"], row["reason"]),
                       "expected_total": expected_total,
                       "items_difference": row["items_total"] - row["subtotal"],
                       "total_difference": row["total_amount"] - expected_total})
    return result


def reconciliation_table(orders):
    """The reconciliation list as a table (for the CSV export)."""
    return Table("reconciliation", _("Orders whose totals disagree with their items"), [
        Column("created_at", _("Received")), Column("platform", _("Platform"), "platform"),
        Column("order_number", _("Order number")), Column("reason", _("Problem")),
        Column("items_total", _("Items add up to"), "money"), Column("subtotal", _("Subtotal"), "money"),
        Column("expected_total", _("Expected total"), "money"), Column("total_amount", _("Total"), "money")],
        [[order["created_at"].isoformat(timespec="minutes"), order["platform"], order["order_number"],
          str(order["reason_label"]), order["items_total"], order["subtotal"], order["expected_total"],
          order["total_amount"]] for order in orders])


# --- Integration health -------------------------------------------------------------------------------

@dataclass
class Silence:
    """How long a platform has been quiet, and whether that is unusual."""

    platform: str
    last_order_at: datetime | None
    minutes: int | None
    expected: Decimal
    alert: bool
    paused: bool
    enabled: bool


def expected_orders(baseline_hours, days, since, now, timezone):
    """Orders a platform usually gets between `since` and `now` (at most a day), from its hourly history."""
    if not days or since is None:
        return Decimal(0)
    zone = ZoneInfo(timezone)
    since = max(since, now - timedelta(hours=24))
    expected = Decimal(0)
    cursor = since.astimezone(zone)
    end = now.astimezone(zone)
    while cursor < end:
        next_hour = (cursor.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
        slice_end = min(next_hour, end)
        fraction = Decimal((slice_end - cursor).total_seconds()) / Decimal(3600)
        expected += Decimal(baseline_hours[cursor.hour]) / Decimal(days) * fraction
        cursor = slice_end
    return expected


def silences(company, integrations, now, platforms=()):
    """Time since the last order per enabled platform, with an alert when a normally busy one goes quiet."""
    today = now.astimezone(ZoneInfo(company.timezone)).date()
    baseline = queries.hourly_baseline(company.id, today - timedelta(days=SILENCE_BASELINE_DAYS),
                                       today - timedelta(days=1))
    result = []
    for row in integrations:
        platform = row["platform"]
        if platforms and row["platform"] not in platforms:
            continue
        paused = bool(row["paused_until"] and row["paused_until"] > now)
        last = row["last_order_at"]
        expected = expected_orders(baseline.get(platform, [0] * 24), SILENCE_BASELINE_DAYS, last, now,
                                   company.timezone) if last else Decimal(0)
        result.append(Silence(platform, last, int((now - last).total_seconds() // 60) if last else None,
                              expected.quantize(Decimal("0.1")),
                              alert=row["is_enabled"] and not paused and expected >= SILENCE_EXPECTED_ORDERS,
                              paused=paused, enabled=row["is_enabled"]))
    return result


@dataclass
class Health:
    integrations: list
    webhooks: list
    api_times: list
    errors: list
    silences: list
    sync_failures: list
    tables: dict
    charts: dict


def health_report(company, report_range, now=None):
    """Integration health for the range: webhooks, calls, errors, silence and sync failures per platform."""
    now = now or datetime.now(ZoneInfo("UTC"))
    rng = report_range
    since, until = local_bounds(rng.start, rng.end, company.timezone)
    queries.without_jit()
    integrations = [row for row in queries.integrations(company.id)
                    if not rng.platforms or row["platform"] in rng.platforms]
    webhooks = queries.webhook_stats(company.id, since, until, rng.platforms)
    api_times = queries.api_response_times(company.id, since, until, rng.platforms)
    errors = queries.errors_by_type(company.id, since, until, rng.platforms)
    quiet = silences(company, integrations, now, rng.platforms)
    sync_failures = [row for row in integrations if row["sync_status"] == "failed" or row["failed_mappings"]
                     or (row["last_error_at"] and (row["last_success_at"] is None
                                                   or row["last_error_at"] > row["last_success_at"]))]
    tables = {
        "webhooks": Table("webhooks", _("Webhooks by platform"), [
            Column("platform", _("Platform"), "platform"), Column("succeeded", _("Succeeded"), "int"),
            Column("failed", _("Failed"), "int"), Column("other", _("Waiting"), "int"),
            Column("success_rate", _("Success rate"), "percent"),
            Column("latency_p50", _("Latency, median (ms)"), "int"),
            Column("latency_p95", _("Latency, 95 % (ms)"), "int")],
            [[row["platform"], row["succeeded"], row["failed"], row["other"],
              share(row["succeeded"], row["succeeded"] + row["failed"]),
              _round(row["latency_p50"]), _round(row["latency_p95"])] for row in webhooks]),
        "api_times": Table("api_times", _("Calls to the platforms"), [
            Column("platform", _("Platform"), "platform"), Column("calls", _("Calls"), "int"),
            Column("p50", _("Response, median (ms)"), "int"), Column("p95", _("Response, 95 % (ms)"), "int")],
            [[row["platform"], row["calls"], _round(row["p50"]), _round(row["p95"])] for row in api_times]),
        "errors": Table("errors", _("Errors by type"), [
            Column("platform", _("Platform"), "platform"), Column("kind", _("Error")),
            Column("count", _("Count"), "int"),
            Column("example", _("Latest message"))],
            [[row["platform"], error_label(row["source"], row["kind"]), row["count"], row["example"]]
             for row in errors]),
        "silence": Table("silence", _("Time since the last order"), [
            Column("platform", _("Platform"), "platform"), Column("minutes", _("Minutes since the last order"), "int"),
            Column("expected", _("Orders usually received meanwhile")), Column("alert", _("Alert"))],
            [[s.platform, s.minutes, s.expected, _("Unusually quiet") if s.alert else ""] for s in quiet]),
    }
    platforms = [row["platform"] for row in webhooks]
    charts = {"webhooks": {"type": "stacked-bar", "format": "int",
                           "labels": [platform_label(p) for p in platforms], "datasets": [
                               {"label": str(_l("Succeeded")), "backgroundColor": "#15803d",
                                "data": [row["succeeded"] for row in webhooks]},
                               {"label": str(_l("Failed")), "backgroundColor": "#b91c1c",
                                "data": [row["failed"] for row in webhooks]},
                               {"label": str(_l("Waiting")), "backgroundColor": "#94a3b8",
                                "data": [row["other"] for row in webhooks]}]}}
    return Health(integrations, webhooks, api_times, errors, quiet, sync_failures, tables, charts)


def _round(value):
    return None if value is None else int(round(value))


def error_label(source, kind):
    """'UNAUTHORIZED' -> 'Webhook: Unauthorized'; 'DEAD:ACCEPT' -> 'Call ACCEPT: gave up'."""
    if source == "WEBHOOK":
        return _("Webhook: %(outcome)s", outcome=OUTCOME_LABELS.get(kind, kind))
    status, _sep, action = kind.partition(":")
    return _("Call %(action)s: %(status)s", action=action.replace("_", " ").lower(),
             status=_("gave up") if status == CallStatus.DEAD else _("failed, will retry"))
