"""Menu fixtures: a company with products (one with modifier groups) mapped on Talabat and Careem."""
from decimal import Decimal
from types import SimpleNamespace

import psycopg
import pytest

from portal.extensions import db
from portal.models import MenuMapping, ModifierGroup, ModifierOption, Product
from portal.tenancy import tenant

MENU = [("P001", "Classic Beef Burger", "برجر لحم كلاسيك", "Burgers", "28.00"),
        ("P002", "Chicken Shawarma Wrap", "شاورما دجاج", "Shawarma", "14.00"),
        ("P003", "Lamb Mandi", "مندي لحم", "Rice", "58.00"),
        ("P004", "Kunafa", "كنافة", "Desserts", "22.00"),
        ("P005", "Karak Tea", "شاي كرك", "Drinks", "7.00")]


def rows(conninfo, sql, params=()):
    """Read as the owner (sees every company): what the tests assert on."""
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchall()


@pytest.fixture
def add_products(app):
    """Products for a company, mapped (platform id = <PLATFORM[:3]>-<id>, inheriting prices) on integrations."""
    def add(company, integrations=None, menu=MENU, mapped=None):
        with app.app_context(), tenant(company.id):
            products = {}
            for position, (local_id, name, name_ar, category, price) in enumerate(menu, start=1):
                product = Product(company_id=company.id, local_product_id=local_id, name=name, name_ar=name_ar,
                                  category=category, price=Decimal(price), sort_order=position, is_available=True)
                db.session.add(product)
                products[local_id] = product
            db.session.flush()
            for platform, integration_id in (integrations or {}).items():
                for local_id, name, *_ in menu:
                    if mapped is not None and local_id not in mapped:
                        continue
                    db.session.add(MenuMapping(company_id=company.id, integration_config_id=integration_id,
                                               platform=platform, local_product_id=local_id,
                                               platform_product_id=f"{platform[:3]}-{local_id}", product_name=name))
            db.session.commit()
            return {local_id: product.id for local_id, product in products.items()}
    return add


@pytest.fixture
def add_group(app):
    """A modifier group with options on a product: add_group(company, product_id, "Size", 1, 1, [("Large", "3")])."""
    def add(company, product_id, name="Size", minimum=1, maximum=1, options=(("Regular", "0"), ("Large", "3.00"))):
        with app.app_context(), tenant(company.id):
            group = ModifierGroup(company_id=company.id, product_id=product_id, name=name, min_choices=minimum,
                                  max_choices=maximum)
            db.session.add(group)
            db.session.flush()
            for position, (option, delta) in enumerate(options, start=1):
                db.session.add(ModifierOption(company_id=company.id, group_id=group.id, name=option,
                                              price_delta=Decimal(delta), sort_order=position))
            db.session.commit()
            return group.id
    return add


@pytest.fixture
def kitchen(make_company, make_integration, add_products):
    """Alpha (SAR, Riyadh) with Talabat and Careem and five mapped products; Beta (KWD) with its own."""
    alpha, beta = make_company("Alpha Kitchen"), make_company("Beta Grill", currency="KWD", timezone="Asia/Kuwait")
    integrations = {platform: make_integration(alpha, platform, base_url="http://127.0.0.1:9/" + platform.lower())
                    for platform in ("TALABAT", "CAREEM")}
    products = add_products(alpha, integrations)
    beta_integration = make_integration(beta, "TALABAT", base_url="http://127.0.0.1:9/talabat")
    beta_products = add_products(beta, {"TALABAT": beta_integration},
                                 menu=[("B001", "Machboos", "مجبوس", "Rice", "3.500")])
    return SimpleNamespace(alpha=alpha, beta=beta, integrations=integrations, products=products,
                           beta_integration=beta_integration, beta_products=beta_products)


@pytest.fixture
def platforms():
    """The simulator's platform endpoints on a free port; `.url(platform)` is an integration's base URL.

    `.fail_next(n)` answers the next n calls 503 (a platform outage), `.journal.calls` is what arrived.
    """
    import threading

    from werkzeug.serving import make_server

    from portal.simulator.recorder import Journal, create_app

    journal = Journal()
    simulator = create_app(journal)
    outages = {"left": 0}

    def app(environ, start_response):
        if outages["left"] > 0 and not environ["PATH_INFO"].startswith("/calls"):
            outages["left"] -= 1
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b'{"error": "simulated outage"}']
        return simulator(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    yield SimpleNamespace(journal=journal, url=lambda platform: f"{base}/{platform.lower()}",
                          fail_next=lambda count: outages.update(left=count))
    server.shutdown()


@pytest.fixture
def point_at(app):
    """Point integrations at a base URL (the `platforms` fixture's)."""
    from portal.models import IntegrationConfig

    def point(company, integration_id, base_url):
        with app.app_context(), tenant(company.id):
            db.session.get(IntegrationConfig, integration_id).base_url = base_url
            db.session.commit()
    return point


def work(app):
    """Run every due job now, as the worker would (procrastinate, as portal_app)."""
    from portal.queue import run_worker
    run_worker(app, concurrency=1, wait=False)
