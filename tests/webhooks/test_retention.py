"""Webhook-log retention: finished logs past WEBHOOK_LOG_RETENTION_DAYS go, across companies; unprocessed
(RECEIVED), waiting-for-retry (FAILED) and recent logs stay."""
import uuid

import psycopg

from portal.tasks import prune_webhook_logs_task


def add_log(conninfo, company_id, outcome, days_old):
    log_id = uuid.uuid4()
    with psycopg.connect(conninfo) as connection:
        connection.execute(
            "INSERT INTO webhook_logs (id, platform, event_type, outcome, is_processed, retry_count, max_retries,"
            " company_id, created_at) VALUES (%s, 'CAREEM', 'order.created', %s, %s, 0, 3, %s,"
            " now() - make_interval(days => %s))",
            (log_id, outcome, outcome == "PROCESSED", company_id, days_old))
    return log_id


def remaining(conninfo):
    with psycopg.connect(conninfo) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM webhook_logs")}


def test_only_old_finished_logs_of_every_company_go(app, two_companies, owner_conninfo):
    a, b = two_companies
    old_a = add_log(owner_conninfo, a.id, "PROCESSED", 40)
    old_b = add_log(owner_conninfo, b.id, "DUPLICATE", 31)
    old_unclaimed = add_log(owner_conninfo, None, "UNAUTHORIZED", 45)
    kept = {
        add_log(owner_conninfo, a.id, "RECEIVED", 90),   # never processed: kept whatever its age
        add_log(owner_conninfo, b.id, "FAILED", 60),     # waiting for its retry
        add_log(owner_conninfo, a.id, "PROCESSED", 5),   # recent
        add_log(owner_conninfo, b.id, "PROCESSED", 29),
    }
    app.config["WEBHOOK_LOG_RETENTION_DAYS"] = 30
    with app.app_context():
        prune_webhook_logs_task(0)
    left = remaining(owner_conninfo)
    assert left == kept
    assert not {old_a, old_b, old_unclaimed} & left


def test_a_silly_retention_never_deletes_todays_logs(app, two_companies, owner_conninfo):
    from portal.webhooks.services import prune_webhook_logs

    a, _ = two_companies
    today = add_log(owner_conninfo, a.id, "PROCESSED", 0)
    with app.app_context():
        assert prune_webhook_logs(keep_days=0) == 0
    assert today in remaining(owner_conninfo)
