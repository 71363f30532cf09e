"""Reports in a real browser: the dashboard loads, the range changes, the charts redraw; money, health, print."""
import re

import pytest

from tests.e2e.conftest import wait_until

pytestmark = pytest.mark.e2e


def chart_labels(page, name):
    """The labels the Chart.js chart of `name` is drawing right now."""
    return page.evaluate(
        "name => { const c = document.querySelector(`canvas[data-chart=chart-data-${name}]`);"
        " const chart = c && window.Chart.getChart(c); return chart ? chart.data.labels : null; }", name)


def drawn(page, name):
    return page.get_attribute(f"canvas[data-chart=chart-data-{name}]", "data-drawn")


def test_manager_reads_the_dashboard_changes_the_range_and_sees_charts_redraw(page, sign_in, demo, artifacts_dir):
    sign_in(demo["email"], demo["password"])
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url(re.compile(r".*/reports/$"))
    page.wait_for_selector("canvas[data-chart=chart-data-orders_by_day][data-drawn]")
    assert len(chart_labels(page, "orders_by_day")) == 30
    assert page.locator("[data-figure=orders] .stat-value").inner_text().strip() not in ("", "0")
    first = drawn(page, "orders_by_day")
    page.screenshot(path=str(artifacts_dir / "reports-overview.png"), full_page=True)

    # A quick range: the report region is swapped, every chart is drawn again with 7 days.
    page.get_by_role("link", name="Last 7 days").click()
    page.wait_for_selector("#report[data-days='7']")
    wait_until(
        page, "first => { const c = document.querySelector('canvas[data-chart=chart-data-orders_by_day]');"
        " return c && c.dataset.drawn && c.dataset.drawn !== first; }", arg=first)
    assert len(chart_labels(page, "orders_by_day")) == 7
    assert page.url.endswith("/reports/?from=" + page.get_attribute("#report", "data-start")
                             + "&to=" + page.get_attribute("#report", "data-end"))
    assert page.get_attribute("[data-preset='7d']", "aria-current") == "true"
    assert page.input_value("#report-from") == page.get_attribute("#report", "data-start")

    # Dates typed by hand, with the keyboard.
    start = page.evaluate("() => { const d = new Date(document.getElementById('report').dataset.end);"
                          " d.setDate(d.getDate() - 13); return d.toISOString().slice(0, 10); }")
    page.fill("#report-from", start)
    page.dispatch_event("#report-from", "change")
    page.wait_for_selector(f"#report[data-start='{start}']")
    page.wait_for_selector("canvas[data-chart=chart-data-orders_by_day][data-drawn]")

    # One platform: the stacked chart has Careem alone, and the table under it says the same.
    page.select_option("#report-platform", "CAREEM")
    wait_until(page, "() => { const c = document.querySelector('canvas[data-chart=chart-data-orders_by_day]');"
                           " const chart = c && window.Chart.getChart(c);"
                           " return chart && chart.data.datasets.length === 1 && chart.data.datasets[0].label === 'Careem'; }")
    page.locator("#chart-orders_by_day summary").click()
    header = page.locator("#chart-orders_by_day table thead").text_content()
    assert "Careem" in header and "Talabat" not in header
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts_dir / "reports-careem-table.png"), full_page=True)

    # An empty range says so, and nothing breaks.
    page.fill("#report-from", "2020-01-01")
    page.fill("#report-to", "2020-01-07")
    page.dispatch_event("#report-to", "change")
    page.get_by_text("No orders in this range").first.wait_for()

    # Keyboard: a preset followed with Enter.
    page.focus("[data-preset='30d']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#report[data-days='30'] canvas[data-chart=chart-data-top_items][data-drawn]")

    page.get_by_role("link", name="Money").click()
    page.wait_for_selector("#report[data-report=money] canvas[data-chart=chart-data-money][data-drawn]")
    assert "Net revenue" in page.locator(".money-summary").text_content()
    page.screenshot(path=str(artifacts_dir / "reports-money.png"), full_page=True)

    page.get_by_role("link", name="Integration health").click()
    page.wait_for_selector("#report[data-report=health]")
    page.screenshot(path=str(artifacts_dir / "reports-health.png"), full_page=True)

    page.get_by_role("link", name="Reconciliation").click()
    page.wait_for_selector("#report[data-report=reconciliation]")
    page.screenshot(path=str(artifacts_dir / "reports-reconciliation.png"), full_page=True)

    page.get_by_role("link", name="Printable weekly report").click()
    page.wait_for_selector(".print-report[data-period=week]")
    page.emulate_media(media="print")
    page.screenshot(path=str(artifacts_dir / "reports-print.png"), full_page=True)
    assert not page.locator(".topbar").is_visible() and not page.locator(".print-tools").is_visible()
    page.emulate_media(media="screen")


def test_reports_in_arabic_right_to_left(page, sign_in, demo, artifacts_dir):
    sign_in(demo["email"], demo["password"])
    page.goto("/reports/?preset=30d")
    page.locator(".language-switch button[value=ar]").click()
    page.wait_for_selector("html[dir=rtl]")
    page.wait_for_selector("canvas[data-chart=chart-data-revenue_by_day][data-drawn]")
    assert page.get_attribute("html", "dir") == "rtl"
    reversed_axis = page.evaluate("() => window.Chart.getChart(document.querySelector("
                                  "'canvas[data-chart=chart-data-revenue_by_day]')).options.scales.x.reverse")
    assert reversed_axis is True
    page.screenshot(path=str(artifacts_dir / "reports-overview-ar.png"), full_page=True)
