"""Shared set-up for the benchmarks: a bench database with realistic volume, loaded set-based.

`prepare(...)` creates (or reuses) a database on the DATABASE_URL server, migrates it with the
project's migrations, and bulk-loads, as the owner, in a few set-based statements:

- companies across the Gulf (country, currency, time zone), each with one enabled integration
  (TALABAT / CAREEM / NASHMI) whose credentials and webhook secret are encrypted with BENCH_KEY
  exactly as the portal stores them;
- the demo menu (40 products, prices in the company's currency) and its mappings on that integration;
- delivery orders over the last year, skewed: a few big companies with ~10 % of all orders each,
  a long tail of small ones; statuses, amounts, time stamps and small order_items JSON as the
  receiver would have written them (platform_data and the webhook log history are left out).

The owner must be a superuser (or have BYPASSRLS): row-level security is forced on every tenant
table, so only such an owner can insert rows for 1,000 companies in one statement.

Later benchmarks reuse `prepare`, `bench_app`, `load_targets` and `table_counts`.
"""
import base64
import bisect
import contextlib
import hashlib
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg
from babel.numbers import get_currency_precision
from sqlalchemy.engine import make_url

BENCH_DB = "portal_bench"
# The bench's own Fernet key: derived from a fixed phrase so a reused database stays readable.
# It protects nothing but generated bench data; never use it anywhere else.
BENCH_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"portal bench data only, not a secret").digest()).decode()
BENCH_NAME = "Bench Restaurant"

# (country, currency, time zone, share %, mobile prefix, digits after the prefix)
COUNTRIES = [
    ("SA", "SAR", "Asia/Riyadh", 45, "+9665", 8),
    ("AE", "AED", "Asia/Dubai", 20, "+97150", 7),
    ("KW", "KWD", "Asia/Kuwait", 12, "+9655", 7),
    ("QA", "QAR", "Asia/Qatar", 8, "+9743", 7),
    ("BH", "BHD", "Asia/Bahrain", 8, "+97336", 6),
    ("OM", "OMR", "Asia/Muscat", 7, "+9689", 7),
]
PLATFORMS = [("TALABAT", 40), ("CAREEM", 30), ("NASHMI", 30)]
COMMISSION = {"TALABAT": Decimal("18.00"), "CAREEM": Decimal("15.00"), "NASHMI": Decimal("12.00")}


def echo(message=""):
    print(message, flush=True)


# --------------------------------------------------------------------------- figures

def percentile(values, fraction):
    """The `fraction` percentile of `values` by linear interpolation (nan when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def timed(function, iterations, warmup=5):
    """Run `function` warmup + iterations times; milliseconds of the measured runs."""
    for _ in range(warmup):
        function()
    result = []
    for _ in range(iterations):
        started = time.perf_counter()
        function()
        result.append((time.perf_counter() - started) * 1000)
    return result


def verdict(ok):
    return "PASS" if ok else "MISS"


# --------------------------------------------------------------------------- CPU accounting (/proc)

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _postgres_database(pid):
    """The database a PostgreSQL backend serves, from its process title; "" for a background process."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            title = handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
    # "postgres: 15/main: portal_app portal_bench 127.0.0.1(40000) idle" / "…: autovacuum worker portal_bench"
    words = title.split()
    for index, word in enumerate(words):
        if index and word.startswith(("127.", "[local]", "::1", "localhost")):
            return words[index - 1]
    if "autovacuum worker" in title:
        return words[-1]
    return ""


def cpu_snapshot():
    """{pid: (comm, ppid, cpu ticks, database)} of every process, and the machine's busy and total ticks."""
    processes = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        database = _postgres_database(entry) if comm == "postgres" else None
        processes[int(entry)] = (comm, int(fields[1]), int(fields[11]) + int(fields[12]), database)
    with open("/proc/stat") as handle:
        values = [int(value) for value in handle.readline().split()[1:9]]  # guest time is already in user
    idle = values[3] + values[4]
    return {"processes": processes, "busy": sum(values) - idle, "total": sum(values), "time": time.monotonic()}


