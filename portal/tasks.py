"""Every background task, by name: the one module that imports area code for the worker.

Areas never import this module: they enqueue with `queue.defer("task_name", **args)`, and the queue
each task runs on is declared here once. The app factory imports this module so that `defer` knows
every task in web requests and in the worker alike.
"""
import logging
import uuid
from datetime import datetime, timezone

from .analytics.rollup import refresh_all
from .auth import throttle
from .integrations.outbound import send_call
from .mail.services import deliver as deliver_email
from .loyalty.jobs import expire_company_points, sweep
from .menu.jobs import availability_minute, availability_tick
from .menu.sync import run_import, run_sync
from .messaging.services import remind_expiring_points, send_message as send_whatsapp
from .queue import (QUEUE_MAIL, QUEUE_MESSAGES, QUEUE_PLATFORM_CALLS, QUEUE_SCHEDULED, QUEUE_WEBHOOKS, job_app,
                    task_context)
from .settings.alerts import alerts_minute
from .tenancy import companies_with_expiry_reminders
from .webhooks.services import prune_webhook_logs, recover_unfinished_webhooks, retry_webhook

logger = logging.getLogger(__name__)

# Finished jobs are kept a while for diagnosis, then pruned: succeeded ones after a week, failed,
# cancelled and aborted ones after a month.
KEEP_SUCCEEDED_HOURS = 7 * 24
KEEP_UNSUCCESSFUL_HOURS = 30 * 24


# --- Webhooks and platform calls ----------------------------------------------------------------

@job_app.task(name="retry_webhook", queue=QUEUE_WEBHOOKS)
def retry_webhook_task(log_id, company_id):
    """Process a stored webhook again after a failure."""
    with task_context(company_id):
        retry_webhook(uuid.UUID(log_id), uuid.UUID(company_id))


@job_app.periodic(cron="*/5 * * * *", periodic_id="recover_webhooks")
@job_app.task(name="recover_webhooks", queue=QUEUE_SCHEDULED, queueing_lock="recover_webhooks")
def recover_webhooks_task(timestamp):
    """Every five minutes: webhooks the portal stopped on while processing go to the retry job."""
    with task_context():
        recovered = recover_unfinished_webhooks(datetime.fromtimestamp(timestamp, tz=timezone.utc))
    if recovered:
        logger.warning("%s unfinished webhooks queued for retry", recovered)


@job_app.periodic(cron="41 2 * * *", periodic_id="prune_webhook_logs")
@job_app.task(name="prune_webhook_logs", queue=QUEUE_SCHEDULED, queueing_lock="prune_webhook_logs")
def prune_webhook_logs_task(timestamp):
    """Nightly: finished webhook logs older than WEBHOOK_LOG_RETENTION_DAYS go (never RECEIVED or FAILED)."""
    with task_context():
        removed = prune_webhook_logs()
    if removed:
        logger.info("%s finished webhook logs older than the retention removed", removed)


@job_app.task(name="send_platform_call", queue=QUEUE_PLATFORM_CALLS)
def send_platform_call_task(call_id, company_id):
    """Send one queued call to a platform (accept, reject, ready, availability…)."""
    with task_context(company_id):
        send_call(uuid.UUID(call_id), uuid.UUID(company_id))


@job_app.task(name="send_whatsapp_message", queue=QUEUE_MESSAGES)
def send_whatsapp_message_task(message_id, company_id):
    """Send one queued WhatsApp message; it re-queues itself with backoff on Meta's retryable errors only."""
    with task_context(company_id):
        send_whatsapp(uuid.UUID(message_id))


@job_app.periodic(cron="0 7 * * *", periodic_id="whatsapp_expiry_reminders")
@job_app.task(name="whatsapp_expiry_reminders", queue=QUEUE_SCHEDULED, queueing_lock="whatsapp_expiry_reminders")
def whatsapp_expiry_reminders_task(timestamp):
    """Daily: members whose points expire within a week are told once (companies with that rule only)."""
    with task_context():
        company_ids = companies_with_expiry_reminders()
    for company_id in company_ids:
        with task_context(company_id):
            remind_expiring_points(datetime.fromtimestamp(timestamp, tz=timezone.utc))


@job_app.task(name="send_email", queue=QUEUE_MAIL, retry=5)
def send_email_task(email_id, company_id):
    """Send one stored e-mail by SMTP; retried with the queue's back-off when the server refuses."""
    with task_context(company_id):
        deliver_email(uuid.UUID(email_id))


