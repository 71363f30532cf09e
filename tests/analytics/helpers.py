"""Orders with exact money and time stamps for the report tests, written through the app under the tenant."""
import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from portal.extensions import db
from portal.models import DeliveryOrder, IntegrationConfig
from portal.tenancy import tenant

_numbers = itertools.count(1)
UTC = timezone.utc


def utc(text):
    """'2025-03-01 21:30' -> an aware UTC datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def item(name, quantity, line_total, modifiers=(), name_ar=None):
    """One line of order_items as the receiver stores it (amounts as strings)."""
    unit = Decimal(line_total) / quantity
    return {"name": name, "name_ar": name_ar, "quantity": quantity, "unit_price": str(unit),
            "line_total": str(line_total), "modifiers": [{"name": m, "price": p, "quantity": 1} for m, p in modifiers]}


def add_order(app, company_id, integration_id, created_at, *, status="DELIVERED", subtotal="0", total=None,
              accepted_after=None, ready_after=None, items=None, phone=None, currency="SAR", is_test=False, **money):
    """An order received at `created_at`; `accepted_after` / `ready_after` are seconds after it."""
    number = next(_numbers)
    subtotal = Decimal(subtotal)
    values = {key: Decimal(value) if value is not None else None for key, value in money.items()}
    discount = sum(values.get(key) or 0 for key in ("platform_discount", "vendor_discount", "third_party_discount"))
    values.setdefault("discount_amount", discount)
    with app.app_context(), tenant(company_id):
        integration = db.session.get(IntegrationConfig, integration_id)
        order = DeliveryOrder(
            company_id=company_id, integration_config_id=integration_id, platform=integration.platform,
            platform_order_id=f"R-{number}", order_number=f"R{number:04d}", status=status, is_test=is_test,
            subtotal=subtotal, total_amount=Decimal(total) if total is not None else subtotal, currency=currency,
            customer_name="Customer", customer_phone=phone,
            order_items=items if items is not None else [item("Item", 1, subtotal)],
            created_at=created_at, updated_at=created_at,
            accepted_at=created_at + timedelta(seconds=accepted_after) if accepted_after is not None else None,
            ready_at=created_at + timedelta(seconds=ready_after) if ready_after is not None else None,
            rejected_at=created_at + timedelta(seconds=40) if status == "REJECTED" else None,
            cancelled_at=created_at + timedelta(seconds=500) if status == "CANCELLED" else None,
            **values)
        db.session.add(order)
        db.session.commit()
        return order.id


def add_integration(app, company_id, platform, commission_rate):
    """A platform connection (disabled drafts need no credentials) with a commission rate."""
    with app.app_context(), tenant(company_id):
        integration = IntegrationConfig(company_id=company_id, platform=platform, is_enabled=False,
                                        commission_rate=Decimal(commission_rate))
        db.session.add(integration)
        db.session.commit()
        return integration.id
