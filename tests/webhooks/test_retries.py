"""Processing failures: kept, retried with backoff by the worker, dead after max_retries, replayable."""
import http.server
import json
import threading
from datetime import datetime, timezone

import psycopg
import pytest

from portal.extensions import db
from portal.queue import run_worker
from portal.models import WebhookLog
from portal.tenancy import tenant
from portal.webhooks import services
from tests.integration_fixtures import load_payload


def _rows(conninfo, sql, params=()):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchall()


@pytest.fixture
def broken_processing(monkeypatch):
    """Fault injection: applying the event fails until the test repairs it."""
    state = {"broken": True}
    original = services._apply_event

    def apply_event(*args, **kwargs):
        if state["broken"]:
            raise RuntimeError("kitchen printer on fire")
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "_apply_event", apply_event)
    return state


def test_a_failure_is_kept_and_queued_for_retry(webhooks, make_integration, alpha, owner_conninfo,
                                                broken_processing):
    integration_id = make_integration(alpha, "CAREEM")
    response = webhooks.send("CAREEM", integration_id, load_payload("careem-order-created-example.json"))
    assert response.status_code == 202  # stored; the platform need not send it again
    (log,) = _rows(owner_conninfo, "SELECT outcome, retry_count, next_retry_at, error_message FROM webhook_logs")
    assert log[0] == "FAILED" and log[1] == 0
    assert log[2] > datetime.now(timezone.utc)
    assert "kitchen printer on fire" in log[3]
    jobs = _rows(owner_conninfo, "SELECT task_name, args, scheduled_at FROM procrastinate_jobs")
    assert len(jobs) == 1 and jobs[0][0] == "retry_webhook" and jobs[0][2] == log[2]


def test_retries_back_off_then_give_up(app, webhooks, make_integration, alpha, owner_conninfo,
                                       broken_processing):
    integration_id = make_integration(alpha, "CAREEM")
    webhooks.send("CAREEM", integration_id, load_payload("careem-order-created-example.json"))
    log_id, = _rows(owner_conninfo, "SELECT id FROM webhook_logs")[0]
    delays = []
    with app.app_context():
        for _ in range(3):
            before = datetime.now(timezone.utc)
            services.retry_webhook(log_id, alpha.id)
            with tenant(alpha.id):
                log = db.session.get(WebhookLog, log_id)
                if log.next_retry_at:
                    delays.append((log.next_retry_at - before).total_seconds())
                db.session.commit()
        with tenant(alpha.id):
            log = db.session.get(WebhookLog, log_id)
            assert (log.outcome, log.retry_count, log.next_retry_at) == ("DEAD", 3, None)
            db.session.commit()
    base = app.config["WEBHOOK_RETRY_BASE_SECONDS"]
    assert len(delays) == 2
    assert base * 2 * 0.8 <= delays[0] <= base * 2 * 1.2  # exponential, with jitter
    assert base * 4 * 0.8 <= delays[1] <= base * 4 * 1.2
    assert _rows(owner_conninfo, "SELECT count(*) FROM delivery_orders") == [(0,)]


def test_replay_after_repair_is_idempotent(app, auth, client, webhooks, make_integration, alpha, owner_conninfo,
                                           broken_processing):
    integration_id = make_integration(alpha, "CAREEM")
    webhooks.send("CAREEM", integration_id, load_payload("careem-order-created-example.json"))
    log_id, = _rows(owner_conninfo, "SELECT id FROM webhook_logs")[0]
    broken_processing["broken"] = False
    auth.login(alpha.email("COMPANY_ADMIN"))
    page = f"/webhooks/log/{log_id}"
    for expected in ("PROCESSED", "DUPLICATE"):
        response = auth.post(f"{page}/replay", page=page, follow_redirects=True)
        assert response.status_code == 200
        assert _rows(owner_conninfo, "SELECT outcome FROM webhook_logs WHERE id = %s", (log_id,)) == [(expected,)]
    assert _rows(owner_conninfo, "SELECT count(*) FROM delivery_orders") == [(1,)]


