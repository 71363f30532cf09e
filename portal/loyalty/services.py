"""Loyalty rules: programs and tiers, the points ledger, accrual, redemption, adjustments, expiry.

Every change of a member's points is one `loyalty_transactions` row written here, while the
member's row is locked, and the member's balances change in the same transaction; `check_balances`
recomputes them from the ledger. Points are kept in lots: each positive row (earn, referral,
positive adjustment, a redemption given back) has `remaining_points`, and every negative row takes
points from the oldest lots first, so expiry removes only what is left of each lot.

Lock order, everywhere: the order row, then the member, then (for a referral) the referrer.
"""
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..orders.lifecycle import lock_order
from ..models import (AuditLog, Company, CustomerLoyalty, LoyaltyProgram, LoyaltyProgramType,
                      LoyaltyTier, LoyaltyTransaction, LoyaltyTransactionType, OrderStatus)
from ..phones import normalize_phone
from ..tenancy import current_company_id

logger = logging.getLogger(__name__)

T = LoyaltyTransactionType
TIERED_TYPES = {LoyaltyProgramType.TIER_BASED, LoyaltyProgramType.HYBRID}
CASHBACK_TYPES = {LoyaltyProgramType.CASHBACK, LoyaltyProgramType.HYBRID}
POSITIVE_LOTS = (T.EARN, T.REFERRAL, T.ADJUST, T.REVERSAL)  # rows that can hold remaining_points
MAX_ADJUSTMENT = 1_000_000
CLOSED_ORDER = {OrderStatus.CANCELLED, OrderStatus.REJECTED}


class LoyaltyError(ValueError):
    """A loyalty action that was refused; the message is for the person who tried.

    `field` names the form field the message belongs next to, when there is one.
    """

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def _now(now=None):
    return now or datetime.now(timezone.utc)


def _company():
    return db.session.get(Company, current_company_id())


def money_places(currency):
    """Decimal places of a currency (SAR 2, KWD 3)."""
    return get_currency_precision(currency)


def _quantize(amount, currency):
    return Decimal(amount).quantize(Decimal(1).scaleb(-money_places(currency)), ROUND_HALF_UP)


# --- Programs and tiers ----------------------------------------------------------------------------

def active_program():
    """The company's active program, or None."""
    return db.session.scalar(select(LoyaltyProgram).where(LoyaltyProgram.company_id == current_company_id(),
                                                          LoyaltyProgram.is_active.is_(True)))


def all_programs():
    """Every program of the company, the active one first."""
    return db.session.scalars(select(LoyaltyProgram).where(LoyaltyProgram.company_id == current_company_id())
                              .order_by(LoyaltyProgram.is_active.desc(), LoyaltyProgram.created_at.desc())).all()


def program_tiers(program):
    """The program's tiers from the lowest to the highest (by thresholds)."""
    if program is None:
        return []
    return db.session.scalars(select(LoyaltyTier).where(LoyaltyTier.company_id == program.company_id,
                                                        LoyaltyTier.loyalty_program_id == program.id)
                              .order_by(LoyaltyTier.min_points, LoyaltyTier.min_spend, LoyaltyTier.sort_order,
                                        LoyaltyTier.name)).all()


PROGRAM_FIELDS = ("name", "description", "program_type", "points_per_currency_unit", "point_value",
                  "min_redemption_points", "max_redemption_percentage", "expiration_days", "tier_bonus_multiplier",
                  "referral_bonus")


def save_program(program, values, activate=False):
    """Create (program None) or update a program from validated form values; returns it.

    `activate` makes it the company's one active program (the previous one ends, its members move
    here with their points).
    """
    if program is None:
        program = LoyaltyProgram(company_id=current_company_id(), is_active=False)
        db.session.add(program)
    for name in PROGRAM_FIELDS:
        setattr(program, name, values.get(name))
    program.description = (program.description or "").strip() or None
    program.name = program.name.strip()
    same_name = select(LoyaltyProgram.id).where(LoyaltyProgram.company_id == program.company_id,
                                                func.lower(LoyaltyProgram.name) == program.name.lower())
    if program.id is not None:
        same_name = same_name.where(LoyaltyProgram.id != program.id)
    with db.session.no_autoflush:
        taken = db.session.scalar(same_name.limit(1)) is not None
    if taken:
        db.session.rollback()
        raise LoyaltyError(_l("Another program of yours has this name."), field="name")
    try:
        db.session.flush()
    except IntegrityError:  # the same name saved at the same moment (uq_loyalty_programs_name)
        db.session.rollback()
        raise LoyaltyError(_l("Another program of yours has this name."), field="name") from None
    if activate and not program.is_active:
        activate_program(program)
    db.session.commit()
    return program


