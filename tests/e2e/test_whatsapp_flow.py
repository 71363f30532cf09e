"""WhatsApp end to end in a real browser: a manager writes a template and turns on its notification, staff accept
an order, the worker sends it to the simulator playing Meta, whose signed status webhooks move it SENT → READ on the
Messages page."""
import re
import threading

import pytest
from werkzeug.serving import make_server

from portal.extensions import db
from portal.messaging import services
from portal.queue import run_worker
from portal.simulator.meta import Meta, WhatsappLine
from portal.simulator.recorder import Journal, create_app as create_simulator
from portal.tenancy import tenant
from tests.conftest import PASSWORD, owner_rows
from tests.orders.helpers import add_order

expect = pytest.importorskip("playwright.sync_api", reason="Playwright not installed: pip install playwright").expect

pytestmark = pytest.mark.e2e

NUMBER, TOKEN, APP_SECRET = "106540352242922", "e2e-token", "e2e-app-secret"


@pytest.fixture
def meta_simulator():
    """The simulator's Meta on a free port; `start(connection_id, portal_url)` wires it to a connection."""
    servers = []

    def start(connection_id, portal_url):
        meta = Meta([WhatsappLine(NUMBER, str(connection_id), TOKEN, APP_SECRET)], portal_url, delay=1.5)
        server = make_server("127.0.0.1", 0, create_simulator(Journal(), meta=meta), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/v23.0"
    yield start
    for server in servers:
        server.shutdown()


def test_an_accepted_order_reaches_the_customer_and_is_read(app, page, live_server, make_company, make_integration,
                                                            sign_in, meta_simulator, owner_conninfo, artifacts_dir):
    company = make_company("Kabsa House")
    integration_id = make_integration(company, "NASHMI", base_url="http://127.0.0.1:9/nashmi")
    with app.app_context(), tenant(company.id):
        connection = services.save_connection(company.id, phone_number_id=NUMBER, token=TOKEN, app_secret=APP_SECRET,
                                              verify_token="verify", base_url="http://127.0.0.1:9/v23.0")
        db.session.commit()
        connection_id = connection.id
    base_url = meta_simulator(connection_id, live_server)
    with app.app_context(), tenant(company.id):
        services.save_connection(company.id, phone_number_id=NUMBER, base_url=base_url)
        db.session.commit()
    sign_in(company.email("COMPANY_ADMIN"), PASSWORD)

    page.goto("/messages/templates/new")
    page.fill("#name", "order_accepted")
    page.select_option("#language", "en")
    page.select_option("#status", "APPROVED")
    page.fill("#body", "Hi {{customer_name}}, {{restaurant}} accepted order #{{order_number}}. Ready by {{eta}}.")
    expect(page.locator("#template-preview .wa-bubble[dir=ltr]")).to_contain_text("Hi Sara, Al Noor Kitchen accepted")
    page.locator("form.form-card button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/messages/templates$"))

    page.goto("/messages/notifications")
    page.select_option("#template_ORDER_ACCEPTED", "order_accepted")
    page.check("#enabled_ORDER_ACCEPTED")
    page.locator("form.wa-rules button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()

    order_id = add_order(app, company, integration_id, order_type="PICKUP")
    page.goto(f"/orders/{order_id}")
    page.locator("form.action-accept button[type=submit]").click()
    expect(page.locator(".order-head")).to_contain_text("Accepted")

    run_worker(app, concurrency=1, wait=False)  # the send: the simulator answers with a wamid
    page.goto("/messages/")
    row = page.locator(".messages-table tbody tr").first
    expect(row.locator(".wa-status")).to_have_text(re.compile("Sent|Delivered|Read"))
    assert owner_rows(owner_conninfo, "SELECT status::text FROM whatsapp_messages")[0][0] in ("SENT", "DELIVERED",
                                                                                          "READ")
    expect(row).to_contain_text("+966551234567")

    def read_on_the_page():
        page.reload()
        return page.locator(".messages-table tbody tr .wa-status").first.inner_text().strip() == "Read"
    for _ in range(30):  # the simulator posts sent, delivered, read 1.5 s apart
        if read_on_the_page():
            break
        page.wait_for_timeout(500)
    else:
        pytest.fail("the simulator's status webhooks never made the message Read")
    page.screenshot(path=str(artifacts_dir / "whatsapp-messages-read.png"), full_page=True)

    page.locator(".messages-table tbody tr a").first.click()
    timeline = page.locator("main")
    for step in ("Sent", "Delivered", "Read"):
        expect(timeline).to_contain_text(step)
    assert owner_rows(owner_conninfo, "SELECT status::text, sent_at <= delivered_at, delivered_at <= read_at"
                                      " FROM whatsapp_messages") == [("READ", True, True)]
