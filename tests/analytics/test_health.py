"""Integration health: webhooks and latency, calls to the platforms, errors by type, silence, sync failures."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import psycopg
import pytest

from portal.analytics.forms import ReportRange
from portal.analytics.services import expected_orders, health_report
from portal.extensions import db
from portal.models import (AggregationType, Company, IntegrationAnalytics, IntegrationConfig, MenuMapping, PlatformCall,
                           Product, WebhookLog)
from portal.tenancy import tenant
from tests.analytics.helpers import add_order, utc

NOW = datetime(2025, 3, 7, 18, 0, tzinfo=timezone.utc)  # 21:00 in Riyadh
WEEK = ReportRange(date(2025, 3, 1), date(2025, 3, 7), date(2025, 3, 7))


@pytest.fixture
def connected(app, make_company, make_integration, owner_conninfo):
    """Talabat and Careem connected; webhooks, calls and metrics of the week; a busy hourly history for Talabat."""
    company = make_company("Health Kitchen")
    talabat = make_integration(company, "TALABAT")
    careem = make_integration(company, "CAREEM")
    with app.app_context(), tenant(company.id):
        logs = []
        for n, (outcome, latency) in enumerate([("PROCESSED", 10), ("PROCESSED", 20), ("PROCESSED", 30),
                                                ("DUPLICATE", 40), ("FAILED", 200), ("INVALID", 5),
                                                ("UNAUTHORIZED", 3)]):
            logs.append(WebhookLog(company_id=company.id, integration_config_id=talabat, platform="TALABAT",
                                   event_type="order", payload={"n": n}, outcome=outcome, latency_ms=latency,
                                   error_message=f"bad {n}" if outcome not in ("PROCESSED", "DUPLICATE") else None,
                                   created_at=utc("2025-03-03 10:00") + timedelta(minutes=n)))
        logs.append(WebhookLog(company_id=company.id, integration_config_id=careem, platform="CAREEM",
                               event_type="order", payload={}, outcome="PROCESSED", latency_ms=15,
                               created_at=utc("2025-03-04 10:00")))
        logs.append(WebhookLog(company_id=company.id, integration_config_id=careem, platform="CAREEM",
                               event_type="order", payload={}, outcome="FAILED", latency_ms=900,
                               created_at=utc("2025-02-20 10:00")))  # before the week
        db.session.add_all(logs)
        for value in (100, 200, 300, 400, 500):
            db.session.add(IntegrationAnalytics(company_id=company.id, platform="CAREEM", metric_name="api_response_time",
                                                metric_value=Decimal(value), metric_unit="ms",
                                                aggregation_type=AggregationType.AVG, period_start=utc("2025-03-05 10:00"),
                                                period_end=utc("2025-03-05 10:00"), recorded_at=utc("2025-03-05 10:00")))
        for status in ("DEAD", "DEAD", "FAILED", "SUCCEEDED"):
            db.session.add(PlatformCall(company_id=company.id, integration_config_id=careem, action="ACCEPT",
                                        method="POST", url="http://127.0.0.1/x", status=status,
                                        error="timeout" if status != "SUCCEEDED" else None,
                                        created_at=utc("2025-03-06 10:00")))
        db.session.add(Product(company_id=company.id, local_product_id="P1", name="Tea", price=Decimal("1")))
        db.session.flush()
        db.session.add(MenuMapping(company_id=company.id, integration_config_id=careem, platform="CAREEM",
                                   local_product_id="P1", platform_product_id="X1", product_name="Tea",
                                   product_price=Decimal("1"), sync_status="failed"))
        careem_row = db.session.get(IntegrationConfig, careem)
        careem_row.last_error_at, careem_row.last_error = utc("2025-03-06 10:00"), "Careem answered 503"
        db.session.commit()
    # Talabat's last order 2 hours before NOW, Careem's 10 minutes before; a test order later is ignored.
    add_order(app, company.id, talabat, NOW - timedelta(hours=2), subtotal="10.00")
    add_order(app, company.id, careem, NOW - timedelta(minutes=10), subtotal="10.00")
    add_order(app, company.id, talabat, NOW - timedelta(minutes=1), subtotal="10.00", is_test=True)
    # Four weeks of history, as the rollup holds it: Talabat 2 orders in every hour, Careem none at night.
    with psycopg.connect(owner_conninfo) as connection:
        for days_ago in range(1, 29):
            day = date(2025, 3, 7) - timedelta(days=days_ago)
            for platform, hourly in (("TALABAT", [2] * 24), ("CAREEM", [0] * 24)):
                connection.execute(
                    "INSERT INTO analytics_daily VALUES (%s, %s, %s, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,"
                    " '{}', '{}', %s, 0, now())", (company.id, day, platform, hourly))
    return company, talabat, careem


def report(app, company_id, report_range=WEEK, now=NOW):
    with app.test_request_context(), tenant(company_id):
        health = health_report(db.session.get(Company, company_id), report_range, now=now)
        db.session.rollback()
        return health


def test_webhook_success_failure_and_latency_per_platform(app, connected):
    company, _, _ = connected
    health = report(app, company.id)
    rows = {row[0]: row[1:] for row in health.tables["webhooks"].rows}
    # Talabat: 4 succeeded (PROCESSED ×3, DUPLICATE), 3 failed; latencies 3 5 10 20 30 40 200.
    assert rows["TALABAT"] == [4, 3, 0, Decimal(400) / 7, 20, 152]  # p95: 40 + 0.7 × 160
    assert rows["CAREEM"] == [1, 0, 0, Decimal(100), 15, 15]  # February's failure is outside the week
    api = {row[0]: row[1:] for row in health.tables["api_times"].rows}
    assert api == {"CAREEM": [5, 300, 480]}


def test_errors_by_type_and_sync_failures(app, connected):
    company, _, _ = connected
    health = report(app, company.id)
    errors = {(row[0], row[1]): row[2] for row in health.tables["errors"].rows}
    assert errors == {("TALABAT", "Webhook: Failed, will retry"): 1, ("TALABAT", "Webhook: Invalid"): 1,
                      ("TALABAT", "Webhook: Unauthorized"): 1, ("CAREEM", "Call accept: gave up"): 2,
                      ("CAREEM", "Call accept: failed, will retry"): 1}
    failing = {row["platform"]: row for row in health.sync_failures}
    assert set(failing) == {"CAREEM"} and failing["CAREEM"]["failed_mappings"] == 1


def test_a_normally_busy_platform_that_goes_quiet_raises_an_alert(app, connected):
    company, talabat, _ = connected
    quiet = {s.platform: s for s in report(app, company.id).silences}
    assert quiet["TALABAT"].minutes == 120 and quiet["TALABAT"].expected == Decimal("4.0") and quiet["TALABAT"].alert
    assert quiet["CAREEM"].minutes == 10 and not quiet["CAREEM"].alert
    # Paused on purpose: quiet, but no alarm.
    with app.app_context(), tenant(company.id):
        db.session.get(IntegrationConfig, talabat).paused_until = NOW + timedelta(hours=1)
        db.session.commit()
    assert not {s.platform: s for s in report(app, company.id).silences}["TALABAT"].alert


def test_silence_alert_on_the_health_page(client, auth, connected, owner_conninfo):
    company, _, _ = connected
    today = datetime.now(timezone.utc).date()
    with psycopg.connect(owner_conninfo) as connection:  # Talabat busy in the four weeks before the real today
        for days_ago in range(1, 29):
            connection.execute(
                "INSERT INTO analytics_daily VALUES (%s, %s, 'TALABAT', 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0,"
                " 0, '{}', '{}', %s, 0, now())", (company.id, today - timedelta(days=days_ago), [2] * 24))
    auth.login(company.email("MANAGER"))
    page = client.get("/reports/health").get_data(as_text=True)  # the last orders were long ago, in 2025
    assert 'class="flash flash-error silence-alert"' in page and 'data-platform="TALABAT"' in page
    assert "Careem answered 503" in page and "1 menu item failed to sync." in page
    assert "Unusually quiet" in page


def test_integration_health_view_leaves_out_test_orders(app, connected):
    company, talabat, _ = connected
    with app.app_context(), tenant(company.id):
        from sqlalchemy import text
        rows = dict(db.session.execute(text(
            "SELECT platform::text, total_orders FROM v_integration_health ORDER BY 1")).all())
        last = db.session.scalar(text("SELECT last_order_at FROM v_integration_health WHERE platform = 'TALABAT'"))
        no_calls = db.session.scalar(text("SELECT avg_response_time FROM v_integration_health WHERE platform = 'TALABAT'"))
        db.session.rollback()
    assert rows == {"CAREEM": 1, "TALABAT": 1}
    assert last == NOW - timedelta(hours=2)
    assert no_calls is None  # not measured, rather than 0 ms


def test_expected_orders_over_a_silent_window():
    hourly = [0] * 24
    hourly[12], hourly[13] = 28, 56  # 1 and 2 orders an hour on average over 28 days
    since = datetime(2025, 3, 7, 9, 30, tzinfo=timezone.utc)  # 12:30 in Riyadh
    now = datetime(2025, 3, 7, 11, 0, tzinfo=timezone.utc)    # 14:00
    assert expected_orders(hourly, 28, since, now, "Asia/Riyadh") == Decimal("0.5") + Decimal(2)
    assert expected_orders(hourly, 0, since, now, "Asia/Riyadh") == 0
