"""Order board and orders list benchmark: the "Speed" goals of the order-board issue.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/orders.py \
        [--reuse] [--iterations 200] [--browser-orders 20] [--workers 2] [--wait-quiet 600] [--json out.json]

On `portal_bench` (bench/_common.py: ~1,000,000 orders over 1,000 companies, the biggest with ~100,000),
for the biggest bench company ("the bench company": most bulk-loaded orders, first by name among equals,
so the choice does not drift while bench/webhooks.py adds orders):

1. Board render with exactly 300 open orders: the 300 newest non-test orders of the bench company are
   made open (PENDING / ACCEPTED / IN_PREPARATION / READY_FOR_PICKUP / OUT_FOR_DELIVERY, round robin)
   and its other open orders closed, as the owner, with the previous status of every touched row kept
   in `bench_board_saved` and restored at the end (also at the start of the next run, should this one
   die). GET /board, GET /board/lanes (changed) and GET /board/lanes?since=<version> (unchanged: 204)
   through the Flask test client of an app connected as portal_app, signed in as the bench company's
   COMPANY_ADMIN (created once through portal.users.services). Server-side time: around client.get.
2. The orders list query (portal/orders/queries.py: filtered_orders + sorted_orders, 50 rows + 1) for
   status + the last 24 h, as portal_app under row-level security through the app's session; its
   EXPLAIN (ANALYZE, BUFFERS) is printed once and checked for "Seq Scan on delivery_orders".
3. The list's full-text search (same query path, `q=`) for two customer names (one with an "Al-"
   family name), a partial order number and a phone number typed the local way, taken from the bench
   company's rows; a first name alone is measured too (information, not part of the verdict).
4. RLS overhead: the hot query of 2 as the SQL SQLAlchemy sends, run by bare psycopg as portal_app
   (tenant set with set_config, row-level security on) and as the owner (a superuser: no RLS; the
   explicit company filter is in the SQL), interleaved.
5. Webhook accepted -> card visible: the portal under gunicorn on 127.0.0.1, /board open in headless
   Chromium (Debian's /usr/bin/chromium via Playwright) signed in as the bench company's admin; N
   signed new-order webhooks (simulator payloads, the adapter's signature) posted at random phases of
   the board's 1.5 s poll; time from the 2xx ack to `.order-card[data-order-number=…]` being visible.
   The orders it created (and their webhook log rows) are deleted afterwards.
6. A summary with PASS/MISS per goal. A miss never makes the exit status non-zero.

The machine is shared: before each phase the run waits (within --wait-quiet seconds in all) until the
rest of the machine is idle and no other client works on the bench database, and it prints the CPU
each phase saw (this run, PostgreSQL, anything else), flagging a phase others disturbed. The board
set-up is redone before goal 5, as others may have added orders meanwhile.

Only 127.0.0.1 is contacted; gunicorn and the browser are stopped on exit, Ctrl+C and --max-seconds.
Without --reuse, `prepare` drops and reloads the bench database (bench/_common.py), as bench/webhooks.py.
"""
import argparse
import json
import os
import random
import re
import signal
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
from _common import CLK_TCK, Gunicorn, cpu_snapshot, percentile, timed, verdict
import psycopg

ROOT = common.ROOT
OPEN_TARGET = 300
OPEN_STATUSES = ("PENDING", "ACCEPTED", "IN_PREPARATION", "READY_FOR_PICKUP", "OUT_FOR_DELIVERY")
SAVED_TABLE = "bench_board_saved"
BENCH_PASSWORD = "bench board password 1"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
VERSION_ATTR = re.compile(r'id="board-state"[^>]*data-version="([^"]+)"')
CHROMIUM = "/usr/bin/chromium"
POLL_SECONDS = 1.0  # the board's hx-trigger "every 1000ms"
GOALS = {"board": 50.0, "list": 20.0, "search": 50.0, "rls": 20.0, "live": 2000.0}
say = common.echo


# =========================================================================== small helpers


def stats(milliseconds):
    return {"n": len(milliseconds), "p50": percentile(milliseconds, 0.5), "p95": percentile(milliseconds, 0.95),
            "max": max(milliseconds, default=float("nan")),
            "mean": statistics.fmean(milliseconds) if milliseconds else float("nan")}


def line(label, figures, width=44):
    return (f"  {label:<{width}} p50 {figures['p50']:8.2f} ms   p95 {figures['p95']:8.2f} ms   "
            f"max {figures['max']:8.2f} ms   (n={figures['n']})")


def plan_scans(plan):
    """The scans of an EXPLAIN, e.g. ['Bitmap Index Scan on idx_orders_customer_search']."""
    found = (re.search(r"(Bitmap Index|Index|Seq) Scan(?: Backward)? (?:using|on) \w+", row) for row in plan)
    return sorted({match.group(0) for match in found if match})



class Deadline(Exception):
    """--max-seconds ran out (SIGALRM) or SIGTERM arrived: stop, clean up, report what was measured."""


def _interrupt(signum, frame):
    raise Deadline(signal.Signals(signum).name)


# =========================================================================== is the machine ours?


