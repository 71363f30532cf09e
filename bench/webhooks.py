"""Webhook receiver benchmark: ack latency at a sustained rate, saturation throughput, bare-insert ceiling.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/webhooks.py \
        [--orders 1000000 --companies 1000 --rate 50 --duration 30 --workers 4 --reuse]

1. Prepares `portal_bench` on the DATABASE_URL server (bench/_common.py): created and migrated, then
   bulk-loaded set-based as the owner (or kept with --reuse).
2. Serves the portal with gunicorn on 127.0.0.1 and a free port (a separate process group, stopped
   on exit and on Ctrl+C).
3. A separate driver process sends signed new-order webhooks (the simulator's payloads and each
   adapter's `sign`) to the bench integrations, weighted by their order volume: first open loop at
   --rate for --duration seconds (a fixed schedule; latency is measured from the scheduled time, so
   it includes any queueing in the sender), then closed loop with --concurrency senders for
   --saturation-seconds to find the throughput.
4. Checks that every 2xx ack has exactly one order and that no order was created without one.
5. Measures the ceiling with gunicorn stopped: (a) the same order + webhook_logs rows inserted by
   bare psycopg as portal_app, tenant set with set_config, one webhook per transaction, from as many
   connections as gunicorn has workers; (b) the same rows in executemany batches as the owner.
6. Prints a summary with PASS/MISS for the issue's goals (p95 < 100 ms at 50 req/s; throughput
   >= 25 % of ceiling (a)). A miss never makes the exit status non-zero: this is a benchmark.

--drop removes the bench database and exits. Only 127.0.0.1 is ever contacted.
"""
import argparse
import enum
import contextlib
import itertools
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
from _common import CLK_TCK, Gunicorn, cpu_snapshot, percentile, verdict
import psycopg

ROOT = common.ROOT
HTTP_TIMEOUT = (3, 30)
MAX_REQUESTS = 200_000          # open loop: rate × duration never exceeds this
WARMUP_REQUESTS = 40


# =========================================================================== payloads

def make_webhook(factory, target, tag, seq):
    """A new-order webhook for `target` from the simulator, with an order id unique to this run.

    Returns (path, raw body, platform order id). The simulator draws ids at random (a generic order
    id has 6 digits); the bench needs every order to be new, so it replaces the id with tag + sequence.
    """
    from portal.simulator.orders import CAREEM, DELIVERY_HERO
    order = factory.order(target)
    body = order.webhook.body
    if target.platform in DELIVERY_HERO:
        order_id = body["code"] = f"b{tag}-{seq}"
    elif target.platform in CAREEM:
        body["details"]["id"] = tag * 1_000_000 + seq
        order_id = str(body["details"]["id"])
    else:
        order_id = body["order"]["id"] = f"{body['order']['id'].split('-')[0]}-{tag}-{seq}"
    return order.webhook.path, order.webhook.raw(), order_id


# =========================================================================== CPU accounting (/proc)


def cpu_usage(before, after, gunicorn_pid, driver_pid, database):
    """Cores used between two snapshots by gunicorn (master + workers), PostgreSQL (the bench database's
    backends and the server's background processes), the driver, and everything else."""
    seconds = after["time"] - before["time"]
    groups = {"gunicorn": 0, "postgres": 0, "driver": 0}
    others = {}
    for pid, (comm, ppid, ticks, db_name) in after["processes"].items():
        spent = ticks - before["processes"].get(pid, (comm, ppid, 0, None))[2]
        if pid == gunicorn_pid or ppid == gunicorn_pid:
            groups["gunicorn"] += spent
        elif comm == "postgres" and db_name in ("", database):
            groups["postgres"] += spent
        elif pid == driver_pid:
            groups["driver"] += spent
        elif spent:
            name = f"postgres ({db_name})" if comm == "postgres" else comm
            others[name] = others.get(name, 0) + spent
    usage = {name: ticks / CLK_TCK / seconds for name, ticks in groups.items()}
    usage["top_others"] = [(name, round(ticks / CLK_TCK / seconds, 2))
                           for name, ticks in sorted(others.items(), key=lambda item: -item[1])[:3]]
    total_ticks = after["total"] - before["total"]
    cores = os.cpu_count() or 1
    usage["machine"] = (after["busy"] - before["busy"]) / total_ticks * cores if total_ticks else 0.0
    usage["other"] = max(0.0, usage["machine"] - usage["gunicorn"] - usage["postgres"] - usage["driver"])
    usage["cores"] = cores
    return usage


