"""What the loyalty pages read: the program dashboard, customer search, a customer's orders and ledger, export."""
import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, or_, select, text

from ..extensions import db
from ..models import CustomerLoyalty, DeliveryOrder, LoyaltyTier, LoyaltyTransaction, User
from ..phones import WESTERN_DIGITS
from ..tenancy import current_company_id
from .ledger import normalize_for_company
from .programs import program_tiers

# The expression of idx_orders_customer_phone_tail (migration 0008), written out so the planner uses it.
PHONE_TAIL_SQL = ("right(regexp_replace(translate(customer_phone, '٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹', "
                  "'01234567890123456789'), '[^0-9]', '', 'g'), 8)")
WEEKS = 12


@dataclass
class Dashboard:
    members: int = 0
    active_30: int = 0
    outstanding: int = 0
    liability: Decimal = Decimal(0)
    earned_30: int = 0
    redeemed_30: int = 0
    weeks: list = field(default_factory=list)  # [(week start, earned, redeemed, expired)]
    tiers: list = field(default_factory=list)  # [(tier or None, members)]

    @property
    def has_activity(self):
        return any(earned or redeemed or expired for _, earned, redeemed, expired in self.weeks)


def dashboard(program, company, now=None):
    """Members, activity, the points outstanding and their value, weekly earn vs redeem, tiers."""
    now = now or datetime.now(timezone.utc)
    company_id = company.id
    since_30 = now - timedelta(days=30)
    members, active, outstanding = db.session.execute(select(
        func.count(), func.count().filter(CustomerLoyalty.last_order_at >= since_30),
        func.coalesce(func.sum(CustomerLoyalty.current_points), 0),
    ).where(CustomerLoyalty.company_id == company_id)).one()
    earned_30, redeemed_30 = db.session.execute(select(
        func.coalesce(func.sum(LoyaltyTransaction.points).filter(
            LoyaltyTransaction.transaction_type.in_(["EARN", "REFERRAL"])), 0),
        func.coalesce(-func.sum(LoyaltyTransaction.points).filter(LoyaltyTransaction.transaction_type == "REDEEM"), 0),
    ).where(LoyaltyTransaction.company_id == company_id, LoyaltyTransaction.created_at >= since_30)).one()
    result = Dashboard(members=members, active_30=active, outstanding=int(outstanding),
                       liability=Decimal(outstanding) * Decimal(program.point_value if program else 0),
                       earned_30=int(earned_30), redeemed_30=int(redeemed_30))
    result.weeks = weekly_points(company, now)
    counts = dict(db.session.execute(select(CustomerLoyalty.loyalty_tier_id, func.count())
                                     .where(CustomerLoyalty.company_id == company_id)
                                     .group_by(CustomerLoyalty.loyalty_tier_id)).all())
    tiers = program_tiers(program)
    result.tiers = [(tier, counts.get(tier.id, 0)) for tier in tiers]
    untiered = counts.get(None, 0) + sum(count for tier_id, count in counts.items()
                                         if tier_id is not None and tier_id not in {tier.id for tier in tiers})
    if untiered or not tiers:
        result.tiers.append((None, untiered))
    return result


_WEEKLY = text("""
SELECT (date_trunc('week', created_at AT TIME ZONE :zone))::date AS week,
       coalesce(sum(points) FILTER (WHERE transaction_type IN ('EARN', 'REFERRAL')), 0),
       coalesce(-sum(points) FILTER (WHERE transaction_type = 'REDEEM'), 0),
       coalesce(-sum(points) FILTER (WHERE transaction_type = 'EXPIRE'), 0)
FROM loyalty_transactions
WHERE company_id = :company AND created_at >= :since
GROUP BY 1 ORDER BY 1
""")


def weekly_points(company, now):
    """Points earned, redeemed and expired per week (Monday to Sunday in the company's time zone)."""
    from zoneinfo import ZoneInfo
    today = now.astimezone(ZoneInfo(company.timezone)).date()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=WEEKS - 1)
    since = datetime.combine(first, datetime.min.time(), ZoneInfo(company.timezone))
    found = {week: (int(earned), int(redeemed), int(expired)) for week, earned, redeemed, expired in
             db.session.execute(_WEEKLY, {"zone": company.timezone, "company": company.id, "since": since})}
    return [(first + timedelta(weeks=n), *found.get(first + timedelta(weeks=n), (0, 0, 0))) for n in range(WEEKS)]


def _escape_like(value):
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def looks_like_phone(query):
    """True for what a person types as a phone: digits (any script), spaces, +, -, brackets."""
    cleaned = query.translate(WESTERN_DIGITS)
    digits = "".join(ch for ch in cleaned if ch.isdigit())
    return len(digits) >= 3 and all(ch.isdigit() or ch in "+-() ." for ch in cleaned)


