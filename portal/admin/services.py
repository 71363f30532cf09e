"""Operator work across companies; every call goes through tenancy.cross_tenant (audited)."""
import secrets
import uuid
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..account.services import send_invitation
from ..auth.passwords import hash_password
from ..extensions import db
from ..models import AuditLog, Company, DeliveryOrder, IntegrationConfig, User, UserRole
from ..tenancy import cross_tenant, tenant


class CompanyError(ValueError):
    """A company could not be created; the message says why."""


STATUSES = ("active", "suspended", "deleted")
SUBSCRIPTION_STATUSES = ("trial", "active", "past_due", "cancelled")


def _status_filter(query, status):
    if status == "any":
        return query
    if status == "deleted":
        return query.where(Company.deleted_at.is_not(None))
    query = query.where(Company.deleted_at.is_(None))
    if status == "active":
        return query.where(Company.is_active.is_(True))
    if status == "suspended":
        return query.where(Company.is_active.is_(False))
    return query


def list_companies(actor_id=None, search="", status="", company_id=None):
    """Companies (not deleted ones unless asked) with user, integration and 30-day order counts and the
    last order; an audited cross-tenant read."""
    users = select(func.count()).where(User.company_id == Company.id, User.deleted_at.is_(None))
    integrations = select(func.count()).where(IntegrationConfig.company_id == Company.id)
    recent_orders = select(func.count()).where(
        DeliveryOrder.company_id == Company.id,
        DeliveryOrder.created_at >= func.now() - func.make_interval(0, 0, 0, 30))
    last_order = select(func.max(DeliveryOrder.created_at)).where(DeliveryOrder.company_id == Company.id)
    query = select(Company, users.scalar_subquery().label("users"),
                   integrations.scalar_subquery().label("integrations"),
                   recent_orders.scalar_subquery().label("recent_orders"),
                   last_order.scalar_subquery().label("last_order")).order_by(Company.name)
    query = _status_filter(query, status)
    if company_id is not None:
        query = query.where(Company.id == company_id)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Company.name.ilike(pattern) | Company.name_ar.ilike(pattern) |
                            Company.email.ilike(pattern))
    with cross_tenant("list companies", actor_id) as session:
        rows = session.execute(query.limit(500)).all()
        for company, *_ in rows:
            session.expunge(company)  # else the commit expires them and they reload under our own tenant only
    db.session.commit()  # keep the audit record of the access
    return rows


def get_company(company_id, actor_id):
    """One company with its figures (list_companies' row), or None; audited."""
    rows = list_companies(actor_id, status="any", company_id=company_id)
    return rows[0] if rows else None


def _change_company(company_id, actor, reason, change, operation, values):
    """Apply `change(company)` across tenants and audit `operation` in that company's log; commits."""
    try:
        with cross_tenant(reason, actor.id) as session:
            company = session.get(Company, company_id)
            if company is None:
                raise CompanyError(_l("There is no such company."))
            change(company)
            session.add(AuditLog(table_name="companies", operation=operation, record_id=company.id,
                                 user_id=actor.id, company_id=company.id, new_values=values))
            session.flush()
    except CompanyError:
        db.session.rollback()  # nothing changes, not even half
        raise
    db.session.commit()


def record_view_as(company_id, actor, started):
    """Audit, in the viewed company's own log, that an operator began or ended a read-only view of it.

    Returns the company's (id, name, name_ar); raises CompanyError when it cannot be viewed (unknown or deleted)."""
    viewed = []

    def check(company):
        if started and company.deleted_at is not None:
            raise CompanyError(_l("This company is deleted."))
        viewed.append((company.id, company.name, company.name_ar))
    _change_company(company_id, actor, "view as company" if started else "stop viewing as company", check,
                    "VIEW_AS_STARTED" if started else "VIEW_AS_ENDED", {"read_only": True})
    return viewed[0]


def update_company_details(company_id, actor, *, name, name_ar, email, subscription_status):
    if subscription_status not in SUBSCRIPTION_STATUSES:
        raise CompanyError(_l("Unknown subscription status."))

    def change(company):
        company.name, company.name_ar = name.strip(), (name_ar or "").strip() or None
        company.email = (email or "").strip().lower() or None
        company.subscription_status = subscription_status
    _change_company(company_id, actor, "edit company", change, "UPDATE_BY_OPERATOR",
                    {"subscription_status": subscription_status})


def set_suspended(company_id, actor, suspended):
    """Suspend (nobody signs in, webhooks answered 503 so platforms retry later, nothing deleted) or reactivate."""
    if suspended and company_id == actor.company_id:
        raise CompanyError(_l("You cannot suspend your own company: you would be signed out with it."))

    def change(company):
        if company.deleted_at is not None:
            raise CompanyError(_l("This company is deleted."))
        company.is_active = not suspended
    _change_company(company_id, actor, "suspend company" if suspended else "reactivate company", change,
                    "SUSPENDED" if suspended else "REACTIVATED", {"is_active": not suspended})


def soft_delete(company_id, actor, typed_name):
    """Mark deleted (the seed's deleted_at; rows stay), after the operator types the company's name."""
    if company_id == actor.company_id:
        raise CompanyError(_l("You cannot delete your own company."))

    def change(company):
        if (typed_name or "").strip() != company.name:
            raise CompanyError(_l("Type the company's name exactly as shown to delete it."))
        company.deleted_at = func.now()
        company.is_active = False
    _change_company(company_id, actor, "delete company", change, "DELETED", {"deleted": True})


def create_company(*, name, admin_email, admin_password=None, admin_first_name="Admin", admin_last_name="User",
                   timezone="Asia/Riyadh", currency="SAR", country_code="SA", name_ar=None,
                   actor_id=None, company_id=None):
    """Create a company and its first company admin (a company never exists without one).

    Without `admin_password` (the operator pages) the admin is invited: the e-mailed link lets them
    choose their own password, which nobody else ever knows. The CLI may still bootstrap one.
    """
    if timezone not in available_timezones():
        raise CompanyError(_l("Unknown time zone: %(zone)s", zone=timezone))
    company = Company(id=company_id or uuid.uuid4(), name=name.strip(), name_ar=(name_ar or None),
                      timezone=timezone, currency=currency.upper(), country_code=country_code.upper(),
                      email=admin_email.strip().lower())
    password = admin_password or secrets.token_urlsafe(32)  # unguessable until the invitation is used
    admin = User(company_id=company.id, email=admin_email.strip().lower(), password=hash_password(password),
                 first_name=admin_first_name, last_name=admin_last_name, role=UserRole.COMPANY_ADMIN)
    try:
        with cross_tenant(f"create company {company.name}", actor_id) as session:
            try:
                session.add(company)
                session.flush()
                session.add(admin)
                session.flush()
            except IntegrityError:
                session.rollback()  # a failed flush blocks the role reset on leaving cross_tenant
                raise
            # Detached before commit, so reading them later does not reload them as another tenant.
            session.expunge(company)
            session.expunge(admin)
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        if "uq_users_email" in str(error.orig):
            raise CompanyError(_l("This e-mail address is already in use.")) from error
        raise CompanyError(_l("The company could not be created: %(reason)s",
                              reason=str(error.orig).splitlines()[0])) from error
    if admin_password is None:
        with tenant(company.id):
            send_invitation(db.session.get(User, admin.id), None)
            db.session.commit()
    return company
