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
