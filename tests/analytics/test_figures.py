"""Every figure of the overview and money reports against the hand-computed fixture (conftest.py)."""
from datetime import date
from decimal import Decimal

import pytest

from portal.analytics.forms import ReportRange
from portal.analytics.rollup import refresh_company
from portal.analytics.services import build_report, money_line, net_revenue, percentile
from portal.models import DeliveryPlatform
from portal.tenancy import tenant


def report_for(app, company_id, report_range):
    from portal.extensions import db
    from portal.models import Company
    with app.test_request_context(), tenant(company_id):
        company = db.session.get(Company, company_id)
        report = build_report(company, report_range)
        db.session.rollback()
        return report


def figures(report):
    return {figure.key: figure for figure in report.figures}


@pytest.fixture(params=["live", "rolled up"])
def mode(request, app, riyadh):
    """Each figure is checked twice: read live from the orders, and from the rollup after the worker ran."""
    if request.param == "rolled up":
        with app.app_context():
            assert refresh_company(riyadh.company.id) > 0
    return request.param


def test_counts_rates_and_money_of_the_period(app, riyadh, mode):
    report = report_for(app, riyadh.company.id, riyadh.range)
    f = figures(report)
    assert f["orders"].value == 6 and f["orders"].previous == 2
    assert report.current["sold_orders"] == 4
    assert f["revenue"].value == Decimal("189.75") and f["revenue"].previous == Decimal("20.00")
    assert f["average_order"].value == Decimal("47.4375")
    assert f["acceptance_rate"].value == Decimal(5) * 100 / 6
    assert f["rejection_rate"].value == Decimal(100) / 6
    assert f["cancellation_rate"].value == Decimal(100) / 6
    assert f["acceptance_rate"].previous == Decimal(50) and f["cancellation_rate"].previous == Decimal(50)
    assert f["acceptance_rate"].change == Decimal(5) * 100 / 6 - 50  # points, not percent of a percent
    assert f["revenue"].change == (Decimal("189.75") - 20) * 100 / 20
    money = report.money_current
    assert money["gross_sales"] == Decimal("185.00")
    assert (money["vendor_discount"], money["platform_discount"], money["third_party_discount"],
            money["other_discount"]) == (Decimal("5.00"), Decimal("3.00"), Decimal("6.00"), Decimal(0))
    assert money["fees"] == Decimal("9.00") and money["tax"] == Decimal("6.75") and money["tips"] == Decimal("3.00")
    assert money["commission"] == Decimal("32.39")
    assert money["net_revenue"] == f["net_revenue"].value == Decimal("147.61")
    assert report.current["mismatched_orders"] == 1


def test_durations_are_percentiles_of_the_status_timestamps(app, riyadh, mode):
    f = figures(report_for(app, riyadh.company.id, riyadh.range))
    assert (f["accept_p50"].value, f["accept_p95"].value) == (90, 264)
    assert (f["ready_p50"].value, f["ready_p95"].value) == (1050, 1455)
    assert (f["accept_p50"].previous, f["ready_p50"].previous) == (45, 500)


def test_days_and_hours_follow_the_company_time_zone(app, riyadh, mode):
    report = report_for(app, riyadh.company.id, riyadh.range)
    rows = {row[0]: row[1:] for row in report.tables["orders_by_day"].rows}
    platforms = [column.key for column in report.tables["orders_by_day"].columns[1:-1]]
    assert set(platforms) == {"TALABAT", "CAREEM"}
    totals = {day: counts[-1] for day, counts in rows.items()}
    assert totals == {date(2025, 3, 1): 1, date(2025, 3, 2): 0, date(2025, 3, 3): 1, date(2025, 3, 4): 1,
                      date(2025, 3, 5): 1, date(2025, 3, 6): 2, date(2025, 3, 7): 0}
    revenue = {row[0]: row[-1] for row in report.tables["revenue_by_day"].rows}
    assert revenue[date(2025, 3, 1)] == Decimal("58.75") and revenue[date(2025, 3, 4)] == 0  # cancelled
    grid = report.heatmap["grid"]  # ISO weekday -> 24 hours
    assert grid[6][0] == 1    # Saturday 1 March, 00:30
    assert grid[1][23] == 1   # Monday 3 March, 23:59
    assert grid[2][0] == 1    # Tuesday 4 March, 00:00
    assert grid[3][12] == 1 and grid[4][13] == 1 and grid[4][15] == 1
    assert sum(sum(hours) for hours in grid.values()) == 6


def test_top_items_and_modifiers_from_the_sold_orders(app, riyadh, mode):
    report = report_for(app, riyadh.company.id, riyadh.range)
    assert [row[:4] for row in report.tables["top_items"].rows] == [
        ["Burger", 5, Decimal("100.00"), 1], ["Fries", 5, Decimal("50.00"), 0], ["Shawarma", 3, Decimal("30.00"), 0]]
    assert [row[:2] for row in report.tables["top_modifiers"].rows] == [["Garlic", 3], ["Cheese", 2]]


