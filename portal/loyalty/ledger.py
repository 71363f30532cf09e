"""The points ledger: members, accrual, redemption, refunds, reversals, expiry and adjustments.

Every change of a member's points is one `loyalty_transactions` row written here, while the
member's row is locked, and the member's balances change in the same transaction; `check_balances`
recomputes them from the ledger (balance_check.py). Points are kept in lots: each positive row (earn,
referral, positive adjustment, a redemption given back) has `remaining_points`, and every negative row
takes points from the oldest lots first, so expiry removes only what is left of each lot.

Lock order, everywhere: the order row, then the member, then (for a referral) the referrer.
"""
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..hooks import points_earned
from ..models import AuditLog, Company, CustomerLoyalty, LoyaltyProgram, LoyaltyTransaction, OrderStatus
from ..orders.lifecycle import lock_order
from ..phones import normalize_phone
from ..tenancy import current_company_id
from .programs import active_program, assign_tier, effective_multiplier, points_for, program_tiers
from .services import CLOSED_ORDER, LoyaltyError, T, current_time, plain_number, quantize_money

logger = logging.getLogger(__name__)

POSITIVE_LOTS = (T.EARN, T.REFERRAL, T.ADJUST, T.REVERSAL)  # rows that can hold remaining_points
MAX_ADJUSTMENT = 1_000_000


def _company():
    return db.session.get(Company, current_company_id())


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
        customer_name=(name or None), customer_email=(email or None), joined_at=current_time(now),
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
    now = current_time(now)
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
    now = current_time(now)
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
    reason = (f"{order.platform.value.title()} #{order.order_number}: "
              f"{quantize_money(earnable, order.currency)} {order.currency}"
              f" × {plain_number(program.points_per_currency_unit)}"
              + (f" × {plain_number(multiplier)} ({tier.name})" if multiplier != 1 else ""))
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
    if points > 0:
        points_earned.send(member, points=points, order_id=order.id)
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
    now = current_time(now)
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
    except Exception:  # the order's status change must survive a loyalty bug
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
    cap_amount = quantize_money(Decimal(order.total_amount or 0) * Decimal(program.max_redemption_percentage) / 100,
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
                           percent=plain_number(program.max_redemption_percentage))
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
                              maximum=limits.maximum, percent=plain_number(program.max_redemption_percentage)),
                           field="points")
    amount = quantize_money(points * limits.point_value, order.currency)
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
    now = current_time(now)
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
