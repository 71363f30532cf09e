"""CSV import (preview first, nothing written until confirmed) and export, Arabic included."""
import csv
import io
from decimal import Decimal

from tests.conftest import csrf_token
from tests.menu.conftest import rows

HEADER = "local_product_id,name,name_ar,category,price\n"


def upload(auth, text, filename="menu.csv", encoding="utf-8"):
    data = text.encode(encoding) if isinstance(text, str) else text
    return auth.post("/menu/import", {"file": (io.BytesIO(data), filename)}, page="/menu/import",
                     content_type="multipart/form-data")


def confirm(client, page_html):
    import html
    import re
    text = html.unescape(re.search(r'name="text" type="hidden" value="([^"]*)"', page_html).group(1))
    return client.post("/menu/import/confirm", data={"text": text, "csrf_token": csrf_token(client, "/menu/import")})


def test_preview_shows_every_row_and_writes_nothing(client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    before = rows(owner_conninfo, "SELECT local_product_id, name, price FROM products ORDER BY 1")
    text = (HEADER + "P900,Mutabbal,متبل,Appetizers,13.00\n"        # new
            "P001,Classic Beef Burger,برجر لحم كلاسيك,Burgers,29.50\n"  # changed price
            "P002,Chicken Shawarma Wrap,شاورما دجاج,Shawarma,14.00\n"   # unchanged
            "P901,,بلا اسم,Misc,5\n"                                    # no name
            "P902,Bad Price,,Misc,12.345\n"                             # 3 decimals in SAR
            "P900,Mutabbal again,,Appetizers,13\n")                     # duplicate of line 2
    response = upload(auth, text)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 new" in page and "1 changed" in page and "1 unchanged" in page and "3 lines with errors" in page
    assert "Name is required." in page and "SAR amounts have at most 2 decimals." in page
    assert "Product id P900 is already on line 2." in page
    assert "متبل" in page                                       # Arabic read as UTF-8
    assert "Nothing has been saved yet." in page
    assert rows(owner_conninfo, "SELECT local_product_id, name, price FROM products ORDER BY 1") == before

    assert confirm(client, page).status_code == 302
    after = dict((local_id, (name, price)) for local_id, name, price in
                 rows(owner_conninfo, "SELECT local_product_id, name, price FROM products WHERE company_id = %s",
                      (kitchen.alpha.id,)))
    assert after["P900"] == ("Mutabbal", Decimal("13.000"))
    assert after["P001"][1] == Decimal("29.500")
    assert "P901" not in after and "P902" not in after
    assert rows(owner_conninfo, "SELECT name_ar FROM products WHERE local_product_id = 'P900'") == [("متبل",)]
    # The inheriting mappings of P001 follow its new price.
    assert {price for price, in rows(owner_conninfo, "SELECT product_price FROM menu_mappings "
                                                     "WHERE local_product_id = 'P001'")} == {Decimal("29.500")}


def test_wrong_encoding_is_explained_and_nothing_is_read(client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    windows_arabic = (HEADER + "P950,Hummus,حمص,Appetizers,12\n").encode("cp1256")
    response = upload(auth, windows_arabic)
    assert response.status_code == 422
    assert "The file is not UTF-8 text" in response.get_data(as_text=True)
    utf16 = upload(auth, (HEADER + "P950,Hummus,حمص,Appetizers,12\n").encode("utf-16"))
    assert utf16.status_code == 422 and "UTF-16" in utf16.get_data(as_text=True)
    assert rows(owner_conninfo, "SELECT count(*) FROM products WHERE local_product_id = 'P950'") == [(0,)]


def test_excel_files_with_bom_and_semicolons_are_read(client, auth, kitchen):
    auth.login(kitchen.alpha.email("MANAGER"))
    text = "\ufefflocal_product_id;name;name_ar;price\nP960;Laban;لبن;6,00\n"
    page = upload(auth, text).get_data(as_text=True)
    assert "1 new" in page and "لبن" in page and "Error" not in page.split("<tbody>")[1]


def test_header_problems_are_refused_as_a_whole(client, auth, kitchen):
    auth.login(kitchen.alpha.email("MANAGER"))
    assert "missing: price" in upload(auth, "local_product_id,name\nP1,A\n").get_data(as_text=True)
    assert "Unknown columns: colour" in upload(auth, HEADER.strip() + ",colour\nP1,A,,,1,red\n").get_data(as_text=True)
    assert "The file is empty." in upload(auth, "").get_data(as_text=True)
    assert "no products" in upload(auth, HEADER).get_data(as_text=True)
    missing = auth.post("/menu/import", {}, page="/menu/import", content_type="multipart/form-data")
    assert missing.status_code == 422 and "Choose a CSV file." in missing.get_data(as_text=True)


def test_confirm_checks_again_and_tampering_cannot_import_bad_rows(client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    token = csrf_token(client, "/menu/import")
    response = client.post("/menu/import/confirm", data={"csrf_token": token,
                                                        "text": HEADER + "P970,,,,-5\nP971,Tea,,,3\n"})
    assert response.status_code == 302
    assert rows(owner_conninfo, "SELECT local_product_id FROM products WHERE local_product_id LIKE 'P97%%'") == \
        [("P971",)]
    assert client.post("/menu/import/confirm", data={"text": HEADER}).status_code == 400   # no CSRF token


def test_export_is_utf8_with_bom_and_reads_back(client, auth, kitchen):
    auth.login(kitchen.alpha.email("MANAGER"))
    response = client.get("/menu/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert sorted(row["local_product_id"] for row in table) == ["P001", "P002", "P003", "P004", "P005"]
    burger = next(row for row in table if row["local_product_id"] == "P001")
    assert burger["name_ar"] == "برجر لحم كلاسيك" and burger["price"] == "28.00" and burger["is_available"] == "yes"
    assert "Machboos" not in raw.decode()                     # the other company's product
    # Reading the export back changes nothing.
    page = upload(auth, raw).get_data(as_text=True)
    assert "5 unchanged" in page and "0 new" in page


def test_export_neutralises_spreadsheet_formulas(app, client, auth, kitchen):
    auth.login(kitchen.alpha.email("MANAGER"))
    auth.post("/menu/products/", {"local_product_id": "P990", "name": "=HYPERLINK(\"x\")", "price": "1"},
              page="/menu/products/new")
    assert "'=HYPERLINK" in client.get("/menu/export.csv").get_data(as_text=True)