# --------------------------------------------------------------------------- gunicorn

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop_with_parent():
    """In the child before exec: get SIGTERM when the bench dies, even by SIGKILL (Linux)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Gunicorn:
    """The portal under gunicorn on 127.0.0.1 in its own process group; stopped (and killed if need be) on exit."""

    def __init__(self, url, workers, worker_class="sync", threads=1, env=None):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # Open for the server's lifetime (stop() closes and removes it), so not a `with` block.
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
        command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
                   "--worker-class", worker_class, "--timeout", "60", "--graceful-timeout", "5",
                   "--log-level", "warning", "--error-logfile", "-"]
        if worker_class == "gthread":
            command += ["--threads", str(threads)]
        command.append("wsgi:app")
        self.command = command
        self.process = subprocess.Popen(command, cwd=ROOT, env=app_environment(url, **(env or {})), stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        preexec_fn=_stop_with_parent)

    @property
    def pid(self):
        return self.process.pid

    def wait_ready(self, timeout=60):
        import requests
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if requests.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.25)
        return False

    def log_tail(self, lines=30):
        try:
            return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        if self.process.poll() is None:
            try:
                os.kill(self.process.pid, signal.SIGTERM)    # the master stops its workers
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # its own group: only what it started
                self.process.wait(timeout=5)
            except ProcessLookupError:
                pass
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)


# --------------------------------------------------------------------------- URLs and databases

def server_url():
    """The owner URL of the server (DATABASE_URL); the benchmarks refuse to guess one."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("Set DATABASE_URL to the owner's URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres")
    return url


def database_url(url, name):
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def libpq(url):
    """A psycopg conninfo for a SQLAlchemy-style URL (postgresql+psycopg:// included)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def app_conninfo(url):
    """The runtime role's (portal_app) conninfo for the owner URL, as the app derives it."""
    from portal.config import app_url_from_owner
    return libpq(app_url_from_owner(url, os.environ.get("PORTAL_APP_PASSWORD")))


def database_exists(url, name):
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def create_database(url, name):
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(url, name):
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def check_owner(conninfo):
    """Refuse an owner that row-level security would stop from loading every company's rows."""
    with psycopg.connect(conninfo) as connection:
        superuser, bypass = connection.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").fetchone()
    if not (superuser or bypass):
        raise SystemExit("The DATABASE_URL user is neither a superuser nor BYPASSRLS: row-level security is forced "
                         "on every tenant table, so it cannot bulk-load or count rows across companies.")
    return "superuser" if superuser else "BYPASSRLS"


# --------------------------------------------------------------------------- the app

def bench_app(url, **overrides):
    """The portal app on the bench database, with the bench's encryption key and no rate limits."""
    from portal import create_app
    from portal.config import Config
    settings = {"DATABASE_URL": url, "APP_DATABASE_URL": None, "PORTAL_ENCRYPTION_KEYS": BENCH_KEY,
                "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, **overrides}
    app = create_app(type("BenchConfig", (Config,), settings))
    import gc
    gc.freeze()  # as wsgi.py does after start-up
    return app


def app_environment(url, **extra):
    """Environment variables that make `wsgi:app` (gunicorn) serve the bench database."""
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "PORTAL_ENCRYPTION_KEYS": BENCH_KEY, "SECRET_KEY": "bench",
                "RATELIMIT_ENABLED": "false", "WEBHOOK_RATE_LIMIT": "1000000 per second"})
    env.pop("APP_DATABASE_URL", None)
    env.update(extra)
    return env


def migrate(url):
    """Bring the bench database to the newest migration (as the owner)."""
    from flask_migrate import upgrade

    from portal.extensions import db
    app = bench_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


# --------------------------------------------------------------------------- volume

