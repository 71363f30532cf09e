"""The reports' SQL: rolled-up days plus live days (today and any day not rolled up yet), per company.

Every figure reads "rows of days": the rollup tables for days that are rolled up, and the same
aggregation computed live from the orders (`analytics_*_live`, migration 0009) for today and for any
day whose orders changed since its rollup. A report is therefore never stale, and a rolled-up day
costs one index row. Every query names `company_id` so the primary keys (company_id, day, …) serve
it; row-level security would scope the rows anyway.
"""
import json

from sqlalchemy import text

from ..extensions import db
from ..models import WebhookOutcome

PLATFORM_FILTER = ("(cardinality(CAST(:platforms AS delivery_platform[])) = 0"
                   " OR {column} = ANY (CAST(:platforms AS delivery_platform[])))")

def without_jit():
    """No JIT compilation for the rest of the transaction.

    The set-returning aggregations are estimated at millions of rows (PostgreSQL assumes 100 per
    jsonb_array_elements call), which makes it JIT-compile them: ~0.7 s per query for a few ms of work.
    """
    db.session.execute(text("SET LOCAL jit = off"))


_DIRTY_DAYS = text(
    "SELECT day FROM analytics_dirty_days WHERE company_id = :company AND day BETWEEN :first AND :last ORDER BY day")


def live_days(company_id, first, last, today):
    """Days of first…last read live: those not rolled up (dirty) and today."""
    days = set(db.session.scalars(_DIRTY_DAYS, {"company": company_id, "first": first, "last": last}))
    if first <= today <= last:
        days.add(today)
    return sorted(days)


DAILY_COLUMNS = ("day, platform, orders, sold_orders, accepted_orders, rejected_orders, cancelled_orders, "
                 "delivered_orders, gross_sales, revenue, platform_discount, vendor_discount, third_party_discount, "
                 "other_discount, delivery_fees, service_fees, tax, tips, commission, accept_seconds, ready_seconds, "
                 "hourly_orders, mismatched_orders")

_DAILY = text(f"""
    SELECT {DAILY_COLUMNS} FROM analytics_daily
    WHERE company_id = :company AND day BETWEEN :first AND :last AND day <> ALL (CAST(:live AS date[]))
      AND {PLATFORM_FILTER.format(column="platform")}
    UNION ALL
    SELECT {DAILY_COLUMNS} FROM analytics_daily_live(:company, CAST(:live AS date[]))
    WHERE {PLATFORM_FILTER.format(column="platform")}
    ORDER BY day, platform
""")


def daily_rows(company_id, first, last, live, platforms=()):
    """One row per day and platform of first…last (days without orders have none)."""
    return db.session.execute(_DAILY, {"company": company_id, "first": first, "last": last, "live": list(live),
                                       "platforms": [str(getattr(p, "value", p)) for p in platforms]}).mappings().all()


_ITEMS = text(f"""
    WITH rows AS (
        SELECT day, platform, kind, name, name_ar, quantity, sales FROM analytics_daily_items
        WHERE company_id = :company AND day BETWEEN :first AND :last AND day <> ALL (CAST(:live AS date[]))
        UNION ALL
        SELECT day, platform, kind, name, name_ar, quantity, sales
        FROM analytics_items_live(:company, CAST(:live AS date[]))
    )
    SELECT kind, name, max(name_ar) AS name_ar,
           coalesce(sum(quantity) FILTER (WHERE day >= :start), 0) AS quantity,
           coalesce(sum(sales) FILTER (WHERE day >= :start), 0) AS sales,
           coalesce(sum(quantity) FILTER (WHERE day < :start), 0) AS previous_quantity
    FROM rows WHERE {PLATFORM_FILTER.format(column="platform")}
    GROUP BY kind, name
""")


def item_rows(company_id, first, start, last, live, platforms=()):
    """Items and modifiers sold: quantity and sales from `start` to `last`, quantity before `start`."""
    return db.session.execute(_ITEMS, {"company": company_id, "first": first, "start": start, "last": last,
                                       "live": list(live),
                                       "platforms": [str(getattr(p, "value", p)) for p in platforms]}).mappings().all()