def test_new_and_returning_customers_by_phone(app, riyadh, mode):
    report = report_for(app, riyadh.company.id, riyadh.range)
    f = figures(report)
    assert (f["new_customers"].value, f["returning_customers"].value) == (1, 2)
    assert (f["new_customers"].previous, f["returning_customers"].previous) == (1, 0)


def test_platform_filter_and_commission_per_platform(app, riyadh, mode):
    talabat = ReportRange(start=riyadh.range.start, end=riyadh.range.end, today=riyadh.range.today, platform="TALABAT")
    report = report_for(app, riyadh.company.id, talabat)
    f = figures(report)
    assert f["orders"].value == 3 and f["revenue"].value == Decimal("130.75")
    assert report.money_current["commission"] == Decimal("23.54")
    assert report.money_current["net_revenue"] == Decimal("96.46")
    assert (f["new_customers"].value, f["returning_customers"].value) == (1, 1)  # A returning, B new
    everything = report_for(app, riyadh.company.id, riyadh.range)
    by_platform = {row[0]: dict(zip([c.key for c in everything.tables["money"].columns], row, strict=True))
                   for row in everything.tables["money"].rows}
    assert by_platform["CAREEM"]["commission"] == Decimal("8.85")
    assert by_platform["CAREEM"]["net_revenue"] == Decimal("51.15")
    assert by_platform["TALABAT"]["net_revenue"] + by_platform["CAREEM"]["net_revenue"] == Decimal("147.61")
    assert everything.tables["money"].footer[-2] == Decimal("147.61")
    rates = {row[0]: row for row in everything.tables["rates"].rows}
    assert rates["CAREEM"][1:] == [3, Decimal(200) / 3, Decimal(100) / 3, Decimal(100) / 3]  # C1 was accepted, then cancelled


def test_three_decimal_currency_is_exact(app, kuwait):
    for refresh in (False, True):
        if refresh:
            with app.app_context():
                refresh_company(kuwait.company.id)
        both = report_for(app, kuwait.company.id, ReportRange(date(2025, 3, 1), date(2025, 3, 2), date.today()))
        assert both.current["revenue"] == Decimal("6.130")
        assert both.money_current["commission"] == Decimal("1.104")  # 0.743 + 0.361
        assert both.money_current["net_revenue"] == Decimal("4.651")
        second = report_for(app, kuwait.company.id, ReportRange(date(2025, 3, 2), date(2025, 3, 2), date.today()))
        assert second.current["orders"] == 1 and second.current["revenue"] == Decimal("2.005")
        assert second.previous["revenue"] == Decimal("4.125")  # 1 March 23:59 in Kuwait


def test_net_revenue_arithmetic():
    sums = {"gross_sales": Decimal("100.000"), "vendor_discount": Decimal("7.125"), "other_discount": Decimal("0.875"),
            "platform_discount": Decimal("5"), "third_party_discount": Decimal("1"), "commission": Decimal("17.999"),
            "sold_orders": 3, "delivery_fees": Decimal("2"), "service_fees": Decimal("1"), "tax": Decimal("15"),
            "tips": Decimal("4"), "revenue": Decimal("129")}
    assert net_revenue(sums) == Decimal("74.001")
    line = money_line(sums)
    assert line["cost"] == Decimal("25.999") and line["cost_share"] == Decimal("25.999")
    assert line["fees"] == Decimal("3")
    assert money_line({**sums, "gross_sales": Decimal(0)})["cost_share"] is None


def test_percentile_matches_postgresql(app):
    from sqlalchemy import text

    from portal.extensions import db
    values = [7, 1, 3, 3, 10, 250, 42]
    with app.app_context():
        expected = db.session.execute(text(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v), percentile_cont(0.95) WITHIN GROUP (ORDER BY v)"
            " FROM unnest(CAST(:v AS int[])) v"), {"v": values}).one()
    assert (percentile(sorted(values), 0.5), percentile(sorted(values), 0.95)) == pytest.approx(tuple(expected))
    assert percentile([], 0.5) is None


def test_an_empty_range_has_no_orders_and_no_errors(app, riyadh):
    report = report_for(app, riyadh.company.id, ReportRange(date(2024, 6, 1), date(2024, 6, 7), date.today()))
    assert not report.has_orders
    assert figures(report)["average_order"].value is None
    assert report.tables["orders_by_day"].empty and report.tables["top_items"].empty


def test_platform_enum_values_are_what_the_filter_takes():
    assert DeliveryPlatform("TALABAT").value == "TALABAT"


def test_reconciliation_lists_the_disagreeing_order(app, riyadh, mode):
    from portal.analytics.services import reconciliation
    from portal.extensions import db
    from portal.models import Company
    with app.test_request_context(), tenant(riyadh.company.id):
        orders = reconciliation(db.session.get(Company, riyadh.company.id), riyadh.range)
        db.session.rollback()
    assert [order["id"] for order in orders] == [riyadh.ids["M1"]]
    (m1,) = orders
    assert (m1["reason"], m1["items_total"], m1["items_difference"]) == ("ITEMS", Decimal("40.00"), Decimal("-5.00"))
