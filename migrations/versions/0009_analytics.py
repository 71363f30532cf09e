"""Analytics: the daily rollup kept current by the worker.

Three rollup tables hold, per company, local day (in the company's time zone) and platform, what the
reports read: `analytics_daily` (counts, money, the accept/ready durations and the orders of each
hour), `analytics_daily_items` (items and modifiers sold) and `analytics_daily_customers` (who
ordered, by a hash of the phone). They are filled by the same set-returning SQL functions the
reports use for live days (`analytics_daily_live` & co.), so a rolled-up day and a live day are the
same computation.

A statement-level trigger on delivery_orders marks the (company, local day) of every changed order
dirty in `analytics_dirty_days`, in the writer's own transaction and under its RLS (the rows it
writes carry the order's own company). The worker's periodic job re-aggregates only dirty days
before the company's today (`analytics_refresh_company`); today, and any day still dirty, is read
live from the orders, so a report never shows a stale number.

Also fixed here, from the seed's views (README "Data model"): v_order_analytics counted cancelled
and rejected orders as revenue; v_integration_health counted test orders and showed 0 ms when no
response time was measured.

Revision ID: 0009_analytics
Revises: 0008_loyalty
Create Date: 2026-12-01
"""
from alembic import op

revision = "0009_analytics"
down_revision = "0008_loyalty"
branch_labels = None
depends_on = None

# Helpers for what autogenerate cannot see (RLS, grants, triggers), copied here as they were when
# this migration was written: a migration never imports live code, so it stays what it was.
APP_ROLE = "portal_app"
SUPER_ROLE = "portal_super"
TENANT_PREDICATE = "nullif(current_setting('app.current_company_id', true), '')::uuid"


def enable_tenant_rls(table, column="company_id", privileges="SELECT, INSERT, UPDATE, DELETE"):
    """Enable and force RLS on a tenant table, with the tenant and the super-admin policies."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"""
        CREATE POLICY tenant_isolation ON {table} FOR ALL TO PUBLIC
        USING ({column} = {TENANT_PREDICATE})
        WITH CHECK ({column} = {TENANT_PREDICATE})""")
    op.execute(f"""
        CREATE POLICY super_admin_access ON {table} FOR ALL TO {SUPER_ROLE}
        USING (true) WITH CHECK (true)""")
    op.execute(f"GRANT {privileges} ON {table} TO {APP_ROLE}, {SUPER_ROLE}")


def create_view(name, select_sql, grant=True):
    """Create a security_invoker view (RLS of the caller applies) and let the app read it."""
    op.execute(f"CREATE VIEW {name} WITH (security_invoker = true) AS {select_sql}")
    if grant:
        op.execute(f"GRANT SELECT ON {name} TO {APP_ROLE}, {SUPER_ROLE}")


ROLLUP_ROLE = "portal_rollup"
TOTAL = "NUMERIC(16, 3)"
DAILY_COLUMNS = """
  orders             INTEGER NOT NULL,
  sold_orders        INTEGER NOT NULL,
  accepted_orders    INTEGER NOT NULL,
  rejected_orders    INTEGER NOT NULL,
  cancelled_orders   INTEGER NOT NULL,
  delivered_orders   INTEGER NOT NULL,
  gross_sales        {t} NOT NULL,
  revenue            {t} NOT NULL,
  platform_discount  {t} NOT NULL,
  vendor_discount    {t} NOT NULL,
  third_party_discount {t} NOT NULL,
  other_discount     {t} NOT NULL,
  delivery_fees      {t} NOT NULL,
  service_fees       {t} NOT NULL,
  tax                {t} NOT NULL,
  tips               {t} NOT NULL,
  commission         {t} NOT NULL,
  accept_seconds     INTEGER[] NOT NULL,
  ready_seconds      INTEGER[] NOT NULL,
  hourly_orders      INTEGER[] NOT NULL,
  mismatched_orders  INTEGER NOT NULL""".format(t=TOTAL)

# What an order's items add up to (lines, with unit price x quantity where a line has no total; the
# modifiers' prices, nested ones included), as a LATERAL of the order `o`. One text, used by the rollup
# and by the reconciliation page, so both apply the same rule.
ITEM_SUMS = """
  LEFT JOIN LATERAL (
    SELECT count(*) AS n, count(*) FILTER (WHERE l.line IS NULL) AS unreadable,
           coalesce(sum(l.line), 0) AS lines_total, coalesce(sum(l.modifiers), 0) AS modifiers_total
    FROM (
      SELECT coalesce(analytics_number(i -> 'line_total'),
                      analytics_number(i -> 'unit_price') * coalesce(analytics_number(i -> 'quantity'), 1)) AS line,
             (SELECT coalesce(sum(analytics_number(p)), 0)
              FROM jsonb_path_query(i -> 'modifiers',
                                    'strict $.** ? (@.type() == "object" && exists(@.price)).price') AS p) AS modifiers
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(o.order_items) = 'array' THEN o.order_items ELSE '[]' END) AS i
    ) l
  ) sums ON true