# A customer is "returning" in a period when they ordered (a sold order, any platform) before it. One pass
# over the company's customer days up to `last` (an index-only scan in customer order): each customer's
# first day, and whether they ordered (on the chosen platforms) in each period. (Joining the period's
# customers to a table of first days was slower: one index probe per customer.)
_CUSTOMERS = text(f"""
    WITH live AS MATERIALIZED (
        SELECT day, platform, customer_key FROM analytics_customers_live(:company, CAST(:live AS date[]))
    ), rows AS (
        SELECT day, platform, customer_key FROM analytics_daily_customers
        WHERE company_id = :company AND day <= :last AND day <> ALL (CAST(:live AS date[]))
        UNION ALL
        SELECT day, platform, customer_key FROM live WHERE day <= :last
    ), customers AS (
        SELECT customer_key, min(day) AS first_day,
               bool_or(day >= :start AND {PLATFORM_FILTER.format(column="platform")}) AS now,
               bool_or(day >= :first AND day < :start AND {PLATFORM_FILTER.format(column="platform")}) AS before
        FROM rows GROUP BY customer_key
    )
    SELECT count(*) FILTER (WHERE now), count(*) FILTER (WHERE now AND first_day < :start),
           count(*) FILTER (WHERE before), count(*) FILTER (WHERE before AND first_day < :first)
    FROM customers
""")


def customer_counts(company_id, first, start, last, live, platforms=()):
    """{True: (customers, returning) of start…last, False: the same for first…start-1}.

    `live` must hold every day not rolled up up to `last` (also before `first`): a customer's
    history is read from the rollup and from those days.
    """
    now, now_returning, before, before_returning = db.session.execute(_CUSTOMERS, {
        "company": company_id, "first": first, "start": start, "last": last, "live": list(live),
        "platforms": [str(getattr(p, "value", p)) for p in platforms]}).one()
    return {True: (now, now_returning), False: (before, before_returning)}


_DIRTY_UNTIL = text("SELECT day FROM analytics_dirty_days WHERE company_id = :company AND day <= :last ORDER BY day")


def history_live_days(company_id, last, today):
    """Every day up to `last` that is read live (for customer histories), today included."""
    days = set(db.session.scalars(_DIRTY_UNTIL, {"company": company_id, "last": last}))
    if today <= last:
        days.add(today)
    return sorted(days)


# --- Reconciliation --------------------------------------------------------------------------------

_MISMATCH_DAYS = text(f"""
    SELECT DISTINCT day FROM analytics_daily
    WHERE company_id = :company AND day BETWEEN :first AND :last AND mismatched_orders > 0
      AND day <> ALL (CAST(:live AS date[])) AND {PLATFORM_FILTER.format(column="platform")}
""")

# Only the days the rollup counted a disagreement on (and the live days) are read order by order.
_MISMATCHES = text(f"""
    SELECT * FROM (
        SELECT o.id, o.platform, o.order_number, o.status, o.created_at, o.subtotal, o.discount_amount,
               o.delivery_fee, o.service_fee, o.tax_amount, o.tip_amount, o.total_amount, o.currency,
               analytics_order_mismatch(o.subtotal, o.discount_amount, o.delivery_fee, o.service_fee, o.tax_amount,
                                        o.tip_amount, o.total_amount, o.order_items,
                                        analytics_currency_places(o.currency)) AS reason,
               (SELECT coalesce(sum(coalesce(analytics_number(i -> 'line_total'),
                                             analytics_number(i -> 'unit_price')
                                             * coalesce(analytics_number(i -> 'quantity'), 1))), 0)
                FROM jsonb_array_elements(CASE WHEN jsonb_typeof(o.order_items) = 'array'
                                               THEN o.order_items ELSE '[]' END) i) AS items_total
        FROM (SELECT (d.day::timestamp AT TIME ZONE c.timezone) AS since,
                     ((d.day + 1)::timestamp AT TIME ZONE c.timezone) AS until
              FROM unnest(CAST(:days AS date[])) AS d(day) JOIN companies c ON c.id = :company
              OFFSET 0) d  -- bounds first: AT TIME ZONE is not leakproof, so not an index condition under RLS
        JOIN delivery_orders o ON o.company_id = :company AND o.created_at >= d.since AND o.created_at < d.until
        WHERE NOT o.is_test AND {PLATFORM_FILTER.format(column="o.platform")}
    ) checked
    WHERE reason IS NOT NULL
    ORDER BY created_at DESC
    LIMIT :limit
""")