def order_counts(total, companies, big_share=0.10, big_every=200):
    """Orders per company: one big company per `big_every` with `big_share` of all orders each
    (at most half of them together), the rest spread along a long tail (Zipf-like)."""
    if companies < 1:
        raise ValueError("at least one company")
    big = max(1, companies // big_every) if companies > 1 else 1
    each_big = int(total * min(big_share, 0.5 / big)) if companies > big else total // companies
    counts = [each_big] * big
    rest = total - each_big * big
    small = companies - big
    if small:
        weights = [1 / (rank + 20) for rank in range(small)]
        scale = rest / sum(weights)
        shares = [weight * scale for weight in weights]
        floors = [int(share) for share in shares]
        # Largest remainders, so the counts add up to exactly `total`.
        for index in sorted(range(small), key=lambda i: shares[i] - floors[i], reverse=True)[:rest - sum(floors)]:
            floors[index] += 1
        counts += floors
    else:
        counts[0] += rest
    return counts


def _weighted(rng, choices):
    total = sum(weight for *_, weight in choices)
    cumulative, running = [], 0
    for *_, weight in choices:
        running += weight
        cumulative.append(running)
    return choices[bisect.bisect_right(cumulative, rng.random() * total)]


def company_plan(companies, orders, seed=1):
    """One dict per company: ids, country, currency, platform, and how many orders it gets."""
    import uuid

    from portal.simulator.orders import SAR_RATE, VAT_PERCENT
    rng = random.Random(seed)
    counts = order_counts(orders, companies)
    big = sum(1 for count in counts if count == counts[0])
    plan = []
    for index in range(companies):
        country, currency, zone, _, prefix, digits = _weighted(rng, COUNTRIES)
        platform = ["TALABAT", "CAREEM", "NASHMI"][index % 3] if index < big else _weighted(rng, PLATFORMS)[0]
        plan.append({
            "idx": index + 1, "company_id": uuid.uuid4(), "integration_id": uuid.uuid4(),
            "name": f"{BENCH_NAME} {index + 1:04d}", "country": country, "currency": currency, "tz": zone,
            "phone_prefix": prefix, "phone_digits": digits, "vat": VAT_PERCENT.get(country, 0),
            "rate": Decimal(SAR_RATE.get(currency, "1")), "prec": get_currency_precision(currency),
            "platform": platform, "commission": COMMISSION[platform], "n": counts[index],
        })
    return plan


# --------------------------------------------------------------------------- bulk load

PLAN_COLUMNS = ["idx", "company_id", "integration_id", "name", "country", "currency", "tz", "phone_prefix",
                "phone_digits", "vat", "rate", "prec", "platform", "commission", "n"]

_CREATE_PLAN = """
CREATE TEMP TABLE bench_plan (
  idx int PRIMARY KEY, company_id uuid, integration_id uuid, name text, country text, currency text, tz text,
  phone_prefix text, phone_digits int, vat int, rate numeric, prec int, platform delivery_platform,
  commission numeric, n int) ON COMMIT DROP;
CREATE TEMP TABLE bench_menu (
  idx int PRIMARY KEY, local_id text, name text, name_ar text, category text, sar_price numeric) ON COMMIT DROP;
"""

_COMPANIES = """
INSERT INTO companies (id, name, name_ar, email, phone, business_type, timezone, currency, country_code,
                       subscription_status, created_at, updated_at)
SELECT company_id, name, 'مطعم تجريبي ' || idx, 'owner' || idx || '@bench.example', phone_prefix || lpad(idx::text, phone_digits, '0'),
       'restaurant', tz, currency, country, 'active', now() - interval '400 days', now() - interval '400 days'
FROM bench_plan
"""

_PRODUCTS = """
INSERT INTO products (company_id, local_product_id, sku, name, name_ar, category, price, sort_order, created_at, updated_at)
SELECT p.company_id, m.local_id, 'SKU-' || lpad(m.idx::text, 4, '0'), m.name, m.name_ar, m.category,
       round(m.sar_price * p.rate, p.prec), m.idx, now() - interval '400 days', now() - interval '400 days'
FROM bench_plan p CROSS JOIN bench_menu m
"""

_MAPPINGS = """
INSERT INTO menu_mappings (local_product_id, platform_product_id, product_name, product_price, is_available,
                           platform, last_sync_at, sync_status, company_id, integration_config_id)
SELECT m.local_id, left(p.platform::text, 3) || '-' || m.local_id, m.name, round(m.sar_price * p.rate, p.prec), true,
       p.platform, now() - interval '1 day', 'completed', p.company_id, p.integration_id
FROM bench_plan p CROSS JOIN bench_menu m
"""

# One statement for all orders. Random values are drawn per order inside LATERAL subqueries that
# reference the outer row (so PostgreSQL evaluates them per row, not once); OFFSET 0 keeps each level
# a subquery of its own, so a value (created_at, status…) is computed once, not once per use.
_ORDERS = """
INSERT INTO delivery_orders (
  platform, platform_order_id, order_number, short_code, status, order_type, is_test,
  subtotal, discount_amount, platform_discount, vendor_discount, delivery_fee, service_fee, tax_amount, tip_amount,
  total_amount, collect_from_customer, currency, commission_rate, commission_amount, payment_method,
  customer_name, customer_phone, delivery_address, order_items, placed_at, accept_by, expected_at,
  accepted_at, rejected_at, ready_at, picked_up_at, completed_at, cancelled_at,
  company_id, integration_config_id, created_at, updated_at)
SELECT
  platform, poid, poid, (seq % 997)::text, status, CASE WHEN pickup THEN 'PICKUP' ELSE 'DELIVERY' END, false,
  subtotal, discount, CASE WHEN platform_pays THEN discount ELSE 0 END, CASE WHEN platform_pays THEN 0 ELSE discount END,
  fee, service, tax, 0,
  total, CASE WHEN cash THEN total ELSE 0 END, currency, commission, round(total * commission / 100, prec),
  CASE WHEN cash THEN 'cash' ELSE (ARRAY['card', 'card', 'wallet', 'apple_pay'])[1 + floor(r_pay * 4)::int] END,
  customer_name, phone, CASE WHEN pickup THEN NULL ELSE 'Building ' || (seq % 9000 + 1) || ', ' || city END, items,
  created_at, created_at + interval '8 minutes', created_at + interval '40 minutes',
  accepted_at, rejected_at, ready_at, picked_up_at, completed_at, cancelled_at,
  company_id, integration_id, created_at,
  coalesce(completed_at, cancelled_at, rejected_at, picked_up_at, ready_at, accepted_at, created_at)
FROM (
  SELECT t.*,
    round((subtotal - discount) * vat / 100.0, prec) AS tax,
    subtotal - discount + fee + service + round((subtotal - discount) * vat / 100.0, prec) AS total,
    CASE WHEN status NOT IN ('PENDING', 'REJECTED') AND (status <> 'CANCELLED' OR r_step < 0.5)
         THEN LEAST(created_at + (1 + r_step * 3) * interval '1 minute', now()) END AS accepted_at,
    CASE WHEN status = 'REJECTED' THEN created_at + (1 + r_step * 2) * interval '1 minute' END AS rejected_at,
    CASE WHEN status IN ('READY_FOR_PICKUP', 'OUT_FOR_DELIVERY', 'DELIVERED')
         THEN LEAST(created_at + (12 + r_step * 10) * interval '1 minute', now()) END AS ready_at,
    CASE WHEN status IN ('OUT_FOR_DELIVERY', 'DELIVERED')
         THEN LEAST(created_at + (20 + r_step * 10) * interval '1 minute', now()) END AS picked_up_at,
    CASE WHEN status = 'DELIVERED' THEN LEAST(created_at + (32 + r_step * 25) * interval '1 minute', now()) END
      AS completed_at,
    CASE WHEN status = 'CANCELLED' THEN created_at + (5 + r_step * 15) * interval '1 minute' END AS cancelled_at
  FROM (
    SELECT o.*, it.items, it.subtotal,
      CASE WHEN r_disc < 0.2 THEN round(it.subtotal * (0.10 + 0.05 * floor(r_disc * 15))::numeric, prec) ELSE 0 END AS discount,
      r_disc < 0.1 AS platform_pays,
      CASE WHEN pickup THEN 0 ELSE round((ARRAY[0, 5, 7, 9])[1 + floor(r_fee * 4)::int] * rate, prec) END AS fee,
      CASE WHEN platform = 'CAREEM' AND r_fee > 0.5 THEN round(2 * rate, prec) ELSE 0 END AS service,
      CASE
        WHEN age < interval '10 minutes' THEN (ARRAY['PENDING', 'ACCEPTED'])[1 + floor(r_status * 2)::int]
        WHEN age < interval '40 minutes' THEN (ARRAY['ACCEPTED', 'IN_PREPARATION', 'READY_FOR_PICKUP'])[1 + floor(r_status * 3)::int]
        WHEN age < interval '90 minutes' THEN (ARRAY['OUT_FOR_DELIVERY', 'DELIVERED', 'DELIVERED'])[1 + floor(r_status * 3)::int]
        WHEN r_status < 0.88 THEN 'DELIVERED'
        WHEN r_status < 0.95 THEN 'CANCELLED'
        ELSE 'REJECTED'
      END::order_status AS status
    FROM (
      SELECT s.*, now() - s.created_at AS age
      FROM (
        SELECT p.company_id, p.integration_id, p.platform, p.currency, p.rate, p.prec, p.vat, p.commission,
               p.country, x.*,
               CASE p.platform WHEN 'CAREEM' THEN x.seq::text WHEN 'TALABAT' THEN 'TB' || x.seq
                    ELSE 'NSH-B' || x.seq END AS poid,
               (ARRAY['Mohammed', 'Ahmed', 'Abdullah', 'Khalid', 'Fatimah', 'Noura', 'Sara', 'Reem', 'محمد', 'نورة',
                      'عبدالله', 'سارة', 'Rahul', 'Maria'])[1 + floor(x.r_name * 14)::int] || ' ' ||
               (ARRAY['Al-Harbi', 'Al-Qahtani', 'Al-Otaibi', 'Al-Ghamdi', 'الحربي', 'القحطاني', 'العتيبي',
                      'Menon', 'Santos', 'Al-Kuwari'])[1 + floor(x.r_last * 10)::int] AS customer_name,
               p.phone_prefix || lpad(floor(x.r_phone * 10 ^ p.phone_digits)::bigint::text, p.phone_digits, '0') AS phone,
               CASE p.country WHEN 'SA' THEN 'Riyadh' WHEN 'AE' THEN 'Dubai' WHEN 'KW' THEN 'Kuwait City'
                    WHEN 'QA' THEN 'Doha' WHEN 'BH' THEN 'Manama' ELSE 'Muscat' END AS city,
               x.r_pay < 0.25 AS cash, x.r_pickup < 0.1 AS pickup,
               -- A day of the last year (recent months about three times as busy as a year ago), at a
               -- lunch/dinner-shaped local hour.
               CASE WHEN x.local_time AT TIME ZONE p.tz > now() THEN (x.local_time - interval '1 day') AT TIME ZONE p.tz
                    ELSE x.local_time AT TIME ZONE p.tz END AS created_at
        FROM bench_plan p
        CROSS JOIN LATERAL (
          SELECT g AS seq, r.*,
                 date_trunc('day', (now() - CASE WHEN r.r_mix < 0.5 THEN r.r_age ELSE 1 - sqrt(1 - r.r_age) END
                                              * interval '365 days') AT TIME ZONE p.tz)
                   + (ARRAY[0, 1, 10, 11, 12, 12, 13, 13, 13, 14, 14, 15, 16, 17, 18, 19, 19, 20, 20, 20, 21, 21, 21,
                            22, 22, 23])[1 + floor(r.r_hour * 26)::int] * interval '1 hour'
                   + r.r_minute * interval '1 hour' AS local_time
          FROM generate_series(1, p.n) AS g
          CROSS JOIN LATERAL (
            SELECT random() + 0 * g AS r_age, random() AS r_hour, random() AS r_minute, random() AS r_status,
                   random() AS r_step, random() AS r_disc, random() AS r_fee, random() AS r_pay, random() AS r_pickup, random() AS r_mix,
                   random() AS r_name, random() AS r_last, random() AS r_phone,
                   1 + floor(random() * random() * 3)::int AS k) r
        ) x
        OFFSET 0
      ) s
      OFFSET 0
    ) o
    CROSS JOIN LATERAL (
      SELECT jsonb_agg(jsonb_build_object(
               'name', m.name, 'quantity', l.qty, 'unit_price', round(m.sar_price * o.rate, o.prec)::text,
               'line_total', (round(m.sar_price * o.rate, o.prec) * l.qty)::text, 'local_product_id', m.local_id,
               'platform_product_id', left(o.platform::text, 3) || '-' || m.local_id, 'notes', NULL,
               'modifiers', '[]'::jsonb, 'discounts', '[]'::jsonb)) AS items,
             sum(round(m.sar_price * o.rate, o.prec) * l.qty) AS subtotal
      FROM (SELECT 1 + floor(random() * 40)::int AS mi, 1 + floor(random() * random() * 3)::int AS qty
            FROM generate_series(1, o.k) AS line) l
      JOIN bench_menu m ON m.idx = l.mi
    ) it
    OFFSET 0
  ) t
  OFFSET 0
) q
"""


@dataclass
class Prepared:
    url: str
    created: bool
    loaded: bool
    load_seconds: float
    counts: dict


def prepare(companies, orders, reuse=False, name=BENCH_DB, seed=1, say=echo):
    """Create/migrate the bench database and load it unless it is reused with data in it."""
    url = server_url()
    bench_url = database_url(url, name)
    check_owner(libpq(url))
    exists = database_exists(url, name)
    created = False
    if exists and not reuse:
        say(f"Dropping the existing {name} (use --reuse to keep it) …")
        drop_database(url, name)
        exists = False
    if not exists:
        create_database(url, name)
        created = True
    started = time.perf_counter()
    migrate(bench_url)
    say(f"{'Created' if created else 'Reusing'} {name}; migrated in {time.perf_counter() - started:.1f} s.")
    counts = table_counts(libpq(bench_url))
    if counts["bench_companies"]:
        say(f"{name} already holds {counts['bench_companies']:,} bench companies and "
            f"{counts['delivery_orders']:,} orders: not loading again.")
        if counts["bench_companies"] < companies or counts["delivery_orders"] < orders:
            say(f"  (fewer than asked for: {companies:,} companies, {orders:,} orders; drop it with --drop to reload)")
        return Prepared(bench_url, created, False, 0.0, counts)
    seconds = bulk_load(bench_url, companies, orders, seed=seed, say=say)
    return Prepared(bench_url, created, True, seconds, table_counts(libpq(bench_url)))


def bulk_load(url, companies, orders, seed=1, say=echo):
    """Load companies, integrations, menus and orders as the owner; returns the seconds it took."""
    from psycopg.types.json import Jsonb

    from portal.crypto import encrypt_secret
    from portal.demo import MENU
    from portal.extensions import db
    started = time.perf_counter()
    plan = company_plan(companies, orders, seed)
    app = bench_app(url)
    with app.app_context():
        integrations = [(
            row["integration_id"], row["platform"], True,
            encrypt_secret(row["company_id"], f"bench-api-key-{row['idx']}"),
            encrypt_secret(row["company_id"], f"bench-api-secret-{row['idx']}"),
            encrypt_secret(row["company_id"], secrets.token_hex(32)),
            f"bench-merchant-{row['idx']:04d}", f"bench-store-{row['idx']:04d}", row["commission"],
            Jsonb({}), "completed", row["company_id"]) for row in plan]
        db.engine.dispose()
    say(f"Planned {companies:,} companies / {orders:,} orders (largest {plan[0]['n']:,}, smallest "
        f"{min(row['n'] for row in plan):,}); encrypted {3 * companies:,} credentials "
        f"in {time.perf_counter() - started:.1f} s.")
    with psycopg.connect(libpq(url)) as connection:
        connection.execute("SET synchronous_commit = off")
        connection.execute("SET maintenance_work_mem = '512MB'")
        connection.execute("SET work_mem = '64MB'")
        connection.execute("SET jit = off")  # compiling the big INSERT … SELECT costs more than it saves
        connection.execute("SET enable_memoize = off")  # else one order's random items repeat in the next
        connection.execute(_CREATE_PLAN)
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY bench_plan ({', '.join(PLAN_COLUMNS)}) FROM STDIN") as copy:
                for row in plan:
                    copy.write_row([row[column] for column in PLAN_COLUMNS])
            with cursor.copy("COPY bench_menu (idx, local_id, name, name_ar, category, sar_price) FROM STDIN") as copy:
                for position, (category, name, name_ar, price) in enumerate(MENU, start=1):
                    copy.write_row([position, f"P{position:03d}", name, name_ar, category, Decimal(price)])
            cursor.execute("ANALYZE bench_plan; ANALYZE bench_menu")
            step = time.perf_counter()
            cursor.execute(_COMPANIES)
            cursor.executemany(
                "INSERT INTO integration_configs (id, platform, is_enabled, api_key, api_secret, webhook_secret,"
                " merchant_id, store_id, commission_rate, configuration, sync_status, company_id)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", integrations)
            cursor.execute(_PRODUCTS)
            cursor.execute(_MAPPINGS)
            say(f"  companies, integrations, {len(MENU) * companies:,} products and mappings: "
                f"{time.perf_counter() - step:.1f} s")
            step = time.perf_counter()
            indexes = _drop_secondary_indexes(cursor, "delivery_orders")
            cursor.execute(_ORDERS)
            say(f"  {cursor.rowcount:,} delivery_orders inserted: {time.perf_counter() - step:.1f} s")
            step = time.perf_counter()
            for definition in indexes:
                cursor.execute(definition)
            say(f"  {len(indexes)} secondary indexes of delivery_orders rebuilt: {time.perf_counter() - step:.1f} s")
        connection.commit()
        step = time.perf_counter()
        connection.autocommit = True
        connection.execute("VACUUM (ANALYZE)")
        say(f"  VACUUM ANALYZE: {time.perf_counter() - step:.1f} s")
    return time.perf_counter() - started


def _drop_secondary_indexes(cursor, table):
    """Drop the indexes no constraint needs (rebuilt after the load, in the same transaction)."""
    rows = cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = %s::regclass"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", (table,)).fetchall()
    for name, _ in rows:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _, definition in rows]