def activate_program(program):
    """Make `program` the only active one; members of the old one move to it, keeping their points."""
    others = db.session.scalars(select(LoyaltyProgram).where(LoyaltyProgram.company_id == program.company_id)
                                .with_for_update()).all()
    for other in others:
        if other.id != program.id and other.is_active:
            other.is_active = False
    db.session.flush()  # the partial unique index is checked per statement: end the old one first
    program.is_active = True
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise LoyaltyError(_l("Another program was activated at the same moment. Reload and try again.")) from None
    db.session.execute(update(CustomerLoyalty).where(CustomerLoyalty.company_id == program.company_id,
                                                     CustomerLoyalty.loyalty_program_id != program.id)
                       .values(loyalty_program_id=program.id, loyalty_tier_id=None))
    recompute_tiers(program)
    return program


def deactivate_program(program):
    """End a program: nothing is earned or redeemed until one is active again (balances stay)."""
    program.is_active = False
    db.session.commit()


def save_tier(program, tier, values):
    """Create (tier None) or update a tier; members move between tiers at once. Returns the tier."""
    if tier is None:
        tier = LoyaltyTier(company_id=program.company_id, loyalty_program_id=program.id)
        db.session.add(tier)
    for name in ("name", "name_ar", "min_points", "min_spend", "window_days", "earn_multiplier", "perks",
                 "perks_ar"):
        setattr(tier, name, values.get(name))
    tier.name = tier.name.strip()
    for name in ("name_ar", "perks", "perks_ar"):
        setattr(tier, name, (getattr(tier, name) or "").strip() or None)
    same = [other for other in program_tiers(program) if other.id != tier.id]
    if any(other.name.lower() == tier.name.lower() for other in same):
        db.session.rollback()
        raise LoyaltyError(_l("Another tier of this program has this name."), field="name")
    if any((other.min_points, other.min_spend) == (tier.min_points, tier.min_spend) for other in same):
        db.session.rollback()
        raise LoyaltyError(_l("Another tier has the same thresholds; tiers must differ to be ordered."),
                           field="min_points")
    db.session.flush()
    _renumber(program)
    recompute_tiers(program)
    db.session.commit()
    return tier


def delete_tier(program, tier):
    """Remove a tier; its members move to the tier they now qualify for."""
    db.session.delete(tier)
    db.session.flush()
    _renumber(program)
    recompute_tiers(program)
    db.session.commit()


def _renumber(program):
    for position, tier in enumerate(program_tiers(program)):
        if tier.sort_order != position:
            tier.sort_order = position


def effective_multiplier(program, tier):
    """How many times the base points a member of `tier` earns under `program`.

    Tiers multiply only in tier-based and hybrid programs; the program's tier bonus multiplier
    scales each tier's bonus (Gold's 1.5× with a bonus multiplier of 2 earns 2×).
    """
    if tier is None or program.program_type not in TIERED_TYPES:
        return Decimal(1)
    bonus = (Decimal(tier.earn_multiplier) - 1) * Decimal(program.tier_bonus_multiplier)
    return max(Decimal(0), Decimal(1) + bonus).quantize(Decimal("0.01"))


def points_for(program, tier, amount):
    """Whole points earned on `amount` spent (rounded down)."""
    raw = Decimal(amount) * Decimal(program.points_per_currency_unit) * effective_multiplier(program, tier)
    return int(max(raw, Decimal(0)).to_integral_value(ROUND_FLOOR))


def _number(value):
    """1.5 -> '1.5', 2.00 -> '2' (for sentences)."""
    return format(Decimal(value).normalize(), "f")


def program_summary(program, tiers, currency):
    """Plain-language sentences of what a customer earns and how they spend it."""
    from ..i18n import money
    from flask_babel import gettext as _

    rate = Decimal(program.points_per_currency_unit or 0)
    value = Decimal(program.point_value or 0)
    back = (rate * value * 100).quantize(Decimal("0.1"))
    lines = []
    if rate <= 0:
        lines.append(_("Customers earn nothing on their orders at the moment (0 points per %(currency)s).",
                       currency=currency))
    elif program.program_type in CASHBACK_TYPES:
        lines.append(_("Customers get %(percent)s%% of every delivered order back as credit, on every platform.",
                       percent=_number(back)))
    elif rate == 1:
        lines.append(_("Customers earn 1 point for every %(unit)s spent on delivered orders, on every platform.",
                       unit=money(1, currency)))
    elif rate > 1:
        lines.append(_("Customers earn %(points)s points for every %(unit)s spent on delivered orders, on every "
                       "platform.", points=_number(rate), unit=money(1, currency)))
    else:
        lines.append(_("Customers earn 1 point for every %(amount)s spent on delivered orders, on every platform.",
                       amount=money(_quantize(1 / rate, currency), currency)))
    if rate > 0 and program.program_type not in CASHBACK_TYPES:
        lines.append(_("A point is worth %(value)s, so they get %(percent)s%% back.",
                       value=money(value, currency) if value >= Decimal("0.01") else _number(value) + " " + currency,
                       percent=_number(back)))
    minimum = program.min_redemption_points or 0
    lines.append(_("They can spend points once they have %(points)s (worth %(value)s), on up to %(percent)s%% of "
                   "an order.", points=minimum, value=money(_quantize(minimum * value, currency), currency),
                   percent=_number(program.max_redemption_percentage)))
    if program.expiration_days:
        lines.append(_("Points expire %(days)s days after they are earned; the oldest are used and expire first.",
                       days=program.expiration_days))
    else:
        lines.append(_("Points never expire."))
    if program.program_type in TIERED_TYPES and tiers:
        parts = [_("%(tier)s %(times)s×", tier=tier.name, times=_number(effective_multiplier(program, tier)))
                 for tier in tiers]
        lines.append(_("Higher tiers earn more: %(tiers)s.", tiers=", ".join(parts)))
    elif tiers:
        lines.append(_("Tiers give perks; everyone earns at the same rate in this type of program."))
    if program.referral_bonus:
        lines.append(_("A customer who refers a new customer gets %(points)s points when the new customer's first "
                       "order is delivered.", points=program.referral_bonus))
    return lines