def cpu_between(before, after):
    """Busy cores of the machine between two snapshots, and the three busiest processes that are not this
    benchmark or what it started (gunicorn, Chromium); PostgreSQL backends are shared, so listed as such."""
    seconds = max(after["time"] - before["time"], 1e-6)
    children = {}
    for pid, (_, ppid, _, _) in after["processes"].items():
        children.setdefault(ppid, []).append(pid)
    mine, stack = set(), [os.getpid()]
    while stack:
        pid = stack.pop()
        mine.add(pid)
        stack.extend(children.get(pid, []))
    others, own, postgres = {}, 0, 0
    for pid, (comm, _, ticks, _) in after["processes"].items():
        spent = ticks - before["processes"].get(pid, (comm, 0, 0, None))[2]
        if spent <= 0:
            continue
        if pid in mine:
            own += spent
        else:
            others[comm] = others.get(comm, 0) + spent
            postgres += spent if comm == "postgres" else 0
    total = after["total"] - before["total"]
    machine = (after["busy"] - before["busy"]) / total * (os.cpu_count() or 1) if total else 0.0
    # What neither this run's processes nor PostgreSQL account for (processes that came and went included).
    rest = max(0.0, machine - (own + postgres) / CLK_TCK / seconds)
    return {"machine": machine, "own": own / CLK_TCK / seconds, "postgres": postgres / CLK_TCK / seconds,
            "rest": rest, "others": [(name, round(ticks / CLK_TCK / seconds, 2))
                                     for name, ticks in sorted(others.items(), key=lambda item: -item[1])[:4]]}


APP_NAME = "bench/orders"   # PGAPPNAME: every connection this run opens (gunicorn's too) carries it


def foreign_sessions(conninfo, database):
    """Client sessions on the bench database that are not this run's and are doing something."""
    with psycopg.connect(conninfo) as connection:
        return connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'"
            " AND application_name <> %s AND pid <> pg_backend_pid() AND state <> 'idle'",
            (database, APP_NAME)).fetchone()[0]


def wait_quiet(max_wait, conninfo, database, threshold=0.4, window=3.0):
    """Wait (at most `max_wait` s) until the rest of the machine uses under `threshold` cores and no other
    client works on the bench database (sampled twice); returns the last sample."""
    deadline = time.monotonic() + max_wait
    while True:
        before = cpu_snapshot()
        busy_db = foreign_sessions(conninfo, database)
        time.sleep(window)
        load = cpu_between(before, cpu_snapshot())
        busy_db = max(busy_db, foreign_sessions(conninfo, database))
        load["foreign_sessions"] = busy_db
        if (load["machine"] < threshold and not busy_db) or time.monotonic() >= deadline:
            return load
        say(f"  not quiet ({load['machine']:.2f} cores busy: {load['others']}; {busy_db} other active sessions on "
            f"{database}); waiting …")
        time.sleep(min(15.0, max(0.0, deadline - time.monotonic())))


def before_phase(name, args, owner, figures):
    """Wait for a quiet machine (within the run's --wait-quiet budget); note the load the phase starts with."""
    if not args.wait_quiet:
        return
    budget = max(0.0, args.quiet_deadline - time.monotonic())
    load = wait_quiet(budget, owner, args.database)
    figures.setdefault("load_before", {})[name] = load
    if load["machine"] >= 0.4 or load["foreign_sessions"]:
        say(f"  WARNING: starting {name} on a busy machine ({load['machine']:.2f} cores: {load['others']}; "
            f"{load['foreign_sessions']} other active sessions on {args.database})")


def phase_cpu(name, before, figures, after=None):
    usage = cpu_between(before, after or cpu_snapshot())
    figures.setdefault("cpu", {})[name] = usage
    if usage["rest"] >= 0.15:
        say(f"  WARNING: other processes used {usage['rest']:.2f} cores during this phase (busiest: {usage['others']}):"
            " its figures are disturbed")
    return usage


# =========================================================================== the bench company

def bench_company(conninfo):
    """The biggest bench company (first by name among equals) and its enabled integration."""
    with psycopg.connect(conninfo) as connection:
        # Ranked by the bulk-loaded orders only (platform_data IS NULL; orders other benchmarks create through
        # the receiver carry their payload), so the choice does not drift while bench/webhooks.py adds orders.
        row = connection.execute(
            "SELECT c.id, c.name, c.timezone, c.country_code, c.currency,"
            " (SELECT count(*) FROM delivery_orders d WHERE d.company_id = c.id)"
            " FROM (SELECT company_id, count(*) AS loaded FROM delivery_orders WHERE platform_data IS NULL"
            "       GROUP BY 1) n"
            " JOIN companies c ON c.id = n.company_id WHERE c.name LIKE %s"
            " ORDER BY n.loaded DESC, c.name LIMIT 1", (common.BENCH_NAME + " %",)).fetchone()
        if row is None:
            raise SystemExit("No bench company with orders: run without --reuse to load the bench database.")
        company_id, name, zone, country, currency, orders = row
        integration = connection.execute(
            "SELECT id, platform::text FROM integration_configs WHERE company_id = %s AND is_enabled"
            " ORDER BY created_at LIMIT 1", (company_id,)).fetchone()
    return {"id": company_id, "name": name, "timezone": zone, "country": country, "currency": currency,
            "orders": orders, "integration_id": integration[0], "platform": integration[1],
            "email": f"board-bench-{str(company_id)[:8]}@bench.example"}


