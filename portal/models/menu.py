"""The restaurant's own catalog and how each product maps onto each platform's menu."""
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ARRAY, Boolean, DateTime, ForeignKeyConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import company_fk, created_at, money, updated_at, uuid_pk
from .enums import DeliveryPlatform, SyncStatus, delivery_platform, sync_status


class Product(db.Model):
    """An item on the restaurant's own menu, in English and Arabic."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("company_id", "local_product_id", name="uq_products_company_local"),
        UniqueConstraint("company_id", "id", name="uq_products_company_id"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    local_product_id: Mapped[str] = mapped_column(String(100), nullable=False)
    sku: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    name_ar: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    description_ar: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(100))
    price: Mapped[Decimal] = money()
    image_url: Mapped[str | None] = mapped_column(String(1000))
    is_available: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MenuMapping(db.Model):
    """A product's identity, price and availability on one platform."""

    __tablename__ = "menu_mappings"
    __table_args__ = (
        UniqueConstraint("company_id", "platform", "local_product_id", name="uk_company_platform_product"),
        UniqueConstraint("company_id", "id", name="uq_menu_mappings_company_id"),
        ForeignKeyConstraint(["company_id", "integration_config_id"],
                             ["integration_configs.company_id", "integration_configs.id"],
                             ondelete="CASCADE", name="fk_menu_mappings_integration"),
        ForeignKeyConstraint(["company_id", "local_product_id"],
                             ["products.company_id", "products.local_product_id"],
                             ondelete="CASCADE", onupdate="CASCADE", name="fk_menu_mappings_product"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    local_product_id: Mapped[str] = mapped_column(String(100), nullable=False)
    platform_product_id: Mapped[str] = mapped_column(String(100), nullable=False)
    product_name: Mapped[str] = mapped_column(String(300), nullable=False)
    product_description: Mapped[str | None] = mapped_column(Text)
    product_price: Mapped[Decimal] = money()
    is_available: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    availability_schedule: Mapped[dict | None] = mapped_column(JSONB)
    platform: Mapped[DeliveryPlatform] = mapped_column(delivery_platform, nullable=False)
    platform_data: Mapped[dict | None] = mapped_column(JSONB)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sync_status: Mapped[SyncStatus] = mapped_column(sync_status, nullable=False, default=SyncStatus.pending)
    sync_errors: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    company_id: Mapped[uuid.UUID] = company_fk()
    integration_config_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