# --- Members ----------------------------------------------------------------------------------------

def normalize_for_company(raw, company=None):
    """A phone in E.164, read with the company's country as the default region; None if unreadable."""
    company = company or _company()
    return normalize_phone(raw, (company.country_code or "SA").upper())


def find_member_by_phone(raw, company=None):
    """The member with this phone (any format), or None."""
    phone = normalize_for_company(raw, company)
    if phone is None:
        return None
    return db.session.scalar(select(CustomerLoyalty).where(CustomerLoyalty.company_id == current_company_id(),
                                                           CustomerLoyalty.customer_phone == phone))


def lock_member(member_id):
    """The member, locked for this transaction and read fresh (balances are changed only under this lock)."""
    return db.session.scalar(select(CustomerLoyalty).where(CustomerLoyalty.id == member_id)
                             .with_for_update().execution_options(populate_existing=True))


def member_for_phone(program, phone, name=None, email=None, now=None):
    """The member with E.164 `phone`, created in `program` if new; locked. Safe under concurrency."""
    db.session.execute(insert(CustomerLoyalty).values(
        id=uuid.uuid4(), company_id=program.company_id, loyalty_program_id=program.id, customer_phone=phone,
        customer_name=(name or None), customer_email=(email or None), joined_at=_now(now),
    ).on_conflict_do_nothing(constraint="uk_customer_company"))
    member = db.session.scalar(select(CustomerLoyalty).where(CustomerLoyalty.company_id == program.company_id,
                                                             CustomerLoyalty.customer_phone == phone)
                               .with_for_update().execution_options(populate_existing=True))
    if member.loyalty_program_id != program.id:  # the company switched programs since the last order
        member.loyalty_program_id = program.id
        member.loyalty_tier_id = None
    return member


def add_member(program, raw_phone, name=None, referred_by_phone=None, now=None):
    """A manager adds a customer before their first order (e.g. to record who referred them)."""
    company = _company()
    phone = normalize_for_company(raw_phone, company)
    if phone is None:
        raise LoyaltyError(_l("This is not a phone number we can read."), field="phone")
    if find_member_by_phone(phone, company) is not None:
        raise LoyaltyError(_l("A customer with this phone number is already a member."), field="phone")
    member = member_for_phone(program, phone, name=(name or "").strip() or None, now=now)
    if referred_by_phone:
        set_referrer(member, referred_by_phone, commit=False)
    db.session.commit()
    return member


def set_referrer(member, raw_phone, commit=True):
    """Record who referred `member`; the referrer's bonus is paid on the member's first delivered order."""
    referrer = find_member_by_phone(raw_phone)
    if referrer is None:
        raise LoyaltyError(_l("No member has this phone number."), field="referred_by")
    if referrer.id == member.id:
        raise LoyaltyError(_l("A customer cannot refer themselves."), field="referred_by")
    if referrer.referred_by_id == member.id:
        raise LoyaltyError(_l("This customer referred them; referrals cannot go both ways."), field="referred_by")
    if member.order_count > 0 or _has_earned(member):
        raise LoyaltyError(_l("Referrals count only for customers who have no delivered order yet."),
                           field="referred_by")
    member.referred_by_id = referrer.id
    db.session.flush()
    if commit:
        db.session.commit()
    return referrer


def _has_earned(member):
    return db.session.scalar(select(func.count()).select_from(LoyaltyTransaction).where(
        LoyaltyTransaction.company_id == member.company_id, LoyaltyTransaction.customer_loyalty_id == member.id,
        LoyaltyTransaction.transaction_type == T.EARN)) > 0


# --- The ledger ---------------------------------------------------------------------------------------

