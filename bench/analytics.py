"""Reports benchmark: the "Speed" goals of the analytics issue (issue 7).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/analytics.py \
        [--reuse] [--database portal_bench_analytics] [--iterations 40] [--new-orders 1000] [--json out.json]

On its own bench database (bench/_common.py's `prepare`: ~1,000,000 orders over 1,000 companies over the
last year, the biggest with ~100,000), so it does not collide with the other benchmarks:

0. The first rollup: the bulk load fires the dirty-day trigger like any writer, so every (company, day)
   with orders starts dirty; `refresh_all` (what the worker's periodic job runs) builds the rollup once.
   Timed, for information.
1. The whole dashboard for the biggest company: `GET /reports/?from=…&to=…` (overview: every figure,
   chart and table, and the money figures, with the previous period) and `GET /reports/money`, through
   the Flask test client of an app connected as portal_app, signed in as a MANAGER of that company;
   30 days and 365 days ending today (today read live from the orders). Goals: p95 < 150 ms (30 days),
   < 300 ms (365 days). The service alone (`build_report`, no rendering) is shown beside it.
2. Rollup refresh after N new orders (default 1,000): N orders copied from random existing ones (so
   spread over companies as the orders are, big ones more often) with a new id, received at a random
   time in the last 30 days before today, inserted as the owner in one statement (the trigger marks
   their days); then `refresh_all` until nothing before today is dirty. Goal < 1 s. Measured again
   with all N orders in the biggest company. The inserted orders are deleted afterwards (and their days
   rolled up again, untimed).

Figures are noisy: the machine is shared with other sessions. A missed goal never fails the exit status.
"""
import argparse
import json
import re
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
from _common import percentile, timed
import psycopg

DATABASE = "portal_bench_analytics"
PASSWORD = "analytics bench password 1"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
GOALS = {"30": 150.0, "365": 300.0, "refresh": 1000.0}
TAG = "BENCH-AN-"
say = common.echo



def stats(ms):
    return {"p50": round(percentile(ms, .5), 1), "p95": round(percentile(ms, .95), 1), "max": round(max(ms), 1),
            "mean": round(statistics.fmean(ms), 1), "n": len(ms)}


def biggest_company(conninfo):
    with psycopg.connect(conninfo) as connection:
        row = connection.execute(
            "SELECT c.id, c.name, c.timezone, c.currency, n.orders FROM"
            " (SELECT company_id, count(*) AS orders FROM delivery_orders GROUP BY 1) n"
            " JOIN companies c ON c.id = n.company_id WHERE c.name LIKE %s ORDER BY n.orders DESC, c.name LIMIT 1",
            (common.BENCH_NAME + " %",)).fetchone()
    if row is None:
        raise SystemExit("No bench company with orders: run without --reuse to load the bench database.")
    company_id, name, zone, currency, orders = row
    return {"id": company_id, "name": name, "timezone": zone, "currency": currency, "orders": orders,
            "email": f"analytics-bench-{str(company_id)[:8]}@bench.example"}


def ensure_manager(app, company, conninfo):
    with psycopg.connect(conninfo) as connection:
        if connection.execute("SELECT 1 FROM users WHERE email = %s", (company["email"],)).fetchone():
            return
    from portal.tenancy import tenant
    from portal.users.services import create_user
    with app.app_context(), tenant(company["id"]):
        create_user(None, email=company["email"], first_name="Reports", last_name="Bench", role="MANAGER",
                    password=PASSWORD, company_id=company["id"])


def dirty_before_today(conninfo):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(
            "SELECT count(*), count(DISTINCT d.company_id) FROM analytics_dirty_days d JOIN companies c"
            " ON c.id = d.company_id WHERE d.day < (now() AT TIME ZONE c.timezone)::date").fetchone()


def refresh(app):
    from portal.analytics.rollup import refresh_all
    with app.app_context():
        started = time.perf_counter()
        done = refresh_all()
        return (time.perf_counter() - started) * 1000, sum(done.values()), len(done)


