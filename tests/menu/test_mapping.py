"""The mapping grid: inline cells, uniqueness, price inheritance, bulk actions, seen-but-unmapped suggestions."""
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg
import pytest

from portal.extensions import db
from portal.models import DeliveryOrder, MenuMapping
from portal.tenancy import tenant
from tests.menu.conftest import rows

HX = {"HX-Request": "true"}


def cell_url(kitchen, local_id, platform):
    return f"/menu/mappings/{kitchen.products[local_id]}/{kitchen.integrations[platform]}"


def test_grid_shows_products_by_platform_and_highlights_unmapped(client, auth, make_company, make_integration,
                                                                 add_products):
    company = make_company("Gamma Cafe")
    talabat = make_integration(company, "TALABAT")
    careem = make_integration(company, "CAREEM")
    add_products(company, {"TALABAT": talabat, "CAREEM": careem}, mapped={"P001", "P002"})
    auth.login(company.email("MANAGER"))
    page = client.get("/menu/mappings").get_data(as_text=True)
    assert page.count('class="unmapped"') == 3            # P003–P005 miss both platforms
    assert "Not mapped everywhere (3)" in page
    assert 'value="TAL-P001"' in page and 'value="CAR-P002"' in page
    only = client.get("/menu/mappings?show=unmapped").get_data(as_text=True)
    assert "Lamb Mandi" in only and "Classic Beef Burger" not in only


