"""Every page fits the widths restaurants use (phone 390, tablet 1024, laptop 1366) in English and Arabic.

Fails when the document is wider than the window (sideways scrolling), when a figure's text overflows
its box (a clipped "SAR 52,230."), or when anything sticks out of the card it sits in. A screenshot
of every page that does not fit goes to tests/e2e/artifacts/widths/ (of every page at every width with
WIDTH_SCREENSHOTS=1, to look at them all).
"""
import os
import re

import pytest

pytestmark = pytest.mark.e2e

WIDTHS = (390, 1024, 1366)
# A screenshot of each page that does not fit; of every page with WIDTH_SCREENSHOTS=1 (to look at them all).
EVERY_SCREENSHOT = os.environ.get("WIDTH_SCREENSHOTS") == "1"
PAGES = ("/", "/board", "/orders/", "/menu/", "/menu/mappings", "/menu/availability", "/menu/sync",
         "/menu/import", "/menu/products/new", "/loyalty/", "/loyalty/customers", "/loyalty/program/new",
         "/reports/", "/reports/money", "/reports/health", "/reports/reconciliation", "/integrations/",
         "/webhooks/log", "/users/", "/users/new", "/audit/", "/outbox/", "/settings/", "/settings/hours",
         "/settings/alerts", "/account", "/account/two-step", "/forgot-password",
         "/messages/", "/messages/templates", "/messages/templates/new", "/messages/notifications",
         "/messages/connection", "/inbox/", "/inbox/answers")
# Pages reached from a list: the first link of its kind on that list.
DETAILS = (("/orders/", "a.order-link, table a[href*='/orders/']"), ("/menu/", "a.product-name"),
           ("/integrations/", "a[href*='/integrations/'][href$='/edit']"),
           ("/loyalty/customers", "a[href*='/loyalty/customers/']:not([href$='new']):not([href$='.csv'])"),
           ("/inbox/", "a.inbox-who"),
           ("/inbox/", "a[href*='/chat/']"), ("/messages/templates", "a[href*='/edit']"))

MEASURE = """() => {
  const width = window.innerWidth, problems = [];
  const label = (el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${(el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40)}"`;
  if (document.documentElement.scrollWidth > width + 1)
    problems.push(`document ${document.documentElement.scrollWidth}px wide in a ${width}px window`);
  const scrolls = (el) => { for (let a = el; a; a = a.parentElement) { const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll') return a; } return null; };
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  document.querySelectorAll('.stat-value, .stat-label, .figure, .kpi, .total, td.num, th.num, .money-row dd, .badge, .button').forEach((el) => {
    if (shown(el) && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).display !== 'inline')
      problems.push(`text overflows its box: ${label(el)} (${el.scrollWidth} > ${el.clientWidth})`);
  });
  document.querySelectorAll('.card, .stat, .lane, .empty-state').forEach((card) => {
    if (!shown(card)) return;
    const box = card.getBoundingClientRect();
    card.querySelectorAll('*').forEach((el) => {
      if (!shown(el) || el.closest('.sr-only, dialog:not([open]), details:not([open]) > :not(summary), [hidden]')) return;
      const scroller = scrolls(el);
      if (scroller && card.contains(scroller) && scroller !== el) return;  // inside its own scroll area
      const r = el.getBoundingClientRect();
      if (r.width && (r.right > box.right + 2 || r.left < box.left - 2))
        problems.push(`sticks out of its card: ${label(el)} (${Math.round(r.left)}..${Math.round(r.right)} in ${Math.round(box.left)}..${Math.round(box.right)})`);
    });
  });
  return [...new Set(problems)].slice(0, 12);
}"""


def _detail_pages(page):
    found = []
    for list_path, selector in DETAILS:
        page.goto(list_path)
        link = page.query_selector(selector)
        if link is not None:
            found.append(link.get_attribute("href"))
    return found


def test_every_page_fits_every_width_in_both_languages(page, sign_in, demo, artifacts_dir):
    sign_in(demo["email"], demo["password"])
    folder = artifacts_dir / "widths"
    folder.mkdir(exist_ok=True)
    paths = list(PAGES) + _detail_pages(page)
    failures = {}
    for language in ("en", "ar"):  # one test, one demo seed: seeding is the slow part
        if language == "ar":
            page.click("form.language-switch button[value=ar]")
            page.wait_for_selector("html[dir=rtl]")
        _check_widths(page, paths, language, folder, failures)
    assert not failures, "\n".join(f"{where}:\n  " + "\n  ".join(found) for where, found in failures.items())


def _check_widths(page, paths, language, folder, failures):
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 768 if width == 1024 else 844 if width == 390 else 900})
        for path in paths:
            # "load", not "networkidle": the board polls every second, so the network is never idle.
            response = page.goto(path, wait_until="load")
            assert response.status < 400, f"{path} answered {response.status}"
            page.evaluate("document.fonts.ready.then(() => true)")
            problems = page.evaluate(MEASURE)
            if problems or EVERY_SCREENSHOT:  # full-page shots are most of this test's time
                name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "dashboard"
                page.screenshot(path=str(folder / f"{name}-{width}-{language}.png"), full_page=True)
            if problems:
                failures[f"{path} at {width}px ({language})"] = problems


def test_the_board_keeps_its_lanes_side_by_side_on_a_tablet_and_tabs_on_a_phone(page, sign_in, demo):
    sign_in(demo["email"], demo["password"])
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto("/board")
    tops = page.eval_on_selector_all(".lanes > .lane:not(.lane-done)",
                                     "lanes => lanes.map(lane => Math.round(lane.getBoundingClientRect().top))")
    assert len(tops) == 4 and len(set(tops)) == 1, tops
    overflow = page.eval_on_selector_all(".lanes > .lane:not(.lane-done)",
                                         "lanes => lanes.map(lane => getComputedStyle(lane).overflowY)")
    assert set(overflow) == {"auto"}  # each lane scrolls on its own

    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("tab", name=re.compile("Ready")).click()
    assert page.is_visible("#lane-ready") and not page.is_visible("#lane-new")
    page.get_by_role("tab", name=re.compile("New")).click()
    assert page.is_visible("#lane-new") and not page.is_visible("#lane-ready")

    page.set_viewport_size({"width": 1024, "height": 768})
    page.click("#compact-toggle")
    assert page.get_attribute("#compact-toggle", "aria-pressed") == "true"
    assert not page.locator(".lane-new .card-items").first.is_visible()
