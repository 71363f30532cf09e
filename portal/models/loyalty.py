"""Loyalty programs, tiers, members and the points ledger."""
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, DateTime, ForeignKeyConstraint, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import company_fk, created_at, money, updated_at, uuid_pk
from .enums import (LoyaltyProgramType, LoyaltyTransactionType, loyalty_program_type,
                    loyalty_transaction_type)


class LoyaltyProgram(db.Model):
    """How customers earn and spend points at one company (one active at a time)."""

    __tablename__ = "loyalty_programs"
    __table_args__ = (UniqueConstraint("company_id", "id", name="uq_loyalty_programs_company_id"),)
    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    program_type: Mapped[LoyaltyProgramType] = mapped_column(loyalty_program_type, nullable=False,
                                                             default=LoyaltyProgramType.POINTS_BASED)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    points_per_currency_unit: Mapped[Decimal] = mapped_column(Numeric(10, 4), nullable=False, default=Decimal("1"))
    point_value: Mapped[Decimal] = mapped_column(Numeric(12, 4), nullable=False, default=Decimal("0.01"))
    min_redemption_points: Mapped[int] = mapped_column(Integer, nullable=False, default=100)
    max_redemption_percentage: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False,
                                                               default=Decimal("50"))
    expiration_days: Mapped[int | None] = mapped_column(Integer)
    tier_bonus_multiplier: Mapped[Decimal] = mapped_column(Numeric(4, 2), nullable=False, default=Decimal("1"))
    referral_bonus: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class LoyaltyTier(db.Model):
    """A level of a program (e.g. Silver, Gold) reached by points or spend."""

    __tablename__ = "loyalty_tiers"
    __table_args__ = (
        UniqueConstraint("company_id", "id", name="uq_loyalty_tiers_company_id"),
        UniqueConstraint("company_id", "loyalty_program_id", "name", name="uq_loyalty_tiers_name"),
        ForeignKeyConstraint(["company_id", "loyalty_program_id"],
                             ["loyalty_programs.company_id", "loyalty_programs.id"],
                             ondelete="CASCADE", name="fk_loyalty_tiers_program"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    loyalty_program_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    name_ar: Mapped[str | None] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    min_points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    min_spend: Mapped[Decimal] = money(default=0)
    window_days: Mapped[int | None] = mapped_column(Integer)
    earn_multiplier: Mapped[Decimal] = mapped_column(Numeric(4, 2), nullable=False, default=Decimal("1"))
    perks: Mapped[str | None] = mapped_column(Text)
    perks_ar: Mapped[str | None] = mapped_column(Text)
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class CustomerLoyalty(db.Model):
    """A customer's membership, keyed on the phone number (E.164); balances mirror the ledger."""

    __tablename__ = "customer_loyalty"
    __table_args__ = (
        UniqueConstraint("company_id", "customer_phone", name="uk_customer_company"),
        UniqueConstraint("company_id", "id", name="uq_customer_loyalty_company_id"),
        ForeignKeyConstraint(["company_id", "loyalty_program_id"],
                             ["loyalty_programs.company_id", "loyalty_programs.id"],
                             name="fk_customer_loyalty_program"),
        ForeignKeyConstraint(["company_id", "loyalty_tier_id"], ["loyalty_tiers.company_id", "loyalty_tiers.id"],
                             name="fk_customer_loyalty_tier"),
        ForeignKeyConstraint(["company_id", "referred_by_id"], ["customer_loyalty.company_id", "customer_loyalty.id"],
                             name="fk_customer_loyalty_referred_by"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    customer_phone: Mapped[str] = mapped_column(String(20), nullable=False)
    customer_email: Mapped[str | None] = mapped_column(String(255))
    customer_name: Mapped[str | None] = mapped_column(String(200))
    current_points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_points_earned: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_points_redeemed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_spent: Mapped[Decimal] = money(default=0)
    order_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    joined_at: Mapped[datetime] = created_at()
    last_order_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    company_id: Mapped[uuid.UUID] = company_fk()
    loyalty_program_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    loyalty_tier_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    referred_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    tier_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = updated_at()


class LoyaltyTransaction(db.Model):
    """One change of a customer's points: the ledger the balances are checked against."""

    __tablename__ = "loyalty_transactions"
    __table_args__ = (
        UniqueConstraint("company_id", "id", name="uq_loyalty_transactions_company_id"),
        ForeignKeyConstraint(["company_id", "customer_loyalty_id"],
                             ["customer_loyalty.company_id", "customer_loyalty.id"],
                             ondelete="CASCADE", name="fk_loyalty_tx_customer"),
        ForeignKeyConstraint(["company_id", "order_id"], ["delivery_orders.company_id", "delivery_orders.id"],
                             name="fk_loyalty_tx_order"),
        ForeignKeyConstraint(["company_id", "user_id"], ["users.company_id", "users.id"],
                             name="fk_loyalty_tx_user"),
        ForeignKeyConstraint(["company_id", "reverses_id"],
                             ["loyalty_transactions.company_id", "loyalty_transactions.id"],
                             name="fk_loyalty_tx_reverses"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    customer_loyalty_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    transaction_type: Mapped[LoyaltyTransactionType] = mapped_column(loyalty_transaction_type, nullable=False)
    points: Mapped[int] = mapped_column(Integer, nullable=False)
    remaining_points: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[Decimal | None] = money(nullable=True)
    reason: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