def search_members(query="", tier_id=None, sort="recent"):
    """A select of the company's members matching a phone (any format) or a name, for a page of results."""
    statement = select(CustomerLoyalty).where(CustomerLoyalty.company_id == current_company_id())
    query = (query or "").strip()
    if query and looks_like_phone(query):
        digits = "".join(ch for ch in query.translate(WESTERN_DIGITS) if ch.isdigit())
        conditions = []
        full = normalize_for_company(query)
        if full:
            conditions.append(CustomerLoyalty.customer_phone == full)
        local = digits.lstrip("0")  # 05… is the local form of +9665…
        if len(local) >= 3:
            conditions.append(CustomerLoyalty.customer_phone.contains(local, autoescape=True))
        statement = statement.where(or_(*conditions)) if conditions else statement.where(text("false"))
    elif query:
        pattern = f"%{_escape_like(query)}%"
        statement = statement.where(or_(CustomerLoyalty.customer_name.ilike(pattern, escape="\\"),
                                        CustomerLoyalty.customer_email.ilike(pattern, escape="\\")))
    if tier_id == "none":
        statement = statement.where(CustomerLoyalty.loyalty_tier_id.is_(None))
    elif tier_id:
        statement = statement.where(CustomerLoyalty.loyalty_tier_id == tier_id)
    order = {"points": (CustomerLoyalty.current_points.desc(),), "spent": (CustomerLoyalty.total_spent.desc(),),
             "name": (CustomerLoyalty.customer_name.asc().nulls_last(),)}.get(
        sort, (CustomerLoyalty.last_order_at.desc().nulls_last(),))
    return statement.order_by(*order, CustomerLoyalty.id)


SORTS = ("recent", "points", "spent", "name")


def member_orders(member, limit=100):
    """The member's orders on every platform, newest first (matched by phone, whatever format it came in)."""
    tail = "".join(ch for ch in member.customer_phone if ch.isdigit())[-8:]
    orders = db.session.scalars(
        select(DeliveryOrder).where(DeliveryOrder.company_id == member.company_id,
                                    text(f"{PHONE_TAIL_SQL} = :tail").bindparams(tail=tail))
        .order_by(DeliveryOrder.created_at.desc()).limit(limit * 2)).all()
    matching = [order for order in orders if normalize_for_company(order.customer_phone) == member.customer_phone]
    return matching[:limit]


def points_by_order(member, order_ids):
    """{order id: {type: points}} of the member's ledger rows for these orders."""
    if not order_ids:
        return {}
    found = {}
    for order_id, kind, points in db.session.execute(
            select(LoyaltyTransaction.order_id, LoyaltyTransaction.transaction_type, LoyaltyTransaction.points)
            .where(LoyaltyTransaction.company_id == member.company_id,
                   LoyaltyTransaction.customer_loyalty_id == member.id,
                   LoyaltyTransaction.order_id.in_(order_ids))):
        found.setdefault(order_id, {})[kind.value] = found.get(order_id, {}).get(kind.value, 0) + points
    return found


def member_ledger(member):
    """A select of the member's ledger rows, newest first, for pages."""
    return (select(LoyaltyTransaction)
            .where(LoyaltyTransaction.company_id == member.company_id,
                   LoyaltyTransaction.customer_loyalty_id == member.id)
            .order_by(LoyaltyTransaction.created_at.desc(), LoyaltyTransaction.id.desc()))


def ledger_names(rows):
    """({user id: user}, {order id: order number}) for a page of ledger rows (two queries)."""
    user_ids = {row.user_id for row in rows if row.user_id}
    order_ids = {row.order_id for row in rows if row.order_id}
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(user_ids)))} \
        if user_ids else {}
    orders = dict(db.session.execute(select(DeliveryOrder.id, DeliveryOrder.order_number)
                                     .where(DeliveryOrder.id.in_(order_ids))).all()) if order_ids else {}
    return users, orders


def tier_names(program):
    """{tier id: tier} of the program."""
    return {tier.id: tier for tier in program_tiers(program)}


EXPORT_COLUMNS = ("phone", "name", "email", "tier", "points", "points_value", "points_earned", "points_redeemed",
                  "orders", "total_spent", "currency", "joined", "last_order")


def export_csv(statement, program, company):
    """The members of `statement` as CSV lines (UTF-8 with BOM so Excel shows Arabic names)."""
    tiers = {tier.id: tier.name for tier in db.session.scalars(
        select(LoyaltyTier).where(LoyaltyTier.company_id == company.id))}
    value = Decimal(program.point_value) if program else Decimal(0)
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush():
        data = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return data

    yield "\ufeff"
    writer.writerow(EXPORT_COLUMNS)
    yield flush()
    for member in db.session.scalars(statement.execution_options(yield_per=500)):
        writer.writerow([
            member.customer_phone, _safe(member.customer_name), _safe(member.customer_email),
            tiers.get(member.loyalty_tier_id, ""), member.current_points,
            f"{Decimal(member.current_points) * value:.3f}", member.total_points_earned, member.total_points_redeemed,
            member.order_count, f"{member.total_spent:.3f}", company.currency,
            member.joined_at.isoformat(timespec="seconds"),
            member.last_order_at.isoformat(timespec="seconds") if member.last_order_at else ""])
        yield flush()


def _safe(value):
    """A cell a spreadsheet will not run as a formula."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value or ""


def export_filename(today: date):
    return f"loyalty-customers-{today.isoformat()}.csv"