def _post(member, kind, points, *, program=None, order_id=None, user_id=None, reason=None, amount=None,
          reverses=None, lot=False, now=None):
    """Write one ledger row for a (locked) member and change the balances the same way; returns the row."""
    now = _now(now)
    row = LoyaltyTransaction(id=uuid.uuid4(), company_id=member.company_id, customer_loyalty_id=member.id,
                             order_id=order_id, transaction_type=kind, points=points, amount=amount, reason=reason,
                             user_id=user_id, reverses_id=reverses.id if reverses is not None else None,
                             created_at=now)
    if lot and points > 0:
        row.remaining_points = points
        if program is not None and program.expiration_days:
            row.expires_at = now + timedelta(days=program.expiration_days)
    elif points < 0:
        _take_from_lots(member, -points, prefer=reverses)
    db.session.add(row)
    member.current_points += points
    base = reverses.transaction_type if reverses is not None else kind
    if base in (T.EARN, T.REFERRAL):
        member.total_points_earned += points
    elif base == T.REDEEM:
        member.total_points_redeemed -= points
    if base == T.EARN:
        sign = -1 if reverses is not None else 1
        member.order_count += sign
        member.total_spent = Decimal(member.total_spent or 0) + sign * Decimal(amount or 0)
    db.session.flush()
    return row


def _take_from_lots(member, points, prefer=None):
    """Use `points` from the member's lots, oldest first (`prefer`, a lot being reversed, before all)."""
    lots = db.session.scalars(select(LoyaltyTransaction).where(
        LoyaltyTransaction.company_id == member.company_id, LoyaltyTransaction.customer_loyalty_id == member.id,
        LoyaltyTransaction.remaining_points > 0,
    ).order_by(LoyaltyTransaction.created_at, LoyaltyTransaction.id).with_for_update()
        .execution_options(populate_existing=True)).all()
    if prefer is not None:
        lots.sort(key=lambda lot: lot.id != prefer.id)
    for lot in lots:
        if points <= 0:
            break
        used = min(points, lot.remaining_points)
        lot.remaining_points -= used
        points -= used
    if points > 0:  # the balance and the lots disagree: never spend points that are not there
        raise LoyaltyError(_l("The customer does not have enough points."), field="points")


def _row_for_order(order_id, kind, member_id=None):
    query = select(LoyaltyTransaction).where(LoyaltyTransaction.company_id == current_company_id(),
                                             LoyaltyTransaction.order_id == order_id,
                                             LoyaltyTransaction.transaction_type == kind)
    if member_id is not None:
        query = query.where(LoyaltyTransaction.customer_loyalty_id == member_id)
    return db.session.scalar(query)


def _reversal_of(row):
    return db.session.scalar(select(LoyaltyTransaction).where(LoyaltyTransaction.company_id == row.company_id,
                                                              LoyaltyTransaction.reverses_id == row.id))


def redeemed_value(order_id):
    """The money value of points redeemed (and not given back) on an order."""
    row = _row_for_order(order_id, T.REDEEM)
    if row is None or _reversal_of(row) is not None:
        return Decimal(0)
    return Decimal(row.amount or 0)


# --- Accrual and reversal ------------------------------------------------------------------------------

@dataclass
class Accrual:
    """What an order earned, or why it earned nothing."""

    earned: int = 0
    member: CustomerLoyalty | None = None
    row: LoyaltyTransaction | None = None
    reason: object = None
    created: bool = False


def accrue_order(order, user_id=None, now=None):
    """Credit a delivered order's points to its customer, exactly once; returns an Accrual.

    The order should be locked by the caller (the lifecycle does). Orders without a readable phone,
    test orders and orders of a company without an active program earn nothing, and say why.
    """
    now = _now(now)
    program = active_program()
    company = db.session.get(Company, order.company_id)
    why = not_earning_reason(order, program, company)
    if why is not None:
        return Accrual(reason=why)
    phone = normalize_for_company(order.customer_phone, company)
    member = member_for_phone(program, phone, name=order.customer_name, email=order.customer_email, now=now)
    existing = _row_for_order(order.id, T.EARN)
    if existing is not None:
        return Accrual(earned=existing.points, member=member, row=existing)
    # The member's name is theirs (typed by staff or from their first order); each order keeps the
    # name the platform sent for it, so a nickname on one order does not rename the member.
    if order.customer_name and not member.customer_name:
        member.customer_name = order.customer_name[:200]
    if order.customer_email and not member.customer_email:
        member.customer_email = order.customer_email[:255]
    first_order = member.order_count == 0 and not _has_earned(member)
    tiers = program_tiers(program)
    tier = next((tier for tier in tiers if tier.id == member.loyalty_tier_id), None)
    spend = Decimal(order.total_amount or 0)
    earnable = max(spend - redeemed_value(order.id), Decimal(0))
    points = points_for(program, tier, earnable)
    multiplier = effective_multiplier(program, tier)
    reason = (f"{order.platform.value.title()} #{order.order_number}: {_quantize(earnable, order.currency)} {order.currency}"
              f" × {_number(program.points_per_currency_unit)}"
              + (f" × {_number(multiplier)} ({tier.name})" if multiplier != 1 else ""))
    row = _post(member, T.EARN, points, program=program, order_id=order.id, user_id=user_id, reason=reason,
                amount=spend, lot=True, now=now)
    delivered_at = order.completed_at or now
    if member.last_order_at is None or delivered_at > member.last_order_at:
        member.last_order_at = delivered_at
    if first_order and member.referred_by_id and program.referral_bonus:
        referrer = lock_member(member.referred_by_id)
        if referrer is not None:
            _post(referrer, T.REFERRAL, program.referral_bonus, program=program, order_id=order.id,
                  reason=f"Referred {member.customer_phone}: first order #{order.order_number}", lot=True, now=now)
            assign_tier(referrer, program, now=now)
    assign_tier(member, program, now=now, tiers=tiers)
    return Accrual(earned=points, member=member, row=row, created=True)