# =========================================================================== the driver (separate process)

def drive(config, results):
    """Runs in its own process: warm-up, open loop, saturation; puts one dict on `results`."""
    import random

    import requests

    from portal.simulator.orders import OrderFactory
    from portal.simulator.sender import Sender

    targets, weights = config["targets"], config["weights"]
    rng = random.Random(config["seed"])
    factory = OrderFactory(rng=rng)
    sender = Sender(config["base_url"])
    tag = config["tag"]
    sequence = itertools.count(1)
    cumulative = list(itertools.accumulate(max(weight, 1) for weight in weights))

    def prepared(count):
        jobs = []
        for _ in range(count):
            target = rng.choices(targets, cum_weights=cumulative)[0]
            path, raw, order_id = make_webhook(factory, target, tag, next(sequence))
            url = f"{sender.portal_url}/webhooks/{target.platform.lower()}/{target.integration_id}"
            jobs.append((target, url + ("/" + path if path else ""), raw, order_id))
        return jobs

    started = time.perf_counter()
    open_jobs = prepared(config["open_requests"])
    saturation_jobs = prepared(config["saturation_pool"])
    warmup_jobs = prepared(WARMUP_REQUESTS)
    generation_seconds = time.perf_counter() - started

    local = threading.local()

    def send(job):
        target, url, raw, order_id = job
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        headers = {"Content-Type": "application/json"}
        headers.update(sender.headers(target, None, raw))   # signed now: timestamps stay fresh
        try:
            response = session.post(url, data=raw, headers=headers, timeout=HTTP_TIMEOUT)
            return response.status_code, None
        except requests.RequestException as error:
            return None, f"{type(error).__name__}: {error}"[:200]

    def record(job, status, error, due, start, end, base):
        target, _, _, order_id = job
        return (due - base, start - base, end - base, status, error, target.integration_id, order_id)

    def run_threads(count, work):
        threads = [threading.Thread(target=work, daemon=True) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    phases = {}

    # Warm-up: every worker imports, connects and fills its caches; not measured, but counted below.
    records = []
    warm = iter(warmup_jobs)
    lock = threading.Lock()

    def warm_work():
        while True:
            with lock:
                job = next(warm, None)
            if job is None:
                return
            start = time.monotonic()
            status, error = send(job)
            records.append(record(job, status, error, start, start, time.monotonic(), start))
    run_threads(4, warm_work)
    phases["warmup"] = {"records": list(records)}

    def measured(name, threads, work, meta):
        records.clear()
        before = cpu_snapshot()
        wall_start = time.time()
        work_start = time.monotonic()
        run_threads(threads, work)
        elapsed = time.monotonic() - work_start
        after = cpu_snapshot()
        phases[name] = {"records": list(records), "elapsed": elapsed, "wall_start": wall_start,
                        "wall_end": time.time(),
                        "cpu": cpu_usage(before, after, config["gunicorn_pid"], os.getpid(), config["database"]),
                        **meta}

    # Open loop: request i is due at base + i / rate, whatever happened to the ones before it.
    rate = config["rate"]
    base = time.monotonic() + 0.2
    counter = itertools.count()

    def open_work():
        while True:
            index = next(counter)
            if index >= len(open_jobs):
                return
            due = base + index / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            job = open_jobs[index]
            start = time.monotonic()
            status, error = send(job)
            records.append(record(job, status, error, due, start, time.monotonic(), base))
    measured("open", config["senders"], open_work, {"base": base})

    time.sleep(config["pause"])

    # Saturation: closed loop, each sender sends its next webhook as soon as the last one is answered.
    counter = itertools.count()
    base = time.monotonic()
    deadline = base + config["saturation_seconds"]

    def saturate_work():
        while time.monotonic() < deadline:
            index = next(counter)
            if index >= len(saturation_jobs):
                return
            job = saturation_jobs[index]
            start = time.monotonic()
            status, error = send(job)
            records.append(record(job, status, error, start, start, time.monotonic(), base))
    measured("saturation", config["concurrency"], saturate_work,
             {"base": base, "window": config["saturation_seconds"],
              "pool_exhausted": next(counter) > len(saturation_jobs)})

    results.put({"phases": phases, "generation_seconds": generation_seconds,
                 "driver_cpu_seconds": sum(os.times()[:2])})


# =========================================================================== gunicorn


# =========================================================================== the ceiling

def ceiling_rows(url, targets, count, tag, seed):
    """The delivery_orders and webhook_logs values the receiver writes for `count` simulator orders
    (computed by the receiver's own order_row, which reads catalog names, hence the app context)."""
    import random
    from types import SimpleNamespace

    from portal.extensions import db
    from portal.models import DeliveryPlatform
    from portal.platforms import adapter_for
    from portal.platforms.base import ParseContext
    from portal.simulator.orders import OrderFactory
    from portal.simulator.sender import Sender
    from portal.tenancy import use_company
    from portal.webhooks.services import order_row, redact_headers
    rng = random.Random(seed)
    factory = OrderFactory(rng=rng)
    sender = Sender("http://127.0.0.1")
    rows = []
    app = common.bench_app(url)
    context = app.app_context()
    context.push()
    for index in range(count):
        target = targets[index % len(targets)]
        path, raw, _ = make_webhook(factory, target, tag, index)
        adapter = adapter_for(target.platform)
        headers = redact_headers({"Content-Type": "application/json", **sender.headers(target, None, raw)})
        payload = json.loads(raw)
        event = adapter.parse_webhook(payload, ParseContext(currency=target.currency,
                                                             country_code=target.country_code, path=path))
        company_id = uuid.UUID(target.company_id)
        integration = SimpleNamespace(company_id=company_id, id=uuid.UUID(target.integration_id),
                                      platform=DeliveryPlatform(target.platform), commission_rate=target.commission)
        use_company(company_id)
        order = order_row(event.order, integration, SimpleNamespace(currency=target.currency), payload)
        db.session.rollback()
        order = {key: value.value if isinstance(value, enum.Enum) else value for key, value in order.items()}
        log = {"platform": target.platform, "event_type": "bench.ceiling", "payload": payload, "headers": headers,
               "ip_address": "127.0.0.1", "request_path": path or None, "integration_config_id": integration.id,
               "company_id": company_id, "signature": None, "outcome": "PROCESSED", "status_code": 200,
               "is_processed": True, "event_id": event.event_id, "latency_ms": 1,
               "response": adapter.ack_body(event, None)}
        rows.append((order, log))
    db.session.remove()
    db.engine.dispose()
    context.pop()
    return rows


JSON_COLUMNS = {"order_items", "platform_data", "payload", "headers", "response"}


def _values(row):
    from psycopg.types.json import Jsonb
    return [Jsonb(value) if key in JSON_COLUMNS and value is not None else value for key, value in row.items()]


def _insert_sql(table, columns, extra=""):
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}){extra}")