def ensure_user(url, company, conninfo):
    """A COMPANY_ADMIN of the bench company, created once through the users service (as portal_app)."""
    with psycopg.connect(conninfo) as connection:
        exists = connection.execute("SELECT 1 FROM users WHERE email = %s AND company_id = %s AND deleted_at IS NULL"
                                    " AND is_active", (company["email"], company["id"])).fetchone()
    if exists:
        return False
    from portal.extensions import db
    from portal.tenancy import tenant
    from portal.users.services import create_user
    app = common.bench_app(url)
    with app.app_context():
        with tenant(company["id"]):
            create_user(None, email=company["email"], first_name="Board", last_name="Bench", role="COMPANY_ADMIN",
                        password=BENCH_PASSWORD, company_id=company["id"])
        db.session.remove()
        db.engine.dispose()
    return True


# =========================================================================== exactly 300 open orders

def _quiet_triggers(connection):
    """Keep updated_at as it was (the set_updated_at trigger would stamp now()); superuser only."""
    try:
        connection.execute("SET LOCAL session_replication_role = replica")
        return True
    except psycopg.Error:
        return False


def restore_board(conninfo):
    """Put back the statuses a previous run changed; returns how many rows."""
    with psycopg.connect(conninfo) as connection:
        if connection.execute("SELECT to_regclass(%s)", (SAVED_TABLE,)).fetchone()[0] is None:
            return 0
        with connection.transaction():
            _quiet_triggers(connection)
            restored = connection.execute(
                f"UPDATE delivery_orders d SET status = s.status, updated_at = s.updated_at"
                f" FROM {SAVED_TABLE} s WHERE d.id = s.id").rowcount
            connection.execute(f"DROP TABLE {SAVED_TABLE}")
    return restored


def open_orders(conninfo, company_id):
    with psycopg.connect(conninfo) as connection:
        return dict(connection.execute(
            "SELECT status::text, count(*) FROM delivery_orders WHERE company_id = %s AND NOT is_test"
            " AND status = ANY(%s::order_status[]) GROUP BY 1", (company_id, list(OPEN_STATUSES))).fetchall())


def setup_board(conninfo, company_id, target=OPEN_TARGET):
    """Exactly `target` open non-test orders: the newest ones, statuses round robin; the rest closed."""
    with psycopg.connect(conninfo) as connection, connection.transaction():
        quiet = _quiet_triggers(connection)
        connection.execute(f"CREATE TABLE {SAVED_TABLE} (id uuid PRIMARY KEY, status order_status NOT NULL,"
                           " updated_at timestamptz NOT NULL)")
        connection.execute(
            "CREATE TEMP TABLE bench_board_plan ON COMMIT DROP AS"
            " SELECT id, (%s::order_status[])[1 + (row_number() OVER (ORDER BY created_at DESC, id) - 1) %% 5]"
            "   AS status FROM delivery_orders WHERE company_id = %s AND NOT is_test"
            " ORDER BY created_at DESC, id LIMIT %s", (list(OPEN_STATUSES), company_id, target))
        # Every row whose status changes: the chosen ones, and open ones outside the plan.
        connection.execute(
            f"INSERT INTO {SAVED_TABLE} (id, status, updated_at)"
            " SELECT d.id, d.status, d.updated_at FROM delivery_orders d"
            " LEFT JOIN bench_board_plan p ON p.id = d.id"
            " WHERE d.company_id = %s AND NOT d.is_test"
            " AND (p.id IS NOT NULL OR d.status = ANY(%s::order_status[]))",
            (company_id, list(OPEN_STATUSES)))
        opened = connection.execute(
            "UPDATE delivery_orders d SET status = p.status FROM bench_board_plan p"
            " WHERE d.id = p.id AND d.status <> p.status").rowcount
        closed = connection.execute(
            "UPDATE delivery_orders d SET status = 'DELIVERED' WHERE d.company_id = %s AND NOT d.is_test"
            " AND d.status = ANY(%s::order_status[]) AND d.id NOT IN (SELECT id FROM bench_board_plan)",
            (company_id, list(OPEN_STATUSES))).rowcount
    return opened, closed, quiet


def board_setup(owner, company):
    """(Re)make exactly 300 open orders; statuses changed before are put back first, so it can be repeated."""
    restore_board(owner)
    opened, closed, quiet = setup_board(owner, company["id"])
    now_open = open_orders(owner, company["id"])
    say(f"Board set-up: {opened} orders opened, {closed} closed (previous statuses kept in {SAVED_TABLE}"
        f"{'' if quiet else '; updated_at was stamped by the trigger'}); open now: {sum(now_open.values())} {now_open}")
    return now_open


# =========================================================================== the app, in-process

class StatementCounter:
    """Counts the SQL statements the app sends (to explain a request's cost)."""

    def __init__(self, engine):
        from sqlalchemy import event
        self.count = 0
        self.last = []
        self.capture = False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        if self.capture:
            self.last.append((statement, parameters))


