"""Loyalty programs and tiers: saving and activating programs, tiers and their thresholds, the earn
rate and multipliers, the plain-language summary, and which tier each member qualifies for.
"""
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select, text, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import CustomerLoyalty, LoyaltyProgram, LoyaltyProgramType, LoyaltyTier, LoyaltyTransaction
from ..tenancy import current_company_id
from .services import LoyaltyError, current_time, plain_number, quantize_money

TIERED_TYPES = {LoyaltyProgramType.TIER_BASED, LoyaltyProgramType.HYBRID}
CASHBACK_TYPES = {LoyaltyProgramType.CASHBACK, LoyaltyProgramType.HYBRID}


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
                       percent=plain_number(back)))
    elif rate == 1:
        lines.append(_("Customers earn 1 point for every %(unit)s spent on delivered orders, on every platform.",
                       unit=money(1, currency)))
    elif rate > 1:
        lines.append(_("Customers earn %(points)s points for every %(unit)s spent on delivered orders, on every "
                       "platform.", points=plain_number(rate), unit=money(1, currency)))
    else:
        lines.append(_("Customers earn 1 point for every %(amount)s spent on delivered orders, on every platform.",
                       amount=money(quantize_money(1 / rate, currency), currency)))
    if rate > 0 and program.program_type not in CASHBACK_TYPES:
        worth = money(value, currency) if value >= Decimal("0.01") else plain_number(value) + " " + currency
        lines.append(_("A point is worth %(value)s, so they get %(percent)s%% back.", value=worth,
                       percent=plain_number(back)))
    minimum = program.min_redemption_points or 0
    lines.append(_("They can spend points once they have %(points)s (worth %(value)s), on up to %(percent)s%% of "
                   "an order.", points=minimum, value=money(quantize_money(minimum * value, currency), currency),
                   percent=plain_number(program.max_redemption_percentage)))
    if program.expiration_days:
        lines.append(_("Points expire %(days)s days after they are earned; the oldest are used and expire first.",
                       days=program.expiration_days))
    else:
        lines.append(_("Points never expire."))
    if program.program_type in TIERED_TYPES and tiers:
        parts = [_("%(tier)s %(times)s×", tier=tier.name, times=plain_number(effective_multiplier(program, tier)))
                 for tier in tiers]
        lines.append(_("Higher tiers earn more: %(tiers)s.", tiers=", ".join(parts)))
    elif tiers:
        lines.append(_("Tiers give perks; everyone earns at the same rate in this type of program."))
    if program.referral_bonus:
        lines.append(_("A customer who refers a new customer gets %(points)s points when the new customer's first "
                       "order is delivered.", points=program.referral_bonus))
    return lines


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
    now = current_time(now)
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
    now = current_time(now)
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
    stats = _qualifying_stats(member.company_id, windows, current_time(now), [member.id]).get(member.id, {})
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
