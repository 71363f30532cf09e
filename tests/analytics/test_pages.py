"""The report pages through the app: who may open them, bad input, fragments, exports, the printable report."""
import csv
import io

import pytest

PAGES = ["/reports/", "/reports/money", "/reports/reconciliation", "/reports/health",
         "/reports/print", "/reports/print?period=week", "/reports/export/orders_by_day.csv"]
RANGE = "from=2025-03-01&to=2025-03-07"


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role, status", [("USER", 403), ("MANAGER", 200), ("COMPANY_ADMIN", 200)])
def test_reports_are_for_managers_and_above(client, auth, make_company, path, role, status):
    company = make_company("Role Kitchen")
    auth.login(company.email(role))
    assert client.get(path).status_code == status


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/reports/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_reports_link_in_the_main_navigation_for_managers(client, auth, make_company):
    company = make_company("Nav Kitchen")
    auth.login(company.email("MANAGER"))
    assert 'href="/reports/"' in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(company.email("USER"))
    assert 'href="/reports/"' not in client.get("/").get_data(as_text=True)


def test_overview_shows_the_figures_charts_and_tables(client, auth, riyadh):
    auth.login(riyadh.company.email("MANAGER"))
    page = client.get(f"/reports/?{RANGE}").get_data(as_text=True)
    assert 'data-figure="orders"' in page and "189.75" in page and "147.61" in page
    for name in ("orders_by_day", "revenue_by_day", "rates", "durations", "top_items", "top_modifiers", "customers"):
        assert f'data-chart="chart-data-{name}"' in page, name
        assert f'id="chart-data-{name}"' in page
        assert f'data-table="{name}"' in page  # the same data as a table
        assert f"/reports/export/{name}.csv?from=2025-03-01" in page
    assert 'data-table="peak_hours"' in page
    assert "Burger" in page and "Garlic" in page
    assert "999" not in page  # the test order


def test_money_page_splits_discounts_and_shows_net_revenue(client, auth, riyadh):
    auth.login(riyadh.company.email("MANAGER"))
    page = client.get(f"/reports/money?{RANGE}").get_data(as_text=True)
    assert 'data-line="net_revenue"' in page and "147.61" in page and "32.39" in page
    assert "1 order's totals do not add up." in page


def test_reconciliation_lists_the_order_that_does_not_add_up(client, auth, riyadh):
    auth.login(riyadh.company.email("MANAGER"))
    page = client.get(f"/reports/reconciliation?{RANGE}").get_data(as_text=True)
    rows = page.count("data-order-number=")
    assert rows == 1
    assert "The items do not add up to the subtotal" in page
    clean = client.get("/reports/reconciliation?from=2025-02-22&to=2025-02-28").get_data(as_text=True)
    assert "Every order in this range adds up." in clean


@pytest.mark.parametrize("query, note", [
    ("from=yesterday&to=2025-03-07", "is not a date"),
    ("from=2025-03-07&to=2025-03-01", "wrong way round"),
    ("from=2001-01-01&to=2025-03-07", "at most 366 days"),
    ("from=2025-03-01&to=2099-01-01", "ended in the future"),
    ("from=2099-01-01&to=2099-02-01", "in the future"),
    ("platform=UBER_EATS", "There is no platform called"),
    ("from=99999-99-99", "is not a date"),
    ("from=%00%ff&to=%3Cscript%3E", "is not a date"),
])
@pytest.mark.parametrize("path", ["/reports/", "/reports/money", "/reports/reconciliation", "/reports/health",
                                  "/reports/export/money.csv"])
def test_bad_input_gets_a_note_not_an_error(client, auth, riyadh, path, query, note):
    auth.login(riyadh.company.email("MANAGER"))
    response = client.get(f"{path}?{query}")
    assert response.status_code == 200
    if not path.endswith(".csv"):
        assert note in response.get_data(as_text=True)


def test_a_swapped_range_shows_the_same_numbers(client, auth, riyadh):
    auth.login(riyadh.company.email("MANAGER"))
    swapped = client.get("/reports/export/money.csv?from=2025-03-07&to=2025-03-01").get_data(as_text=True)
    assert swapped == client.get(f"/reports/export/money.csv?{RANGE}").get_data(as_text=True)


def test_unknown_export_is_not_found(client, auth, riyadh):
    auth.login(riyadh.company.email("MANAGER"))
    assert client.get("/reports/export/passwords.csv").status_code == 404