"""
MISMATCH_OF_O = """analytics_mismatch(o.subtotal, o.discount_amount, o.delivery_fee, o.service_fee, o.tax_amount,
                     o.tip_amount, o.total_amount, sums.n, sums.unreadable, sums.lines_total, sums.modifiers_total,
                     analytics_currency_places({currency}))"""

# One order's local day/hour, money and durations; every figure below is built on it.
ORDER_FACTS = """
  SELECT o.company_id, d.day, o.platform, o.status, o.customer_phone, o.order_items,
         o.status NOT IN ('CANCELLED', 'REJECTED') AS sold,
         extract(hour FROM o.created_at AT TIME ZONE v_zone)::int AS hour,
         o.subtotal, o.total_amount, o.platform_discount, o.vendor_discount, o.third_party_discount,
         greatest(o.discount_amount - o.platform_discount - o.vendor_discount - o.third_party_discount, 0)
           AS other_discount,
         o.delivery_fee, o.service_fee, o.tax_amount, o.tip_amount,
         coalesce(o.commission_amount,
                  round(o.total_amount * coalesce(o.commission_rate, ic.commission_rate, 0) / 100,
                        v_places)) AS commission,
         o.accepted_at IS NOT NULL AS accepted,
         CASE WHEN o.accepted_at IS NOT NULL
              THEN greatest(0, round(extract(epoch FROM o.accepted_at - o.created_at)))::int END AS accept_s,
         CASE WHEN o.ready_at IS NOT NULL
              THEN greatest(0, round(extract(epoch FROM o.ready_at - o.created_at)))::int END AS ready_s,
         {mismatched} AS mismatched
  FROM unnest(p_days, v_since, v_until) AS d(day, since, until)
  -- One index range scan per day, whatever the planner guesses about a range join (OFFSET 0).
  CROSS JOIN LATERAL (
    SELECT x.company_id, x.integration_config_id, x.platform, x.status, x.customer_phone, x.order_items,
           x.created_at, x.subtotal, x.total_amount, x.discount_amount, x.platform_discount, x.vendor_discount,
           x.third_party_discount, x.delivery_fee, x.service_fee, x.tax_amount, x.tip_amount, x.commission_rate,
           x.commission_amount, x.accepted_at, x.ready_at
    FROM delivery_orders x
    WHERE x.company_id = p_company AND x.created_at >= d.since AND x.created_at < d.until AND NOT x.is_test
    OFFSET 0) o
  LEFT JOIN integration_configs ic ON ic.company_id = o.company_id AND ic.id = o.integration_config_id
  {sums}
"""
DAILY_FACTS = ORDER_FACTS.format(mismatched=MISMATCH_OF_O.format(currency="v_currency") + " IS NOT NULL",
                                 sums=ITEM_SUMS)
PLAIN_FACTS = ORDER_FACTS.format(mismatched="NULL::boolean", sums="")

# The live functions are PL/pgSQL so that each day's bounds are computed first and reach the query
# as parameters: under row-level security only leakproof comparisons of plain values can be index
# conditions, and `day AT TIME ZONE zone` is not leakproof (an inline expression made every live
# query read all of the company's orders). Their plans are generic (planned once per connection:
# planning these aggregations cost more than running them for a few days) and never JIT-compiled.
LIVE_PRELUDE = """
DECLARE
  v_zone text; v_currency text; v_places integer; v_since timestamptz[]; v_until timestamptz[];
