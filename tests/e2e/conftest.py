"""Browser tests: the session's Flask app served on 127.0.0.1, driven by Playwright and Debian's chromium.

Playwright's own browser downloads are never used (the machine has no outside network): the
browser is CHROMIUM_PATH, or `chromium` / `chromium-browser` on PATH, or /usr/bin/chromium. Without
one, every e2e test is skipped with a reason that says how to install it.

The root conftest truncates every table after each test, so each e2e test creates its own data.
Screenshots (the ones tests take, and one per failed test) go to tests/e2e/artifacts/ (git-ignored).
"""
import contextlib
import os
import re
import shutil
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORT = {"width": 1280, "height": 860}
TIMEOUT_MS = 10_000  # a page of this app answers in milliseconds; fail fast rather than hang for 30 s
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING_CHROMIUM = "Chromium not installed: apt-get install chromium"


def find_chromium():
    """The chromium executable to drive, or None."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for candidate in ("chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    fallback = "/usr/bin/chromium"
    return fallback if os.access(fallback, os.X_OK) else None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so the `page` fixture knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def artifacts_dir():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium_path():
    path = find_chromium()
    if path is None:
        pytest.skip(MISSING_CHROMIUM)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright not installed: pip install playwright")
    with sync_api.sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        except sync_api.Error as error:
            pytest.skip(f"{MISSING_CHROMIUM} (could not start {chromium_path}: {str(error).splitlines()[0]})")
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def live_server(app):
    """The session's app on 127.0.0.1 and a free port, served from a daemon thread; yields the base URL."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # one line per asset would bury a failure's report
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def page(request, browser, live_server, artifacts_dir):
    """A fresh browser context (no cookies, 1280x860) per test; a screenshot is saved if the test fails.

    Every test also fails if the page broke the Content-Security-Policy (an inline style or script
    that the browser refused), which would leave something unstyled or dead for real users.
    """
    context = browser.new_context(base_url=live_server, viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    refused = []
    tab.on("console", lambda message: refused.append(f"{tab.url}: {message.text}")
           if "Content Security Policy" in message.text else None)
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        with contextlib.suppress(Exception):  # the page may be gone; the failure itself is what matters
            tab.screenshot(path=str(artifacts_dir / f"failed-{name}.png"), full_page=True)
    context.close()
    assert not refused, "the browser refused by CSP:\n" + "\n".join(refused[:10])


# The demo's rows, table by table, copied out after the session's first seed (seeding takes ~20 s;
# copying the rows back in takes well under one). Every test still starts from empty tables.
_demo_snapshot = []


def _snapshot_demo(conninfo):
    import psycopg
    with psycopg.connect(conninfo, autocommit=True) as connection:
        tables = [row[0] for row in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")]
        with connection.cursor() as cursor:
            for table in tables:
                with cursor.copy(f'COPY "{table}" TO STDOUT (FORMAT binary)') as copy:
                    data = b"".join(bytes(chunk) for chunk in copy)
                _demo_snapshot.append((table, data))


def _restore_demo(conninfo):
    """Copy the demo's rows back as they were seeded: no triggers fire (they did when seeding)."""
    import psycopg
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for table, data in _demo_snapshot:
            with cursor.copy(f'COPY "{table}" FROM STDIN (FORMAT binary)') as copy:
                copy.write(data)


@pytest.fixture
def demo(app, owner_conninfo):
    """The demo companies and users (`flask seed-demo`); admin@sample-restaurant.com / password123."""
    from portal.demo import DEMO_PASSWORD, SAMPLE, seed_demo

    if _demo_snapshot:
        _restore_demo(owner_conninfo)
    else:
        with app.app_context():
            seed_demo()
        _snapshot_demo(owner_conninfo)
    return {"email": SAMPLE["email"], "password": DEMO_PASSWORD}


@pytest.fixture
def company_admin(make_company):
    """A company from `make_company`, and the e-mail and password its COMPANY_ADMIN signs in with."""
    from tests.conftest import PASSWORD

    company = make_company("Alpha Kitchen")
    return SimpleNamespace(company=company, email=company.email("COMPANY_ADMIN"), password=PASSWORD)


@pytest.fixture
def sign_in(page):
    """Sign in through the login form, as a person would."""

    def do(email, password):
        page.goto("/login")
        page.fill("#email", email)
        page.fill("#password", password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r".*/$"))
        return page

    return do


def wait_until(page, expression, arg=None, timeout_ms=10_000):
    """Poll `expression` (JS, as page.evaluate takes it) until it is truthy.

    Playwright's wait_for_function evaluates its predicate with eval inside the page, which the
    portal's Content-Security-Policy (no unsafe-eval) refuses; page.evaluate goes through the
    DevTools protocol, which the policy does not govern.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_ms} ms waiting for: {expression}")
        page.wait_for_timeout(100)