def test_htmx_gets_the_report_region_with_its_tabs_out_of_band(client, auth, riyadh):
    auth.login(riyadh.company.email("MANAGER"))
    response = client.get(f"/reports/?{RANGE}&platform=CAREEM", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'id="report"' in body
    assert 'id="report-tabs" aria-label="Reports" hx-swap-oob="true"' in body
    assert response.headers["HX-Push-Url"] == "/reports/?from=2025-03-01&to=2025-03-07&platform=CAREEM"
    assert "HX-Request" in response.headers["Vary"]


def read_csv(response):
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_every_chart_exports_its_table_as_csv(client, auth, riyadh):
    auth.login(riyadh.company.email("MANAGER"))
    response = client.get(f"/reports/export/revenue_by_day.csv?{RANGE}")
    assert response.headers["Content-Disposition"] == 'attachment; filename="revenue_by_day_2025-03-01_2025-03-07.csv"'
    rows = read_csv(response)
    assert rows[0][0] == "Day" and rows[0][-1] == "Total (SAR)"
    assert rows[1][0] == "2025-03-01" and rows[1][-1] == "58.75"
    assert rows[-1][0] == "Total" and rows[-1][-1] == "189.75"
    money = read_csv(client.get(f"/reports/export/money.csv?{RANGE}"))
    header = money[0]
    total = dict(zip(header, money[-1], strict=True))
    assert total["Net revenue (SAR)"] == "147.61" and total["Commission (SAR)"] == "32.39"
    for name in ("orders_by_day", "rates", "durations", "peak_hours", "top_items", "top_modifiers", "customers",
                 "webhooks", "api_times", "errors", "silence", "reconciliation"):
        response = client.get(f"/reports/export/{name}.csv?{RANGE}")
        assert response.status_code == 200 and response.content_type.startswith("text/csv"), name
    reconciliation = read_csv(client.get(f"/reports/export/reconciliation.csv?{RANGE}"))
    assert len(reconciliation) == 2 and reconciliation[1][4:6] == ["40.00", "45.00"]
    durations = dict((row[0], row[1:]) for row in read_csv(client.get(f"/reports/export/durations.csv?{RANGE}")))
    assert durations["Careem"] == ["60", "87", "1200", "1200"]  # 30 s and 90 s: 30 + 0.95 × 60; ready 1200 s


def test_kwd_exports_keep_three_decimals(client, auth, kuwait):
    auth.login(kuwait.company.email("MANAGER"))
    rows = read_csv(client.get("/reports/export/money.csv?from=2025-03-01&to=2025-03-02"))
    total = dict(zip(rows[0], rows[-1], strict=True))
    assert total["Commission (KWD)"] == "1.104" and total["Net revenue (KWD)"] == "4.651"
    assert total["Paid by customers (KWD)"] == "6.130"
    page = client.get("/reports/money?from=2025-03-01&to=2025-03-02").get_data(as_text=True)
    assert "KWD\u00a04.651" in page


def test_printable_reports(client, auth, riyadh):
    auth.login(riyadh.company.email("MANAGER"))
    week = client.get("/reports/print?period=week&date=2025-03-07").get_data(as_text=True)
    assert "Weekly report" in week and 'data-period="week"' in week and "189.75" in week
    assert 'data-table="orders_by_day"' in week
    day = client.get("/reports/print?period=day&date=2025-03-06").get_data(as_text=True)
    assert "Daily report" in day and "104.00" in day  # C3 59.00 + M1 45.00
    assert 'data-table="orders_by_day"' not in day
    nonsense = client.get("/reports/print?period=year&date=never&platform=NOPE")
    text = nonsense.get_data(as_text=True)
    assert nonsense.status_code == 200 and "Daily report" in text
    assert "is not a date" in text and "There is no platform called" in text
    future = client.get("/reports/print?period=week&date=2099-01-01").get_data(as_text=True)
    assert "in the future" in future


def test_arabic_pages_render_right_to_left(client, auth, riyadh):
    auth.login(riyadh.company.email("MANAGER"))
    with client.session_transaction() as session:
        session["locale"] = "ar"
    page = client.get(f"/reports/?{RANGE}").get_data(as_text=True)
    assert 'dir="rtl"' in page and "برجر" in page  # the item's Arabic name
    assert client.get(f"/reports/health?{RANGE}").status_code == 200
    assert client.get("/reports/print?period=week&date=2025-03-07").status_code == 200
