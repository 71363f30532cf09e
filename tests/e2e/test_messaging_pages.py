"""WhatsApp pages in a real browser, in Arabic: a manager writes a template with the live preview showing,
turns on a notification for it, and the templates and messages pages fit a phone and a laptop."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import PASSWORD, owner_rows
from tests.e2e.conftest import wait_until
from tests.e2e.test_widths import MEASURE
from tests.messaging.test_pages import add_message, add_template

expect = pytest.importorskip("playwright.sync_api", reason="Playwright not installed: pip install playwright").expect

pytestmark = pytest.mark.e2e

BODY = "مرحبا {{customer_name}}، طلبك رقم {{order_number}} جاهز للاستلام من {{restaurant}}."


def _fits(page, width, name, artifacts_dir):
    page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
    page.wait_for_timeout(150)
    page.screenshot(path=str(artifacts_dir / f"{name}-{width}.png"), full_page=True)
    problems = page.evaluate(MEASURE)
    assert problems == [], f"{name} at {width}px: {problems}"


def test_manager_writes_an_arabic_template_and_turns_on_its_notification(page, make_company, sign_in,
                                                                         owner_conninfo, artifacts_dir):
    company = make_company("Alpha Kitchen")
    sign_in(company.email("MANAGER"), PASSWORD)
    page.click("form.language-switch button[value=ar]")
    page.wait_for_selector("html[dir=rtl]")

    page.goto("/messages/templates/new")
    page.fill("#name", "order_ready")
    page.select_option("#language", "ar")
    page.select_option("#status", "APPROVED")
    page.fill("#body", BODY)
    bubble = page.locator("#template-preview .wa-bubble[dir=rtl]")
    expect(bubble).to_contain_text("مرحبا سارة، طلبك رقم 1042 جاهز للاستلام من مطبخ النور.")
    expect(page.locator("#template-preview .wa-bubble[dir=ltr]")).to_contain_text("Al Noor Kitchen")
    expect(page.locator("#template-preview .wa-ok")).to_be_visible()
    # A variable the portal cannot fill shows up in the preview while typing.
    page.fill("#body", BODY + " {{nickname}} شكرا")
    expect(page.locator("#template-preview .wa-check")).to_contain_text("{{nickname}}")
    _fits(page, 390, "messaging-template-form-ar", artifacts_dir)
    _fits(page, 1366, "messaging-template-form-ar", artifacts_dir)
    page.fill("#body", BODY)
    expect(page.locator("#template-preview .wa-ok")).to_be_visible()
    page.locator("form.form-card button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/messages/templates$"))
    expect(page.locator(".templates-table tbody tr")).to_have_count(1)
    add_template(owner_conninfo, company.id, "on_the_way", language="en", status="REJECTED")
    page.reload()
    _fits(page, 390, "messaging-templates-ar", artifacts_dir)
    _fits(page, 1366, "messaging-templates-ar", artifacts_dir)

    page.goto("/messages/notifications")
    page.select_option("#template_ORDER_READY", "order_ready")
    page.check("#enabled_ORDER_READY")
    page.locator("form.wa-rules button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    assert owner_rows(owner_conninfo, "SELECT event, template_name, is_enabled FROM whatsapp_notification_rules") \
        == [("ORDER_READY", "order_ready", True)]
    _fits(page, 390, "messaging-notifications-ar", artifacts_dir)


def test_messages_page_with_its_chart_fits_in_arabic(page, make_company, sign_in, owner_conninfo, artifacts_dir):
    company = make_company("Alpha Kitchen")
    ready = add_template(owner_conninfo, company.id, "order_ready")
    on_way = add_template(owner_conninfo, company.id, "out_for_delivery_update", language="en")
    now = datetime.now(timezone.utc)
    for minutes, (template, status) in enumerate([(ready, "READ"), (ready, "DELIVERED"), (on_way, "SENT"),
                                                  (ready, "READ"), (on_way, "DELIVERED")]):
        add_message(owner_conninfo, company.id, template, status=status, created=now - timedelta(minutes=minutes),
                    phone=f"+96650123456{minutes}")
    failed = add_message(owner_conninfo, company.id, on_way, status="FAILED", error_code="131026",
                         error_message="Message undeliverable", phone="+966501234599")
    sign_in(company.email("MANAGER"), PASSWORD)
    page.click("form.language-switch button[value=ar]")
    page.wait_for_selector("html[dir=rtl]")
    page.goto("/messages/")
    page.locator(".chart-card.has-chart canvas").wait_for()
    wait_until(page, "() => !!document.querySelector('#wa-chart') && document.querySelector('#wa-chart').width > 0")
    _fits(page, 390, "messaging-messages-ar", artifacts_dir)
    _fits(page, 1024, "messaging-messages-ar", artifacts_dir)
    _fits(page, 1366, "messaging-messages-ar", artifacts_dir)
    page.goto(f"/messages/{failed}")
    expect(page.locator(".wa-timeline .failed")).to_contain_text("131026")
    _fits(page, 390, "messaging-message-ar", artifacts_dir)
