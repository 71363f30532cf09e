"""Today's figures, in the company's time zone, from the company's own orders (RLS scopes them)."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from ..extensions import db
from ..models import OPEN_STATUSES, DeliveryOrder, OrderStatus

NOT_SOLD = (OrderStatus.CANCELLED, OrderStatus.REJECTED)


@dataclass
class DashboardFigures:
    orders_today: int
    revenue_today: Decimal
    open_orders: int
    average_order_value: Decimal
    platform_week: list
    recent_orders: list


def start_of_day(timezone, now=None):
    """Midnight of today in the company's time zone, as a UTC-aware datetime."""
    zone = ZoneInfo(timezone)
    local_now = (now or datetime.now(tz=zone)).astimezone(zone)
    return local_now.replace(hour=0, minute=0, second=0, microsecond=0)


def dashboard_figures(company, now=None):
    """The dashboard's numbers: today's orders and sales, open orders, the week per platform."""
    today = start_of_day(company.timezone, now)
    real = (DeliveryOrder.company_id == company.id, DeliveryOrder.is_test.is_(False))
    sold = DeliveryOrder.status.not_in(NOT_SOLD)
    orders_today, revenue_today = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((sold, DeliveryOrder.total_amount))), 0))
        .where(*real, DeliveryOrder.created_at >= today)).one()
    open_orders = db.session.scalar(
        select(func.count()).where(*real, DeliveryOrder.status.in_(OPEN_STATUSES)))
    sold_today = db.session.scalar(
        select(func.count()).where(*real, sold, DeliveryOrder.created_at >= today))
    platform_week = db.session.execute(
        select(DeliveryOrder.platform, func.count().label("orders"),
               func.coalesce(func.sum(case((sold, DeliveryOrder.total_amount))), 0).label("revenue"))
        .where(*real, DeliveryOrder.created_at >= today - timedelta(days=6))
        .group_by(DeliveryOrder.platform).order_by(func.count().desc())).all()
    recent_orders = db.session.scalars(
        select(DeliveryOrder).where(*real).order_by(DeliveryOrder.created_at.desc()).limit(10)).all()
    average = (Decimal(revenue_today) / sold_today) if sold_today else Decimal(0)
    return DashboardFigures(orders_today, Decimal(revenue_today), open_orders, average, platform_week,
                            recent_orders)
