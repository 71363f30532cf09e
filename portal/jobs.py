"""Background work on PostgreSQL with procrastinate: webhook retries and outbound platform calls.

Jobs are enqueued with `defer` inside the application's own database transaction, so a job exists
exactly when the change that caused it commits. `flask --app wsgi worker` runs them; each task
pushes a Flask app context and sets its company's tenant like any request.
"""
import asyncio
import json
import logging
import threading
import uuid
from contextlib import contextmanager

from flask import current_app, has_app_context
from procrastinate import App, PsycopgConnector
from sqlalchemy import text
from sqlalchemy.engine import make_url

from .extensions import db

logger = logging.getLogger(__name__)

QUEUE_WEBHOOKS = "webhooks"
QUEUE_PLATFORM_CALLS = "platform_calls"
# Periodic work (sold-out windows ending, availability schedules, points expiry, analytics rollup).
QUEUE_SCHEDULED = "scheduled"

job_app = App(connector=PsycopgConnector())
_flask_app = None

# procrastinate's versioned SQL API; called through our session to share its transaction.
_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, NULL, CAST(:args AS jsonb),"
    " CAST(:at AS timestamptz))::procrastinate_job_to_defer_v1])"
)


def defer(task_name, queue, at=None, **args):
    """Enqueue `task_name(**args)` in the current transaction, to run at `at` (or now)."""
    db.session.execute(_DEFER, {"queue": queue, "task": task_name, "at": at,
                                "args": json.dumps({key: str(value) if isinstance(value, uuid.UUID) else value
                                                    for key, value in args.items()})})


@contextmanager
def _task_context():
    """A fresh Flask app context, and with it a database session of its own, for one task.

    The worker runs tasks in threads at the same time (e.g. two periodic jobs due the same minute),
    and those threads inherit the context of the thread that started the worker: sharing its session
    would mix their transactions. A new app context is a new session scope (Flask-SQLAlchemy).
    """
    global _flask_app
    if has_app_context():
        app = current_app._get_current_object()
    else:
        if _flask_app is None:
            from . import create_app
            _flask_app = create_app()
        app = _flask_app
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()


@job_app.task(name="retry_webhook", queue=QUEUE_WEBHOOKS)
def retry_webhook_task(log_id, company_id):
    """Process a stored webhook again after a failure."""
    from .webhooks.services import retry_webhook
    with _task_context():
        retry_webhook(uuid.UUID(log_id), uuid.UUID(company_id))


@job_app.task(name="send_platform_call", queue=QUEUE_PLATFORM_CALLS)
def send_platform_call_task(call_id, company_id):
    """Send one queued call to a platform (accept, reject, ready, availability…)."""
    from .integrations.outbound import send_call
    with _task_context():
        send_call(uuid.UUID(call_id), uuid.UUID(company_id))


def worker_conninfo(app):
    """The worker connects like the web app: as portal_app."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def run_worker(app, concurrency=4, wait=True):
    """Run the worker until stopped (or, with wait=False, until the due jobs are done)."""
    global _flask_app
    _flask_app = app

    def work():
        with job_app.replace_connector(PsycopgConnector(conninfo=worker_conninfo(app))):
            job_app.run_worker(queues=[QUEUE_WEBHOOKS, QUEUE_PLATFORM_CALLS, QUEUE_SCHEDULED], concurrency=concurrency, wait=wait,
                               install_signal_handlers=wait)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        work()
    else:  # called from code that runs an event loop (e.g. a browser driver): give the worker its own thread
        thread = threading.Thread(target=work, name="procrastinate-worker")
        thread.start()
        thread.join()


# --- Loyalty: points expiry and tier moves (hourly; each company in its own job and tenant) ---------

@job_app.periodic(cron="7 * * * *", periodic_id="loyalty_sweep")
@job_app.task(name="loyalty_sweep", queue=QUEUE_SCHEDULED)
def loyalty_sweep_task(timestamp):
    """Find the companies whose points expire or whose tiers slide, and queue a job for each."""
    from datetime import datetime, timezone

    from .loyalty.jobs import sweep
    with _task_context():
        sweep(datetime.fromtimestamp(timestamp, tz=timezone.utc))


@job_app.task(name="expire_loyalty_points", queue=QUEUE_SCHEDULED)
def expire_loyalty_points_task(company_id, until):
    """Expire one company's points older than its program allows (oldest first) and re-tier its members."""
    from datetime import datetime

    from .loyalty.jobs import expire_company_points
    with _task_context():
        expire_company_points(uuid.UUID(company_id), now=datetime.fromisoformat(until))


# --- Analytics (issue 7) ------------------------------------------------------------------------------

@job_app.periodic(cron="* * * * *", periodic_id="analytics_rollup")
@job_app.task(name="refresh_analytics", queue=QUEUE_SCHEDULED, queueing_lock="refresh_analytics")
def refresh_analytics_task(timestamp):
    """Every minute: roll up the days whose orders changed (only those; today stays live)."""
    from .analytics.rollup import refresh_all
    with _task_context():
        refreshed = refresh_all()
    if refreshed:
        logger.info("analytics rollup: %s days for %s companies", sum(refreshed.values()), len(refreshed))



# --------------------------------------------------------------------------- menu (issue 5)

@job_app.task(name="menu_sync", queue=QUEUE_PLATFORM_CALLS)
def menu_sync_task(run_id, company_id):
    """Check and push one company's mapped catalog to one platform (a "Sync menu" run)."""
    from .menu.sync import run_sync
    with _task_context():
        run_sync(uuid.UUID(run_id), uuid.UUID(company_id))


@job_app.task(name="menu_import", queue=QUEUE_PLATFORM_CALLS)
def menu_import_task(run_id, company_id):
    """Read a platform's menu and map it onto the catalog ("Import from platform")."""
    from .menu.sync import run_import
    with _task_context():
        run_import(uuid.UUID(run_id), uuid.UUID(company_id))


@job_app.task(name="menu_availability_due", queue=QUEUE_SCHEDULED)
def menu_availability_due_task(company_id):
    """An 86 of this company ends now: bring the item back on the platforms (and re-check the hours)."""
    from .menu.jobs import availability_tick
    with _task_context():
        availability_tick(uuid.UUID(company_id))


@job_app.periodic(cron="* * * * *", periodic_id="menu_availability")
@job_app.task(name="menu_availability_minute", queue=QUEUE_SCHEDULED, queueing_lock="menu_availability_minute")
def menu_availability_minute_task(timestamp):
    """Every minute: end the 86s whose time has come and apply availability hours, company by company."""
    from .menu.jobs import availability_minute
    with _task_context():
        availability_minute()
