"""The restaurant's own catalog and how each product maps onto each platform's menu."""
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (ARRAY, Boolean, DateTime, FetchedValue, ForeignKeyConstraint, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import Money, company_fk, created_at, money, updated_at, uuid_pk
from .enums import DeliveryPlatform, SyncRunStatus, SyncStatus, delivery_platform, sync_status


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
    # Inherited from the product unless price_overridden (triggers keep it; a missing one is inherited).
    product_price: Mapped[Decimal] = mapped_column(Money, nullable=False, server_default=FetchedValue())
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
    # Left unset on insert, the database derives it: a price other than the product's is an override.
    price_overridden: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=FetchedValue())
    platform_available: Mapped[bool | None] = mapped_column(Boolean)   # what the platform was last told
    synced_hash: Mapped[str | None] = mapped_column(String(64))        # what the last good sync pushed


class ModifierGroup(db.Model):
    """A choice on a product ("Size", "Extras"): between min_choices and max_choices of its options."""

    __tablename__ = "modifier_groups"
    __table_args__ = (
        UniqueConstraint("company_id", "id", name="uq_modifier_groups_company_id"),
        UniqueConstraint("company_id", "product_id", "name", name="uq_modifier_groups_name"),
        ForeignKeyConstraint(["company_id", "product_id"], ["products.company_id", "products.id"],
                             ondelete="CASCADE", name="fk_modifier_groups_product"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    product_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    name_ar: Mapped[str | None] = mapped_column(String(200))
    min_choices: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_choices: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class ModifierOption(db.Model):
    """One option of a modifier group, with its price delta (added to the product's price)."""

    __tablename__ = "modifier_options"
    __table_args__ = (
        UniqueConstraint("company_id", "id", name="uq_modifier_options_company_id"),
        UniqueConstraint("company_id", "group_id", "name", name="uq_modifier_options_name"),
        ForeignKeyConstraint(["company_id", "group_id"], ["modifier_groups.company_id", "modifier_groups.id"],
                             ondelete="CASCADE", name="fk_modifier_options_group"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    group_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    local_option_id: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    name_ar: Mapped[str | None] = mapped_column(String(200))
    price_delta: Mapped[Decimal] = money(default=0)
    is_available: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class SoldOut(db.Model):
    """An "86": the product is sold out on every platform until `until_at` (None: until switched back)."""

    __tablename__ = "menu_sold_out"
    __table_args__ = (
        UniqueConstraint("company_id", "id", name="uq_menu_sold_out_company_id"),
        ForeignKeyConstraint(["company_id", "product_id"], ["products.company_id", "products.id"],
                             ondelete="CASCADE", name="fk_menu_sold_out_product"),
        ForeignKeyConstraint(["company_id", "created_by"], ["users.company_id", "users.id"],
                             name="fk_menu_sold_out_created_by"),
        ForeignKeyConstraint(["company_id", "ended_by"], ["users.company_id", "users.id"],
                             name="fk_menu_sold_out_ended_by"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    product_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    until_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    until_kind: Mapped[str] = mapped_column(String(12), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    end_reason: Mapped[str | None] = mapped_column(String(10))
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()


class AvailabilityPush(db.Model):
    """Which platform call told a platform that a product is (un)available, and why."""

    __tablename__ = "menu_availability_pushes"
    __table_args__ = (
        UniqueConstraint("company_id", "id", name="uq_menu_availability_pushes_company_id"),
        ForeignKeyConstraint(["company_id", "platform_call_id"], ["platform_calls.company_id", "platform_calls.id"],
                             ondelete="CASCADE", name="fk_menu_availability_pushes_call"),
        ForeignKeyConstraint(["company_id", "product_id"], ["products.company_id", "products.id"],
                             ondelete="CASCADE", name="fk_menu_availability_pushes_product"),
        ForeignKeyConstraint(["company_id", "integration_config_id"],
                             ["integration_configs.company_id", "integration_configs.id"],
                             ondelete="CASCADE", name="fk_menu_availability_pushes_integration"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    platform_call_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    product_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    integration_config_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    available: Mapped[bool] = mapped_column(Boolean, nullable=False)
    source: Mapped[str] = mapped_column(String(12), nullable=False)
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()


class MenuSyncRun(db.Model):
    """One "Sync menu" (full or diff) or "Import from platform" run: progress, outcome and report."""

    __tablename__ = "menu_sync_runs"
    __table_args__ = (
        UniqueConstraint("company_id", "id", name="uq_menu_sync_runs_company_id"),
        ForeignKeyConstraint(["company_id", "integration_config_id"],
                             ["integration_configs.company_id", "integration_configs.id"],
                             ondelete="CASCADE", name="fk_menu_sync_runs_integration"),
        ForeignKeyConstraint(["company_id", "platform_call_id"], ["platform_calls.company_id", "platform_calls.id"],
                             name="fk_menu_sync_runs_call"),
        ForeignKeyConstraint(["company_id", "created_by"], ["users.company_id", "users.id"],
                             name="fk_menu_sync_runs_created_by"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    integration_config_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    platform: Mapped[DeliveryPlatform] = mapped_column(delivery_platform, nullable=False)
    kind: Mapped[str] = mapped_column(String(6), nullable=False, default="SYNC")
    mode: Mapped[str] = mapped_column(String(4), nullable=False, default="full")
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=SyncRunStatus.QUEUED)
    total_items: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    processed_items: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sent_items: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped_items: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed_items: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    warning_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    platform_call_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    platform_request_id: Mapped[str | None] = mapped_column(String(100))
    platform_status: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
    report: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = updated_at()

    FINISHED = (SyncRunStatus.COMPLETED, SyncRunStatus.PARTIAL, SyncRunStatus.FAILED)

    @property
    def is_finished(self):
        return self.status in self.FINISHED


class PlatformProduct(db.Model):
    """A product as a platform knows it (imported from the platform, or seen in its orders)."""

    __tablename__ = "platform_products"
    __table_args__ = (
        UniqueConstraint("company_id", "id", name="uq_platform_products_company_id"),
        UniqueConstraint("company_id", "integration_config_id", "platform_product_id",
                         name="uq_platform_products_product"),
        ForeignKeyConstraint(["company_id", "integration_config_id"],
                             ["integration_configs.company_id", "integration_configs.id"],
                             ondelete="CASCADE", name="fk_platform_products_integration"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    integration_config_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    platform: Mapped[DeliveryPlatform] = mapped_column(delivery_platform, nullable=False)
    platform_product_id: Mapped[str] = mapped_column(String(100), nullable=False)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    price: Mapped[Decimal | None] = money(nullable=True)
    category: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(6), nullable=False)
    times_ordered: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
