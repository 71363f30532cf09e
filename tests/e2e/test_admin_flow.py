"""Platform administration in a real browser: find a company, open it, suspend it, reactivate it."""
import re

import pytest

expect = pytest.importorskip("playwright.sync_api", reason="Playwright not installed: pip install playwright").expect

pytestmark = pytest.mark.e2e


def test_operator_finds_suspends_and_reactivates_a_company(page, make_company, sign_in, artifacts_dir):
    from tests.conftest import PASSWORD
    operator = make_company("Alpha Kitchen", super_admin=True)
    make_company("Beta Grill", currency="KWD", timezone="Asia/Kuwait")
    sign_in(operator.email("SUPER_ADMIN"), PASSWORD)

    page.goto("/admin/companies")
    page.fill("#q", "beta")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Beta Grill").click()
    page.wait_for_url(re.compile(r".*/admin/companies/[0-9a-f-]+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Beta Grill")

    page.once("dialog", lambda dialog: dialog.accept())  # "Suspend Beta Grill?"
    page.get_by_role("button", name="Suspend", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("Suspended.")
    expect(page.locator("h1 .status")).to_have_text("Suspended")
    page.screenshot(path=str(artifacts_dir / "admin-company.png"), full_page=True)

    page.get_by_role("button", name="Reactivate").click()
    expect(page.locator("h1 .status")).to_have_text("Active")


def test_operator_views_a_company_read_only_and_stops(page, make_company, sign_in, artifacts_dir):
    from tests.conftest import PASSWORD
    operator = make_company("Alpha Kitchen", super_admin=True)
    beta = make_company("Beta Grill", currency="KWD", timezone="Asia/Kuwait")
    sign_in(operator.email("SUPER_ADMIN"), PASSWORD)

    page.goto(f"/admin/companies/{beta.id}")
    page.get_by_role("button", name="View as this company").click()
    page.wait_for_url(re.compile(r".*/dashboard.*|.*/$"))
    banner = page.locator(".view-as-banner")
    expect(banner).to_contain_text("You are viewing Beta Grill read-only")
    expect(page.locator(".brand")).to_contain_text("Beta Grill")

    page.goto("/settings/")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts_dir / "view-as-settings-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1366, "height": 900})
    page.locator("main form button[type=submit]").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Read-only view")

    banner.get_by_role("button", name="Stop viewing").click()
    page.wait_for_url(re.compile(rf".*/admin/companies/{beta.id}$"))
    expect(page.locator(".view-as-banner")).to_have_count(0)
    expect(page.locator(".brand")).to_contain_text("Alpha Kitchen")