def sign_in(client, email):
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_META.search(page).group(1)
    response = client.post("/login", data={"email": email, "password": BENCH_PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"Signing in as {email} failed (HTTP {response.status_code}).")


def one_new_order_since(conninfo, company_id):
    """Touch one pending order as a webhook would and return the board version from just before.

    The poll with that version redraws the New lane only. The order is among those board_setup saved, so
    restore_board puts its updated_at back at the end.
    """
    with psycopg.connect(conninfo) as connection:
        before = connection.execute("SELECT extract(epoch FROM now() - interval '1 second')").fetchone()[0]
        connection.execute(
            "UPDATE delivery_orders SET updated_at = now() WHERE id = (SELECT id FROM delivery_orders"
            " WHERE company_id = %s AND status = 'PENDING' ORDER BY created_at DESC LIMIT 1)", (company_id,))
    return f"{float(before):.6f}-0"


def measure_board(app, company, iterations, counter, owner):
    """Goal 1: GET /board, /board/lanes (all changed, one order changed, unchanged)."""
    client = app.test_client()
    sign_in(client, company["email"])
    one_order_since = one_new_order_since(owner, company["id"])
    first = client.get("/board")
    html = first.get_data(as_text=True)
    if first.status_code != 200:
        raise SystemExit(f"GET /board answered {first.status_code}")
    version = VERSION_ATTR.search(html).group(1)
    cards = html.count('class="order-card ')
    results = {"cards_on_page": cards, "page_bytes": len(first.data)}
    plans = [("board", "/board", 200), ("lanes_changed", "/board/lanes?since=0", 200),
             ("lanes_one_order", f"/board/lanes?since={one_order_since}", 200),
             ("lanes_unchanged", f"/board/lanes?since={version}", 204)]
    for name, path, expected in plans:
        statuses, times = {}, []
        before = counter.count
        for index in range(iterations + 5):
            started = time.perf_counter()
            response = client.get(path, headers={"HX-Request": "true"} if "lanes" in path else {})
            elapsed = (time.perf_counter() - started) * 1000
            body = response.data
            if index >= 5:
                times.append(elapsed)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        results[name] = stats(times) | {"statuses": statuses, "expected": expected, "bytes": len(body),
                                        "statements": (counter.count - before) / (iterations + 5)}
    results["version"] = version
    return results


def hot_query(company_row, status, hours=24):
    """The orders list's query (filtered_orders + sorted_orders + the page's LIMIT) for status + last N hours."""
    from portal.models import DeliveryOrder
    from portal.orders.queries import PER_PAGE, OrderFilters, filtered_orders, sorted_orders
    since = datetime.now(timezone.utc) - timedelta(hours=hours)
    query = filtered_orders(company_row, OrderFilters(statuses=[status]))
    query = query.where(DeliveryOrder.created_at >= since)
    return sorted_orders(query, "newest").limit(PER_PAGE + 1)


def search_query(company_row, q):
    from portal.orders.queries import PER_PAGE, OrderFilters, filtered_orders, sorted_orders
    return sorted_orders(filtered_orders(company_row, OrderFilters(q=q)), "newest").limit(PER_PAGE + 1)


def run_orm(query):
    """One list query as the app runs it: a new transaction (tenant set by tenancy's after_begin), rows read."""
    from portal.extensions import db
    rows = db.session.scalars(query).all()
    db.session.rollback()
    return rows


def measure_query(query, counter, iterations):
    """Run an ORM query once for its rows, once more to capture its SQL, then timed; (rows, sql, params, ms)."""
    rows = run_orm(query)
    counter.last.clear()
    counter.capture = True
    run_orm(query)
    counter.capture = False
    sql, params = next((s, p) for s, p in counter.last if "FROM delivery_orders" in s)
    return rows, sql, params, timed(lambda: run_orm(query), iterations)


def explain(sql, params):
    from portal.extensions import db
    connection = db.session.connection()
    plan = [row[0] for row in connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)]
    db.session.rollback()
    return plan


