"""Every menu page renders for the roles that may open it, with real data; the others get 403."""
import pytest


@pytest.mark.parametrize("path", ["/menu/", "/menu/products/new", "/menu/import", "/menu/mappings", "/menu/sync",
                                  "/menu/availability", "/menu/board", "/menu/mappings/waiting"])
def test_manager_pages_render(client, auth, kitchen, path):
    auth.login(kitchen.alpha.email("MANAGER"))
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]


def test_product_page_renders_with_groups(client, auth, kitchen, add_group):
    add_group(kitchen.alpha, kitchen.products["P001"])
    auth.login(kitchen.alpha.email("MANAGER"))
    page = client.get(f"/menu/products/{kitchen.products['P001']}").get_data(as_text=True)
    assert "Classic Beef Burger" in page and "Large" in page and "Size" in page


def test_the_mapping_grid_in_arabic_shows_arabic_names_and_currency(client, auth, kitchen):
    auth.login(kitchen.alpha.email("MANAGER"))
    auth.post("/language", {"locale": "ar", "next": "/menu/mappings"}, page="/menu/mappings")

    html = client.get("/menu/mappings").get_data(as_text=True)
    grid = html[html.index('id="grid"'):]

    assert "مندي لحم" in grid and "Lamb Mandi" not in grid
    assert "ر.س." in grid and "SAR" not in grid