def ceiling_worker(conninfo, rows, seconds, tag, worker, ready, go, results):
    """(a): one webhook per transaction as portal_app, tenant set like the receiver does it."""
    order_columns = list(rows[0][0])
    log_columns = list(rows[0][1]) + ["order_id"]
    order_sql = _insert_sql("delivery_orders", order_columns,
                            " ON CONFLICT ON CONSTRAINT uk_platform_order DO NOTHING RETURNING id")
    log_sql = (f"INSERT INTO webhook_logs ({', '.join(log_columns)}, processed_at) "
               f"VALUES ({', '.join(['%s'] * len(log_columns))}, now())")
    done = 0
    with psycopg.connect(conninfo) as connection:
        connection.execute("SELECT 1")
        ready.wait()
        go.wait()
        deadline = time.monotonic() + seconds
        for index in itertools.count():
            if time.monotonic() >= deadline:
                break
            order, log = rows[index % len(rows)]
            order = dict(order, platform_order_id=f"CEIL-{tag}-{worker}-{index}")
            with connection.transaction():
                connection.execute("SELECT set_config('app.current_company_id', %s, true),"
                                   " set_config('app.user_id', '', true)", (str(order["company_id"]),))
                order_id = connection.execute(order_sql, _values(order)).fetchone()[0]
                connection.execute(log_sql, _values(log) + [order_id])
            done += 1
    results.put(done)