_ORDER_MISMATCH = text(
    "SELECT analytics_order_mismatch(CAST(:subtotal AS numeric), CAST(:discount_amount AS numeric),"
    " CAST(:delivery_fee AS numeric), CAST(:service_fee AS numeric), CAST(:tax_amount AS numeric),"
    " CAST(:tip_amount AS numeric), CAST(:total_amount AS numeric), CAST(:order_items AS jsonb),"
    " analytics_currency_places(:currency))")


def order_mismatch(values):
    """Why the Reconciliation page would list an order with these delivery_orders values (subtotal,
    discount_amount, delivery_fee, service_fee, tax_amount, tip_amount, total_amount, order_items,
    currency): a services.MISMATCH_REASONS key, or None when it adds up. The page's own SQL rule."""
    params = {key: values[key] for key in ("subtotal", "discount_amount", "delivery_fee", "service_fee",
                                           "tax_amount", "tip_amount", "total_amount", "currency")}
    return db.session.scalar(_ORDER_MISMATCH, {**params, "order_items": json.dumps(values["order_items"])})


def mismatched_orders(company_id, first, last, live, platforms=(), limit=200):
    """Orders of first…last whose platform-reported totals disagree with their items, newest first."""
    params = {"company": company_id, "first": first, "last": last, "live": list(live),
              "platforms": [str(getattr(p, "value", p)) for p in platforms]}
    days = set(db.session.scalars(_MISMATCH_DAYS, params)) | set(live)
    return db.session.execute(_MISMATCHES, {**params, "days": sorted(days), "limit": limit}).mappings().all()


# --- Integration health ----------------------------------------------------------------------------

_INTEGRATIONS = text("""
    SELECT h.integration_config_id, h.platform, h.is_enabled, h.last_sync_at, h.sync_status, h.total_orders,
           h.delivered_orders, h.last_order_at, h.avg_response_time, ic.paused_until, ic.last_success_at,
           ic.last_error_at, ic.last_error,
           (SELECT count(*) FROM menu_mappings m WHERE m.company_id = h.company_id
              AND m.integration_config_id = h.integration_config_id AND m.sync_status = 'failed') AS failed_mappings
    FROM v_integration_health h
    JOIN integration_configs ic ON ic.company_id = h.company_id AND ic.id = h.integration_config_id
    WHERE h.company_id = :company
    ORDER BY h.platform
""")


def integrations(company_id):
    """The seed's v_integration_health of each of the company's integrations, with its error state."""
    return db.session.execute(_INTEGRATIONS, {"company": company_id}).mappings().all()


# Plain-string tuples: they are written into the SQL below as IN (...) lists.
WEBHOOK_OK = tuple(str(o) for o in (WebhookOutcome.PROCESSED, WebhookOutcome.DUPLICATE, WebhookOutcome.IGNORED))
WEBHOOK_FAILED = tuple(str(o) for o in (WebhookOutcome.FAILED, WebhookOutcome.DEAD, WebhookOutcome.INVALID,
                                         WebhookOutcome.UNAUTHORIZED))

_WEBHOOKS = text(f"""
    SELECT platform,
           count(*) FILTER (WHERE outcome IN {WEBHOOK_OK}) AS succeeded,
           count(*) FILTER (WHERE outcome IN {WEBHOOK_FAILED}) AS failed,
           count(*) FILTER (WHERE outcome NOT IN {WEBHOOK_OK + WEBHOOK_FAILED}) AS other,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS latency_p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS latency_p95
    FROM webhook_logs
    WHERE company_id = :company AND created_at >= :since AND created_at < :until
      AND {PLATFORM_FILTER.format(column="platform")}
    GROUP BY platform ORDER BY platform
""")


