"""The simulator against the real portal: signed orders in, the portal's calls out, one company only."""
import random
import threading
from decimal import Decimal
from urllib.parse import urlsplit

import psycopg
import pytest
from werkzeug.serving import make_server

from portal.extensions import db
from portal.queue import run_worker
from portal.models import IntegrationConfig, OrderStatus
from portal.simulator.recorder import Journal, create_app as create_recorder
from portal.simulator.sender import Sender, Simulation
from portal.simulator.targets import TargetError, load_targets
from portal.tenancy import tenant

LONG = "0123456789abcdef" * 4   # HS512 wants 64-byte keys (PyJWT warns below that)


def _rows(conninfo, sql, params=()):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchall()


def client_transport(client):
    """The sender's transport over Flask's test client: (url, body, headers) -> (status, text)."""
    def send(url, body, headers, method="POST"):
        response = client.open(urlsplit(url).path, method=method, data=body, headers=headers)
        return response.status_code, response.get_data(as_text=True)
    return send


@pytest.fixture
def serve():
    """Serve a WSGI app on a free port of 127.0.0.1 for the test; returns its base URL."""
    servers = []

    def start(wsgi_app):
        server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"
    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture
def kitchens(make_company, make_integration, add_menu):
    """Alpha (SAR) with Talabat, Careem and Nashmi, plus a disabled Yallow; Beta (KWD) with Talabat."""
    alpha, beta = make_company("Alpha Kitchen"), make_company("Beta Grill", currency="KWD", timezone="Asia/Kuwait")
    alpha_integrations = {platform: make_integration(alpha, platform, secret=f"alpha-{platform.lower()}-{LONG}")
                          for platform in ("TALABAT", "CAREEM", "NASHMI")}
    make_integration(alpha, "YALLOW", secret=f"alpha-yallow-{LONG}", enabled=False)
    add_menu(alpha, alpha_integrations, unavailable={"P005"})
    beta_integration = make_integration(beta, "TALABAT", secret=f"beta-talabat-{LONG}")
    add_menu(beta, {"TALABAT": beta_integration})
    return alpha, beta, alpha_integrations


def test_targets_come_from_the_company_s_enabled_integrations(app, kitchens):
    alpha, _, integrations = kitchens
    with app.app_context():
        targets, warnings = load_targets("Alpha Kitchen")
        assert warnings == []
        assert {target.platform: target.integration_id for target in targets} == {
            platform: str(integration_id) for platform, integration_id in integrations.items()}
        talabat = next(target for target in targets if target.platform == "TALABAT")
        assert talabat.secret == f"alpha-talabat-{LONG}" and talabat.store_id == "vendor-1"
        assert (talabat.currency, talabat.country_code, talabat.company_name) == ("SAR", "SA", "Alpha Kitchen")
        # Mapped and available only (P005's mapping is off), at the platform's price.
        assert [(item.local_product_id, item.price) for item in talabat.menu] == [
            ("P001", Decimal("29.00")), ("P002", Decimal("15.00")), ("P003", Decimal("59.00")),
            ("P004", Decimal("23.00"))]
        assert talabat.menu[0].platform_product_id == "TAL-P001" and talabat.menu[0].name_ar == "برجر لحم كلاسيك"

        only, warnings = load_targets("Alpha Kitchen", ["careem", "yallow"])
        assert [target.platform for target in only] == ["CAREEM"]
        assert warnings == ["YALLOW: Alpha Kitchen has no enabled integration for it."]
        with pytest.raises(TargetError):
            load_targets("Alpha")   # names match exactly


def test_simulated_orders_become_orders_of_that_company_only(app, client, kitchens, owner_conninfo):
    alpha, beta, integrations = kitchens
    with app.app_context():
        targets, _ = load_targets("Alpha Kitchen")
    journal, lines = Journal(), []
    sender = Sender("http://localhost", transport=client_transport(client), journal=journal)
    simulation = Simulation(targets, sender, rate=60_000, count=15, cancel_share=0, echo=lines.append,
                            rng=random.Random(7))
    assert simulation.run() == 15

    assert all(result.ok for result in simulation.results), lines
    assert len(lines) == 15 and all("→ 200" in line for line in lines)
    orders = _rows(owner_conninfo, "SELECT company_id, platform, platform_order_id, status, total_amount, "
                                   "integration_config_id, order_items FROM delivery_orders")
    assert len(orders) == 15
    assert {row[0] for row in orders} == {alpha.id}
    assert {row[1] for row in orders} == {"TALABAT", "CAREEM", "NASHMI"}
    assert all(row[5] == integrations[row[1]] for row in orders)
    assert {row[3] for row in orders} == {"PENDING"}
    assert {item["local_product_id"] for row in orders for item in row[6]} <= {"P001", "P002", "P003", "P004"}
    sent_totals = sorted(str(result.webhook.body.get("price", {}).get("grandTotal")
                             or result.webhook.body.get("details", {}).get("price", {}).get("total_taxable_price")
                             or result.webhook.body["order"]["totals"]["total"]) for result in simulation.results)
    assert sorted(str(Decimal(str(row[4])).quantize(Decimal("0.01"))) for row in orders) == \
        sorted(str(Decimal(total).quantize(Decimal("0.01"))) for total in sent_totals)
    assert _rows(owner_conninfo, "SELECT DISTINCT outcome, company_id FROM webhook_logs") == [("PROCESSED", alpha.id)]
    assert _rows(owner_conninfo, "SELECT count(*) FROM delivery_orders WHERE company_id = %s", (beta.id,)) == [(0,)]
    assert len(journal.sent) == 15 and journal.sent[-1]["status"] == 200