def ceiling_per_transaction(url, rows, connections, seconds, tag):
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(connections + 1)
    go = context.Event()
    results = context.Queue()
    conninfo = common.app_conninfo(url)
    workers = [context.Process(target=ceiling_worker, args=(conninfo, rows, seconds, tag, index, ready, go, results),
                               daemon=True) for index in range(connections)]
    for process in workers:
        process.start()
    try:
        ready.wait(timeout=60)
        started = time.monotonic()
        go.set()
        done = sum(results.get(timeout=seconds + 60) for _ in workers)
        elapsed = max(seconds, time.monotonic() - started - 0.0)
    finally:
        for process in workers:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
    return done / seconds, done, elapsed


def ceiling_batched(url, rows, seconds, tag, batch=1000, max_rows=2_000_000):
    """(b): the same rows in executemany batches (one transaction per batch) as the owner."""
    order_columns = ["id"] + list(rows[0][0])
    log_columns = list(rows[0][1]) + ["order_id"]
    order_sql = _insert_sql("delivery_orders", order_columns)
    log_sql = (f"INSERT INTO webhook_logs ({', '.join(log_columns)}, processed_at) "
               f"VALUES ({', '.join(['%s'] * len(log_columns))}, now())")
    done = 0
    with psycopg.connect(common.libpq(url)) as connection:
        started = time.monotonic()
        deadline = started + seconds
        index = 0
        while time.monotonic() < deadline and done < max_rows:
            orders, logs = [], []
            for _ in range(batch):
                order, log = rows[index % len(rows)]
                order_id = uuid.uuid4()
                orders.append([order_id] + _values(dict(order, platform_order_id=f"CEIL-{tag}-b-{index}")))
                logs.append(_values(log) + [order_id])
                index += 1
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(order_sql, orders)
                cursor.executemany(log_sql, logs)
            done += batch
        elapsed = time.monotonic() - started
    return done / elapsed, done, elapsed


def remove_ceiling_rows(url, tag):
    with psycopg.connect(common.libpq(url), autocommit=True) as connection:
        logs = connection.execute("DELETE FROM webhook_logs WHERE event_type = 'bench.ceiling'").rowcount
        orders = connection.execute("DELETE FROM delivery_orders WHERE platform_order_id LIKE %s",
                                    (f"CEIL-{tag}-%",)).rowcount
        started = time.perf_counter()
        connection.execute("VACUUM (ANALYZE) delivery_orders, webhook_logs")
    return orders, logs, time.perf_counter() - started


# =========================================================================== checks and figures


def latency_line(milliseconds):
    return (f"p50 {percentile(milliseconds, 0.50):7.1f} ms   p95 {percentile(milliseconds, 0.95):7.1f} ms   "
            f"p99 {percentile(milliseconds, 0.99):7.1f} ms   max {max(milliseconds, default=float('nan')):7.1f} ms")


def run_order_pattern(tag):
    """A regular expression matching exactly the platform order ids `make_webhook` gives this run."""
    return rf"^(b{tag}-[0-9]+|{tag}[0-9]{{6}}|[A-Z]+-{tag}-[0-9]+)$"


