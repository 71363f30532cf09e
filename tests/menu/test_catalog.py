"""The catalog: products and modifier groups through the pages, with the rules that refuse bad input."""
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.menu import services
from portal.menu.services import MenuError
from portal.models import Company, Product
from portal.tenancy import tenant
from tests.menu.conftest import rows

GOOD = {"local_product_id": "P100", "name": "Falafel Wrap", "name_ar": "لفافة فلافل", "price": "9.50",
        "category": "Wraps", "is_available": "y"}


def test_manager_adds_a_product_and_sees_it_in_the_list(client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    response = auth.post("/menu/products/", GOOD, page="/menu/products/new")
    assert response.status_code == 302
    assert rows(owner_conninfo, "SELECT name, name_ar, price, company_id FROM products WHERE local_product_id = 'P100'") \
        == [("Falafel Wrap", "لفافة فلافل", Decimal("9.500"), kitchen.alpha.id)]
    page = client.get("/menu/?q=falafel").get_data(as_text=True)
    assert "Falafel Wrap" in page and "Classic Beef Burger" not in page


@pytest.mark.parametrize("change, field, message", [
    ({"name": "  "}, "name", "Name is required."),
    ({"price": "12.345"}, "price", "SAR amounts have at most 2 decimals."),
    ({"price": "-1"}, "price", "A price cannot be negative."),
    ({"price": "twelve"}, "price", "is not an amount"),
    ({"local_product_id": "P001"}, "local_product_id", "already used by"),
    ({"local_product_id": "has space"}, "local_product_id", "no spaces"),
    ({"image_url": "javascript:alert(1)"}, "image_url", "must start with https://"),
])
def test_bad_input_is_refused_next_to_the_field_and_nothing_changes(client, auth, kitchen, owner_conninfo, change,
                                                                    field, message):
    auth.login(kitchen.alpha.email("MANAGER"))
    before = rows(owner_conninfo, "SELECT count(*) FROM products")
    response = auth.post("/menu/products/", {**GOOD, **change}, page="/menu/products/new")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'id="{field}-help"' in page           # shown under its own field
    assert f'value="{GOOD["name"]}"' in page or field == "name"   # what was typed is kept
    assert rows(owner_conninfo, "SELECT count(*) FROM products") == before


def test_prices_follow_the_currency_precision(app, kitchen):
    with app.app_context(), tenant(kitchen.beta.id):
        beta = db.session.get(Company, kitchen.beta.id)
        assert services.clean_money("1.250", beta.currency) == Decimal("1.250")    # KWD: 3 decimals
        assert services.clean_money("١٢٫٥", "SAR") == Decimal("12.50")           # Arabic digits
        assert services.clean_money("12,5", "SAR") == Decimal("12.50")
        with pytest.raises(MenuError):
            services.clean_money("1.2345", beta.currency)


def test_edit_keeps_inheriting_mappings_on_the_new_price(client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    product_id = kitchen.products["P001"]
    response = auth.post(f"/menu/products/{product_id}", {**GOOD, "local_product_id": "P001", "name": "Beef Burger",
                                                         "price": "30"}, page=f"/menu/products/{product_id}")
    assert response.status_code == 302
    assert rows(owner_conninfo, "SELECT DISTINCT product_price, product_name FROM menu_mappings "
                                "WHERE local_product_id = 'P001'") == [(Decimal("30.000"), "Beef Burger")]


def test_delete_is_soft_and_restore_brings_it_back(client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    product_id = kitchen.products["P004"]
    assert auth.post(f"/menu/products/{product_id}/delete", page="/menu/").status_code == 302
    assert rows(owner_conninfo, "SELECT deleted_at IS NOT NULL FROM products WHERE id = %s", (product_id,)) == [(True,)]
    assert "was removed from the menu" in client.get("/menu/").get_data(as_text=True)   # the message, once
    assert "Kunafa" not in client.get("/menu/").get_data(as_text=True)
    assert client.get(f"/menu/products/{product_id}").status_code == 404
    assert "Kunafa" in client.get("/menu/?deleted=1").get_data(as_text=True)
    # The id stays taken (by the deleted product): a new product cannot reuse it silently.
    refused = auth.post("/menu/products/", {**GOOD, "local_product_id": "P004"}, page="/menu/products/new")
    assert refused.status_code == 422 and "Restore it instead" in refused.get_data(as_text=True)
    assert auth.post(f"/menu/products/{product_id}/restore", page="/menu/").status_code == 302
    assert rows(owner_conninfo, "SELECT deleted_at FROM products WHERE id = %s", (product_id,)) == [(None,)]


def test_modifier_groups_and_options(client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    product_id = kitchen.products["P001"]
    page = f"/menu/products/{product_id}"
    assert auth.post(f"/menu/products/{product_id}/groups", {"name": "Size", "min_choices": "1", "max_choices": "1"},
                     page=page).status_code == 302
    (group_id,), = rows(owner_conninfo, "SELECT id FROM modifier_groups")
    for name, delta in (("Regular", "0"), ("Large", "4.50"), ("Kids", "-2")):
        assert auth.post(f"/menu/groups/{group_id}/options", {"name": name, "price_delta": delta,
                                                               "is_available": "1"}, page=page).status_code == 302
    assert rows(owner_conninfo, "SELECT name, price_delta FROM modifier_options ORDER BY sort_order") == [
        ("Regular", Decimal("0.000")), ("Large", Decimal("4.500")), ("Kids", Decimal("-2.000"))]
    # Refused: a duplicate option, max below min, a second group of the same name.
    duplicate = auth.post(f"/menu/groups/{group_id}/options", {"name": "large", "price_delta": "1"}, page=page,
                          follow_redirects=True).get_data(as_text=True)
    below = auth.post(f"/menu/groups/{group_id}", {"name": "Size", "min_choices": "2", "max_choices": "1"}, page=page,
                      follow_redirects=True).get_data(as_text=True)
    again = auth.post(f"/menu/products/{product_id}/groups", {"name": "size"}, page=page,
                      follow_redirects=True).get_data(as_text=True)
    assert "This group already has an option called “large”." in duplicate
    assert "The maximum cannot be below the minimum (2)." in below
    assert "This product already has a group called “size”." in again
    assert rows(owner_conninfo, "SELECT count(*) FROM modifier_options") == [(3,)]
    assert rows(owner_conninfo, "SELECT name, min_choices, max_choices FROM modifier_groups") == [("Size", 1, 1)]
    shown = client.get(page).get_data(as_text=True)
    assert "Large" in shown and "+SAR" in shown.replace("\xa0", "")


def test_group_problems_name_what_a_platform_would_refuse(app, kitchen, add_group):
    group_id = add_group(kitchen.alpha, kitchen.products["P001"], minimum=3, maximum=4)
    with app.app_context(), tenant(kitchen.alpha.id):
        (group, options), = services.groups_of([kitchen.products["P001"]])[kitchen.products["P001"]]
        problems = services.group_problems(group, options)
        assert len(problems) == 2 and "at least 3 choices" in problems[0] and "allows 4 choices" in problems[1]
        assert group.id == group_id


def test_staff_cannot_open_the_catalog(client, auth, kitchen):
    auth.login(kitchen.alpha.email("USER"))
    assert client.get("/menu/").status_code == 403
    assert client.get("/menu/mappings").status_code == 403
    assert client.get("/menu/sync").status_code == 403
    assert client.get("/menu/availability").status_code == 200
    assert auth.post("/menu/products/", GOOD, page="/menu/availability").status_code == 403


def test_catalog_pages_and_search(client, auth, make_company, add_products):
    company = make_company("Gamma Cafe")
    menu = [(f"X{number:03d}", f"Dish {number}", None, "Mains", "10") for number in range(1, 31)]
    add_products(company, menu=menu)
    auth.login(company.email("MANAGER"))
    first = client.get("/menu/").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert "Dish 1<" in first and "Dish 30" not in first
    second = client.get("/menu/?page=2").get_data(as_text=True)
    assert "Dish 30" in second
    assert client.get("/menu/?page=abc").status_code == 200
    fragment = client.get("/menu/?q=Dish%2030", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith("<section id=\"catalog-results\"")
    assert "Dish 30" in fragment.get_data(as_text=True)
    assert client.get("/menu/?q=nothing-like-this").get_data(as_text=True).count("No product matches") == 1


def test_empty_catalog_says_how_to_start(client, auth, make_company):
    company = make_company("Empty Place")
    auth.login(company.email("MANAGER"))
    page = client.get("/menu/").get_data(as_text=True)
    assert "Your menu is empty" in page and "Import CSV" in page


def test_products_are_found_by_the_service_with_rls(app, kitchen):
    with app.app_context(), tenant(kitchen.alpha.id):
        names = {product.name for product in db.session.scalars(db.select(Product))}
        assert "Machboos" not in names and "Kunafa" in names
