"""Companies (the tenants), their users, and the audit trail."""
import uuid
from datetime import datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import (BigInteger, Boolean, DateTime, ForeignKeyConstraint, Integer, Numeric, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import company_fk, created_at, updated_at, uuid_pk
from .enums import UserRole, user_role


class Company(db.Model):
    """A restaurant business: the tenant every other row belongs to."""

    __tablename__ = "companies"
    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    name_ar: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(Text)
    business_type: Mapped[str | None] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    domain: Mapped[str | None] = mapped_column(String(100), unique=True)
    settings: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    subscription_status: Mapped[str] = mapped_column(String(50), nullable=False, default="active")
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="Asia/Riyadh")
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="SAR")
    country_code: Mapped[str] = mapped_column(String(2), nullable=False, default="SA")
    # The Settings page (migration 0017): language for new users, tax on tickets, preparation time, alerts.
    default_language: Mapped[str] = mapped_column(String(5), nullable=False, default="en", server_default="en")
    tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    tax_number: Mapped[str | None] = mapped_column(String(50))
    preparation_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=15, server_default="15")
    assistant_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=text("true"))
    public_chat_id: Mapped[str] = mapped_column(String(32), nullable=False, unique=True,
                                                server_default=text("replace(gen_random_uuid()::text, '-', '')"))
    alert_pending_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                        server_default="false")
    alert_pending_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=5, server_default="5")
    alert_integration_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                            server_default="false")
    alert_integration_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=30,
                                                           server_default="30")
    # Company settings → Security: company admins and super admins must use two-factor sign-in.
    two_factor_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                      server_default="false")
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def display_name(self, locale="en"):
        return self.name_ar if locale == "ar" and self.name_ar else self.name


ROLE_RANK = {UserRole.USER: 1, UserRole.MANAGER: 2, UserRole.COMPANY_ADMIN: 3, UserRole.SUPER_ADMIN: 4}


class User(UserMixin, db.Model):
    """A person who signs in; belongs to one company and has one role."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("company_id", "id", name="uq_users_company_id"),
        ForeignKeyConstraint(["company_id", "created_by"], ["users.company_id", "users.id"],
                             name="fk_users_created_by"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(255), nullable=False)
    password: Mapped[str] = mapped_column(String(255), nullable=False)
    first_name: Mapped[str] = mapped_column(String(100), nullable=False)
    last_name: Mapped[str] = mapped_column(String(100), nullable=False)
    role: Mapped[UserRole] = mapped_column(user_role, nullable=False, default=UserRole.USER)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locale: Mapped[str | None] = mapped_column(String(5))
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Two-factor sign-in (portal/auth/two_factor.py): the secret is Fernet-sealed for the company.
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    company: Mapped[Company] = relationship(lazy="joined")

    def get_id(self):
        """The session key names the tenant too, so loading the user can scope the request first."""
        return f"{self.company_id}:{self.id}"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def can_sign_in(self):
        return self.is_active and self.deleted_at is None

    def has_role(self, minimum):
        """True when this user's role is `minimum` or above it (USER < MANAGER < COMPANY_ADMIN < SUPER_ADMIN)."""
        return ROLE_RANK[self.role] >= ROLE_RANK[UserRole(minimum)]


class AuditLog(db.Model):
    """One change of an audited table or one audited action; written by triggers and services."""

    __tablename__ = "audit_logs"
    id: Mapped[uuid.UUID] = uuid_pk()
    table_name: Mapped[str] = mapped_column(String(63), nullable=False)
    operation: Mapped[str] = mapped_column(String(40), nullable=False)
    record_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    old_values: Mapped[dict | None] = mapped_column(JSONB)
    new_values: Mapped[dict | None] = mapped_column(JSONB)
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    ip_address: Mapped[str | None] = mapped_column(INET)
    company_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_at()