def search_terms(conninfo, company):
    """Searches a person types, from the company's bulk-loaded rows (deterministic for a given database):
    a full name with an "Al-" family name (the usual Gulf shape), one without, a partial order number,
    a phone number typed the local way; and a first name alone (the broadest search)."""
    import phonenumbers
    pick = ("SELECT customer_name, order_number, customer_phone FROM delivery_orders"
            " WHERE company_id = %s AND NOT is_test AND platform_data IS NULL AND customer_name ~ %s"
            " AND customer_phone IS NOT NULL ORDER BY created_at DESC, id LIMIT 1 OFFSET 500")
    with psycopg.connect(conninfo) as connection:
        al_name, number, phone = connection.execute(pick, (company["id"], "^[A-Za-z]+ Al-[A-Za-z]+$")).fetchone()
        plain_name = connection.execute(pick, (company["id"], "^[A-Za-z]+ [A-Za-z]+$")).fetchone()[0]
    try:
        national = phonenumbers.format_number(phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        national = phone
    partial = number[:max(3, len(number) - 2)]
    return [("customer name, Al- family name", al_name), ("customer name", plain_name),
            ("partial order number", partial), ("phone number, local format", national),
            ("first name only (broad)", plain_name.split(" ")[0])]


def measure_queries(app, url, company, conninfo, iterations, counter):
    """Goals 2, 3 and 4."""
    from portal.extensions import db
    from portal.models import Company
    from portal.tenancy import use_company
    results = {}
    with app.app_context():
        use_company(company["id"])
        company_row = db.session.get(Company, company["id"])
        db.session.expunge(company_row)
        db.session.rollback()

        # ---------------------------------------------------------------- 2. the filtered list query
        variants = {}
        for status in ("DELIVERED", "CANCELLED"):
            query = hot_query(company_row, status)
            rows, sql, params, times = measure_query(query, counter, iterations)
            variants[status] = stats(times) | {"rows": len(rows), "sql": sql, "params": params}
        results["list"] = variants
        main = variants["DELIVERED"]
        results["list_plan"] = explain(main["sql"], main["params"])

        # ---------------------------------------------------------------- 3. full-text search
        searches = {}
        for label, term in search_terms(conninfo, company):
            query = search_query(company_row, term)
            rows, sql, params, times = measure_query(query, counter, iterations)
            searches[label] = stats(times) | {"term": term, "rows": len(rows), "plan": explain(sql, params)}
        results["search"] = searches
        db.session.remove()

    # -------------------------------------------------------------------- 4. RLS vs owner, bare psycopg
    results["rls"] = rls_overhead(common.app_conninfo(url), conninfo, company["id"],
                                  main["sql"], main["params"], iterations)
    return results


def rls_overhead(app_conninfo, owner_conninfo, company_id, sql, params, iterations):
    """The same statement as portal_app under RLS and as the owner; interleaved so drift hits both alike."""
    tenant_sql = ("SELECT set_config('app.current_company_id', %s, true), set_config('app.user_id', '', true)")
    as_app, as_owner, set_tenant, app_total = [], [], [], []
    with psycopg.connect(app_conninfo) as app_conn, psycopg.connect(owner_conninfo) as owner_conn:
        for connection in (app_conn, owner_conn):
            connection.execute("SELECT 1")
            connection.commit()
        for index in range(iterations + 10):
            with app_conn.transaction():
                started = time.perf_counter()
                app_conn.execute(tenant_sql, (str(company_id),))
                middle = time.perf_counter()
                rows_app = app_conn.execute(sql, params).fetchall()
                ended = time.perf_counter()
            with owner_conn.transaction():
                owner_start = time.perf_counter()
                rows_owner = owner_conn.execute(sql, params).fetchall()
                owner_end = time.perf_counter()
            if index >= 10:
                set_tenant.append((middle - started) * 1000)
                as_app.append((ended - middle) * 1000)
                app_total.append((ended - started) * 1000)
                as_owner.append((owner_end - owner_start) * 1000)
        same = [row[0] for row in rows_app] == [row[0] for row in rows_owner]
    app_figures, owner_figures = stats(as_app), stats(as_owner)
    return {"app": app_figures, "owner": owner_figures, "set_config": stats(set_tenant), "app_total": stats(app_total),
            "overhead_p50": (app_figures["p50"] / owner_figures["p50"] - 1) * 100,
            "overhead_p95": (app_figures["p95"] / owner_figures["p95"] - 1) * 100,
            "overhead_total_p50": (stats(app_total)["p50"] / owner_figures["p50"] - 1) * 100,
            "same_rows": same, "rows": len(rows_app)}


# =========================================================================== 5. the browser


def bench_target(url, company):
    targets, _ = common.load_targets(url, with_counts=False)
    for target in targets:
        if str(target.integration_id) == str(company["integration_id"]):
            return target
    raise SystemExit("The bench company's integration was not found among the bench targets.")


def new_order_webhook(factory, target, tag, seq):
    """A signed-ready new-order webhook with an id unique to this run; (path, raw body, order number)."""
    from portal.platforms import adapter_for
    from portal.platforms.base import ParseContext
    from portal.simulator.orders import CAREEM, DELIVERY_HERO
    order = factory.order(target)
    body = order.webhook.body
    if target.platform in DELIVERY_HERO:
        body["code"] = f"ob{tag}-{seq}"
    elif target.platform in CAREEM:
        body["details"]["id"] = (tag % 100_000) * 1_000_000 + 900_000 + seq
    else:
        body["order"]["id"] = f"{body['order']['id'].split('-')[0]}-ob{tag}-{seq}"
        body["order"]["number"] = f"ob{tag}{seq}"
    raw = json.dumps(body, ensure_ascii=False).encode()
    event = adapter_for(target.platform).parse_webhook(
        body, ParseContext(currency=target.currency, country_code=target.country_code, path=order.webhook.path))
    return order.webhook.path, raw, event.order.order_number, event.order.platform_order_id


def measure_live(url, company, count, workers, seed, per_card_timeout=10.0):
    """Goal 5: webhook 2xx ack -> the card visible on an open board in headless Chromium."""
    import requests
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from portal.simulator.orders import OrderFactory
    from portal.simulator.sender import Sender

    target = bench_target(url, company)
    rng = random.Random(seed)
    factory = OrderFactory(rng=rng)
    tag = int(time.time())
    results = {"samples": [], "timeouts": 0, "errors": [], "platform": target.platform, "tag": tag, "created": []}
    server = Gunicorn(url, workers)
    say(f"  gunicorn: {workers} sync workers on {server.base_url}")
    try:
        if not server.wait_ready():
            raise SystemExit("gunicorn did not answer /healthz within 60 s:\n" + server.log_tail())
        sender = Sender(server.base_url)
        session = requests.Session()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
                      f"--explicitly-allowed-ports={server.port}"])
            try:
                context = browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 860},
                                              locale="en-US")
                context.set_default_timeout(15_000)
                # The browser's own time for each lanes swap (htmx beforeSwap -> afterSettle), read at the end.
                context.add_init_script("""
                  window.__swaps = [];
                  document.addEventListener('htmx:beforeSwap', (e) => {
                    if (e.detail.target && e.detail.target.id === 'board-lanes') {
                      window.__swapStart = performance.now(); } });
                  document.addEventListener('htmx:afterSettle', (e) => {
                    if (window.__swapStart !== undefined) {
                      window.__swaps.push(performance.now() - window.__swapStart); window.__swapStart = undefined; } });
                """)
                page = context.new_page()
                lanes_events = []
                page.on("response", lambda response: lanes_events.append((time.monotonic(), response.status))
                        if "/board/lanes" in response.url else None)
                page.goto("/login")
                page.fill("input[name=email]", company["email"])
                page.fill("input[name=password]", BENCH_PASSWORD)
                with page.expect_navigation():
                    page.click("button[type=submit]")
                page.goto("/board")
                page.wait_for_selector("#board-lanes")
                results["cards_at_start"] = page.locator(".order-card").count()
                page.wait_for_timeout(2 * POLL_SECONDS * 1000)     # let the first polls settle
                for seq in range(1, count + 1):
                    # A random phase of the poll cycle, so the sample covers it evenly.
                    page.wait_for_timeout(rng.uniform(0.2, 0.2 + POLL_SECONDS) * 1000)
                    path, raw, number, platform_order_id = new_order_webhook(factory, target, tag, seq)
                    post_url = f"{server.base_url}/webhooks/{target.platform.lower()}/{target.integration_id}"
                    post_url += f"/{path}" if path else ""
                    headers = sender.headers(target, None, raw)
                    sent = time.monotonic()
                    try:
                        answer = session.post(post_url, data=raw, headers=headers, timeout=(3, 15))
                    except requests.RequestException as error:
                        results["errors"].append(f"POST: {type(error).__name__}: {error}"[:200])
                        continue
                    acked = time.monotonic()
                    if not 200 <= answer.status_code < 300:
                        results["errors"].append(f"POST answered {answer.status_code}: {answer.text[:200]}")
                        continue
                    results["created"].append(platform_order_id)
                    mark = len(lanes_events)
                    selector = f'.order-card[data-order-number="{number}"]'
                    try:
                        page.wait_for_selector(selector, state="visible", timeout=per_card_timeout * 1000)
                        seen = time.monotonic()
                    except PlaywrightTimeout:
                        results["timeouts"] += 1
                        results["samples"].append({"order": number, "ack_ms": (acked - sent) * 1000,
                                                   "visible_ms": float("inf")})
                        continue
                    delivered = next((moment for moment, status in lanes_events[mark:] if status == 200), None)
                    results["samples"].append({
                        "order": number, "ack_ms": (acked - sent) * 1000, "visible_ms": (seen - acked) * 1000,
                        "poll_ms": (delivered - acked) * 1000 if delivered else None,
                        "swap_ms": (seen - delivered) * 1000 if delivered else None})
                results["cpu_after"] = cpu_snapshot()    # while gunicorn and Chromium still run (and count as ours)
                results["cards_at_end"] = page.locator(".order-card").count()
                results["swaps_ms"] = page.evaluate("window.__swaps")
                polls = [status for _, status in lanes_events]
                results["polls"] = {str(code): polls.count(code) for code in sorted(set(polls))}
                context.close()
            except PlaywrightError as error:
                results["errors"].append(f"browser: {str(error).splitlines()[0]}"[:300])
            finally:
                browser.close()
    finally:
        log = server.log_tail(200)
        server.stop()
        if "Traceback" in log:
            results["errors"].append("gunicorn logged a traceback:\n" + "\n".join(log.splitlines()[-15:]))
    return results