def check_orders(url, phases, since, tag):
    """Every 2xx ack has its order, once; no order of this run was created without a 2xx ack.

    Only this run's orders are counted (their ids carry the run tag), so another benchmark writing to
    the same database at the same time does not count as an order without an ack.
    """
    acked = [(record[5], record[6]) for phase in phases.values() for record in phase["records"]
             if record[3] is not None and 200 <= record[3] < 300]
    others = [(record[5], record[6]) for phase in phases.values() for record in phase["records"]
              if not (record[3] is not None and 200 <= record[3] < 300)]
    pattern = run_order_pattern(tag)
    with psycopg.connect(common.libpq(url)) as connection:
        def found(pairs):
            if not pairs:
                return 0
            return connection.execute(
                "SELECT count(*) FROM delivery_orders d JOIN unnest(%s::uuid[], %s::text[]) AS s(integration, poid)"
                " ON d.integration_config_id = s.integration AND d.platform_order_id = s.poid",
                ([pair[0] for pair in pairs], [pair[1] for pair in pairs])).fetchone()[0]
        created = connection.execute("SELECT count(*) FROM delivery_orders WHERE created_at >= %s"
                                     " AND platform_order_id ~ %s", (since, pattern)).fetchone()[0]
        outcomes = dict(connection.execute(
            "SELECT w.outcome, count(*) FROM webhook_logs w JOIN delivery_orders d ON d.id = w.order_id"
            " WHERE w.created_at >= %s AND d.platform_order_id ~ %s GROUP BY 1 ORDER BY 2 DESC",
            (since, pattern)).fetchall())
        history = connection.execute(
            "SELECT count(*) FROM order_status_history h JOIN delivery_orders d ON d.id = h.order_id"
            " WHERE h.created_at >= %s AND d.platform_order_id ~ %s", (since, pattern)).fetchone()[0]
        foreign = connection.execute("SELECT count(*) FROM delivery_orders WHERE created_at >= %s"
                                     " AND platform_order_id !~ %s", (since, pattern)).fetchone()[0]
        return {"acked": len(acked), "distinct_acked": len(set(acked)), "found": found(acked),
                "found_for_errors": found(others), "created": created, "outcomes": outcomes, "history": history,
                "foreign": foreign}


def server_latency(url, start, end):
    """The receiver's own latency_ms (webhook_logs) for webhooks stored between two wall-clock times."""
    with psycopg.connect(common.libpq(url)) as connection:
        row = connection.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),"
            " percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms), count(*) FROM webhook_logs"
            " WHERE created_at BETWEEN to_timestamp(%s) AND to_timestamp(%s) AND event_type <> 'bench.ceiling'",
            (start, end)).fetchone()
    return row


def cpu_line(cpu):
    line = (f"CPU (cores of {cpu['cores']}): gunicorn {cpu['gunicorn']:.2f}, postgres {cpu['postgres']:.2f}, "
            f"driver {cpu['driver']:.2f}, anything else {cpu['other']:.2f}; machine {cpu['machine']:.2f}")
    if cpu["other"] > 0.15:
        names = ", ".join(f"{name} {cores:.2f}" for name, cores in cpu["top_others"])
        line += f"\n  WARNING: other processes used the machine during this phase ({names}); its figures are disturbed"
    return line



