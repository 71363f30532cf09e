"""An admin connects Talabat in the browser, the simulator sends orders, the Webhook log shows them."""
import re
from datetime import datetime, timezone

import pytest

from portal.extensions import db
from portal.models import Product
from portal.simulator.orders import OrderFactory
from portal.simulator.sender import Sender
from portal.simulator.targets import load_targets
from portal.tenancy import tenant

pytestmark = pytest.mark.e2e


def test_set_up_talabat_run_the_simulator_and_see_the_orders(app, page, sign_in, live_server, company_admin,
                                                             artifacts_dir):
    company = company_admin.company
    with app.app_context(), tenant(company.id):
        for number, (name, price) in enumerate([("Chicken Shawarma", 14), ("Kunafa", 22)], start=1):
            db.session.add(Product(company_id=company.id, local_product_id=f"P{number:03d}", name=name, price=price))
        db.session.commit()

    sign_in(company_admin.email, company_admin.password)
    page.goto("/integrations/")
    page.locator(".platform-card", has_text="Talabat").get_by_role("link", name=re.compile("Set up")).click()
    # Without a webhook secret the connection cannot be on, and the page says why.
    page.get_by_label("Chain code").fill("alpha-chain")
    page.get_by_label("Receive orders from this platform").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Generate a webhook secret before turning Talabat on").wait_for()
    assert page.get_by_label("Chain code").input_value() == "alpha-chain"  # what was typed is kept

    page.get_by_role("button", name=re.compile("webhook secret", re.I)).click()
    secret_box = page.locator(".secret-once").first
    secret_box.wait_for()
    assert page.url.endswith("/integrations/talabat/")  # redirected after the POST
    page.get_by_label("Chain code").fill("alpha-chain")
    page.get_by_label("Vendor remote id").fill("alpha-vendor-1")
    page.get_by_label("Middleware username").fill("alpha-user")
    page.get_by_label("Receive orders from this platform").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("On: receiving orders").wait_for()

    # Regenerating, then saving the page untouched, keeps the connection on.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=re.compile("webhook secret", re.I)).click()
    page.locator(".secret-once").first.wait_for()
    assert page.get_by_label("Receive orders from this platform").is_checked()
    page.screenshot(path=str(artifacts_dir / "integration-talabat.png"), full_page=True)
    assert "alpha-user" not in page.content()  # credentials never come back to the browser
    page.get_by_role("button", name="Save").click()
    page.get_by_text("On: receiving orders").wait_for()

    # The simulator plays Talabat: three signed orders in the Delivery Hero format.
    with app.app_context():
        targets, _ = load_targets(company.name, ["TALABAT"])
    sender, factory = Sender(live_server), OrderFactory()
    for _ in range(3):
        result = sender.send(targets[0], factory.order(targets[0], datetime.now(timezone.utc)).webhook)
        assert result.ok, result

    page.goto("/webhooks/log")
    rows = page.locator("tbody tr", has_text="Talabat")
    rows.first.wait_for()
    assert rows.count() == 3
    assert page.locator("tbody .outcome-processed").count() == 3
    page.screenshot(path=str(artifacts_dir / "webhook-log.png"), full_page=True)
    rows.first.get_by_role("link").click()
    page.get_by_role("heading", name="Payload").wait_for()
    assert "[redacted" in page.content()  # the Authorization header, kept only as its length