def test_the_worker_runs_due_retries(app, webhooks, make_integration, alpha, owner_conninfo, broken_processing):
    integration_id = make_integration(alpha, "CAREEM")
    webhooks.send("CAREEM", integration_id, load_payload("careem-order-created-example.json"))
    broken_processing["broken"] = False
    with psycopg.connect(owner_conninfo, autocommit=True) as connection:
        connection.execute("UPDATE procrastinate_jobs SET scheduled_at = now()")
    run_worker(app, concurrency=1, wait=False)
    assert _rows(owner_conninfo, "SELECT outcome, retry_count FROM webhook_logs") == [("PROCESSED", 1)]
    assert _rows(owner_conninfo, "SELECT count(*) FROM delivery_orders") == [(1,)]
    # (the worker also defers its periodic jobs, e.g. refresh_analytics: only the retry is this test's)
    assert _rows(owner_conninfo, "SELECT status FROM procrastinate_jobs WHERE task_name = 'retry_webhook'") == [("succeeded",)]


class _Recorder(http.server.BaseHTTPRequestHandler):
    received = []
    answer = 200

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        type(self).received.append((self.command, self.path, json.loads(self.rfile.read(length) or b"null"),
                                    dict(self.headers)))
        self.send_response(type(self).answer)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    do_POST = do_PUT = do_PATCH = _handle

    def log_message(self, *args):
        pass


@pytest.fixture
def platform_server():
    _Recorder.received = []
    _Recorder.answer = 200
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, _Recorder
    server.shutdown()


def test_auto_accept_pushes_the_acceptance_through_the_worker(app, webhooks, make_integration, alpha,
                                                              owner_conninfo, platform_server):
    server, recorder = platform_server
    integration_id = make_integration(alpha, "CAREEM", base_url=f"http://127.0.0.1:{server.server_port}",
                                      auto_accept={"enabled": True, "preparation_minutes": 20})
    created = load_payload("careem-order-created-example.json")
    assert webhooks.send("CAREEM", integration_id, created).status_code == 200
    assert _rows(owner_conninfo, "SELECT status, last_push_status FROM delivery_orders") == [("ACCEPTED", "QUEUED")]
    run_worker(app, concurrency=1, wait=False)
    assert [(method, path) for method, path, *_ in recorder.received] == [
        ("PUT", f"/orders/{created['details']['id']}")]
    assert recorder.received[0][2]["state"] == "accepted"
    assert _rows(owner_conninfo, "SELECT status, attempts FROM platform_calls") == [("SUCCEEDED", 1)]
    assert _rows(owner_conninfo, "SELECT last_push_status FROM delivery_orders") == [("SUCCEEDED",)]
    metrics = _rows(owner_conninfo, "SELECT metric_name, tags ->> 'success' FROM integration_analytics")
    assert metrics == [("api_response_time", "true")]


def test_failed_calls_retry_then_die_and_show_on_the_order(app, webhooks, make_integration, alpha,
                                                           owner_conninfo, platform_server):
    server, recorder = platform_server
    recorder.answer = 503
    integration_id = make_integration(alpha, "CAREEM", base_url=f"http://127.0.0.1:{server.server_port}",
                                      auto_accept={"enabled": True, "preparation_minutes": 20})
    webhooks.send("CAREEM", integration_id, load_payload("careem-order-created-example.json"))
    from portal.integrations.outbound import send_call
    call_id, = _rows(owner_conninfo, "SELECT id FROM platform_calls")[0]
    with app.app_context():
        for _ in range(app.config["PLATFORM_CALL_MAX_ATTEMPTS"]):
            send_call(call_id, alpha.id)
            with psycopg.connect(owner_conninfo, autocommit=True) as connection:
                connection.execute("UPDATE platform_calls SET status = 'QUEUED' WHERE status = 'FAILED'")
    assert len(recorder.received) == app.config["PLATFORM_CALL_MAX_ATTEMPTS"]
    assert _rows(owner_conninfo, "SELECT status, error LIKE 'HTTP 503%%' FROM platform_calls") == [("DEAD", True)]
    assert _rows(owner_conninfo, "SELECT last_push_status FROM delivery_orders") == [("DEAD",)]
    assert _rows(owner_conninfo, "SELECT last_error IS NOT NULL FROM integration_configs") == [(True,)]


def test_calls_without_a_base_url_fail_visibly(app, make_integration, alpha, owner_conninfo):
    integration_id = make_integration(alpha, "CAREEM")
    from portal.integrations.outbound import queue_call
    from portal.models import IntegrationConfig
    from portal.platforms.base import OutboundRequest
    with app.app_context(), tenant(alpha.id):
        integration = db.session.get(IntegrationConfig, integration_id)
        call = queue_call(integration, OutboundRequest("POST", "/x", {}), "TEST")
        db.session.commit()
        assert call.status == "DEAD" and "base URL" in call.error