def remove_live_orders(conninfo, company_id, platform_order_ids):
    if not platform_order_ids:
        return 0, 0
    with psycopg.connect(conninfo) as connection, connection.transaction():
        ids = [row[0] for row in connection.execute(
            "SELECT id FROM delivery_orders WHERE company_id = %s AND platform_order_id = ANY(%s)",
            (company_id, platform_order_ids)).fetchall()]
        logs = connection.execute("DELETE FROM webhook_logs WHERE company_id = %s AND order_id = ANY(%s)",
                                  (company_id, ids)).rowcount
        orders = connection.execute("DELETE FROM delivery_orders WHERE id = ANY(%s)", (ids,)).rowcount
    return orders, logs


# =========================================================================== main

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help="keep an existing bench database (load only if empty)")
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders to bulk-load (default 1,000,000)")
    parser.add_argument("--companies", type=int, default=1000, help="companies to bulk-load (default 1,000)")
    parser.add_argument("--database", default=common.BENCH_DB, help=f"bench database (default {common.BENCH_DB})")
    parser.add_argument("--iterations", type=int, default=200, help="measured runs per HTTP call / query (default 200)")
    parser.add_argument("--browser-orders", type=int, default=20, help="webhooks for goal 5 (default 20; 0 skips it)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers for goal 5 (default 2)")
    parser.add_argument("--max-seconds", type=int, default=1800, help="stop everything after this long (default 1800)")
    parser.add_argument("--wait-quiet", type=int, default=600,
                        help="wait up to this many seconds in all for the machine and the bench database to be "
                             "quiet before each phase (default 600; 0: don't wait)")
    parser.add_argument("--goals", default="1,2,3,4,5",
                        help="which goals to measure, e.g. 1,5 (default all; 2, 3 and 4 run together)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", dest="json_path", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        args.goals = {int(goal) for goal in args.goals.split(",") if goal.strip()}
    except ValueError:
        parser.error("--goals: numbers from 1 to 5, comma-separated")
    if not args.goals or not args.goals <= {1, 2, 3, 4, 5}:
        parser.error("--goals: numbers from 1 to 5, comma-separated")
    if not 1 <= args.iterations <= 10_000 or not 0 <= args.browser_orders <= 200 or args.workers < 1:
        parser.error("iterations 1..10000, browser-orders 0..200, workers >= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGALRM, _interrupt)
    signal.alarm(args.max_seconds)
    run_started = time.perf_counter()
    args.quiet_deadline = time.monotonic() + args.wait_quiet
    os.environ["PGAPPNAME"] = APP_NAME    # libpq: this process's connections and gunicorn's (inherited)
    say(f"== Order board and orders list benchmark — {os.cpu_count()} cores ==")
    prepared = common.prepare(args.companies, args.orders, reuse=args.reuse, name=args.database, seed=args.seed,
                              say=say)
    url = prepared.url
    owner = common.libpq(url)
    restored = restore_board(owner)
    if restored:
        say(f"Restored {restored:,} order statuses a previous run had left changed.")
    company = bench_company(owner)
    say(f"Bench company: {company['name']} ({company['id']}), {company['orders']:,} orders, {company['platform']}, "
        f"{company['timezone']}, {company['currency']}; {prepared.counts['delivery_orders']:,} orders in the database.")
    if ensure_user(url, company, owner):
        say(f"Created the COMPANY_ADMIN {company['email']} (portal.users.services.create_user).")
    figures = {"company": {key: str(value) for key, value in company.items()}, "iterations": args.iterations,
               "orders_total": prepared.counts["delivery_orders"], "cores": os.cpu_count()}
    app = common.bench_app(url)
    from portal.extensions import db
    with app.app_context():
        counter = StatementCounter(db.engine)
    live = None
    interrupted = None
    try:
        if {2, 3, 4} & args.goals:
            before_phase("queries", args, owner, figures)
            say(f"Goals 2–4: list query, search, RLS overhead ({args.iterations} runs each) …")
            started, cpu = time.perf_counter(), cpu_snapshot()
            figures.update(measure_queries(app, url, company, owner, args.iterations, counter))
            phase_cpu("queries", cpu, figures)
            say(f"  done in {time.perf_counter() - started:.1f} s")

        if 1 in args.goals:
            before_phase("board", args, owner, figures)
            now_open = board_setup(owner, company)
            figures["open_before"] = now_open
            say(f"Goal 1: board render ({args.iterations} runs per call) …")
            started, cpu = time.perf_counter(), cpu_snapshot()
            figures["board"] = measure_board(app, company, args.iterations, counter, owner)
            phase_cpu("board", cpu, figures)
            figures["open_after"] = open_orders(owner, company["id"])
            if figures["open_after"] != now_open:
                figures["board"]["disturbed"] = True
                say(f"  WARNING: someone else changed the bench company's orders during goal 1: open now "
                    f"{sum(figures['open_after'].values())} {figures['open_after']}; its figures are disturbed")
            say(f"  done in {time.perf_counter() - started:.1f} s")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

        if 5 in args.goals and args.browser_orders:
            before_phase("browser", args, owner, figures)
            figures["live_open_before"] = board_setup(owner, company)   # (again: others may have added orders)
            say(f"Goal 5: webhook -> card visible in Chromium ({args.browser_orders} orders) …")
            started, cpu = time.perf_counter(), cpu_snapshot()
            live = measure_live(url, company, args.browser_orders, args.workers, args.seed)
            figures["live"] = live
            phase_cpu("browser", cpu, figures, after=live.pop("cpu_after", None))
            say(f"  done in {time.perf_counter() - started:.1f} s")
    except (Deadline, KeyboardInterrupt) as error:
        interrupted = str(error) or type(error).__name__
        say(f"Interrupted ({interrupted}): cleaning up and reporting what was measured.")
    finally:
        signal.alarm(0)
        if live:
            removed = remove_live_orders(owner, company["id"], live["created"])
            say(f"Removed the {removed[0]} orders (and {removed[1]} webhook log rows) goal 5 created.")
        restored = restore_board(owner)
        say(f"Restored {restored:,} order statuses.")

    report(figures, args, time.perf_counter() - run_started, interrupted)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(figures, indent=2, default=str))
    return 0


def report(figures, args, seconds, interrupted):
    company = figures["company"]
    rows = []
    say("")
    say("=" * 104)
    say(f"Order board / orders list — {figures['orders_total']:,} orders; {company['name']} with "
        f"{int(company['orders']):,}; {figures['cores']} cores; {args.iterations} runs per figure")

    if "board" in figures:
        board = figures["board"]
        say(f"1. Board ({sum(figures['open_before'].values())} open orders: {figures['open_before']}; "
            f"{board['cards_on_page']} cards on the page incl. 'done today', {board['page_bytes']:,} bytes), "
            "Flask test client, portal_app:")
        for key, label in (("board", "GET /board (full page)"), ("lanes_changed", "GET /board/lanes (all lanes changed)"),
                           ("lanes_one_order", "GET /board/lanes (one order changed)"),
                           ("lanes_unchanged", "GET /board/lanes?since=… (unchanged)")):
            part = board[key]
            say(line(label, part) + f"  HTTP {part['statuses']}, {part['bytes']:,} B, "
                f"{part['statements']:.1f} SQL/request")
        ok = board["board"]["p95"] < GOALS["board"] and sum(figures["open_before"].values()) >= OPEN_TARGET
        unchanged_ok = board["lanes_unchanged"]["statuses"].get(204, 0) == board["lanes_unchanged"]["n"]
        rows.append(("1. board render, 300 open, p95 < 50 ms", f"{board['board']['p95']:.1f} ms",
                     verdict(ok) + ("  (disturbed: orders added meanwhile)" if board.get("disturbed") else "")))
        rows.append(("   unchanged poll answers 204", f"{board['lanes_unchanged']['p95']:.1f} ms p95",
                     verdict(unchanged_ok)))

    if "list" in figures:
        say("2. Orders list query (company + status + last 24 h, 50 rows), app session as portal_app under RLS:")
        for status, part in figures["list"].items():
            say(line(f"status={status}", part) + f"  {part['rows']} rows")
        plan = figures["list_plan"]
        seq = any("Seq Scan on delivery_orders" in row for row in plan)
        say("   EXPLAIN (ANALYZE, BUFFERS), status=DELIVERED:")
        for row in plan:
            say("     " + row)
        say(f"   -> {'Seq Scan on delivery_orders FOUND' if seq else 'no Seq Scan on delivery_orders (index plan)'}")
        worst = max(part["p95"] for part in figures["list"].values())
        rows.append(("2. filtered list query p95 < 20 ms, index plan", f"{worst:.1f} ms",
                     verdict(worst < GOALS["list"] and not seq)))

    if "search" in figures:
        say("3. Full-text search (the list's `q`, 50 rows, newest first):")
        required = []
        for label, part in figures["search"].items():
            scans = plan_scans(part["plan"])
            say(line(f"{label} {part['term']!r}", part) + f"  {part['rows']} rows; {'; '.join(scans)}")
            if "broad" not in label:
                required.append(part["p95"])
        worst = max(required)
        broad = [part for label, part in figures["search"].items() if "broad" in label]
        rows.append(("3. full-text search p95 < 50 ms (name, number, phone)", f"{worst:.1f} ms",
                     verdict(worst < GOALS["search"])))
        if broad:
            rows.append(("   (first name alone, information)", f"{broad[0]['p95']:.1f} ms",
                         verdict(broad[0]["p95"] < GOALS["search"])))

    if "rls" in figures:
        rls = figures["rls"]
        say("4. RLS overhead: the hot query's SQL by bare psycopg, interleaved "
            f"({rls['rows']} rows, same rows: {rls['same_rows']}):")
        say(line("portal_app, RLS on (query only)", rls["app"]))
        say(line("owner, no RLS, explicit company filter", rls["owner"]))
        say(line("portal_app: set_config (tenant) round trip", rls["set_config"]))
        say(line("portal_app: set_config + query", rls["app_total"]))
        say(f"   overhead: p50 {rls['overhead_p50']:+.1f} %   p95 {rls['overhead_p95']:+.1f} %   "
            f"(with the tenant round trip, p50 {rls['overhead_total_p50']:+.1f} %)")
        rows.append(("4. RLS overhead < 20 % (p50; p95 shown)",
                     f"{rls['overhead_p50']:+.1f} % / {rls['overhead_p95']:+.1f} %",
                     verdict(rls["overhead_p50"] < GOALS["rls"] and rls["same_rows"])))

    live = figures.get("live")
    if live:
        samples = live["samples"]
        visible = [sample["visible_ms"] for sample in samples]
        finite = [value for value in visible if value != float("inf")]
        say(f"5. Webhook 2xx ack -> card visible in Chromium ({live['platform']}, {len(samples)} orders, "
            f"{live['timeouts']} not seen within 10 s, {len(live['errors'])} errors; board had "
            f"{live.get('cards_at_start', '?')} cards at the start, {live.get('cards_at_end', '?')} at the end; "
            f"polls {live.get('polls')}):")
        if samples:
            say(line("ack -> visible", stats(visible)) + f"  mean {statistics.fmean(finite):.0f} ms" if finite else "")
            say(line("webhook ack (POST round trip)", stats([sample["ack_ms"] for sample in samples])))
            polls = [sample["poll_ms"] for sample in samples if sample.get("poll_ms") is not None]
            swaps = [sample["swap_ms"] for sample in samples if sample.get("swap_ms") is not None]
            if polls:
                say(line("  of which: ack -> changed lanes received", stats(polls)))
                say(line("  of which: lanes received -> card visible", stats(swaps)))
            if live.get("swaps_ms"):
                say(line("  htmx swap + settle of #board-lanes (in page)", stats(live["swaps_ms"])))
        for error in live["errors"][:5]:
            say("   error: " + error)
        p95 = percentile(visible, 0.95)
        rows.append(("5. webhook -> card visible p95 < 2 s", f"{p95:.0f} ms",
                     verdict(p95 < GOALS["live"] and samples and not live["errors"])))
    elif args.browser_orders and 5 in args.goals:
        rows.append(("5. webhook -> card visible p95 < 2 s", "not measured", "MISS"))

    for name, usage in figures.get("cpu", {}).items():
        say(f"CPU during {name} (cores of {figures['cores']}): machine {usage['machine']:.2f}, this run "
            f"{usage['own']:.2f}, postgres {usage['postgres']:.2f}, anything else {usage['rest']:.2f}"
            + (f"  <- DISTURBED {usage['others']}" if usage["rest"] >= 0.15 else ""))
    say("")
    say("Summary")
    for goal, value, result in rows:
        say(f"  {goal:<58} {value:>20}   {result}")
    if interrupted:
        say(f"  (run interrupted: {interrupted}; goals without a line were not measured)")
    say(f"Whole run: {seconds:.0f} s.")
    say("=" * 104)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nInterrupted; gunicorn and the browser were stopped.", file=sys.stderr)
        sys.exit(130)