def not_earning_reason(order, program=None, company=None):
    """Why this order earns (or earned) no points, or None if it does."""
    if order.is_test:
        return _l("Test orders earn no points.")
    if (program or active_program()) is None:
        return _l("There is no active loyalty program.")
    if not order.customer_phone:
        return _l("The platform sent no phone number for this customer, so no points can be earned.")
    if normalize_for_company(order.customer_phone, company) is None:
        return _l("The phone number %(phone)s cannot be read, so no points can be earned.",
                  phone=order.customer_phone)
    return None


def reverse_order(order, user_id=None, reason=None, now=None):
    """Take back what a cancelled or refunded order earned (and its referral bonus) and give back the
    points redeemed on it. Each row is reversed at most once; returns the reversal rows written."""
    now = _now(now)
    written = []
    for kind in (T.EARN, T.REFERRAL, T.REDEEM):
        row = _row_for_order(order.id, kind)
        if row is None:
            continue
        member = lock_member(row.customer_loyalty_id)
        if _reversal_of(row) is not None:
            continue
        program = active_program() or db.session.get(LoyaltyProgram, member.loyalty_program_id)
        label = reason or _default_reversal_reason(order)
        if kind == T.REDEEM:
            written.append(_post(member, T.REVERSAL, -row.points, program=program, order_id=order.id,
                                 user_id=user_id, reverses=row, lot=True, amount=row.amount, now=now,
                                 reason=f"{label}: redeemed points given back"))
        else:
            taken = min(row.points, member.current_points)
            note = label if taken == row.points else (
                f"{label} ({row.points - taken} of {row.points} points had already been spent)")
            written.append(_post(member, T.REVERSAL, -taken, order_id=order.id, user_id=user_id, reverses=row,
                                 amount=row.amount if kind == T.EARN else None, reason=note, now=now))
        assign_tier(member, db.session.get(LoyaltyProgram, member.loyalty_program_id), now=now)
    return written


def _default_reversal_reason(order):
    return f"Order #{order.order_number} {order.status.value.lower()}"


def on_status_change(order, previous, target, *, source=None, user_id=None, reason=None):
    """The lifecycle's hook: DELIVERED earns, CANCELLED or REJECTED reverses.

    Runs in a savepoint: a loyalty failure is logged and never stops the order's own change (a
    manager can award a delivered order's points later from the order page; it is idempotent).
    """
    if target not in (OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REJECTED):
        return
    try:
        with db.session.begin_nested():
            if target == OrderStatus.DELIVERED:
                accrue_order(order, user_id=user_id)
            else:
                why = f"Order #{order.order_number} cancelled" + (" after delivery" if previous == OrderStatus.DELIVERED
                                                                   else "")
                if source == "PLATFORM":
                    why += f" by {order.platform.value.title()}"
                reverse_order(order, user_id=user_id, reason=why + (f" ({reason})" if reason else ""))
    except Exception:  # noqa: BLE001 — the order's status change must survive a loyalty bug
        logger.exception("Loyalty hook failed for order %s (%s -> %s)", order.id, previous, target)


def refund_order(order, user, reason, now=None):
    """A manager records a refund: the order's points are taken back (audited); the order stays as it is."""
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise LoyaltyError(_l("Say why, in a few words."), field="reason")
    order = lock_order(order.id)
    rows = reverse_order(order, user_id=user.id, reason=f"Refund: {reason}", now=now)
    if not rows:
        db.session.rollback()
        raise LoyaltyError(_l("This order has no points to take back."))
    db.session.add(AuditLog(table_name="delivery_orders", operation="LOYALTY_REFUND", record_id=order.id,
                            company_id=order.company_id, user_id=user.id,
                            new_values={"order_number": order.order_number, "reason": reason,
                                        "reversed_points": [row.points for row in rows]}))
    db.session.commit()
    return rows


def award_missed(order, user, now=None):
    """Earn a delivered order's points now, if the automatic accrual did not (idempotent)."""
    order = lock_order(order.id)
    if order.status != OrderStatus.DELIVERED:
        raise LoyaltyError(_l("Only delivered orders earn points."))
    result = accrue_order(order, user_id=user.id, now=now)
    if result.reason is not None:
        db.session.rollback()
        raise LoyaltyError(result.reason)
    db.session.commit()
    return result


# --- Redemption and adjustments ------------------------------------------------------------------------

@dataclass
class RedemptionLimits:
    """What a member may redeem on an order right now."""

    minimum: int
    maximum: int
    point_value: Decimal
    balance: int
    cap_amount: Decimal
    reason: object = None

    @property
    def possible(self):
        return self.reason is None and self.maximum >= self.minimum and self.maximum > 0