BEGIN
  SELECT c.timezone, c.currency, analytics_currency_places(c.currency),
         array(SELECT u.day::timestamp AT TIME ZONE c.timezone FROM unnest(p_days) WITH ORDINALITY u(day, n) ORDER BY n),
         array(SELECT (u.day + 1)::timestamp AT TIME ZONE c.timezone FROM unnest(p_days) WITH ORDINALITY u(day, n)
               ORDER BY n)
    INTO v_zone, v_currency, v_places, v_since, v_until
    FROM companies c WHERE c.id = p_company;
  IF v_zone IS NULL THEN
    RETURN;  -- not this tenant's company
  END IF;
  RETURN QUERY
"""
LIVE_END = """;
END;
"""

HOURLY = "ARRAY[" + ", ".join(f"count(*) FILTER (WHERE f.hour = {hour})::int" for hour in range(24)) + "]"

FUNCTIONS = f"""
CREATE FUNCTION analytics_currency_places(currency text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN currency IN ('KWD', 'BHD', 'OMR', 'JOD', 'TND', 'LYD', 'IQD') THEN 3 ELSE 2 END
$$;

-- A number from an order's JSON (platforms send strings like "12.50"); NULL for anything else.
CREATE FUNCTION analytics_number(value jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN jsonb_typeof(value) = 'number' THEN (value #>> '{{}}')::numeric
              WHEN jsonb_typeof(value) = 'string' AND (value #>> '{{}}') ~ '^\\s*-?[0-9]+(\\.[0-9]+)?\\s*$'
              THEN btrim(value #>> '{{}}')::numeric END
$$;

-- Why an order's platform-reported totals disagree with what its items add up to, or NULL.
-- Items: the lines' totals, with or without the modifiers' prices (Delivery Hero prices toppings
-- outside the line, the others inside). Total: subtotal - discounts + delivery and service fees + tip,
-- with or without tax (VAT-inclusive prices). Up to one minor unit of the currency is rounding.
-- One expression (PostgreSQL inlines it); the sums come from ITEM_SUMS.
CREATE FUNCTION analytics_mismatch(subtotal numeric, discount numeric, delivery_fee numeric, service_fee numeric,
                                   tax numeric, tip numeric, total numeric, lines bigint, unreadable bigint,
                                   lines_total numeric, modifiers_total numeric, places integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN lines = 0 OR unreadable > 0 THEN 'ITEMS_UNREADABLE'
    WHEN abs(lines_total - subtotal) > power(10::numeric, -places)
     AND abs(lines_total + modifiers_total - subtotal) > power(10::numeric, -places) THEN 'ITEMS'
    WHEN abs(subtotal - discount + delivery_fee + service_fee + tip + tax - total) > power(10::numeric, -places)
     AND abs(subtotal - discount + delivery_fee + service_fee + tip - total) > power(10::numeric, -places) THEN 'TOTAL'
  END
$$;

-- The same for one order's values and items (for one-off checks; the reports use the LATERAL form).
CREATE FUNCTION analytics_order_mismatch(subtotal numeric, discount numeric, delivery_fee numeric,
                                         service_fee numeric, tax numeric, tip numeric, total numeric,
                                         items jsonb, places integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT {MISMATCH_OF_O.format(currency="o.currency").replace("analytics_currency_places(o.currency)", "places")}
  FROM (SELECT subtotal, discount AS discount_amount, delivery_fee, service_fee, tax AS tax_amount, tip AS tip_amount,
               total AS total_amount, items AS order_items) o
  {ITEM_SUMS}
$$;

CREATE FUNCTION analytics_customer_key(phone text) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT md5(phone)::uuid $$;

-- The rollup rows of `p_days` computed from the orders (live): the reports' only aggregation.
CREATE FUNCTION analytics_daily_live(p_company uuid, p_days date[])
RETURNS SETOF analytics_daily LANGUAGE plpgsql STABLE SET jit = off SET plan_cache_mode = force_generic_plan AS $$
{LIVE_PRELUDE}
  SELECT f.company_id, f.day, f.platform,
         count(*)::int, count(*) FILTER (WHERE f.sold)::int, count(*) FILTER (WHERE f.accepted)::int,
         count(*) FILTER (WHERE f.status = 'REJECTED')::int, count(*) FILTER (WHERE f.status = 'CANCELLED')::int,
         count(*) FILTER (WHERE f.status = 'DELIVERED')::int,
         coalesce(sum(f.subtotal) FILTER (WHERE f.sold), 0)::numeric(16, 3), coalesce(sum(f.total_amount) FILTER (WHERE f.sold), 0)::numeric(16, 3),
         coalesce(sum(f.platform_discount) FILTER (WHERE f.sold), 0)::numeric(16, 3),
         coalesce(sum(f.vendor_discount) FILTER (WHERE f.sold), 0)::numeric(16, 3),
         coalesce(sum(f.third_party_discount) FILTER (WHERE f.sold), 0)::numeric(16, 3),
         coalesce(sum(f.other_discount) FILTER (WHERE f.sold), 0)::numeric(16, 3),
         coalesce(sum(f.delivery_fee) FILTER (WHERE f.sold), 0)::numeric(16, 3), coalesce(sum(f.service_fee) FILTER (WHERE f.sold), 0)::numeric(16, 3),
         coalesce(sum(f.tax_amount) FILTER (WHERE f.sold), 0)::numeric(16, 3), coalesce(sum(f.tip_amount) FILTER (WHERE f.sold), 0)::numeric(16, 3),
         coalesce(sum(f.commission) FILTER (WHERE f.sold), 0)::numeric(16, 3),
         coalesce(array_agg(f.accept_s ORDER BY f.accept_s) FILTER (WHERE f.accept_s IS NOT NULL), '{{}}'),
         coalesce(array_agg(f.ready_s ORDER BY f.ready_s) FILTER (WHERE f.ready_s IS NOT NULL), '{{}}'),
         {HOURLY},
         count(*) FILTER (WHERE f.mismatched)::int,
         now()
  FROM ({DAILY_FACTS}) f
  GROUP BY f.company_id, f.day, f.platform
{LIVE_END}
$$;

-- Items (kind ITEM: quantity, line totals) and their top-level modifiers (kind MODIFIER: quantity
-- times the item's quantity) of the sold orders of `p_days`.
CREATE FUNCTION analytics_items_live(p_company uuid, p_days date[])
RETURNS SETOF analytics_daily_items LANGUAGE plpgsql STABLE SET jit = off SET plan_cache_mode = force_generic_plan AS $$
{LIVE_PRELUDE}
  WITH lines AS (
    SELECT f.company_id, f.day, f.platform, i AS item,
           greatest(coalesce(analytics_number(i -> 'quantity'), 1), 0) AS quantity
    FROM ({PLAIN_FACTS}) f
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(f.order_items) = 'array'
                                                 THEN f.order_items ELSE '[]' END) AS i
    WHERE f.sold
  )
  SELECT company_id, day, platform, 'ITEM'::varchar(10), left(coalesce(nullif(btrim(item ->> 'name'), ''), '?'), 300)::varchar(300),
         left(max(item ->> 'name_ar'), 300)::varchar(300), sum(quantity)::int,
         coalesce(sum(coalesce(analytics_number(item -> 'line_total'),
                               analytics_number(item -> 'unit_price') * quantity)), 0)::numeric(16, 3)
  FROM lines GROUP BY 1, 2, 3, 5
  UNION ALL
  SELECT company_id, day, platform, 'MODIFIER'::varchar(10), left(coalesce(nullif(btrim(m ->> 'name'), ''), '?'), 300)::varchar(300),
         left(max(m ->> 'name_ar'), 300)::varchar(300),
         sum(greatest(coalesce(analytics_number(m -> 'quantity'), 1), 0) * quantity)::int,
         coalesce(sum(analytics_number(m -> 'price') * quantity), 0)::numeric(16, 3)
  FROM lines
  CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(item -> 'modifiers') = 'array'
                                               THEN item -> 'modifiers' ELSE '[]' END) AS m
  GROUP BY 1, 2, 3, 5
{LIVE_END}
$$;

-- Who ordered (sold orders with a phone), per day and platform.
CREATE FUNCTION analytics_customers_live(p_company uuid, p_days date[])
RETURNS SETOF analytics_daily_customers LANGUAGE plpgsql STABLE SET jit = off SET plan_cache_mode = force_generic_plan AS $$
{LIVE_PRELUDE}
  SELECT f.company_id, f.day, f.platform, analytics_customer_key(f.customer_phone), count(*)::int
  FROM ({PLAIN_FACTS}) f
  WHERE f.sold AND f.customer_phone IS NOT NULL AND f.customer_phone <> ''
  GROUP BY 1, 2, 3, 4
{LIVE_END}
$$;

-- Re-aggregate up to `p_limit` dirty days of the company before its local today; returns how many.
-- Days another transaction is marking right now are skipped (SKIP LOCKED) and stay dirty: its order
-- is not visible here yet, and its mark survives, so the next run takes the day again.
-- No JIT: the aggregations' row estimates (100 per jsonb_array_elements) would make PostgreSQL
-- JIT-compile them, ~0.7 s per statement for a few ms of work.
CREATE FUNCTION analytics_refresh_company(p_company uuid, p_limit integer DEFAULT 400) RETURNS integer
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
  days date[];
BEGIN
  SELECT array_agg(day) INTO days FROM (
    SELECT dd.day FROM analytics_dirty_days dd JOIN companies c ON c.id = dd.company_id
    WHERE dd.company_id = p_company AND dd.day < (now() AT TIME ZONE c.timezone)::date
    ORDER BY dd.day LIMIT p_limit
    FOR UPDATE OF dd SKIP LOCKED) s;
  IF days IS NULL THEN
    RETURN 0;
  END IF;
  DELETE FROM analytics_daily WHERE company_id = p_company AND day = ANY (days);
  DELETE FROM analytics_daily_items WHERE company_id = p_company AND day = ANY (days);
  DELETE FROM analytics_daily_customers WHERE company_id = p_company AND day = ANY (days);
  INSERT INTO analytics_daily SELECT * FROM analytics_daily_live(p_company, days);
  INSERT INTO analytics_daily_items SELECT * FROM analytics_items_live(p_company, days);
  INSERT INTO analytics_daily_customers SELECT * FROM analytics_customers_live(p_company, days);
  DELETE FROM analytics_dirty_days WHERE company_id = p_company AND day = ANY (days);
  RETURN cardinality(days);
END;
$$;

-- Mark the local days of changed orders dirty (statement level: one upsert per statement, however
-- many rows). Runs with the writer's rights and RLS; each mark carries its order's own company.
-- DO UPDATE (not DO NOTHING) takes the mark's row lock, so a refresh running meanwhile either
-- waits for this transaction or skips the day: a change is never lost between the two.
CREATE FUNCTION analytics_mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO analytics_dirty_days (company_id, day)
    SELECT DISTINCT n.company_id, (n.created_at AT TIME ZONE c.timezone)::date
    FROM new_rows n JOIN companies c ON c.id = n.company_id
    WHERE NOT n.is_test
    ORDER BY 1, 2
    ON CONFLICT (company_id, day) DO UPDATE SET marked_at = excluded.marked_at;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO analytics_dirty_days (company_id, day)
    SELECT DISTINCT o.company_id, (o.created_at AT TIME ZONE c.timezone)::date
    FROM old_rows o JOIN companies c ON c.id = o.company_id
    WHERE NOT o.is_test
    ORDER BY 1, 2
    ON CONFLICT (company_id, day) DO UPDATE SET marked_at = excluded.marked_at;
  ELSE
    INSERT INTO analytics_dirty_days (company_id, day)
    SELECT DISTINCT x.company_id, (x.created_at AT TIME ZONE c.timezone)::date
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.company_id, o.created_at, o.is_test), (n.company_id, n.created_at, n.is_test))
      AS x (company_id, created_at, is_test)
    JOIN companies c ON c.id = x.company_id
    WHERE NOT x.is_test
      AND (o.status, o.created_at, o.platform, o.is_test, o.subtotal, o.discount_amount, o.platform_discount,
           o.vendor_discount, o.third_party_discount, o.delivery_fee, o.service_fee, o.tax_amount, o.tip_amount,
           o.total_amount, o.commission_rate, o.commission_amount, o.accepted_at, o.ready_at, o.customer_phone,
           o.order_items, o.integration_config_id)
          IS DISTINCT FROM
          (n.status, n.created_at, n.platform, n.is_test, n.subtotal, n.discount_amount, n.platform_discount,
           n.vendor_discount, n.third_party_discount, n.delivery_fee, n.service_fee, n.tax_amount, n.tip_amount,
           n.total_amount, n.commission_rate, n.commission_amount, n.accepted_at, n.ready_at, n.customer_phone,
           n.order_items, n.integration_config_id)
    ORDER BY 1, 2
    ON CONFLICT (company_id, day) DO UPDATE SET marked_at = excluded.marked_at;
  END IF;
  RETURN NULL;
END;
$$;
"""

ORDER_ANALYTICS_0001 = """
    SELECT o.company_id,
           o.platform,
           (date_trunc('day', o.created_at AT TIME ZONE c.timezone))::date AS order_date,
           count(*) AS order_count,
           sum(o.total_amount) AS total_revenue,
           avg(o.total_amount) AS avg_order_value,
           count(*) FILTER (WHERE o.status = 'DELIVERED') AS delivered_count
    FROM delivery_orders o
    JOIN companies c ON c.id = o.company_id
    WHERE NOT o.is_test
    GROUP BY o.company_id, o.platform, (date_trunc('day', o.created_at AT TIME ZONE c.timezone))::date
"""
# Revenue and the average order are of sold orders (not cancelled or rejected), as in every report.
ORDER_ANALYTICS = """
    SELECT o.company_id,
           o.platform,
           (o.created_at AT TIME ZONE c.timezone)::date AS order_date,
           count(*) AS order_count,
           coalesce(sum(o.total_amount) FILTER (WHERE o.status NOT IN ('CANCELLED', 'REJECTED')), 0) AS total_revenue,
           avg(o.total_amount) FILTER (WHERE o.status NOT IN ('CANCELLED', 'REJECTED')) AS avg_order_value,
           count(*) FILTER (WHERE o.status = 'DELIVERED') AS delivered_count
    FROM delivery_orders o
    JOIN companies c ON c.id = o.company_id
    WHERE NOT o.is_test
    GROUP BY o.company_id, o.platform, (o.created_at AT TIME ZONE c.timezone)::date
"""
INTEGRATION_HEALTH_0001 = """
    SELECT ic.company_id,
           ic.id AS integration_config_id,
           ic.platform,
           ic.is_enabled,
           ic.last_sync_at,
           ic.sync_status,
           coalesce(ord.total_orders, 0) AS total_orders,
           coalesce(ord.delivered_orders, 0) AS delivered_orders,
           ord.last_order_at,
           coalesce(api.avg_response_time, 0) AS avg_response_time
    FROM integration_configs ic
    LEFT JOIN LATERAL (
        SELECT count(*) AS total_orders,
               count(*) FILTER (WHERE o.status = 'DELIVERED') AS delivered_orders,
               max(o.created_at) AS last_order_at
        FROM delivery_orders o
        WHERE o.company_id = ic.company_id AND o.integration_config_id = ic.id
    ) ord ON true
    LEFT JOIN LATERAL (
        SELECT avg(ia.metric_value) AS avg_response_time
        FROM integration_analytics ia
        WHERE ia.company_id = ic.company_id AND ia.platform = ic.platform
          AND ia.metric_name = 'api_response_time'
          AND ia.recorded_at >= now() - INTERVAL '24 hours'
    ) api ON true
"""
# Test orders are not orders; no measured response time is NULL ("not measured"), not 0 ms.
INTEGRATION_HEALTH = (INTEGRATION_HEALTH_0001
                      .replace("coalesce(api.avg_response_time, 0) AS avg_response_time",
                               "api.avg_response_time")
                      .replace("WHERE o.company_id = ic.company_id AND o.integration_config_id = ic.id",
                               "WHERE o.company_id = ic.company_id AND o.integration_config_id = ic.id"
                               " AND NOT o.is_test"))


def upgrade():
    op.execute(f"""
    CREATE TABLE analytics_daily (
      company_id UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      day        DATE NOT NULL,
      platform   delivery_platform NOT NULL,
      {DAILY_COLUMNS},
      refreshed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      PRIMARY KEY (company_id, day, platform)
    );
    CREATE TABLE analytics_daily_items (
      company_id UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      day        DATE NOT NULL,
      platform   delivery_platform NOT NULL,
      kind       VARCHAR(10) NOT NULL CHECK (kind IN ('ITEM', 'MODIFIER')),
      name       VARCHAR(300) NOT NULL,
      name_ar    VARCHAR(300),
      quantity   INTEGER NOT NULL,
      sales      {TOTAL} NOT NULL,
      PRIMARY KEY (company_id, day, platform, kind, name)
    );
    CREATE TABLE analytics_daily_customers (
      company_id   UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      day          DATE NOT NULL,
      platform     delivery_platform NOT NULL,
      customer_key UUID NOT NULL,
      orders       INTEGER NOT NULL,
      PRIMARY KEY (company_id, day, platform, customer_key)
    );
    -- "Has this customer ordered before the period?" is one probe of this index.
    CREATE INDEX idx_analytics_customers_key ON analytics_daily_customers (company_id, customer_key, day);
    CREATE TABLE analytics_dirty_days (
      company_id UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
      day        DATE NOT NULL,
      marked_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (company_id, day)
    );
    -- Health and the webhook figures read the company's logs by time.
    CREATE INDEX IF NOT EXISTS idx_analytics_company_metric_time
      ON integration_analytics (company_id, metric_name, recorded_at);
    """)
    for table in ("analytics_daily", "analytics_daily_items", "analytics_daily_customers", "analytics_dirty_days"):
        enable_tenant_rls(table)
    op.execute(FUNCTIONS)
    op.execute("""
    CREATE TRIGGER analytics_dirty_on_insert AFTER INSERT ON delivery_orders
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_dirty();
    CREATE TRIGGER analytics_dirty_on_update AFTER UPDATE ON delivery_orders
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_dirty();
    CREATE TRIGGER analytics_dirty_on_delete AFTER DELETE ON delivery_orders
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_dirty();
    """)
    # The periodic job's one cross-company read: which companies have days to roll up (ids only).
    op.execute(f"""
    DO $$
    BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLLUP_ROLE}') THEN
        CREATE ROLE {ROLLUP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
      END IF;
    END $$;
    GRANT {ROLLUP_ROLE} TO {APP_ROLE};
    GRANT USAGE ON SCHEMA public TO {ROLLUP_ROLE};
    GRANT SELECT (company_id, day) ON analytics_dirty_days TO {ROLLUP_ROLE};
    CREATE POLICY rollup_pending ON analytics_dirty_days FOR SELECT TO {ROLLUP_ROLE} USING (true);
    GRANT SELECT (id, timezone) ON companies TO {ROLLUP_ROLE};
    CREATE POLICY rollup_timezones ON companies FOR SELECT TO {ROLLUP_ROLE} USING (true);
    """)
    for view, definition in (("v_order_analytics", ORDER_ANALYTICS), ("v_integration_health", INTEGRATION_HEALTH)):
        op.execute(f"DROP VIEW {view}")
        create_view(view, definition)


def downgrade():
    for view, definition in (("v_order_analytics", ORDER_ANALYTICS_0001),
                             ("v_integration_health", INTEGRATION_HEALTH_0001)):
        op.execute(f"DROP VIEW IF EXISTS {view}")
        create_view(view, definition)
    op.execute("""
    DROP TRIGGER IF EXISTS analytics_dirty_on_insert ON delivery_orders;
    DROP TRIGGER IF EXISTS analytics_dirty_on_update ON delivery_orders;
    DROP TRIGGER IF EXISTS analytics_dirty_on_delete ON delivery_orders;
    DROP FUNCTION IF EXISTS analytics_mark_dirty();
    DROP FUNCTION IF EXISTS analytics_refresh_company(uuid, integer);
    DROP FUNCTION IF EXISTS analytics_customers_live(uuid, date[]);
    DROP FUNCTION IF EXISTS analytics_items_live(uuid, date[]);
    DROP FUNCTION IF EXISTS analytics_daily_live(uuid, date[]);
    DROP FUNCTION IF EXISTS analytics_customer_key(text);
    DROP FUNCTION IF EXISTS analytics_order_mismatch(numeric, numeric, numeric, numeric, numeric, numeric, numeric,
                                                     jsonb, integer);
    DROP FUNCTION IF EXISTS analytics_mismatch(numeric, numeric, numeric, numeric, numeric, numeric, numeric, bigint,
                                               bigint, numeric, numeric, integer);
    DROP FUNCTION IF EXISTS analytics_number(jsonb);
    DROP FUNCTION IF EXISTS analytics_currency_places(text);
    DROP INDEX IF EXISTS idx_analytics_company_metric_time;
    DROP TABLE IF EXISTS analytics_dirty_days;
    DROP TABLE IF EXISTS analytics_daily_customers;
    DROP TABLE IF EXISTS analytics_daily_items;
    DROP TABLE IF EXISTS analytics_daily;
    """)
    op.execute(f"""
    DROP POLICY IF EXISTS rollup_timezones ON companies;
    REVOKE ALL ON companies FROM {ROLLUP_ROLE};
    REVOKE USAGE ON SCHEMA public FROM {ROLLUP_ROLE};
    """)
