"""The reports' daily rollup (migration 0009): kept current by the worker, read with the live days."""
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ARRAY, Date, DateTime, ForeignKey, Integer, Numeric, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .enums import DeliveryPlatform, delivery_platform

Total = Numeric(16, 3)


def _company() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)


class AnalyticsDaily(db.Model):
    """One company's orders of one local day on one platform, added up (sold = not cancelled or rejected)."""

    __tablename__ = "analytics_daily"
    company_id: Mapped[uuid.UUID] = _company()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform: Mapped[DeliveryPlatform] = mapped_column(delivery_platform, primary_key=True)
    orders: Mapped[int] = mapped_column(Integer, nullable=False)
    sold_orders: Mapped[int] = mapped_column(Integer, nullable=False)
    accepted_orders: Mapped[int] = mapped_column(Integer, nullable=False)
    rejected_orders: Mapped[int] = mapped_column(Integer, nullable=False)
    cancelled_orders: Mapped[int] = mapped_column(Integer, nullable=False)
    delivered_orders: Mapped[int] = mapped_column(Integer, nullable=False)
    gross_sales: Mapped[Decimal] = mapped_column(Total, nullable=False)
    revenue: Mapped[Decimal] = mapped_column(Total, nullable=False)
    platform_discount: Mapped[Decimal] = mapped_column(Total, nullable=False)
    vendor_discount: Mapped[Decimal] = mapped_column(Total, nullable=False)
    third_party_discount: Mapped[Decimal] = mapped_column(Total, nullable=False)
    other_discount: Mapped[Decimal] = mapped_column(Total, nullable=False)
    delivery_fees: Mapped[Decimal] = mapped_column(Total, nullable=False)
    service_fees: Mapped[Decimal] = mapped_column(Total, nullable=False)
    tax: Mapped[Decimal] = mapped_column(Total, nullable=False)
    tips: Mapped[Decimal] = mapped_column(Total, nullable=False)
    commission: Mapped[Decimal] = mapped_column(Total, nullable=False)
    accept_seconds: Mapped[list] = mapped_column(ARRAY(Integer), nullable=False)
    ready_seconds: Mapped[list] = mapped_column(ARRAY(Integer), nullable=False)
    hourly_orders: Mapped[list] = mapped_column(ARRAY(Integer), nullable=False)
    mismatched_orders: Mapped[int] = mapped_column(Integer, nullable=False)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class AnalyticsDailyItem(db.Model):
    """How many of one item (or modifier) the sold orders of a day and platform held, and for how much."""

    __tablename__ = "analytics_daily_items"
    company_id: Mapped[uuid.UUID] = _company()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform: Mapped[DeliveryPlatform] = mapped_column(delivery_platform, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # ITEM or MODIFIER
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    name_ar: Mapped[str | None] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    sales: Mapped[Decimal] = mapped_column(Total, nullable=False)


class AnalyticsDailyCustomer(db.Model):
    """A customer (md5 of the phone, not the phone) who ordered on a day and platform."""

    __tablename__ = "analytics_daily_customers"
    company_id: Mapped[uuid.UUID] = _company()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform: Mapped[DeliveryPlatform] = mapped_column(delivery_platform, primary_key=True)
    customer_key: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer, nullable=False)


class AnalyticsDirtyDay(db.Model):
    """A local day whose orders changed since it was rolled up (the trigger on delivery_orders marks it)."""

    __tablename__ = "analytics_dirty_days"
    company_id: Mapped[uuid.UUID] = _company()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
