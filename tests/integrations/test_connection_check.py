"""Test connection: a real HTTP server on 127.0.0.1 answers, a closed port does not; both are recorded."""
import socket
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integrations.conftest import flashes, integration_row, owner_rows
from tests.integrations.test_forms import form, save


class PlatformAPI(BaseHTTPRequestHandler):
    """A platform API that answers GET / with 404 (reachable) and GET /broken with 500."""

    def do_GET(self):
        self.send_response(500 if self.path.startswith("/broken") else 404)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def platform_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), PlatformAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check(admin):
    return admin.post("/integrations/careem/test", page="/integrations/careem/", follow_redirects=True)


def outcome(response):
    """The flashes of the check (not the "Saved …" one still waiting from the form before it)."""
    return [(category, message) for category, message in flashes(response) if not message.startswith("Saved ")]


def analytics(conninfo, company_id):
    return owner_rows(conninfo, "SELECT * FROM integration_analytics WHERE company_id = %s", company_id)


def test_a_reachable_api_is_recorded_as_a_success(admin, company, owner_conninfo, platform_api):
    save(admin, "careem", form("careem", base_url=platform_api + "/pos/api/v1"))

    response = check(admin)

    [(category, message)] = outcome(response)
    assert category == "success"
    assert message.startswith(f"Connection works: {platform_api[7:]} answered with HTTP 404.")
    row = integration_row(owner_conninfo, company.id, "careem")
    assert row["last_success_at"] is not None and row["last_error_at"] is None
    [metric] = analytics(owner_conninfo, company.id)
    assert (metric["platform"], metric["metric_name"], metric["metric_unit"], metric["aggregation_type"]) == \
        ("CAREEM", "api_response_time", "ms", "AVG")
    assert metric["period_start"] == metric["period_end"]
    assert Decimal(0) <= metric["metric_value"] < Decimal(5000)
    assert metric["tags"]["ok"] is True and metric["tags"]["status_code"] == 404
    assert ">OK<" in response.get_data(as_text=True)


def test_a_closed_port_is_recorded_as_a_failure_with_its_reason(admin, company, owner_conninfo, closed_port):
    save(admin, "careem", form("careem", base_url=f"http://127.0.0.1:{closed_port}"))

    response = check(admin)

    [(category, message)] = outcome(response)
    assert category == "error"
    assert message == f"Connection failed: Could not connect to 127.0.0.1:{closed_port}: Connection refused."
    row = integration_row(owner_conninfo, company.id, "careem")
    assert row["last_error_at"] is not None and row["last_success_at"] is None
    assert row["last_error"] == f"Could not connect to 127.0.0.1:{closed_port}: Connection refused."
    [metric] = analytics(owner_conninfo, company.id)
    assert metric["metric_name"] == "api_response_time" and metric["tags"]["ok"] is False
    page = response.get_data(as_text=True)
    assert "Failing" in page and "Connection refused" in page


def test_a_server_error_is_a_failure_and_a_later_success_makes_it_healthy_again(admin, client, company,
                                                                                owner_conninfo, platform_api):
    save(admin, "careem", form("careem", base_url=platform_api + "/broken"))
    [(category, message)] = outcome(check(admin))
    assert category == "error" and "server error (HTTP 500)" in message
    assert "Failing" in client.get("/integrations/").get_data(as_text=True)

    save(admin, "careem", form("careem", base_url=platform_api, api_key="", api_secret=""))
    [(category, _message)] = outcome(check(admin))
    assert category == "success"
    page = client.get("/integrations/").get_data(as_text=True)
    card = page[page.index('id="platform-careem"'):]
    assert ">OK<" in card[:card.index("</article>")]
    assert len(analytics(owner_conninfo, company.id)) == 2


def test_without_a_base_url_the_check_says_what_is_missing(admin, company, owner_conninfo):
    save(admin, "careem", form("careem", base_url=""))
    assert outcome(check(admin)) == [
        ("error", "Add the platform's base URL and save it before testing the connection.")]
    assert analytics(owner_conninfo, company.id) == []

    response = admin.post("/integrations/dhub/test", page="/integrations/dhub/", follow_redirects=True)
    assert outcome(response) == [("error", "Save the connection with the platform's API address first.")]


def test_the_check_times_out_after_a_few_seconds(app, company, owner_conninfo):
    """A server that accepts but never answers: the service gives up after its timeout."""
    from portal.extensions import db
    from portal.integrations.services import check_connection, get_integration, save_integration
    from portal.models import Company
    from portal.tenancy import tenant

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with app.app_context(), tenant(company.id):
            alpha = db.session.get(Company, company.id)
            save_integration(alpha, "nashmi", base_url=url)
            result = check_connection(get_integration(alpha, "nashmi"), timeout=0.3)
    assert not result.ok
    assert result.message.startswith("No answer from 127.0.0.1:")
    assert integration_row(owner_conninfo, company.id, "nashmi")["last_error"] == result.message