def redemption_limits(program, member, order):
    """The least and most points `member` may redeem on `order`, and why not if they cannot."""
    value = Decimal(program.point_value)
    cap_amount = _quantize(Decimal(order.total_amount or 0) * Decimal(program.max_redemption_percentage) / 100,
                           order.currency)
    by_cap = int((cap_amount / value).to_integral_value(ROUND_FLOOR)) if value > 0 else 0
    maximum = max(0, min(member.current_points, by_cap))
    minimum = max(1, program.min_redemption_points or 0)
    limits = RedemptionLimits(minimum=minimum, maximum=maximum, point_value=value, balance=member.current_points,
                              cap_amount=cap_amount)
    if order.is_test:
        limits.reason = _l("Points cannot be redeemed on test orders.")
    elif order.status in CLOSED_ORDER:
        limits.reason = _l("This order is cancelled; points cannot be redeemed on it.")
    elif _row_for_order(order.id, T.REDEEM) is not None:
        limits.reason = _l("Points have already been redeemed on this order.")
    elif member.current_points < minimum:
        limits.reason = _l("Points can be redeemed from %(minimum)s points; the customer has %(balance)s.",
                           minimum=minimum, balance=member.current_points)
    elif maximum < minimum:
        limits.reason = _l("This order is too small: at most %(maximum)s points (%(percent)s%% of the order) may "
                           "be used, and the minimum is %(minimum)s.", maximum=maximum, minimum=minimum,
                           percent=_number(program.max_redemption_percentage))
    return limits


def redeem(order_id, member_id, points, user, now=None):
    """Spend `points` of a member on an order, within the program's rules; returns the ledger row.

    The order and the member are locked first, so two redemptions at once never spend the same
    points: the second sees the balance the first left.
    """
    program = active_program()
    if program is None:
        raise LoyaltyError(_l("There is no active loyalty program."))
    order = lock_order(order_id)
    member = lock_member(member_id)
    if order is None or member is None:
        raise LookupError("no such order or member")
    if member.loyalty_program_id != program.id:
        member.loyalty_program_id, member.loyalty_tier_id = program.id, None
    try:
        points = int(points)
    except (TypeError, ValueError):
        raise LoyaltyError(_l("Enter a whole number of points."), field="points") from None
    limits = redemption_limits(program, member, order)
    if limits.reason is not None:
        raise LoyaltyError(limits.reason, field="points")
    if points < limits.minimum:
        raise LoyaltyError(_l("Redeem at least %(minimum)s points.", minimum=limits.minimum), field="points")
    if points > member.current_points:
        raise LoyaltyError(_l("The customer has only %(balance)s points.", balance=member.current_points),
                           field="points")
    if points > limits.maximum:
        raise LoyaltyError(_l("At most %(maximum)s points may be used on this order (%(percent)s%% of its total).",
                              maximum=limits.maximum, percent=_number(program.max_redemption_percentage)),
                           field="points")
    amount = _quantize(points * limits.point_value, order.currency)
    try:
        row = _post(member, T.REDEEM, -points, order_id=order.id, user_id=user.id, amount=amount, now=now,
                    reason=f"Redeemed on {order.platform.value.title()} #{order.order_number}")
    except IntegrityError:
        db.session.rollback()
        raise LoyaltyError(_l("Points have already been redeemed on this order.")) from None
    assign_tier(member, program, now=now)
    db.session.commit()
    return row


def adjust(member_id, points, reason, user, now=None):
    """A manager adds or removes points with a reason; written to the ledger and the audit log."""
    reason = (reason or "").strip()
    try:
        points = int(points)
    except (TypeError, ValueError):
        raise LoyaltyError(_l("Enter a whole number of points, e.g. 50 or -20."), field="points") from None
    if points == 0:
        raise LoyaltyError(_l("Enter the points to add (e.g. 50) or remove (e.g. -20)."), field="points")
    if abs(points) > MAX_ADJUSTMENT:
        raise LoyaltyError(_l("At most %(max)s points at a time.", max=MAX_ADJUSTMENT), field="points")
    if len(reason) < 3:
        raise LoyaltyError(_l("Say why, in a few words: the customer may ask."), field="reason")
    member = lock_member(member_id)
    if points < 0 and -points > member.current_points:
        raise LoyaltyError(_l("The customer has only %(balance)s points to remove.", balance=member.current_points),
                           field="points")
    before = member.current_points
    program = db.session.get(LoyaltyProgram, member.loyalty_program_id)
    row = _post(member, T.ADJUST, points, program=program, user_id=user.id, reason=reason[:500], lot=True, now=now)
    db.session.add(AuditLog(table_name="customer_loyalty", operation="LOYALTY_ADJUST", record_id=member.id,
                            company_id=member.company_id, user_id=user.id,
                            old_values={"current_points": before},
                            new_values={"current_points": member.current_points, "points": points,
                                        "reason": reason[:500], "customer_phone": member.customer_phone}))
    assign_tier(member, program, now=now)
    db.session.commit()
    return row


