"""The worker's tasks: each runs in its own app context and database session."""
import contextvars
import threading

from sqlalchemy import text

from portal.extensions import db
from portal.jobs import _task_context


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
