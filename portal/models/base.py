"""Column helpers shared by the models."""
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Numeric, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

Money = Numeric(12, 3)


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"),
                         default=uuid.uuid4)


def company_fk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), ForeignKey("companies.id", ondelete="CASCADE"), nullable=False)


def created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def updated_at() -> Mapped[datetime]:
    # The database trigger set_updated_at keeps it current.
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def money(nullable=False, default=None) -> Mapped[Decimal]:
    kwargs = {"server_default": text(str(default))} if default is not None else {}
    return mapped_column(Money, nullable=nullable, **kwargs)
