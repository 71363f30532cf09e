"""GET /orders/export.csv: managers only, streamed, UTF-8 with BOM, safe cells, the list's filters, one tenant."""
import csv
import io
from datetime import datetime, timezone
from decimal import Decimal

from tests.orders.helpers import bulk_orders, insert_order

PLACED = datetime(2025, 3, 10, 18, 5, tzinfo=timezone.utc)  # 21:05 in Riyadh
HEADER = ["Placed at", "Platform", "Order number", "Short code", "Status", "Type", "Customer name", "Customer phone",
          "Subtotal", "Platform discount", "Restaurant discount", "Third-party discount", "Delivery fee",
          "Service fee", "Tax", "Tip", "Total", "Commission", "Currency"]


def export(client, query=""):
    """(response, body, rows as lists) of the export; reading the body runs the stream.

    `response.streamed` records whether the body was a stream before it was read (reading it
    buffers it, after which Werkzeug's is_streamed says False).
    """
    response = client.get("/orders/export.csv" + (f"?{query}" if query else ""))
    response.streamed = response.is_streamed
    body = response.get_data()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")))) if response.status_code == 200 else []
    return response, body, rows


def test_the_export_is_a_streamed_utf8_csv_with_bom_and_every_column(app, auth, client, kitchen):
    company, integration = kitchen
    insert_order(app, company, integration, order_number="T00912", short_code="42", status="DELIVERED",
                 order_type="PICKUP", customer_name="نورة الحربي", customer_phone="+966551234567",
                 subtotal=Decimal("100"), platform_discount=Decimal("5"), vendor_discount=Decimal("7"),
                 third_party_discount=Decimal("3"), delivery_fee=Decimal("9"), service_fee=Decimal("2.25"),
                 tax_amount=Decimal("13.5"), tip_amount=Decimal("4.75"), total_amount=Decimal("114.5"),
                 commission_amount=Decimal("20.61"), created_at=PLACED, placed_at=PLACED)
    auth.login(company.email("MANAGER"))
    response, body, rows = export(client, "date_from=2025-03-01&date_to=2025-03-31")
    assert response.status_code == 200 and response.streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="orders_2025-03-01_2025-03-31.csv"'
    assert body.startswith(b"\xef\xbb\xbf") and "نورة الحربي".encode() in body
    assert rows[0] == HEADER
    assert rows[1] == ["2025-03-10 21:05", "Talabat", "T00912", "42", "Delivered", "Pickup", "نورة الحربي",
                       "'+966551234567", "100.00", "5.00", "7.00", "3.00", "9.00", "2.25", "13.50", "4.75",
                       "114.50", "20.61", "SAR"]
    assert len(rows) == 2


def test_three_decimal_currencies_keep_their_fils(app, auth, client, make_company, make_integration):
    company = make_company("Gulf Grill", currency="KWD", timezone="Asia/Kuwait")
    insert_order(app, company, make_integration(company, "TALABAT"), total_amount=Decimal("4.125"),
                 currency="KWD", created_at=PLACED)
    auth.login(company.email("MANAGER"))
    row = export(client)[2][1]
    assert row[0] == "2025-03-10 21:05" and row[16] == "4.125" and row[-1] == "KWD"


def test_cells_that_a_spreadsheet_would_run_are_defused(app, auth, client, kitchen):
    company, integration = kitchen
    for number, name in (("=1+1", '=HYPERLINK("http://evil.test","click")'), ("@SUM", "@SUM(A1:A9)"),
                         ("-2", "-2+3"), ("+5", "+cmd|' /C calc'!A0"), ("N1", "\tTabbed"), ("N2", "Plain Name")):
        insert_order(app, company, integration, order_number=number, customer_name=name, customer_phone=None)
    auth.login(company.email("MANAGER"))
    rows = export(client, "sort=oldest")[2][1:]
    cells = {(row[2], row[6]) for row in rows}
    assert cells == {("'=1+1", '\'=HYPERLINK("http://evil.test","click")'), ("'@SUM", "'@SUM(A1:A9)"),
                     ("'-2", "'-2+3"), ("'+5", "'+cmd|' /C calc'!A0"), ("N1", "'\tTabbed"), ("N2", "Plain Name")}


