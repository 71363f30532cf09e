"""Fixtures for the simulator tests: a company with integrations, products and menu mappings."""
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.models import MenuMapping, Product
from portal.tenancy import tenant


MENU = [("P001", "Classic Beef Burger", "برجر لحم كلاسيك", "Burgers", "28.00"),
        ("P002", "Chicken Shawarma Wrap", "شاورما دجاج", "Shawarma", "14.00"),
        ("P003", "Lamb Mandi", "مندي لحم", "Rice", "58.00"),
        ("P004", "Kunafa", "كنافة", "Desserts", "22.00"),
        ("P005", "Karak Tea", "شاي كرك", "Drinks", "7.00")]


@pytest.fixture
def add_menu(app):
    """Products for a company, each mapped on the given integrations (platform price = ours + 1)."""
    def add(company, integrations, menu=MENU, unavailable=()):
        with app.app_context(), tenant(company.id):
            for local_id, name, name_ar, category, price in menu:
                db.session.add(Product(company_id=company.id, local_product_id=local_id, name=name, name_ar=name_ar,
                                       category=category, price=Decimal(price), is_available=True))
            db.session.flush()
            for platform, integration_id in integrations.items():
                for local_id, name, _, _, price in menu:
                    db.session.add(MenuMapping(
                        company_id=company.id, integration_config_id=integration_id, platform=platform,
                        local_product_id=local_id, platform_product_id=f"{platform[:3]}-{local_id}",
                        product_name=name, product_price=Decimal(price) + 1,
                        is_available=local_id not in unavailable))
            db.session.commit()
    return add
