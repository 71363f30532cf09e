"""The job queue (procrastinate on PostgreSQL): enqueue by task name, run tasks in their own context.

This module imports no area. Areas enqueue with `defer("task_name", **args)`; the task bodies are
registered in `portal/tasks.py`, the one module that imports area code, which the app factory loads.

Jobs are enqueued inside the application's own database transaction, so a job exists exactly when
the change that caused it commits. `flask --app wsgi worker` runs them; each task gets a Flask app
context, a database session of its own and, when it belongs to one company, that company's tenant.
"""
import asyncio
import json
import threading
import uuid
from contextlib import contextmanager

from flask import current_app, has_app_context
from procrastinate import App, PsycopgConnector
from sqlalchemy import text
from sqlalchemy.engine import make_url

from .extensions import db
from .tenancy import tenant

QUEUE_WEBHOOKS = "webhooks"
QUEUE_PLATFORM_CALLS = "platform_calls"
# Periodic work (sold-out windows ending, availability schedules, points expiry, analytics rollup).
QUEUE_SCHEDULED = "scheduled"
QUEUE_MAIL = "mail"  # e-mail by SMTP, when configured
QUEUE_MESSAGES = "messages"  # WhatsApp messages to customers
QUEUES = (QUEUE_WEBHOOKS, QUEUE_PLATFORM_CALLS, QUEUE_SCHEDULED, QUEUE_MAIL, QUEUE_MESSAGES)

job_app = App(connector=PsycopgConnector())
_worker_flask_app = None

# procrastinate's versioned SQL API; called through our session to share its transaction.
_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, NULL, CAST(:args AS jsonb),"
    " CAST(:at AS timestamptz))::procrastinate_job_to_defer_v1])"
)


class UnknownTask(LookupError):
    """A name passed to `defer` that no task in portal/tasks.py registers."""


def defer(task_name, at=None, **args):
    """Enqueue `task_name(**args)` in the current transaction, on its task's queue, to run at `at` (or now)."""
    task = job_app.tasks.get(task_name)
    if task is None:
        raise UnknownTask(f"no task named {task_name!r} is registered (portal/tasks.py)")
    db.session.execute(_DEFER, {"queue": task.queue, "task": task_name, "at": at,
                                "args": json.dumps({key: str(value) if isinstance(value, uuid.UUID) else value
                                                    for key, value in args.items()})})


@contextmanager
def task_context(company_id=None):
    """A fresh Flask app context, a database session of its own and, given one, the company's tenant.

    The worker runs tasks in threads at the same time (e.g. two periodic jobs due the same minute),
    and those threads inherit the context of the thread that started the worker: sharing its session
    would mix their transactions. A new app context is a new session scope (Flask-SQLAlchemy).
    """
    if has_app_context():
        app = current_app._get_current_object()
    elif _worker_flask_app is not None:
        app = _worker_flask_app
    else:
        raise RuntimeError("tasks run inside the worker (run_worker) or an app context")
    with app.app_context():
        try:
            if company_id is None:
                yield
            else:
                with tenant(uuid.UUID(str(company_id))):
                    yield
        finally:
            db.session.remove()


def worker_conninfo(app):
    """The worker connects like the web app: as portal_app."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def run_worker(app, concurrency=4, wait=True):
    """Run the worker until stopped (or, with wait=False, until the due jobs are done)."""
    global _worker_flask_app
    _worker_flask_app = app

    def work():
        with job_app.replace_connector(PsycopgConnector(conninfo=worker_conninfo(app))):
            job_app.run_worker(queues=list(QUEUES), concurrency=concurrency, wait=wait,
                               install_signal_handlers=wait)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        work()
    else:  # called from code that runs an event loop (e.g. a browser driver): give the worker its own thread
        thread = threading.Thread(target=work, name="procrastinate-worker")
        thread.start()
        thread.join()