def webhook_stats(company_id, since, until, platforms=()):
    """Per platform: webhooks that succeeded, failed or wait, and the receiver's latency p50/p95 (ms)."""
    return db.session.execute(_WEBHOOKS, {"company": company_id, "since": since, "until": until,
                                          "platforms": [str(getattr(p, "value", p)) for p in platforms]}
                              ).mappings().all()


_API_TIMES = text(f"""
    SELECT platform, count(*) AS calls,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY metric_value) AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY metric_value) AS p95
    FROM integration_analytics
    WHERE company_id = :company AND metric_name = 'api_response_time'
      AND recorded_at >= :since AND recorded_at < :until
      AND {PLATFORM_FILTER.format(column="platform")}
    GROUP BY platform ORDER BY platform
""")


def api_response_times(company_id, since, until, platforms=()):
    """Per platform: the portal's calls to it (integration_analytics.api_response_time), p50/p95 in ms."""
    return db.session.execute(_API_TIMES, {"company": company_id, "since": since, "until": until,
                                           "platforms": [str(getattr(p, "value", p)) for p in platforms]}
                              ).mappings().all()


_ERRORS = text(f"""
    SELECT 'WEBHOOK' AS source, platform, outcome AS kind, count(*) AS count, max(created_at) AS last_at,
           (array_agg(error_message ORDER BY created_at DESC) FILTER (WHERE error_message IS NOT NULL))[1] AS example
    FROM webhook_logs
    WHERE company_id = :company AND created_at >= :since AND created_at < :until
      AND outcome IN {WEBHOOK_FAILED} AND {PLATFORM_FILTER.format(column="platform")}
    GROUP BY platform, outcome
    UNION ALL
    SELECT 'CALL', ic.platform, pc.status || ':' || pc.action, count(*), max(pc.created_at),
           (array_agg(pc.error ORDER BY pc.created_at DESC) FILTER (WHERE pc.error IS NOT NULL))[1]
    FROM platform_calls pc
    JOIN integration_configs ic ON ic.company_id = pc.company_id AND ic.id = pc.integration_config_id
    WHERE pc.company_id = :company AND pc.created_at >= :since AND pc.created_at < :until
      AND pc.status IN ('FAILED', 'DEAD') AND {PLATFORM_FILTER.format(column="ic.platform")}
    GROUP BY ic.platform, pc.status, pc.action
    ORDER BY count DESC, platform
""")


def errors_by_type(company_id, since, until, platforms=()):
    """Failed webhooks by outcome and failed calls to the platforms by action, per platform."""
    return db.session.execute(_ERRORS, {"company": company_id, "since": since, "until": until,
                                        "platforms": [str(getattr(p, "value", p)) for p in platforms]}
                              ).mappings().all()


_BASELINE = text("""
    SELECT platform, count(DISTINCT day) AS days,
           array(SELECT coalesce(sum(h.n), 0)::int FROM generate_series(1, 24) g(i)
                 LEFT JOIN LATERAL (SELECT d.hourly_orders[g.i] AS n) h ON true) AS unused
    FROM analytics_daily d WHERE false GROUP BY platform
""")

_BASELINE = text("""
    SELECT d.platform, u.hour - 1 AS hour, sum(u.n)::int AS orders
    FROM analytics_daily d, unnest(d.hourly_orders) WITH ORDINALITY AS u(n, hour)
    WHERE d.company_id = :company AND d.day BETWEEN :first AND :last
    GROUP BY d.platform, u.hour
""")


def hourly_baseline(company_id, first, last):
    """{platform: [orders in local hour 0…23 over first…last]} from the rollup (a baseline, not a report)."""
    baseline = {}
    for platform, hour, orders in db.session.execute(_BASELINE, {"company": company_id, "first": first,
                                                                  "last": last}):
        baseline.setdefault(getattr(platform, "value", platform), [0] * 24)[hour] = orders
    return baseline
