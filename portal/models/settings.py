"""Company settings kept in their own tables: the logo, opening hours, holidays and alert incidents."""
import uuid
from datetime import date, datetime, time

from sqlalchemy import (CheckConstraint, Date, DateTime, ForeignKey, Index, LargeBinary, SmallInteger, String,
                        Time, UniqueConstraint, text)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import company_fk, created_at, updated_at, uuid_pk


class CompanyLogo(db.Model):
    """The company's logo (PNG, JPEG or WebP, at most 512 KB), shown in the header and on tickets."""

    __tablename__ = "company_logos"
    __table_args__ = (
        CheckConstraint("content_type IN ('image/png', 'image/jpeg', 'image/webp')", name="ck_logo_type"),
        CheckConstraint("octet_length(data) <= 524288", name="ck_logo_size"),
    )
    company_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("companies.id", ondelete="CASCADE"),
                                                  primary_key=True)
    content_type: Mapped[str] = mapped_column(String(20), nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    updated_at: Mapped[datetime] = updated_at()


class OpeningShift(db.Model):
    """One shift of one weekday (0 = Monday); a shift that closes before it opens ends the next day."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        UniqueConstraint("company_id", "id", name="uq_opening_hours_company_id"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_opening_hours_weekday"),
        CheckConstraint("opens_at <> closes_at", name="ck_opening_hours_not_empty"),
        Index("ix_opening_hours_company_day", "company_id", "weekday"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = company_fk()
    weekday: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    opens_at: Mapped[time] = mapped_column(Time, nullable=False)
    closes_at: Mapped[time] = mapped_column(Time, nullable=False)


class HolidayClosure(db.Model):
    """Whole days the restaurant is closed, from `starts_on` to `ends_on` inclusive."""

    __tablename__ = "holiday_closures"
    __table_args__ = (
        UniqueConstraint("company_id", "id", name="uq_holiday_closures_company_id"),
        CheckConstraint("ends_on >= starts_on", name="ck_holiday_closures_range"),
        Index("ix_holiday_closures_company", "company_id", "starts_on"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = company_fk()
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="", server_default="")


class AlertIncident(db.Model):
    """Something an alert was raised for (an order waiting, an integration silent); open until `closed_at`."""

    __tablename__ = "alert_incidents"
    __table_args__ = (
        UniqueConstraint("company_id", "id", name="uq_alert_incidents_company_id"),
        Index("uq_alert_incidents_open", "company_id", "kind", "subject_id", unique=True,
              postgresql_where=text("closed_at IS NULL")),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = company_fk()
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    opened_at: Mapped[datetime] = created_at()
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
