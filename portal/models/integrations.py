"""Connections to delivery platforms, their webhook log and their measured health."""
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (Boolean, DateTime, ForeignKey, ForeignKeyConstraint, Integer, LargeBinary, Numeric, String,
                        Text, UniqueConstraint)
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import company_fk, created_at, updated_at, uuid_pk
from .enums import (AggregationType, CallStatus, DeliveryPlatform, SyncStatus, WebhookOutcome, aggregation_type,
                    delivery_platform, sync_status)


class IntegrationConfig(db.Model):
    """One company's connection to one delivery platform (credentials encrypted at rest)."""

    __tablename__ = "integration_configs"
    __table_args__ = (
        UniqueConstraint("company_id", "platform", name="uk_company_platform"),
        UniqueConstraint("company_id", "id", name="uq_integration_configs_company_id"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    platform: Mapped[DeliveryPlatform | None] = mapped_column(delivery_platform)  # None for WhatsApp
    is_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    api_key: Mapped[str | None] = mapped_column(Text)
    api_secret: Mapped[str | None] = mapped_column(Text)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(Text)
    merchant_id: Mapped[str | None] = mapped_column(String(100))
    store_id: Mapped[str | None] = mapped_column(String(100))
    commission_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=Decimal("0"))
    configuration: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sync_status: Mapped[SyncStatus] = mapped_column(sync_status, nullable=False, default=SyncStatus.pending)
    base_url: Mapped[str | None] = mapped_column(String(500))
    # {"enabled": bool, "preparation_minutes": int, "max_total": "…" or null}
    auto_accept: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    paused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class WebhookLog(db.Model):
    """Every inbound webhook, stored raw before anything else can fail."""

    __tablename__ = "webhook_logs"
    __table_args__ = (
        UniqueConstraint("company_id", "id", name="uq_webhook_logs_company_id"),
        ForeignKeyConstraint(["company_id", "integration_config_id"],
                             ["integration_configs.company_id", "integration_configs.id"],
                             name="fk_webhook_logs_integration"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    platform: Mapped[DeliveryPlatform] = mapped_column(delivery_platform, nullable=False)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    # The body as JSON; NULL when JSONB cannot hold it (not JSON, nested too deep, 1e400…).
    payload: Mapped[dict | list | None] = mapped_column(JSONB(none_as_null=True))
    # The exact bytes, kept when `payload` is NULL or had to be cleaned (\u0000, lone surrogates).
    raw_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    headers: Mapped[dict | None] = mapped_column(JSONB)
    signature: Mapped[str | None] = mapped_column(String(500))
    ip_address: Mapped[str | None] = mapped_column(INET)
    response: Mapped[dict | None] = mapped_column(JSONB)
    status_code: Mapped[int | None] = mapped_column(Integer)
    is_processed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    error_message: Mapped[str | None] = mapped_column(Text)
    retry_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_retries: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    next_retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # NULL only for a webhook no integration claims (visible to the operator alone).
    company_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("companies.id",
                                                                                       ondelete="CASCADE"))
    integration_config_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    channel: Mapped[str] = mapped_column(String(20), nullable=False, default="platform")  # or "whatsapp"
    whatsapp_connection_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    event_id: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20), nullable=False, default=WebhookOutcome.RECEIVED)
    order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    request_path: Mapped[str | None] = mapped_column(String(500))
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at()
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IntegrationAnalytics(db.Model):
    """A measured figure of a platform integration over a period (e.g. api_response_time)."""

    __tablename__ = "integration_analytics"
    id: Mapped[uuid.UUID] = uuid_pk()
    platform: Mapped[DeliveryPlatform] = mapped_column(delivery_platform, nullable=False)
    metric_name: Mapped[str] = mapped_column(String(100), nullable=False)
    metric_value: Mapped[Decimal] = mapped_column(Numeric(15, 4), nullable=False)
    metric_unit: Mapped[str] = mapped_column(String(20), nullable=False)
    aggregation_type: Mapped[AggregationType] = mapped_column(aggregation_type, nullable=False)
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    recorded_at: Mapped[datetime] = created_at()
    tags: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    company_id: Mapped[uuid.UUID] = company_fk()


class PlatformCall(db.Model):
    """One outbound call to a platform (accept, reject, ready, menu, availability, store status…)."""

    __tablename__ = "platform_calls"
    __table_args__ = (
        UniqueConstraint("company_id", "id", name="uq_platform_calls_company_id"),
        ForeignKeyConstraint(["company_id", "integration_config_id"],
                             ["integration_configs.company_id", "integration_configs.id"],
                             ondelete="CASCADE", name="fk_platform_calls_integration"),
        ForeignKeyConstraint(["company_id", "order_id"], ["delivery_orders.company_id", "delivery_orders.id"],
                             name="fk_platform_calls_order"),
        ForeignKeyConstraint(["company_id", "user_id"], ["users.company_id", "users.id"],
                             name="fk_platform_calls_user"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    integration_config_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    url: Mapped[str] = mapped_column(String(1000), nullable=False)
    request_body: Mapped[dict | list | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=CallStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=5)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
