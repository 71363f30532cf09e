"""Orders for tests, written through the app under the company's tenant."""
import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

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