# --- Loyalty: points expiry and tier moves (hourly; each company in its own job and tenant) ------

@job_app.periodic(cron="7 * * * *", periodic_id="loyalty_sweep")
@job_app.task(name="loyalty_sweep", queue=QUEUE_SCHEDULED)
def loyalty_sweep_task(timestamp):
    """Find the companies whose points expire or whose tiers slide, and queue a job for each."""
    with task_context():
        sweep(datetime.fromtimestamp(timestamp, tz=timezone.utc))


@job_app.task(name="expire_loyalty_points", queue=QUEUE_SCHEDULED)
def expire_loyalty_points_task(company_id, until):
    """Expire one company's points older than its program allows (oldest first) and re-tier its members."""
    with task_context(company_id):
        expire_company_points(uuid.UUID(company_id), now=datetime.fromisoformat(until))


# --- Analytics -----------------------------------------------------------------------------------

@job_app.periodic(cron="* * * * *", periodic_id="analytics_rollup")
@job_app.task(name="refresh_analytics", queue=QUEUE_SCHEDULED, queueing_lock="refresh_analytics")
def refresh_analytics_task(timestamp):
    """Every minute: roll up the days whose orders changed (only those; today stays live)."""
    with task_context():
        refreshed = refresh_all()
    if refreshed:
        logger.info("analytics rollup: %s days for %s companies", sum(refreshed.values()), len(refreshed))


# --- Menu ----------------------------------------------------------------------------------------

@job_app.task(name="menu_sync", queue=QUEUE_PLATFORM_CALLS)
def menu_sync_task(run_id, company_id):
    """Check and push one company's mapped catalog to one platform (a "Sync menu" run)."""
    with task_context(company_id):
        run_sync(uuid.UUID(run_id), uuid.UUID(company_id))


@job_app.task(name="menu_import", queue=QUEUE_PLATFORM_CALLS)
def menu_import_task(run_id, company_id):
    """Read a platform's menu and map it onto the catalog ("Import from platform")."""
    with task_context(company_id):
        run_import(uuid.UUID(run_id), uuid.UUID(company_id))


@job_app.task(name="menu_availability_due", queue=QUEUE_SCHEDULED)
def menu_availability_due_task(company_id):
    """An 86 of this company ends now: bring the item back on the platforms (and re-check the hours)."""
    with task_context(company_id):
        availability_tick(uuid.UUID(company_id))


@job_app.periodic(cron="* * * * *", periodic_id="menu_availability")
@job_app.task(name="menu_availability_minute", queue=QUEUE_SCHEDULED, queueing_lock="menu_availability_minute")
def menu_availability_minute_task(timestamp):
    """Every minute: end the 86s whose time has come and apply availability hours, company by company."""
    with task_context():
        availability_minute()


# --- Alerts to managers ---------------------------------------------------------------------------

@job_app.periodic(cron="* * * * *", periodic_id="manager_alerts")
@job_app.task(name="manager_alerts", queue=QUEUE_SCHEDULED, queueing_lock="manager_alerts")
def manager_alerts_task(timestamp):
    """Every minute: e-mail managers once per order waiting too long or integration silent too long."""
    with task_context():
        sent = alerts_minute(datetime.fromtimestamp(timestamp, tz=timezone.utc))
    if sent:
        logger.info("manager alerts: %s incidents e-mailed", sent)


# --- Housekeeping --------------------------------------------------------------------------------

@job_app.periodic(cron="17 * * * *", periodic_id="prune_sign_in_throttle")
@job_app.task(name="prune_sign_in_throttle", queue=QUEUE_SCHEDULED, queueing_lock="prune_sign_in_throttle")
def prune_sign_in_throttle_task(timestamp):
    """Hourly: failed-sign-in counts with nothing left to remember are forgotten (known devices stay 90 days)."""
    with task_context():
        throttle.prune()

@job_app.periodic(cron="23 3 * * *", periodic_id="prune_finished_jobs")
@job_app.task(name="prune_finished_jobs", queue=QUEUE_SCHEDULED, pass_context=True)
async def prune_finished_jobs_task(context, timestamp):
    """Every night: delete the jobs (and their events) that finished long enough ago."""
    manager = context.app.job_manager
    await manager.delete_old_jobs(nb_hours=KEEP_SUCCEEDED_HOURS)
    await manager.delete_old_jobs(nb_hours=KEEP_UNSUCCESSFUL_HOURS, include_failed=True,
                                  include_cancelled=True, include_aborted=True)