# --- Expiry -------------------------------------------------------------------------------------------

def expire_points(now=None):
    """Expire what is left of lots older than the program's expiry, oldest first; returns points expired.

    Runs for the current tenant; one transaction per member, so locks are short.
    """
    now = _now(now)
    member_ids = db.session.scalars(select(LoyaltyTransaction.customer_loyalty_id).where(
        LoyaltyTransaction.company_id == current_company_id(), LoyaltyTransaction.remaining_points > 0,
        LoyaltyTransaction.expires_at <= now).distinct()).all()
    db.session.commit()
    total = 0
    for member_id in member_ids:
        member = lock_member(member_id)
        lots = db.session.scalars(select(LoyaltyTransaction).where(
            LoyaltyTransaction.company_id == member.company_id, LoyaltyTransaction.customer_loyalty_id == member.id,
            LoyaltyTransaction.remaining_points > 0, LoyaltyTransaction.expires_at <= now,
        ).order_by(LoyaltyTransaction.created_at, LoyaltyTransaction.id).with_for_update()
            .execution_options(populate_existing=True)).all()
        for lot in lots:
            points = lot.remaining_points
            lot.remaining_points = 0
            db.session.add(LoyaltyTransaction(
                id=uuid.uuid4(), company_id=member.company_id, customer_loyalty_id=member.id,
                transaction_type=T.EXPIRE, points=-points, created_at=now, order_id=lot.order_id,
                reason=f"{points} of {lot.points} points from {lot.created_at:%Y-%m-%d} expired"))
            member.current_points -= points
            total += points
        program = db.session.get(LoyaltyProgram, member.loyalty_program_id)
        db.session.flush()
        assign_tier(member, program, now=now)
        db.session.commit()
    return total


# --- Tiers ---------------------------------------------------------------------------------------------

def _qualifying_stats(company_id, windows, now, member_ids=None):
    """{member id: {window days or None: (points earned, spend)}} from the ledger.

    Earned points are earns and referral bonuses, spend is what delivered orders cost, each counted
    by when it was earned, within the window; a reversed (cancelled or refunded) order counts not at all.
    """
    t = LoyaltyTransaction.__table__.alias("t")
    r = LoyaltyTransaction.__table__.alias("r")
    columns = [t.c.customer_loyalty_id]
    for window in windows:
        within = t.c.created_at >= now - timedelta(days=window) if window else text("true")
        columns.append(func.coalesce(func.sum(t.c.points).filter(within), 0))
        columns.append(func.coalesce(func.sum(t.c.amount).filter(and_(within, t.c.transaction_type == "EARN")), 0))
    query = (select(*columns).select_from(t.outerjoin(r, and_(r.c.company_id == t.c.company_id,
                                                              r.c.reverses_id == t.c.id)))
             .where(t.c.company_id == company_id, t.c.transaction_type.in_(["EARN", "REFERRAL"]), r.c.id.is_(None))
             .group_by(t.c.customer_loyalty_id))
    if member_ids is not None:
        query = query.where(t.c.customer_loyalty_id.in_(member_ids))
    stats = {}
    for row in db.session.execute(query):
        values = list(row[1:])
        stats[row[0]] = {window: (int(values[2 * i]), Decimal(values[2 * i + 1]))
                         for i, window in enumerate(windows)}
    return stats


def _qualifies(tier, stats):
    points, spend = stats.get(tier.window_days, (0, Decimal(0)))
    return points >= (tier.min_points or 0) and spend >= Decimal(tier.min_spend or 0)


def tier_for(tiers, stats):
    """The highest tier whose thresholds the stats meet, or None."""
    reached = None
    for tier in tiers:
        if _qualifies(tier, stats):
            reached = tier
    return reached


def assign_tier(member, program, now=None, tiers=None):
    """Move a member up or down to the tier they qualify for now; True if it changed."""
    if program is None:
        return False
    now = _now(now)
    tiers = program_tiers(program) if tiers is None else tiers
    if not tiers:
        target = None
    else:
        windows = sorted({tier.window_days for tier in tiers}, key=lambda w: (w is None, w or 0))
        stats = _qualifying_stats(member.company_id, windows, now, [member.id]).get(member.id, {})
        target = tier_for(tiers, stats)
    target_id = target.id if target else None
    if member.loyalty_tier_id != target_id:
        member.loyalty_tier_id = target_id
        member.tier_changed_at = now
        db.session.flush()
        return True
    return False