def test_a_cell_saves_inline_and_errors_come_back_in_place_with_what_was_typed(client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    url = cell_url(kitchen, "P001", "CAREEM")
    saved = auth.post(url, {"platform_product_id": "careem-burger", "price": "31.5", "is_available": "1"},
                      page="/menu/mappings", headers=HX)
    assert saved.status_code == 200
    html = saved.get_data(as_text=True)
    assert html.lstrip().startswith(f'<td id="cell-{kitchen.products["P001"]}-{kitchen.integrations["CAREEM"]}"')
    assert "Saved" in html
    assert rows(owner_conninfo, "SELECT platform_product_id, product_price, price_overridden, sync_status FROM "
                                "menu_mappings WHERE local_product_id = 'P001' AND platform = 'CAREEM'") == [
        ("careem-burger", Decimal("31.500"), True, "pending")]

    refused = auth.post(url, {"platform_product_id": "CAR-P002", "price": "abc"}, page="/menu/mappings", headers=HX)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "has-error" in html
    assert "CAR-P002 is already mapped to product P002 on this platform." in html
    assert "“abc” is not an amount" in html
    assert 'value="CAR-P002"' in html and 'value="abc"' in html           # what was typed stays
    assert rows(owner_conninfo, "SELECT platform_product_id, product_price FROM menu_mappings "
                                "WHERE local_product_id = 'P001' AND platform = 'CAREEM'") == [
        ("careem-burger", Decimal("31.500"))]

    empty = auth.post(url, {"platform_product_id": " ", "price": ""}, page="/menu/mappings", headers=HX)
    assert "Platform id is required." in empty.get_data(as_text=True)


def test_without_htmx_a_cell_posts_and_redirects(client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    response = auth.post(cell_url(kitchen, "P002", "TALABAT"), {"platform_product_id": "TAL-P002", "price": ""},
                         page="/menu/mappings")
    assert response.status_code == 302
    assert rows(owner_conninfo, "SELECT is_available FROM menu_mappings WHERE local_product_id = 'P002' "
                                "AND platform = 'TALABAT'") == [(False,)]   # the unticked box: not offered


def test_a_price_of_zero_is_refused_where_the_platform_refuses_it(client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    before = rows(owner_conninfo, "SELECT platform, product_price, price_overridden FROM menu_mappings "
                                  "WHERE local_product_id = 'P003' ORDER BY platform")

    careem = auth.post(cell_url(kitchen, "P003", "CAREEM"), {"platform_product_id": "CAR-P003", "price": "0",
                                                             "is_available": "1"}, page="/menu/mappings", headers=HX)

    assert "Careem does not accept a price of 0" in careem.get_data(as_text=True)
    assert rows(owner_conninfo, "SELECT platform, product_price, price_overridden FROM menu_mappings "
                                "WHERE local_product_id = 'P003' ORDER BY platform") == before
    talabat = auth.post(cell_url(kitchen, "P003", "TALABAT"), {"platform_product_id": "TAL-P003", "price": "0",
                                                               "is_available": "1"}, page="/menu/mappings", headers=HX)
    assert "does not accept a price of 0" not in talabat.get_data(as_text=True)
    assert rows(owner_conninfo, "SELECT product_price FROM menu_mappings WHERE local_product_id = 'P003' "
                                "AND platform = 'TALABAT'") == [(Decimal("0.000"),)]


def test_price_inheritance_and_override(app, client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    # An override keeps its price when the catalog price changes; inheriting cells follow.
    auth.post(cell_url(kitchen, "P003", "CAREEM"), {"platform_product_id": "CAR-P003", "price": "61",
                                                    "is_available": "1"}, page="/menu/mappings", headers=HX)
    with psycopg.connect(owner_conninfo, autocommit=True) as connection:
        connection.execute(f"SET app.current_company_id = '{kitchen.alpha.id}'")
        connection.execute("UPDATE products SET price = 60 WHERE local_product_id = 'P003' AND company_id = %s",
                           (kitchen.alpha.id,))
    assert dict(rows(owner_conninfo, "SELECT platform, product_price FROM menu_mappings WHERE "
                                     "local_product_id = 'P003' AND company_id = %s", (kitchen.alpha.id,))) == {
        "TALABAT": Decimal("60.000"), "CAREEM": Decimal("61.000")}
    # Clearing the price goes back to the catalog's.
    auth.post(cell_url(kitchen, "P003", "CAREEM"), {"platform_product_id": "CAR-P003", "price": "",
                                                    "is_available": "1"}, page="/menu/mappings", headers=HX)
    assert rows(owner_conninfo, "SELECT product_price, price_overridden FROM menu_mappings WHERE "
                                "local_product_id = 'P003' AND platform = 'CAREEM'") == [(Decimal("60.000"), False)]
    # A mapping inserted without a price inherits it; one with another price is an override.
    with app.app_context(), tenant(kitchen.alpha.id):
        db.session.execute(db.delete(MenuMapping).where(MenuMapping.local_product_id == "P005"))
        db.session.add(MenuMapping(company_id=kitchen.alpha.id, integration_config_id=kitchen.integrations["TALABAT"],
                                   platform="TALABAT", local_product_id="P005", platform_product_id="T5",
                                   product_name="Karak Tea"))
        db.session.add(MenuMapping(company_id=kitchen.alpha.id, integration_config_id=kitchen.integrations["CAREEM"],
                                   platform="CAREEM", local_product_id="P005", platform_product_id="C5",
                                   product_name="Karak Tea", product_price=Decimal("8")))
        db.session.commit()
    assert dict((platform, (price, overridden)) for platform, price, overridden in rows(
        owner_conninfo, "SELECT platform, product_price, price_overridden FROM menu_mappings "
                        "WHERE local_product_id = 'P005' AND company_id = %s", (kitchen.alpha.id,))) == {
        "TALABAT": (Decimal("7.000"), False), "CAREEM": (Decimal("8.000"), True)}


def test_one_mapping_per_company_platform_and_product(app, kitchen, make_company, make_integration, add_products):
    with app.app_context(), tenant(kitchen.alpha.id):
        db.session.add(MenuMapping(company_id=kitchen.alpha.id, integration_config_id=kitchen.integrations["TALABAT"],
                                   platform="TALABAT", local_product_id="P001", platform_product_id="again",
                                   product_name="Again"))
        with pytest.raises(Exception) as error:
            db.session.commit()
        assert "uk_company_platform_product" in str(error.value)
        db.session.rollback()
    # Another company maps the same local id and platform id freely.
    gamma = make_company("Gamma Cafe")
    integration = make_integration(gamma, "TALABAT")
    add_products(gamma, {"TALABAT": integration}, menu=[("P001", "Other Burger", None, None, "20")])


def test_unmap_removes_one_cell(client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    response = auth.post(cell_url(kitchen, "P004", "CAREEM") + "/unmap", page="/menu/mappings", headers=HX)
    assert "Not mapped" in response.get_data(as_text=True) and "hx-preserve" not in response.get_data(as_text=True)
    assert rows(owner_conninfo, "SELECT platform FROM menu_mappings WHERE local_product_id = 'P004' "
                                "AND company_id = %s", (kitchen.alpha.id,)) == [("TALABAT",)]


def bulk(auth, data):
    return auth.post("/menu/mappings/bulk", data, page="/menu/mappings", follow_redirects=True)


def test_bulk_map_price_reset_and_copy(client, auth, make_company, make_integration, add_products, owner_conninfo):
    company = make_company("Gamma Cafe")
    talabat, careem = make_integration(company, "TALABAT"), make_integration(company, "CAREEM")
    products = add_products(company, {"TALABAT": talabat}, mapped={"P001", "P002"})
    auth.login(company.email("MANAGER"))
    selected = [str(products[key]) for key in ("P002", "P003", "P004")]

    page = bulk(auth, {"action": "map", "platform": str(talabat), "product_ids": selected}).get_data(as_text=True)
    assert "2 products mapped on Talabat" in page
    assert sorted(rows(owner_conninfo, "SELECT local_product_id, platform_product_id FROM menu_mappings "
                                       "WHERE integration_config_id = %s", (talabat,))) == [
        ("P001", "TAL-P001"), ("P002", "TAL-P002"), ("P003", "P003"), ("P004", "P004")]

    page = bulk(auth, {"action": "price", "platforms": [str(talabat)], "percent": "10",
                       "product_ids": selected}).get_data(as_text=True)
    assert "3 platform prices changed by 10 %" in page
    assert dict(rows(owner_conninfo, "SELECT local_product_id, product_price FROM menu_mappings "
                                     "WHERE integration_config_id = %s", (talabat,))) == {
        "P001": Decimal("28.000"), "P002": Decimal("15.400"), "P003": Decimal("63.800"), "P004": Decimal("24.200")}
    assert "from -90 to 90" in bulk(auth, {"action": "price", "platforms": [str(talabat)], "percent": "500",
                                           "product_ids": selected}).get_data(as_text=True)
    assert "Select at least one product" in bulk(auth, {"action": "price", "platforms": [str(talabat)],
                                                        "percent": "5"}).get_data(as_text=True)

    page = bulk(auth, {"action": "copy", "source": str(talabat), "target": str(careem)}).get_data(as_text=True)
    assert "4 new, 0 updated, 0 skipped" in page
    copied = dict((local_id, (platform_id, price, overridden)) for local_id, platform_id, price, overridden in rows(
        owner_conninfo, "SELECT local_product_id, platform_product_id, product_price, price_overridden "
                        "FROM menu_mappings WHERE integration_config_id = %s", (careem,)))
    assert copied["P003"] == ("P003", Decimal("63.800"), True) and copied["P001"] == ("TAL-P001", Decimal("28.000"),
                                                                                       False)

    page = bulk(auth, {"action": "reset", "platforms": [str(talabat), str(careem)], "product_ids": selected})
    assert "6 platform prices follow the catalog again" in page.get_data(as_text=True)
    assert rows(owner_conninfo, "SELECT count(*) FROM menu_mappings WHERE price_overridden") == [(0,)]
    assert "Choose what to do" in bulk(auth, {"action": "explode"}).get_data(as_text=True)


def _order_with_items(app, company_id, integration_id, platform, items, days_ago=1):
    with app.app_context(), tenant(company_id):
        created = datetime.now(timezone.utc) - timedelta(days=days_ago)
        db.session.add(DeliveryOrder(company_id=company_id, integration_config_id=integration_id, platform=platform,
                                     platform_order_id=str(uuid.uuid4()), order_number="N1", total_amount=10,
                                     order_items=items, created_at=created, updated_at=created))
        db.session.commit()


def test_platform_products_seen_in_orders_but_unmapped_get_suggestions(app, client, auth, kitchen, owner_conninfo):
    careem = kitchen.integrations["CAREEM"]
    _order_with_items(app, kitchen.alpha.id, careem, "CAREEM", [
        {"platform_product_id": "CAR-P001", "name": "Classic Beef Burger"},                 # mapped
        {"platform_product_id": "careem-777", "name": "Lamb Mandy Plate"},                  # unmapped
        {"platform_product_id": "P002", "local_product_id": "P002", "name": "Wrap"}])       # our PLU: mapped
    _order_with_items(app, kitchen.alpha.id, careem, "CAREEM", [{"platform_product_id": "careem-777",
                                                                  "name": "Lamb Mandy Plate"}])
    _order_with_items(app, kitchen.alpha.id, careem, "CAREEM", [{"platform_product_id": "old-1", "name": "Old"}],
                      days_ago=90)
    # Lamb Mandi is mapped on Careem already: the suggestion must be an unmapped product, so unmap it.
    with app.app_context(), tenant(kitchen.alpha.id):
        db.session.execute(db.delete(MenuMapping).where(MenuMapping.local_product_id == "P003",
                                                        MenuMapping.platform == "CAREEM"))
        db.session.commit()
    auth.login(kitchen.alpha.email("MANAGER"))
    html = client.get("/menu/mappings/waiting").get_data(as_text=True)
    assert "Lamb Mandy Plate" in html and "careem-777" in html and "old-1" not in html
    assert "→ <strong>Lamb Mandi</strong>" in html
    assert rows(owner_conninfo, "SELECT platform_product_id, times_ordered FROM platform_products") == [
        ("careem-777", 2)]
    (platform_product_id,), = rows(owner_conninfo, "SELECT id FROM platform_products")
    accepted = auth.post(f"/menu/platform-products/{platform_product_id}/accept",
                         {"product_id": str(kitchen.products["P003"])}, page="/menu/mappings", headers=HX)
    assert "is now mapped to Lamb Mandi" in accepted.get_data(as_text=True)
    assert rows(owner_conninfo, "SELECT platform_product_id FROM menu_mappings WHERE local_product_id = 'P003' "
                                "AND platform = 'CAREEM'") == [("careem-777",)]
    assert "Every platform product seen in recent orders is mapped." in client.get(
        "/menu/mappings/waiting").get_data(as_text=True)


def test_dismissed_platform_products_stay_hidden(app, client, auth, kitchen, owner_conninfo):
    _order_with_items(app, kitchen.alpha.id, kitchen.integrations["TALABAT"], "TALABAT",
                      [{"platform_product_id": "tal-x", "name": "Something else"}])
    auth.login(kitchen.alpha.email("MANAGER"))
    assert "Something else" in client.get("/menu/mappings/waiting").get_data(as_text=True)
    (platform_product_id,), = rows(owner_conninfo, "SELECT id FROM platform_products")
    auth.post(f"/menu/platform-products/{platform_product_id}/dismiss", page="/menu/mappings")
    assert "Something else" not in client.get("/menu/mappings/waiting").get_data(as_text=True)


def test_suggestions_work_without_pg_trgm(app, client, auth, kitchen, monkeypatch):
    """The embedded PostgreSQL of `make run` has no pg_trgm: rapidfuzz suggests instead."""
    from portal.menu import mapping
    monkeypatch.setattr(mapping, "has_trigrams", lambda: False)
    _order_with_items(app, kitchen.alpha.id, kitchen.integrations["CAREEM"], "CAREEM",
                      [{"platform_product_id": "careem-555", "name": "Karak Tea Large"}])
    auth.login(kitchen.alpha.email("MANAGER"))
    html = client.get("/menu/mappings/waiting").get_data(as_text=True)
    assert "→ <strong>Karak Tea</strong>" in html and "now mapped as CAR-P005" in html
    with app.app_context():
        assert mapping.has_trigrams() is False


def test_without_pg_trgm_a_longer_name_suggests_the_product_it_contains(app, client, auth, kitchen, monkeypatch):
    from portal.menu import mapping
    monkeypatch.setattr(mapping, "has_trigrams", lambda: False)
    _order_with_items(app, kitchen.alpha.id, kitchen.integrations["CAREEM"], "CAREEM",
                      [{"platform_product_id": "careem-900", "name": "Kunafa with Cream"}])
    auth.login(kitchen.alpha.email("MANAGER"))
    html = client.get("/menu/mappings/waiting").get_data(as_text=True)
    assert "→ <strong>Kunafa</strong>" in html and "→ <strong>Karak Tea</strong>" not in html


def test_pg_trgm_is_used_where_the_server_has_it(app, owner_conninfo):
    from portal.menu import mapping
    (available,), = rows(owner_conninfo, "SELECT EXISTS (SELECT 1 FROM pg_available_extensions "
                                         "WHERE name = 'pg_trgm')")
    with app.app_context():
        assert mapping.has_trigrams() is available   # the migration installed it exactly where it exists