def test_the_platforms_cancel_a_share_of_their_orders(app, client, kitchens, owner_conninfo):
    with app.app_context():
        targets, _ = load_targets("Alpha Kitchen")
    lines = []
    simulation = Simulation(targets, Sender("http://localhost", transport=client_transport(client)), rate=60_000,
                            count=6, cancel_share=1.0, cancel_after=(0, 0), echo=lines.append, rng=random.Random(3))
    simulation.run()
    assert simulation.pending() == 0
    statuses = _rows(owner_conninfo, "SELECT platform, status, cancelled_at IS NOT NULL FROM delivery_orders")
    assert len(statuses) == 6 and {(status, stamped) for _, status, stamped in statuses} == {("CANCELLED", True)}
    assert len(lines) == 12   # six orders, six cancellations
    history = _rows(owner_conninfo, "SELECT DISTINCT source FROM order_status_history WHERE to_status = 'CANCELLED'")
    assert history == [("PLATFORM",)]


def test_the_portal_s_calls_reach_the_simulator_which_plays_the_captain(app, client, kitchens, owner_conninfo,
                                                                     serve):
    """Careem order in → auto-accepted → worker PUTs /orders/<id> → ready → captain picks up and delivers."""
    alpha, _, integrations = kitchens
    journal = Journal()
    base = serve(create_recorder(journal))
    with app.app_context(), tenant(alpha.id):
        integration = db.session.get(IntegrationConfig, integrations["CAREEM"])
        integration.base_url = f"{base}/careem"
        integration.auto_accept = {"enabled": True, "preparation_minutes": 15}
        db.session.commit()
    with app.app_context():
        targets, _ = load_targets("Alpha Kitchen", ["careem"])
    simulation = Simulation(targets, Sender("http://localhost", transport=client_transport(client), journal=journal),
                            rate=60_000, count=1, cancel_share=0, pickup_after=(0, 0), delivery_after=(0, 0),
                            echo=lambda line: None, rng=random.Random(5))
    journal.listeners.append(simulation.on_platform_call)
    (order, result), = [simulation.place_order()]
    assert result.ok and order.webhook.body["details"]["delivery_type"] in ("careem", "merchant")
    order.webhook.body["details"]["delivery_type"] = "careem"   # the captain only comes for Careem delivery

    run_worker(app, concurrency=1, wait=False)
    assert [(call["method"], call["path"], call["json"]) for call in journal.calls] == [
        ("PUT", f"/orders/{order.platform_order_id}", {"state": "accepted"})]

    # Staff mark it ready: the portal tells Careem, and Careem's captain comes.
    from portal.integrations.outbound import queue_status_push
    from portal.models import DeliveryOrder
    from portal.orders.lifecycle import apply_status
    with app.app_context(), tenant(alpha.id):
        row = db.session.scalar(db.select(DeliveryOrder).where(DeliveryOrder.platform_order_id
                                                               == order.platform_order_id))
        apply_status(row, OrderStatus.READY_FOR_PICKUP)
        queue_status_push(row, db.session.get(IntegrationConfig, integrations["CAREEM"]), OrderStatus.READY_FOR_PICKUP)
        db.session.commit()
    run_worker(app, concurrency=1, wait=False)
    assert journal.calls[-1]["json"] == {"state": "ready"}
    assert simulation.pending() == 2
    assert simulation.send_due() == 2
    assert [entry["event"] for entry in journal.sent] == ["ORDER_CREATED", "trip_started", "trip_ended"]
    assert _rows(owner_conninfo, "SELECT status FROM delivery_orders") == [("DELIVERED",)]


def test_the_command_sends_orders_over_http(app, runner, kitchens, owner_conninfo, serve):
    alpha, _, _ = kitchens
    portal_url = serve(app)
    with app.app_context():
        result = runner.invoke(args=["simulate", "--company", "Alpha Kitchen", "--portal-url", portal_url,
                                     "--count", "3", "--no-serve", "--rate", "600", "--cancel-share", "0",
                                     "--platform", "talabat", "--platform", "nashmi", "--seed", "1"])
    assert result.exit_code == 0, result.output
    sent = [line for line in result.output.splitlines() if "→" in line]
    assert len(sent) == 3 and all("→ 200" in line for line in sent), result.output
    assert "3 orders sent, 3 accepted by the portal" in result.output
    assert _rows(owner_conninfo, "SELECT company_id, count(*) FROM delivery_orders GROUP BY company_id") == \
        [(alpha.id, 3)]
    assert {row[0] for row in _rows(owner_conninfo, "SELECT platform FROM delivery_orders")} <= {"TALABAT", "NASHMI"}


def test_the_command_explains_what_it_cannot_do(app, runner, kitchens):
    with app.app_context():
        unknown = runner.invoke(args=["simulate", "--company", "Nobody", "--count", "1", "--no-serve"])
        nothing = runner.invoke(args=["simulate", "--company", "Alpha Kitchen", "--platform", "tawasi",
                                      "--count", "1", "--no-serve"])
    assert unknown.exit_code != 0 and "No single company is named 'Nobody'" in unknown.output
    assert nothing.exit_code != 0 and "no enabled integration" in nothing.output