# =========================================================================== main

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders to bulk-load (default 1,000,000)")
    parser.add_argument("--companies", type=int, default=1000, help="companies to bulk-load (default 1,000)")
    parser.add_argument("--rate", type=float, default=50.0, help="open-loop webhooks per second (default 50)")
    parser.add_argument("--duration", type=float, default=30.0, help="open-loop seconds (default 30)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"],
                        help="gunicorn worker class (default sync, as `gunicorn -w N` runs)")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker with --worker-class gthread")
    parser.add_argument("--senders", type=int, default=16, help="open-loop sender threads (default 16)")
    parser.add_argument("--concurrency", type=int, default=0,
                        help="saturation: concurrent senders (default 2 × workers)")
    parser.add_argument("--saturation-seconds", type=float, default=15.0, help="saturation phase (default 15 s)")
    parser.add_argument("--ceiling-seconds", type=float, default=10.0, help="each ceiling measurement (default 10 s)")
    parser.add_argument("--reuse", action="store_true", help="keep an existing bench database (load only if empty)")
    parser.add_argument("--drop", action="store_true", help="drop the bench database and exit")
    parser.add_argument("--database", default=common.BENCH_DB, help=f"bench database name (default {common.BENCH_DB})")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data and the payloads")
    parser.add_argument("--json", dest="json_path",
                        help="also write the figures (and the open loop's per-request timings) to this JSON file")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0 or args.workers < 1 or args.companies < 1 or args.orders < 0:
        parser.error("rate, duration, workers and companies must be positive")
    if args.rate * args.duration > MAX_REQUESTS:
        parser.error(f"rate × duration is capped at {MAX_REQUESTS:,} requests")
    if args.saturation_seconds > 300 or args.ceiling_seconds > 300 or args.duration > 1800:
        parser.error("phases are bounded: saturation and ceiling ≤ 300 s, duration ≤ 1800 s")
    args.concurrency = args.concurrency or 2 * args.workers
    return args


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    args = parse_args(argv)
    say = common.echo
    if args.drop:
        common.drop_database(common.server_url(), args.database)
        say(f"Dropped {args.database}.")
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)   # also when started in the background
    run_started = time.perf_counter()
    say(f"== Webhook receiver benchmark — {os.cpu_count()} cores ==")
    prepared = common.prepare(args.companies, args.orders, reuse=args.reuse, name=args.database, seed=args.seed,
                              say=say)
    url = prepared.url
    counts = prepared.counts
    if prepared.loaded:
        say(f"Loaded in {prepared.load_seconds:.1f} s.")
    say("Rows: " + ", ".join(f"{name} {count:,}" for name, count in counts.items() if name != "bench_companies"))

    targets, weights = common.load_targets(url)
    if not targets:
        raise SystemExit("The bench database has no bench integrations: run without --reuse to reload it.")
    with psycopg.connect(common.libpq(url)) as connection:
        since = connection.execute("SELECT now()").fetchone()[0]
    tag = int(time.time())

    figures = {"cores": os.cpu_count(), "companies": counts["bench_companies"], "orders_loaded": counts["delivery_orders"],
               "load_seconds": prepared.load_seconds, "workers": args.workers, "worker_class": args.worker_class}
    context = multiprocessing.get_context("spawn")
    server = driver = None
    outcome = None
    try:
        server = Gunicorn(url, args.workers, args.worker_class, args.threads)
        say(f"Starting gunicorn: {args.workers} {args.worker_class} workers on {server.base_url} …")
        if not server.wait_ready():
            say(server.log_tail())
            raise SystemExit("gunicorn did not answer /healthz within 60 s.")
        results = context.Queue()
        open_requests = int(round(args.rate * args.duration))
        config = {"targets": targets, "weights": weights, "base_url": server.base_url, "rate": args.rate,
                  "open_requests": open_requests, "senders": args.senders, "concurrency": args.concurrency,
                  "saturation_seconds": args.saturation_seconds,
                  # Enough for 1,000 acks/s; if the pool runs out the phase ends early and says so.
                  "saturation_pool": int(min(40_000, max(2_000, 1_000 * args.saturation_seconds))),
                  "pause": 2.0, "seed": args.seed + tag, "tag": tag, "gunicorn_pid": server.pid,
                  "database": args.database}
        say(f"Driving: warm-up {WARMUP_REQUESTS}, open loop {args.rate:g}/s × {args.duration:g} s "
            f"({open_requests:,} webhooks, {args.senders} sender threads), then saturation with "
            f"{args.concurrency} senders × {args.saturation_seconds:g} s; {len(targets):,} integrations.")
        driver = context.Process(target=drive, args=(config, results), daemon=True)
        driver.start()
        outcome = results.get(timeout=120 + args.duration + args.saturation_seconds + open_requests / 200)
        driver.join(timeout=30)
    finally:
        if driver is not None and driver.is_alive():
            driver.terminate()
            driver.join(timeout=5)
        if server is not None:
            errors = server.log_tail(200)
            server.stop()
            if "Traceback" in errors or "Error" in errors:
                say("gunicorn's log (last lines):\n" + server.log_tail(20))
            with contextlib.suppress(OSError):
                os.unlink(server.log.name)

    phases = outcome["phases"]
    say(f"Payloads generated in {outcome['generation_seconds']:.1f} s (before the clock started).")

    # ---------------------------------------------------------------- open loop
    open_phase = phases["open"]
    open_records = open_phase["records"]
    ok = [record for record in open_records if record[3] is not None and 200 <= record[3] < 300]
    open_errors = len(open_records) - len(ok)
    latency = [(record[2] - record[0]) * 1000 for record in open_records]
    service = [(record[2] - record[1]) * 1000 for record in open_records]
    lateness = [(record[1] - record[0]) * 1000 for record in open_records]
    span = max(record[2] for record in open_records) - min(record[1] for record in open_records)
    achieved = len(ok) / span if span > 0 else float("nan")
    server_open = server_latency(url, open_phase["wall_start"], open_phase["wall_end"])

    # ---------------------------------------------------------------- saturation
    saturation = phases["saturation"]
    window = saturation["window"]
    in_window = [record for record in saturation["records"]
                 if record[3] is not None and 200 <= record[3] < 300 and record[2] <= window]
    saturation_errors = sum(1 for record in saturation["records"] if not (record[3] and 200 <= record[3] < 300))
    throughput = len(in_window) / window
    saturation_latency = [(record[2] - record[1]) * 1000 for record in saturation["records"]]
    server_saturation = server_latency(url, saturation["wall_start"], saturation["wall_end"])
    statuses = {}
    for phase in phases.values():
        for record in phase["records"]:
            key = record[3] if record[3] is not None else (record[4] or "error").split(":")[0]
            statuses[key] = statuses.get(key, 0) + 1

    # ---------------------------------------------------------------- integrity
    integrity = check_orders(url, phases, since, tag)
    integrity_ok = (integrity["found"] == integrity["acked"] == integrity["distinct_acked"]
                    and integrity["created"] == integrity["found"] + integrity["found_for_errors"]
                    and integrity["found_for_errors"] == 0)

    # ---------------------------------------------------------------- ceiling (gunicorn is stopped)
    say(f"Ceiling: the receiver's rows by bare psycopg, {args.ceiling_seconds:g} s each …")
    rows = ceiling_rows(url, targets, 400, tag, args.seed)
    rate_a, done_a, _ = ceiling_per_transaction(url, rows, args.workers, args.ceiling_seconds, tag)
    rate_b, done_b, elapsed_b = ceiling_batched(url, rows, args.ceiling_seconds, tag)
    removed_orders, removed_logs, vacuum_seconds = remove_ceiling_rows(url, tag)

    # ---------------------------------------------------------------- summary
    share_a = throughput / rate_a if rate_a else float("nan")
    share_b = throughput / rate_b if rate_b else float("nan")
    p95 = percentile(latency, 0.95)
    say("")
    say("=" * 100)
    say(f"Webhook receiver — {args.database}: {counts['bench_companies']:,} companies, "
        f"{counts['delivery_orders']:,} orders before the run; gunicorn {args.workers} {args.worker_class} workers; "
        f"{os.cpu_count()} cores")
    if prepared.loaded:
        say(f"Bulk load: {prepared.load_seconds:.1f} s")
    say(f"Sustained, open loop: {args.rate:g} req/s scheduled for {args.duration:g} s "
        f"({len(open_records):,} webhooks, {args.senders} sender threads)")
    say(f"  achieved rate     {achieved:7.1f} acks/s")
    say(f"  ack latency       {latency_line(latency)}   (from the scheduled send time)")
    say(f"  of which service  {latency_line(service)}   (from the actual send)")
    say(f"  sender lateness   p99 {percentile(lateness, 0.99):.1f} ms   max {max(lateness):.1f} ms")
    say(f"  receiver's own    p50 {server_open[0] or 0:.0f} ms   p95 {server_open[1] or 0:.0f} ms   "
        f"(webhook_logs.latency_ms, {server_open[2]:,} rows)")
    say(f"  errors (non-2xx)  {open_errors}")
    say(f"  {cpu_line(open_phase['cpu'])}")
    say(f"Saturation, closed loop: {args.concurrency} senders for {window:g} s"
        + ("  (payload pool ran out: the figure is a lower bound)" if saturation["pool_exhausted"] else ""))
    say(f"  throughput        {throughput:7.1f} acks/s ({len(in_window):,} 2xx in the window; "
        f"{saturation_errors} errors)")
    say(f"  latency           {latency_line(saturation_latency)}")
    say(f"  receiver's own    p50 {server_saturation[0] or 0:.0f} ms   p95 {server_saturation[1] or 0:.0f} ms")
    say(f"  {cpu_line(saturation['cpu'])}")
    say("Ceiling, bare psycopg, the same delivery_orders columns + the webhook_logs row:")
    say(f"  (a) portal_app, tenant via set_config, 1 webhook per transaction, {args.workers} connections: "
        f"{rate_a:8.1f} rows/s  ({done_a:,} in {args.ceiling_seconds:g} s)")
    say(f"  (b) owner, executemany batches of 1000, 1 connection:                    "
        f"{rate_b:8.1f} rows/s  ({done_b:,} in {elapsed_b:.1f} s)")
    say(f"  ({removed_orders:,} ceiling orders and {removed_logs:,} log rows removed again; VACUUM {vacuum_seconds:.1f} s)")
    say("Integrity: " + (
        f"{integrity['acked']:,} 2xx acks → {integrity['found']:,} orders found (one each); "
        f"{integrity['created']:,} orders of this run created; "
        f"{integrity['found_for_errors']} orders for non-2xx answers; "
        f"{integrity['history']:,} status-history rows; webhook_logs outcomes {integrity['outcomes']}"))
    say(f"  → {'OK: no lost or duplicated orders' if integrity_ok else 'MISMATCH: see the counts above'}")
    if integrity["foreign"]:
        say(f"  WARNING: {integrity['foreign']:,} other orders were written to {args.database} during the run "
            "(another benchmark on the same database?): the figures are disturbed")
    say(f"HTTP statuses over all phases: {statuses}")
    say("Goals (from the issue):")
    say(f"  p95 ack latency < 100 ms at {args.rate:g} req/s:   {p95:7.1f} ms                              "
        f"{verdict(p95 < 100 and args.rate >= 50)}"
        + ("" if args.rate >= 50 else "  (rate below the goal's 50 req/s)"))
    say(f"  throughput ≥ 25 % of ceiling (a):            {throughput:.1f} / {rate_a:.1f} = {share_a:6.1%}          "
        f"{verdict(share_a >= 0.25)}")
    say(f"  (for reference, against ceiling (b):          {throughput:.1f} / {rate_b:.1f} = {share_b:6.1%})")
    say(f"  no lost or duplicated orders:                {verdict(integrity_ok)}")
    say(f"Whole run: {time.perf_counter() - run_started:.0f} s. The database {args.database} stays "
        f"(--reuse to run again on it, --drop to remove it).")
    say("=" * 100)

    figures.update({
        "open": {"rate": args.rate, "duration": args.duration, "sent": len(open_records), "achieved": achieved,
                 "p50_ms": percentile(latency, 0.5), "p95_ms": p95, "p99_ms": percentile(latency, 0.99),
                 "errors": open_errors, "cpu": open_phase["cpu"],
                 "records": [[round(value, 4) if isinstance(value, float) else value for value in record[:5]]
                             for record in open_records],
                 "server_p50_ms": server_open[0], "server_p95_ms": server_open[1]},
        "saturation": {"concurrency": args.concurrency, "seconds": window, "acks_per_s": throughput,
                       "p50_ms": percentile(saturation_latency, 0.5), "p95_ms": percentile(saturation_latency, 0.95),
                       "errors": saturation_errors, "cpu": saturation["cpu"]},
        "ceiling": {"a_rows_per_s": rate_a, "b_rows_per_s": rate_b, "share_a": share_a, "share_b": share_b},
        "integrity": integrity, "integrity_ok": integrity_ok,
    })
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nInterrupted; gunicorn and the driver were stopped.", file=sys.stderr)
        sys.exit(130)
