"""Careem names an option only by the id we pushed it under: the receiver names it from the catalog,
and the card, the order page and the kitchen ticket show that name in the page's language."""
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.models import MenuMapping, ModifierGroup, ModifierOption, Product
from portal.tenancy import tenant
from tests.integration_fixtures import load_payload


@pytest.fixture
def careem_kitchen(app, make_company, make_integration):
    company = make_company("Shawarma Corner")
    integration_id = make_integration(company, "CAREEM")
    with app.app_context(), tenant(company.id):
        product = Product(company_id=company.id, local_product_id="P001", name="Chicken Shawarma",
                          name_ar="شاورما دجاج", price=Decimal("18.00"))
        db.session.add(product)
        db.session.flush()
        db.session.add(MenuMapping(company_id=company.id, integration_config_id=integration_id, platform="CAREEM",
                                   local_product_id="P001", platform_product_id="CAR-P001",
                                   product_name="Chicken Shawarma"))
        group = ModifierGroup(company_id=company.id, product_id=product.id, name="Extras", name_ar="إضافات",
                              sort_order=1, max_choices=3)
        db.session.add(group)
        db.session.flush()
        db.session.add_all([
            ModifierOption(company_id=company.id, group_id=group.id, local_option_id="MOD-EXTRA-CHEESE",
                           name="Extra cheese", name_ar="جبنة إضافية", price_delta=Decimal("3.00"), sort_order=1),
            # No local id: pushed as "<platform product id>-g<group place>-o<option place>".
            ModifierOption(company_id=company.id, group_id=group.id, name="Extra garlic sauce",
                           name_ar="ثومية إضافية", price_delta=Decimal("2.00"), sort_order=2),
        ])
        db.session.commit()
    return company, integration_id


def careem_order_with_options():
    payload = load_payload("careem-order-created-example.json")
    item = payload["details"]["items"][0]
    item["id"] = "P001"
    option = item["groups"][0]["options"][0]
    item["groups"][0]["options"] = [dict(option, id="MOD-EXTRA-CHEESE"), dict(option, id="CAR-P001-g1-o2"),
                                    dict(option, id="MOD-UNKNOWN")]
    return payload


def test_careem_options_are_named_from_the_catalog(app, webhooks, careem_kitchen, owner_conninfo):
    import psycopg
    company, integration_id = careem_kitchen
    assert webhooks.send("CAREEM", integration_id, careem_order_with_options()).status_code == 200
    with psycopg.connect(owner_conninfo) as connection:
        (items,) = connection.execute("SELECT order_items FROM delivery_orders").fetchone()
    modifiers = [(m["name"], m.get("name_ar"), m["local_id"]) for m in items[0]["modifiers"]]
    assert modifiers == [("Extra cheese", "جبنة إضافية", "MOD-EXTRA-CHEESE"),
                         ("Extra garlic sauce", "ثومية إضافية", "CAR-P001-g1-o2"),
                         ("Option MOD-UNKNOWN", None, "MOD-UNKNOWN")]   # the catalog does not know it


@pytest.mark.parametrize("locale, cheese, garlic, not_shown", [
    ("en", "Extra cheese", "Extra garlic sauce", "جبنة إضافية"),
    ("ar", "جبنة إضافية", "ثومية إضافية", "Extra cheese"),
])
def test_card_page_and_ticket_show_option_names_in_the_page_language(app, auth, client, webhooks, careem_kitchen,
                                                                     owner_conninfo, locale, cheese, garlic,
                                                                     not_shown):
    import psycopg
    company, integration_id = careem_kitchen
    assert webhooks.send("CAREEM", integration_id, careem_order_with_options()).status_code == 200
    with psycopg.connect(owner_conninfo) as connection:
        (order_id,) = connection.execute("SELECT id FROM delivery_orders").fetchone()
    auth.login(company.email("USER"))
    if locale == "ar":
        auth.post("/language", {"locale": "ar", "next": "/board"}, page="/board")
    board = client.get("/board").get_data(as_text=True)
    card = board.split(f'id="order-{order_id}"')[1].split("</article>")[0]
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    ticket = client.get(f"/orders/{order_id}/ticket").get_data(as_text=True)
    for shown in (card, page, ticket):
        assert cheese in shown and garlic in shown
        assert not_shown not in shown
        assert "Option MOD-EXTR" not in shown.replace("Option MOD-UNKNOWN", "")
