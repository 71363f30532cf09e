"""Signing in, switching to Arabic, inviting a colleague, and the sign-in form by keyboard, in a real browser."""
import re

import pytest

expect = pytest.importorskip("playwright.sync_api", reason="Playwright not installed: pip install playwright").expect

pytestmark = pytest.mark.e2e

DASHBOARD = re.compile(r".*/$")
LOGIN = re.compile(r".*/login$")
LOGIN_WITH_EMAIL = re.compile(r".*/login\?email=.*")


def test_demo_admin_signs_in_and_switches_to_arabic(page, demo, artifacts_dir):
    page.goto("/login")
    page.fill("#email", demo["email"])
    page.fill("#password", demo["password"])
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(DASHBOARD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")
    expect(page.get_by_text("Orders today")).to_be_visible()
    expect(page.locator("[data-stat=orders-today]")).to_have_text(re.compile(r"\d"))
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "ltr")
    page.screenshot(path=str(artifacts_dir / "dashboard.png"), full_page=True)

    page.locator(".topbar").get_by_role("button", name="العربية").click()
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    assert DASHBOARD.match(page.url), page.url
    page.screenshot(path=str(artifacts_dir / "dashboard-ar.png"), full_page=True)

    page.locator(".topbar").get_by_role("button", name="English").click()
    expect(html).to_have_attribute("dir", "ltr")
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")


def test_wrong_password_shows_the_error_next_to_the_field(page, company_admin):
    page.goto("/login")
    page.fill("#email", company_admin.email)
    page.fill("#password", "not the password")
    page.get_by_role("button", name="Sign in").click()

    error = page.locator("#password-help")
    expect(error).to_have_text("E-mail or password is incorrect.")
    expect(error).to_be_visible()
    # next to the field: inside the password's own .field block, and announced through aria-describedby
    expect(page.locator(".field.has-error #password-help")).to_have_count(1)
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password")).to_have_attribute("aria-describedby", "password-help")
    expect(page.locator("#email")).to_have_value(company_admin.email)
    expect(page.locator("#password")).to_have_value("")
    assert LOGIN.match(page.url), page.url
    expect(page.locator(".topbar")).to_have_count(0)


def test_company_admin_invites_a_colleague_who_joins_from_the_link(page, company_admin, sign_in, artifacts_dir):
    sign_in(company_admin.email, company_admin.password)

    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_text("Settings", exact=True).click()  # company settings sit in one menu
    navigation.get_by_role("link", name="Users").click()
    page.wait_for_url(re.compile(r".*/users/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")

    page.get_by_role("link", name="Invite user").click()
    expect(page.locator("#password")).to_have_count(0)  # nobody types a colleague's password
    page.fill("#first_name", "Layla")
    page.fill("#last_name", "Haddad")
    page.fill("#email", "layla@alpha-kitchen.test")
    page.select_option("#role", "MANAGER")
    page.get_by_role("button", name="Send invitation").click()

    page.wait_for_url(re.compile(r".*/users/$"))
    expect(page.locator(".flash-success")).to_contain_text("Invitation sent to layla@alpha-kitchen.test")
    row = page.locator("tbody tr", has_text="layla@alpha-kitchen.test")
    expect(row).to_contain_text("Manager")
    expect(row).to_contain_text("Invited")
    page.screenshot(path=str(artifacts_dir / "users.png"), full_page=True)

    page.goto("/outbox/")  # no SMTP in tests: the message waits in the outbox with its link
    # The e-mailed link starts with PUBLIC_BASE_URL; this test's server listens elsewhere.
    link = page.locator("a[href*='/invitation/']").first.evaluate("a => new URL(a.href).pathname")
    page.locator(".topbar").get_by_role("button", name="Sign out").click()
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Join")
    page.fill("#password", "layla's own password")
    page.fill("#confirm", "layla's own password")
    page.screenshot(path=str(artifacts_dir / "invitation.png"), full_page=True)
    page.get_by_role("button", name="Set password").click()

    page.wait_for_url(LOGIN_WITH_EMAIL)
    expect(page.locator(".flash-success")).to_contain_text("Your password is set")
    expect(page.locator("#email")).to_have_value("layla@alpha-kitchen.test")
    page.fill("#password", "layla's own password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(DASHBOARD)


def test_a_person_changes_their_own_password_from_their_name(page, company_admin, sign_in, artifacts_dir):
    sign_in(company_admin.email, company_admin.password)
    page.locator(".topbar a.whoami").click()
    page.wait_for_url(re.compile(r".*/account$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.locator(".session-list")).to_contain_text("This browser")

    page.fill("#current_password", "not my password")
    page.fill("#password", "a new long password")
    page.fill("#confirm", "a new long password")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#current_password-help")).to_have_text("Your current password is not correct.")

    page.fill("#current_password", company_admin.password)
    page.fill("#password", "a new long password")
    page.fill("#confirm", "a new long password")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".flash-success")).to_contain_text("Your password is changed")
    page.screenshot(path=str(artifacts_dir / "account.png"), full_page=True)

    page.locator(".topbar").get_by_role("button", name="Sign out").click()
    page.fill("#email", company_admin.email)
    page.fill("#password", "a new long password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(DASHBOARD)


def test_two_step_sign_in_is_set_up_and_then_asked_for(page, company_admin, sign_in, artifacts_dir):
    import time

    import pyotp

    sign_in(company_admin.email, company_admin.password)
    page.goto("/account")
    page.get_by_role("link", name="Set up two-step sign-in").click()
    expect(page.locator(".qr-code img")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "two-step-setup.png"), full_page=True)
    page.get_by_text("Cannot scan? Type this key instead").click()
    secret = page.locator(".secret-key").inner_text().replace(" ", "")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.locator("#two-step")).to_contain_text("Recovery codes left: 10.")

    page.locator(".topbar").get_by_role("button", name="Sign out").click()
    page.fill("#email", company_admin.email)
    page.fill("#password", company_admin.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/login/two-step$"))
    expect(page.locator("#code")).to_be_focused()
    page.fill("#code", pyotp.TOTP(secret).at(time.time() + 30))  # the next step: this one is used
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(DASHBOARD)


def test_login_form_works_by_keyboard(page, company_admin):
    page.goto("/login")

    def focused():
        return page.evaluate(
            "() => { const e = document.activeElement;"
            " return e.id || (e.classList.contains('skip-link') ? 'skip-link' : e.tagName + ':' + e.textContent.trim()); }")

    assert focused() == "email"  # autofocus
    page.keyboard.press("Shift+Tab")
    assert focused() == "skip-link"  # nothing focusable sits before the e-mail field but the skip link

    page.keyboard.press("Tab")
    assert focused() == "email"
    page.keyboard.type(company_admin.email)
    page.keyboard.press("Tab")
    assert focused() == "password"
    page.keyboard.type(company_admin.password)
    page.keyboard.press("Tab")
    assert focused() == "BUTTON:Sign in"

    page.keyboard.press("Enter")
    page.wait_for_url(DASHBOARD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")
