"""Orders for tests, written through the app under the company's tenant."""
import itertools
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg

from portal.extensions import db
from portal.models import DeliveryOrder, IntegrationConfig
from portal.tenancy import tenant

_numbers = itertools.count(1)


def add_order(app, company, integration_id, status="PENDING", is_test=False, minutes_ago=5, **values):
    """One order of `company` on the integration; returns its id."""
    number = next(_numbers)
    with app.app_context(), tenant(company.id):
        integration = db.session.get(IntegrationConfig, integration_id)
        order = DeliveryOrder(
            company_id=company.id, integration_config_id=integration_id, platform=integration.platform,
            platform_order_id=f"T-{number}", platform_token=f"token-{number}", order_number=values.pop("order_number", f"N{number:04d}"),
            status=status, is_test=is_test, total_amount=Decimal("42.50"), currency="SAR",
            customer_name=values.pop("customer_name", "Noura Al-Harbi"), customer_phone="+966551234567",
            order_items=[{"name": "Chicken Kabsa", "quantity": 2, "unit_price": "20.00", "line_total": "40.00",
                          "modifiers": [{"name": "Extra sauce", "price": "2.50"}], "notes": "No onions"}],
            created_at=datetime.now(timezone.utc) - timedelta(minutes=minutes_ago), **values)
        db.session.add(order)
        db.session.commit()
        return order.id


def insert_order(app, company, integration_id, **values):
    """One order of `company` on the integration (any column can be given); returns its id."""
    return insert_orders(app, company, integration_id, [values])[0]


def insert_orders(app, company, integration_id, rows):
    """Orders of `company`, written under its tenant in one transaction; returns their ids in order."""
    with app.app_context(), tenant(company.id):
        integration = db.session.get(IntegrationConfig, integration_id)
        orders = []
        for values in rows:
            values = dict(values)
            number = uuid.uuid4().hex[:10]
            order = DeliveryOrder(
                company_id=company.id, integration_config_id=integration_id, platform=integration.platform,
                platform_order_id=values.pop("platform_order_id", f"P-{number}"),
                order_number=values.pop("order_number", f"X{number}"),
                status=values.pop("status", "PENDING"), total_amount=values.pop("total_amount", Decimal("42.50")),
                currency=values.pop("currency", "SAR"),
                customer_name=values.pop("customer_name", "Noura Al-Harbi"),
                customer_phone=values.pop("customer_phone", "+966551234567"),
                order_items=values.pop("order_items", [
                    {"name": "Chicken Kabsa", "quantity": 2, "unit_price": "20.00", "line_total": "40.00",
                     "modifiers": [{"name": "Extra sauce", "price": "2.50", "quantity": 1}], "notes": "No onions"},
                    {"name": "Laban", "quantity": 1, "unit_price": "2.50", "line_total": "2.50", "modifiers": []}]),
                created_at=values.pop("created_at", datetime.now(timezone.utc) - timedelta(minutes=5)),
                **values)
            db.session.add(order)
            orders.append(order)
        db.session.commit()
        return [order.id for order in orders]


BULK_ORDERS = """
INSERT INTO delivery_orders (company_id, integration_config_id, platform, platform_order_id, order_number,
                             status, total_amount, order_items, customer_name, customer_phone, created_at)
SELECT %(company)s, %(integration)s, 'TALABAT', 'bulk-' || g, %(prefix)s || lpad(g::text, 5, '0'),
       (ARRAY['PENDING', 'ACCEPTED', 'DELIVERED', 'DELIVERED', 'CANCELLED'])[1 + g %% 5]::order_status,
       10 + g %% 190, '[{"name": "Kabsa", "quantity": 1}]',
       (ARRAY['Noura', 'Fahad', 'Sara', 'Khalid', 'Mona'])[1 + g %% 5] || ' Customer' || g,
       '+9665' || lpad(g::text, 8, '0'), now() - g * interval '37 minutes'
FROM generate_series(1, %(count)s) AS g
"""


def bulk_orders(app, owner_conninfo, companies, make_integration, count=2500):
    """`count` orders for each company, written as the owner in one INSERT … SELECT, then VACUUM ANALYZE."""
    with psycopg.connect(owner_conninfo, autocommit=True) as connection:
        for company, prefix in companies:
            connection.execute(BULK_ORDERS, {"company": company.id, "integration": make_integration(company, "TALABAT"),
                                             "prefix": prefix, "count": count})
        connection.execute("VACUUM ANALYZE delivery_orders")  # earlier tests leave dead rows (cleanup is DELETE)