def table_counts(conninfo):
    """Row counts of the tables the benchmarks look at (as the owner: every company)."""
    with psycopg.connect(conninfo) as connection:
        counts = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("companies", "integration_configs", "products", "menu_mappings", "delivery_orders",
                                "order_status_history", "webhook_logs")}
        counts["bench_companies"] = connection.execute(
            "SELECT count(*) FROM companies WHERE name LIKE %s", (BENCH_NAME + " %",)).fetchone()[0]
    return counts


def load_targets(url, with_counts=True):
    """Every enabled bench integration as a simulator Target (webhook secret decrypted with BENCH_KEY;
    `company_id` and `commission` added), and the number of orders each already has (a weight for
    picking where to send)."""
    from portal.crypto import SecretError, decrypt_secret
    from portal.demo import MENU
    from portal.extensions import db
    from portal.simulator.model import MenuItem, Target
    with psycopg.connect(libpq(url)) as connection:
        rows = connection.execute(
            "SELECT i.id, i.company_id, i.platform::text, i.webhook_secret, i.store_id, i.merchant_id,"
            " c.currency, c.country_code, c.name, i.commission_rate FROM integration_configs i JOIN companies c ON c.id = i.company_id"
            " WHERE i.is_enabled AND c.name LIKE %s ORDER BY c.name", (BENCH_NAME + " %",)).fetchall()
        weights = {}
        if with_counts:
            weights = dict(connection.execute(
                "SELECT integration_config_id, count(*) FROM delivery_orders GROUP BY 1").fetchall())
    app = bench_app(url)
    targets, counts = [], []
    with app.app_context():
        for integration_id, company_id, platform, sealed, store_id, merchant_id, currency, country, name, rate_ in rows:
            try:
                secret = decrypt_secret(company_id, sealed)
            except SecretError as error:
                raise SystemExit(f"Cannot read the webhook secret of {name} with the bench key ({error}); "
                                 "recreate the bench database (run without --reuse).") from None
            rate = Decimal(_sar_rate(currency))
            q = Decimal(1).scaleb(-get_currency_precision(currency))
            menu = [MenuItem(local_product_id=f"P{position:03d}", name=item_name, name_ar=name_ar, category=category,
                             price=(Decimal(price) * rate).quantize(q),
                             platform_product_id=f"{platform[:3]}-P{position:03d}")
                    for position, (category, item_name, name_ar, price) in enumerate(MENU, start=1)]
            target = Target(platform=platform, integration_id=str(integration_id), secret=secret, menu=menu,
                            store_id=store_id, merchant_id=merchant_id, currency=currency,
                            country_code=country, company_name=name)
            target.company_id, target.commission = str(company_id), rate_   # for benchmarks writing rows directly
            targets.append(target)
            counts.append(weights.get(integration_id, 0))
        db.engine.dispose()
    return targets, counts


def _sar_rate(currency):
    from portal.simulator.orders import SAR_RATE
    return SAR_RATE.get(currency, "1")