def recompute_tiers(program, now=None):
    """Put every member of the program in the tier they qualify for (windows slide: down moves too)."""
    now = _now(now)
    tiers = program_tiers(program)
    members = db.session.execute(select(CustomerLoyalty.id, CustomerLoyalty.loyalty_tier_id).where(
        CustomerLoyalty.company_id == program.company_id, CustomerLoyalty.loyalty_program_id == program.id)).all()
    if not members:
        return 0
    windows = sorted({tier.window_days for tier in tiers}, key=lambda w: (w is None, w or 0))
    stats = _qualifying_stats(program.company_id, windows, now) if tiers else {}
    moved = 0
    for member_id, current in members:
        target = tier_for(tiers, stats.get(member_id, {})) if tiers else None
        target_id = target.id if target else None
        if current != target_id:
            db.session.execute(update(CustomerLoyalty).where(CustomerLoyalty.id == member_id)
                               .values(loyalty_tier_id=target_id, tier_changed_at=now))
            moved += 1
    return moved


@dataclass
class TierProgress:
    """Where a member stands: their tier, the next one, and what is missing to reach it."""

    tier: LoyaltyTier | None
    next_tier: LoyaltyTier | None
    percent: int = 100
    points_needed: int = 0
    spend_needed: Decimal = Decimal(0)
    points: int = 0
    spend: Decimal = Decimal(0)
    window_days: int | None = None


def tier_progress(member, program, now=None):
    """The member's progress toward the next tier (100 % when at the top)."""
    tiers = program_tiers(program)
    current = next((tier for tier in tiers if tier.id == member.loyalty_tier_id), None)
    position = tiers.index(current) if current in tiers else -1
    following = tiers[position + 1] if position + 1 < len(tiers) else None
    if following is None:
        return TierProgress(tier=current, next_tier=None)
    windows = [following.window_days]
    stats = _qualifying_stats(member.company_id, windows, _now(now), [member.id]).get(member.id, {})
    points, spend = stats.get(following.window_days, (0, Decimal(0)))
    ratios = []
    if following.min_points:
        ratios.append(min(1, points / following.min_points))
    if following.min_spend:
        ratios.append(min(Decimal(1), spend / Decimal(following.min_spend)))
    percent = int(min(ratios) * 100) if ratios else 100
    return TierProgress(tier=current, next_tier=following, percent=percent,
                        points_needed=max(0, (following.min_points or 0) - points),
                        spend_needed=max(Decimal(0), Decimal(following.min_spend or 0) - spend),
                        points=points, spend=spend, window_days=following.window_days)


# --- The balance check ----------------------------------------------------------------------------------

_CHECK = text("""
WITH tx AS (
  SELECT t.customer_loyalty_id AS member_id, t.points, t.amount, t.remaining_points,
         t.transaction_type::text AS kind, o.transaction_type::text AS reversed_kind
  FROM loyalty_transactions t
  LEFT JOIN loyalty_transactions o ON o.company_id = t.company_id AND o.id = t.reverses_id
  WHERE t.company_id = :company
), sums AS (
  SELECT member_id,
         sum(points) AS current_points,
         coalesce(sum(points) FILTER (WHERE kind IN ('EARN', 'REFERRAL') OR reversed_kind IN ('EARN', 'REFERRAL')), 0)
           AS total_points_earned,
         coalesce(-sum(points) FILTER (WHERE kind = 'REDEEM' OR reversed_kind = 'REDEEM'), 0) AS total_points_redeemed,
         count(*) FILTER (WHERE kind = 'EARN') - count(*) FILTER (WHERE reversed_kind = 'EARN') AS order_count,
         coalesce(sum(amount) FILTER (WHERE kind = 'EARN'), 0)
           - coalesce(sum(amount) FILTER (WHERE reversed_kind = 'EARN'), 0) AS total_spent,
         coalesce(sum(remaining_points) FILTER (WHERE remaining_points > 0), 0) AS points_in_lots
  FROM tx GROUP BY member_id
)
SELECT m.id, m.customer_phone,
       m.current_points, coalesce(s.current_points, 0),
       m.total_points_earned, coalesce(s.total_points_earned, 0),
       m.total_points_redeemed, coalesce(s.total_points_redeemed, 0),
       m.order_count, coalesce(s.order_count, 0),
       m.total_spent, coalesce(s.total_spent, 0),
       m.current_points, coalesce(s.points_in_lots, 0)
FROM customer_loyalty m LEFT JOIN sums s ON s.member_id = m.id
WHERE m.company_id = :company
""")
CHECKED = ("current_points", "total_points_earned", "total_points_redeemed", "order_count", "total_spent",
           "points_in_lots")


@dataclass
class Mismatch:
    """A member whose stored balance differs from the ledger's sum."""

    member_id: uuid.UUID
    phone: str
    field: str
    stored: object
    ledger: object


@dataclass
class CheckResult:
    members: int = 0
    mismatches: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.mismatches


def check_balances(company_id=None):
    """Compare every member's balances with the ledger's sums (and the lots); runs for one tenant."""
    result = CheckResult()
    for row in db.session.execute(_CHECK, {"company": company_id or current_company_id()}):
        result.members += 1
        for index, name in enumerate(CHECKED):
            stored, ledger = row[2 + 2 * index], row[3 + 2 * index]
            if Decimal(stored) != Decimal(ledger):
                result.mismatches.append(Mismatch(row[0], row[1], name, stored, ledger))
    return result