def test_the_export_applies_the_lists_filters(app, auth, client, kitchen, make_integration):
    company, talabat = kitchen
    careem = make_integration(company, "CAREEM")
    insert_order(app, company, talabat, order_number="KEEP1", customer_name="Noura Al-Harbi", status="DELIVERED",
                 total_amount=Decimal("50"), created_at=PLACED)
    insert_order(app, company, talabat, order_number="CHEAP", customer_name="Noura Al-Harbi", status="DELIVERED",
                 total_amount=Decimal("5"), created_at=PLACED)
    insert_order(app, company, talabat, order_number="PEND1", customer_name="Noura Al-Harbi", status="PENDING",
                 total_amount=Decimal("50"), created_at=PLACED)
    insert_order(app, company, careem, order_number="CAREEM1", customer_name="Noura Al-Harbi", status="DELIVERED",
                 total_amount=Decimal("50"), created_at=PLACED)
    insert_order(app, company, talabat, order_number="FAHAD", customer_name="Fahad", status="DELIVERED",
                 total_amount=Decimal("50"), created_at=PLACED)
    insert_order(app, company, talabat, order_number="APRIL", customer_name="Noura Al-Harbi", status="DELIVERED",
                 total_amount=Decimal("50"), created_at=datetime(2025, 4, 2, tzinfo=timezone.utc))
    insert_order(app, company, talabat, order_number="TEST1", customer_name="Noura Al-Harbi", status="DELIVERED",
                 total_amount=Decimal("50"), created_at=PLACED, is_test=True)
    auth.login(company.email("MANAGER"))
    query = "q=noura&platform=TALABAT&status=DELIVERED&min_total=10&date_from=2025-03-01&date_to=2025-03-31"
    assert [row[2] for row in export(client, query)[2][1:]] == ["KEEP1"]
    assert sorted(row[2] for row in export(client, query + "&test=1")[2][1:]) == ["KEEP1", "TEST1"]
    assert len(export(client, "min_total=abc")[2]) == 1 + 6  # a bad amount is ignored, test orders left out


def test_a_large_export_streams_every_order_once_across_batches(app, auth, client, owner_conninfo, two_companies,
                                                                make_integration):
    alpha, beta = two_companies
    bulk_orders(app, owner_conninfo, ((alpha, "A"), (beta, "B")), make_integration, count=1200)
    auth.login(alpha.email("MANAGER"))
    for sort in ("newest", "total_low"):
        response, _, rows = export(client, f"sort={sort}")
        numbers = [row[2] for row in rows[1:]]
        assert response.streamed and len(numbers) == 1200 and len(set(numbers)) == 1200
        assert all(number.startswith("A") for number in numbers)  # only this company's orders
    assert response.headers["Content-Disposition"].startswith('attachment; filename="orders_start_')


def test_only_managers_and_above_may_export(app, auth, client, kitchen):
    company, integration = kitchen
    insert_order(app, company, integration)
    auth.login(company.email("USER"))
    assert client.get("/orders/export.csv").status_code == 403
    assert "export.csv" not in client.get("/orders/").get_data(as_text=True)
    auth.logout()
    for role in ("MANAGER", "COMPANY_ADMIN"):
        auth.login(company.email(role))
        assert "/orders/export.csv" in client.get("/orders/").get_data(as_text=True)
        assert export(client)[0].status_code == 200
        auth.logout()
    assert client.get("/orders/export.csv").status_code == 302  # signed out: to the sign-in page


def test_the_export_never_contains_another_companys_orders(app, auth, client, two_companies, make_integration):
    alpha, beta = two_companies
    insert_order(app, alpha, make_integration(alpha, "TALABAT"), order_number="A1", customer_name="Noura Al-Harbi")
    insert_order(app, beta, make_integration(beta, "TALABAT"), order_number="B1", customer_name="Noura Al-Harbi",
                 currency="KWD")
    auth.login(alpha.email("COMPANY_ADMIN"))
    for query in ("", "q=Noura", "q=B1", "test=1"):
        assert [row[2] for row in export(client, query)[2][1:]] in (["A1"], []), query
