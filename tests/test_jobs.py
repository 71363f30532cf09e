"""The worker's tasks: each runs in its own app context and database session."""
import contextvars
import threading

from sqlalchemy import text

from portal.extensions import db
from portal.queue import task_context as _task_context


def test_tasks_running_at_once_never_share_a_database_session(app):
    """The worker runs tasks in threads that inherit the worker's context (as asyncio.to_thread does).

    Two periodic jobs due the same minute once shared one session and broke each other's
    transactions ("This session is in 'prepared' state").
    """
    both_inside = threading.Barrier(2, timeout=10)
    sessions, failures = [], []

    def task():
        try:
            with _task_context():
                session = db.session()
                sessions.append(session)
                session.execute(text("SELECT 1"))
                both_inside.wait()              # both transactions are open now
                session.execute(text("SELECT pg_sleep(0.05)"))
                session.commit()
        except Exception as error:  # the assertion below reports it
            failures.append(error)

    with app.app_context():
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(task,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
    assert failures == []
    assert len(sessions) == 2 and sessions[0] is not sessions[1]


def test_every_task_name_an_area_defers_is_registered(app):
    """Areas enqueue by name; a misspelt name would only fail when the job is due. Read every call."""
    import ast
    from pathlib import Path

    from portal.queue import job_app

    deferred = set()
    for path in Path("portal").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "defer"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                deferred.add(node.args[0].value)
    assert {"retry_webhook", "send_platform_call", "menu_sync", "expire_loyalty_points"} <= deferred
    assert deferred - set(job_app.tasks) == set()


def test_deferring_an_unknown_task_is_refused_and_enqueues_nothing(app):
    import pytest

    from portal.queue import UnknownTask, defer

    with app.app_context():
        before = db.session.scalar(text("SELECT count(*) FROM procrastinate_jobs"))
        with pytest.raises(UnknownTask):
            defer("no_such_task", company_id="x")
        assert db.session.scalar(text("SELECT count(*) FROM procrastinate_jobs")) == before
        db.session.rollback()
