"""Loyalty in a real browser: set up a program, deliver an order, find the customer by another
form of their phone, see the points, and redeem them on their next order."""
import json
import re

import pytest
import requests

from portal.platforms import adapter_for

pytestmark = pytest.mark.e2e

PHONE = "+966551230000"


def _careem_order(order_id, customer="Reem Al-Otaibi"):
    with open("tests/fixtures/payloads/careem-order-created-example.json") as payload:
        order = json.load(payload)
    order["details"].update(id=order_id, delivery_type="merchant", is_scheduled=False,
                            delivery={"type": "merchant", "delivery_mode": "asap"})
    order["details"]["customer"].update(name=customer, phone_number=PHONE)
    return order


def _post_webhook(live_server, integration_id, body, secret="webhook-secret-123"):
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **adapter_for("CAREEM").sign(raw, secret)}
    return requests.post(f"{live_server}/webhooks/careem/{integration_id}", data=raw, headers=headers, timeout=10)


@pytest.fixture
def restaurant(company_admin, make_integration):
    return company_admin, make_integration(company_admin.company, "CAREEM")


def _open_order(page, number):
    page.goto(f"/orders/?q={number}")
    page.get_by_role("link", name=re.compile(str(number))).first.click()
    page.locator("#loyalty-panel").wait_for()


def test_deliver_an_order_see_the_points_and_redeem_them(page, sign_in, live_server, restaurant, artifacts_dir):
    admin, integration_id = restaurant
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(admin.email, admin.password)

    # Set up the program: the summary follows what is typed.
    page.get_by_role("link", name="Loyalty").click()
    page.get_by_text("No loyalty program is running").wait_for()
    page.get_by_role("link", name="Set up a program").click()
    page.fill("#name", "Kabsa Rewards")
    page.select_option("#program_type", "POINTS_BASED")
    page.fill("#min_redemption_points", "10")
    page.fill("#points_per_currency_unit", "2")
    page.locator("#program-summary", has_text="2 points for every").wait_for()
    page.screenshot(path=str(artifacts_dir / "loyalty-program-form.png"), full_page=True)
    page.fill("#max_redemption_percentage", "150")
    page.get_by_role("button", name="Create program").click()
    page.locator(".has-error", has_text="between 1 and 100").wait_for()  # refused, next to the field
    page.fill("#max_redemption_percentage", "50")
    page.get_by_role("button", name="Create program").click()
    page.get_by_text("“Kabsa Rewards” is set up.").wait_for()

    # An order arrives from Careem and is delivered: it earns points.
    assert _post_webhook(live_server, integration_id, _careem_order(81000001)).status_code == 200
    _open_order(page, 81000001)
    assert "Earns about 155 points when delivered" in page.inner_text("#loyalty-panel")
    # The restaurant delivers this one itself: every step in turn, then Delivered.
    for step in ("accept", "start", "ready", "deliver"):
        page.locator(f"form.action-{step} button").click()
        page.wait_for_load_state()
    page.locator("#loyalty-panel", has_text="This order earned 155 points.").wait_for()

    # The customer's page, found by the phone written another way.
    page.goto("/loyalty/customers")
    page.fill("#q", "055 123 0000")
    page.locator("#customer-results", has_text="Reem Al-Otaibi").wait_for()
    page.screenshot(path=str(artifacts_dir / "loyalty-customers.png"), full_page=True)
    page.get_by_role("link", name="Reem Al-Otaibi").click()
    assert page.inner_text("#member-points") == "155"
    page.get_by_text("Earned").first.wait_for()

    # Her next order: staff redeem points on it from the order page.
    assert _post_webhook(live_server, integration_id, _careem_order(81000002)).status_code == 200
    _open_order(page, 81000002)
    panel = page.locator("#loyalty-panel")
    assert "155" in panel.inner_text()
    page.fill("#points", "5")
    panel.get_by_role("button", name="Redeem points").click()
    panel.get_by_text("Redeem at least 10 points.").wait_for()  # refused in place, nothing spent
    page.fill("#points", "100")
    page.keyboard.press("Enter")
    # In the panel (htmx), or at the top of the order page when the form was sent before htmx had
    # taken over the panel it had just swapped in (a plain POST and redirect): the same message.
    page.get_by_text("Redeemed 100 points: take SAR").first.wait_for()
    panel.get_by_text("100 points were redeemed on this order").wait_for()
    page.screenshot(path=str(artifacts_dir / "loyalty-order-panel.png"), full_page=True)

    page.goto("/loyalty/customers?q=0551230000")
    page.get_by_role("link", name="Reem Al-Otaibi").click()
    assert page.inner_text("#member-points") == "55"
    page.get_by_text("Redeemed").first.wait_for()
    page.screenshot(path=str(artifacts_dir / "loyalty-customer.png"), full_page=True)

    page.goto("/loyalty/")
    page.locator(".chart-card.has-chart canvas").wait_for()
    page.screenshot(path=str(artifacts_dir / "loyalty-dashboard.png"), full_page=True)

    # The same pages read right to left in Arabic.
    page.goto("/loyalty/customers?q=0551230000")
    page.get_by_role("link", name="Reem Al-Otaibi").click()
    page.locator(".language-switch button").click()
    page.locator("html[dir=rtl]").wait_for()
    page.screenshot(path=str(artifacts_dir / "loyalty-customer-ar.png"), full_page=True)


def test_demo_program_shows_a_real_ledger(page, sign_in, demo, app, artifacts_dir):
    """`make run`'s demo: members with points earned on delivered orders, tiers, a chart, redemptions."""
    from portal.demo import SAMPLE_COMPANY_ID
    from portal.loyalty.balance_check import check_balances
    from portal.tenancy import tenant

    with app.app_context(), tenant(SAMPLE_COMPANY_ID):
        result = check_balances()
        assert result.ok and result.members > 50
    sign_in(demo["email"], demo["password"])
    page.goto("/loyalty/")
    page.locator(".chart-card.has-chart canvas").wait_for()
    assert "Silver" in page.inner_text("#tiers")
    page.screenshot(path=str(artifacts_dir / "loyalty-demo-dashboard.png"), full_page=True)
    page.goto("/loyalty/customers?sort=points")
    page.screenshot(path=str(artifacts_dir / "loyalty-demo-customers.png"), full_page=True)
    page.locator(".customers-table a").first.click()
    page.locator(".tier-progress-card").wait_for()
    assert int(page.inner_text("#member-points").replace(",", "")) > 0
    page.screenshot(path=str(artifacts_dir / "loyalty-demo-customer.png"), full_page=True)
