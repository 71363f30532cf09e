"""The kitchen's day in a real browser: orders arrive on the board by themselves and move through it."""
import json
import re
import time

import pytest
import requests

from portal.extensions import db
from portal.models import Product
from portal.platforms import adapter_for
from portal.tenancy import tenant
from tests.e2e.conftest import wait_until

pytestmark = pytest.mark.e2e


def _careem_order(order_id, customer="Reem Al-Otaibi"):
    with open("tests/fixtures/payloads/careem-order-created-example.json") as payload:
        order = json.load(payload)
    order["details"].update(id=order_id, delivery_type="merchant", is_scheduled=False,
                            delivery={"type": "merchant", "delivery_mode": "asap"})
    order["details"]["customer"].update(name=customer, phone_number="+966551230000")
    return order


def _post_webhook(live_server, integration_id, body, secret="webhook-secret-123"):
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **adapter_for("CAREEM").sign(raw, secret)}
    return requests.post(f"{live_server}/webhooks/careem/{integration_id}", data=raw, headers=headers, timeout=10)


@pytest.fixture
def kitchen(app, company_admin, make_integration):
    integration_id = make_integration(company_admin.company, "CAREEM")
    with app.app_context(), tenant(company_admin.company.id):
        db.session.add(Product(company_id=company_admin.company.id, price=11,
                               local_product_id="d92fdf11-f4a2-4ce3-8fbe-fc658bfbed5a", name="Chicken Kabsa"))
        db.session.commit()
    return company_admin, integration_id


def test_an_order_arrives_is_accepted_rejected_found_and_explained(page, sign_in, live_server, kitchen,
                                                                   artifacts_dir):
    admin, integration_id = kitchen
    sign_in(admin.email, admin.password)
    page.goto("/board")
    page.get_by_text("No new orders").wait_for()

    # A signed webhook arrives: its card appears without a reload, within two seconds.
    sent = time.monotonic()
    assert _post_webhook(live_server, integration_id, _careem_order(70000001)).status_code == 200
    card = page.locator(".lane-new .order-card", has_text="#70000001")
    card.wait_for(timeout=2500)
    assert time.monotonic() - sent < 2.5
    assert "Chicken Kabsa" in card.inner_text() and "Reem" in card.inner_text()
    page.screenshot(path=str(artifacts_dir / "board.png"), full_page=True)

    # Accept it: it moves to Preparing.
    card.get_by_role("button", name="Accept").click()
    page.locator(".lane-preparing .order-card", has_text="#70000001").wait_for()

    # A second order is rejected, with a reason from Careem's own list, using the keyboard.
    _post_webhook(live_server, integration_id, _careem_order(70000002, customer="Omar Haddad"))
    second = page.locator(".lane-new .order-card", has_text="#70000002")
    second.wait_for()
    second.focus()
    page.keyboard.press("r")
    page.locator("#reject-dialog").wait_for(state="visible")
    # Like the order page, no reason is chosen for the kitchen: the dialog asks for one.
    assert page.locator("#reject-reason").input_value() == ""
    assert page.locator("#reject-reason option").first.inner_text() == "Choose a reason…"
    page.locator("#reject-dialog").get_by_role("button", name="Reject order").click()
    assert page.locator("#reject-dialog").is_visible()  # not sent without a reason
    page.select_option("#reject-reason", "KITCHEN_TOO_BUSY_TO_PREPARE_ORDER")
    page.locator("#reject-dialog").get_by_role("button", name="Reject order").click()
    page.get_by_text("Order #70000002 rejected: Kitchen too busy to prepare the order.").wait_for()
    page.locator("#lane-done summary").click()
    page.locator("#lane-done .order-card", has_text="#70000002").wait_for()

    # The orders page finds it by the customer's name; its page explains what happened.
    page.goto("/orders/?q=Omar")
    page.get_by_text("70000002").first.wait_for()
    page.screenshot(path=str(artifacts_dir / "orders.png"), full_page=True)
    page.get_by_role("link", name=re.compile("70000002")).first.click()
    page.get_by_text("Kitchen too busy to prepare the order").first.wait_for()
    body = page.inner_text("body")
    assert "Rejected" in body and "77.80" in body
    page.screenshot(path=str(artifacts_dir / "order-detail.png"), full_page=True)


def test_new_order_alert_asks_for_sound_and_pulses(page, sign_in, live_server, kitchen):
    admin, integration_id = kitchen
    sign_in(admin.email, admin.password)
    page.goto("/board")
    button = page.locator("#sound-toggle")
    assert button.get_attribute("aria-pressed") == "false"
    button.click()  # the one click browsers need before they play sound
    assert button.get_attribute("aria-pressed") == "true"
    _post_webhook(live_server, integration_id, _careem_order(70000003))
    card = page.locator(".order-card.is-pending", has_text="#70000003")
    card.wait_for(timeout=2500)
    wait_until(page, "document.title.startsWith('(1)')", timeout_ms=6000)
    card.focus()
    page.keyboard.press("a")  # a = accept the focused card
    page.locator(".lane-preparing .order-card", has_text="#70000003").wait_for()