def measure_dashboard(app, company, iterations):
    from portal.analytics.forms import ReportRange
    from portal.analytics.services import build_report
    from portal.extensions import db
    from portal.models import Company
    from portal.tenancy import tenant

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_META.search(page).group(1)
    response = client.post("/login", data={"email": company["email"], "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"Signing in as {company['email']} failed (HTTP {response.status_code}).")
    today = datetime.now(ZoneInfo(company["timezone"])).date()
    results = {}
    for days in (30, 365):
        start = today - timedelta(days=days - 1)
        query = f"from={start.isoformat()}&to={today.isoformat()}"
        for name, path in (("overview", f"/reports/?{query}"), ("money", f"/reports/money?{query}")):
            def get(path=path):
                answer = client.get(path)
                assert answer.status_code == 200, answer.status_code
            results[f"{name} {days} d"] = stats(timed(get, iterations, warmup=3))
            say(f"  GET {name:<8} {days:>3} days: p50 {results[f'{name} {days} d']['p50']:>6} ms  "
                f"p95 {results[f'{name} {days} d']['p95']:>6} ms  max {results[f'{name} {days} d']['max']:>6} ms")

        def service(start=start):
            with app.test_request_context(), tenant(company["id"]):
                build_report(db.session.get(Company, company["id"]), ReportRange(start, today, today))
                db.session.rollback()
        results[f"build_report {days} d"] = stats(timed(service, iterations, warmup=3))
        say(f"  build_report   {days:>3} days: p50 {results[f'build_report {days} d']['p50']:>6} ms  "
            f"p95 {results[f'build_report {days} d']['p95']:>6} ms  (figures only, no HTML)")
    size = len(client.get(f"/reports/?from={(today - timedelta(days=364)).isoformat()}&to={today.isoformat()}")
               .get_data())
    results["page bytes 365 d"] = size
    return results


_NEW_ORDERS = """
INSERT INTO delivery_orders (
  platform, platform_order_id, order_number, status, order_type, is_test, subtotal, discount_amount,
  platform_discount, vendor_discount, delivery_fee, service_fee, tax_amount, tip_amount, total_amount, currency,
  commission_rate, commission_amount, payment_method, customer_name, customer_phone, order_items,
  accepted_at, ready_at, completed_at, cancelled_at, company_id, integration_config_id, created_at, updated_at)
SELECT o.platform, %(tag)s || row_number() OVER () || '-' || o.platform_order_id, %(tag)s || row_number() OVER (),
       o.status, o.order_type, false, o.subtotal, o.discount_amount, o.platform_discount, o.vendor_discount,
       o.delivery_fee, o.service_fee, o.tax_amount, o.tip_amount, o.total_amount, o.currency, o.commission_rate,
       o.commission_amount, o.payment_method, o.customer_name, o.customer_phone, o.order_items,
       o.accepted_at + s.shift, o.ready_at + s.shift, o.completed_at + s.shift, o.cancelled_at + s.shift,
       o.company_id, o.integration_config_id, o.created_at + s.shift, o.created_at + s.shift
FROM (SELECT * FROM delivery_orders WHERE platform_data IS NULL AND platform_order_id NOT LIKE %(like)s
        AND (%(company)s::uuid IS NULL OR company_id = %(company)s::uuid)
      ORDER BY random() LIMIT %(n)s) o
JOIN companies c ON c.id = o.company_id
CROSS JOIN LATERAL (
  SELECT ((date_trunc('day', now() AT TIME ZONE c.timezone) - (1 + floor(random() * 29)) * interval '1 day'
           + random() * interval '23 hours') AT TIME ZONE c.timezone) - o.created_at AS shift) s
"""


def insert_new_orders(conninfo, n, company_id=None):
    """N orders copied from random ones, received in the last 30 days before today; returns (companies, days)."""
    with psycopg.connect(conninfo) as connection:
        connection.execute(_NEW_ORDERS, {"tag": TAG, "like": TAG + "%", "n": n, "company": company_id})
        row = connection.execute(
            "SELECT count(DISTINCT company_id), count(DISTINCT (company_id, created_at::date)) FROM delivery_orders"
            " WHERE platform_order_id LIKE %s", (TAG + "%",)).fetchone()
        connection.commit()
    return row


def delete_new_orders(conninfo):
    with psycopg.connect(conninfo) as connection:
        connection.execute("DELETE FROM delivery_orders WHERE platform_order_id LIKE %s", (TAG + "%",))
        connection.commit()


def measure_refresh(app, conninfo, n, company_id=None):
    companies, days = insert_new_orders(conninfo, n, company_id)
    pending, pending_companies = dirty_before_today(conninfo)
    ms, refreshed_days, refreshed_companies = refresh(app)
    left, _ = dirty_before_today(conninfo)
    delete_new_orders(conninfo)
    refresh(app)  # the deletions' days, untimed
    return {"orders": n, "companies": companies, "pending_days": pending, "refreshed_days": refreshed_days,
            "refreshed_companies": refreshed_companies, "ms": round(ms, 1), "left": left}


def explain_365(app, company):
    """The plan of the daily rows query for 365 days (rollup + live today), for the record."""
    from sqlalchemy import text

    from portal.analytics import queries
    from portal.extensions import db
    from portal.tenancy import tenant
    today = datetime.now(ZoneInfo(company["timezone"])).date()
    with app.app_context(), tenant(company["id"]):
        live = queries.live_days(company["id"], today - timedelta(days=729), today, today)
        plan = db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + queries._DAILY.text),
                                  {"company": company["id"], "first": today - timedelta(days=729), "last": today,
                                   "live": live, "platforms": []}).scalars().all()
        db.session.rollback()
    return plan


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse", action="store_true", help="keep an existing bench database (load only if empty)")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--new-orders", type=int, default=1000)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)

    prepared = common.prepare(args.companies, args.orders, reuse=args.reuse, name=args.database)
    url, conninfo = prepared.url, common.libpq(prepared.url)
    say(f"{prepared.counts['delivery_orders']:,} orders in {prepared.counts['companies']:,} companies.")
    app = common.bench_app(url)
    figures = {"orders": prepared.counts["delivery_orders"]}

    pending, pending_companies = dirty_before_today(conninfo)
    if pending:
        say(f"First rollup: {pending:,} dirty days of {pending_companies:,} companies …")
        ms, days, companies = refresh(app)
        figures["first_rollup"] = {"days": days, "companies": companies, "seconds": round(ms / 1000, 1)}
        say(f"  built in {ms / 1000:.1f} s ({days:,} days, {companies:,} companies)")
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE analytics_daily, analytics_daily_items, analytics_daily_customers,"
                               " analytics_dirty_days")

    company = biggest_company(conninfo)
    say(f"Biggest company: {company['name']} ({company['orders']:,} orders, {company['timezone']}).")
    ensure_manager(app, company, conninfo)
    say("1. Whole dashboard (Flask test client, portal_app under RLS):")
    figures["dashboard"] = measure_dashboard(app, company, args.iterations)
    figures["plan_365"] = explain_365(app, company)[-3:]

    say(f"2. Rollup refresh after {args.new_orders:,} new orders:")
    for label, company_id in (("spread over companies", None), ("all in the biggest company", company["id"])):
        result = measure_refresh(app, conninfo, args.new_orders, company_id)
        figures[f"refresh {label}"] = result
        say(f"  {label}: {result['ms']:.0f} ms for {result['refreshed_days']:,} days of "
            f"{result['refreshed_companies']:,} companies ({result['left']} left)")

    dash = figures["dashboard"]
    say("\nSummary (noisy: the machine is shared)")
    for days in ("30", "365"):
        p95 = dash[f"overview {days} d"]["p95"]
        say(f"  dashboard {days:>3} days p95 {p95:>6.1f} ms (goal < {GOALS[days]:.0f}): "
            f"{'PASS' if p95 < GOALS[days] else 'MISS'}")
    for label in ("spread over companies", "all in the biggest company"):
        ms = figures[f"refresh {label}"]["ms"]
        say(f"  refresh, {label}: {ms:.0f} ms (goal < 1000): {'PASS' if ms < GOALS['refresh'] else 'MISS'}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
