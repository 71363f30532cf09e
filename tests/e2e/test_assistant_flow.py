"""The assistant end to end in two browsers: a customer asks the web chat (Arabic, 390 px) where the order is,
proves it with its number and phone digits, asks for a person; staff answer from the Inbox in another browser,
and the answer appears in the customer's chat without a reload. The real intent classifier answers."""

import pytest

from tests.conftest import PASSWORD, owner_rows
from tests.e2e.conftest import TIMEOUT_MS

expect = pytest.importorskip("playwright.sync_api", reason="Playwright not installed: pip install playwright").expect

pytestmark = pytest.mark.e2e


def test_a_customer_asks_and_staff_answer_from_the_inbox(app, page, browser, live_server, make_company,
                                                           make_integration, sign_in, owner_conninfo,
                                                           artifacts_dir):
    from tests.orders.helpers import add_order
    company = make_company("Kabsa House")
    integration_id = make_integration(company, "NASHMI", base_url="http://127.0.0.1:9/nashmi")
    add_order(app, company, integration_id, status="ACCEPTED", order_number="1042")  # phone ends 4567
    chat_id = owner_rows(owner_conninfo, "SELECT public_chat_id FROM companies WHERE id = %s", company.id)[0][0]

    customer_context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 800}, locale="ar")
    customer_context.set_default_timeout(TIMEOUT_MS)
    customer = customer_context.new_page()
    refused = []
    customer.on("console", lambda message: refused.append(message.text)
                if "Content Security Policy" in message.text else None)
    try:
        customer.goto(f"/chat/{chat_id}")
        expect(customer.locator(".chat-head h1")).to_have_text("Kabsa House")
        if customer.locator("html").get_attribute("dir") != "rtl":
            customer.get_by_role("button", name="العربية").click()
        expect(customer.locator("html")).to_have_attribute("dir", "rtl")

        def say(text):
            count = customer.locator(".chat-message").count()
            customer.fill("#text", text)
            customer.locator(".chat-send").click()
            expect(customer.locator(".chat-message")).to_have_count(count + 2, timeout=TIMEOUT_MS)

        say("وين طلبي")
        expect(customer.locator(".chat-message.from-assistant").last).to_contain_text("آخر 4 أرقام")
        say("1042 4567")
        expect(customer.locator(".chat-message.from-assistant").last).to_contain_text("#1042")
        say("ابي اكلم موظف")
        expect(customer.locator(".chat-message.from-assistant").last).to_contain_text("فريق")
        customer.screenshot(path=str(artifacts_dir / "assistant-widget-390-ar.png"), full_page=True)
        assert customer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        sign_in(company.email("USER"), PASSWORD)
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto("/inbox/")
        row = page.locator(".inbox-row.status-staff").first
        expect(row).to_contain_text("Asked for a person")
        expect(row).to_contain_text("#1042")
        page.screenshot(path=str(artifacts_dir / "assistant-inbox-1366.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(artifacts_dir / "assistant-inbox-390.png"), full_page=True)
        row.locator(".inbox-who").click()
        page.fill("#text", "هلا، معك سارة. طلبك بالطريق إن شاء الله")
        page.get_by_role("button", name="Send reply").click()
        expect(page.locator(".flash-success")).to_be_visible()
        page.screenshot(path=str(artifacts_dir / "assistant-conversation-390.png"), full_page=True)

        url_before = customer.url
        expect(customer.locator(".chat-message.from-staff")).to_contain_text("معك سارة", timeout=8000)
        expect(customer.locator(".chat-message.from-staff .chat-who")).to_have_text("الفريق")
        assert customer.url == url_before  # no reload: the poll brought it
        customer.screenshot(path=str(artifacts_dir / "assistant-widget-390-ar-reply.png"), full_page=True)
    finally:
        customer_context.close()
    assert not refused, refused
