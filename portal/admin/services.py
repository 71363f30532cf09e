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
from ..models import Company, DeliveryOrder, IntegrationConfig, User, UserRole
from ..tenancy import cross_tenant, tenant


class CompanyError(ValueError):
    """A company could not be created; the message says why."""


def list_companies(actor_id=None):
    """Every company with its user and integration counts and its orders of the last 30 days."""
    users = select(func.count()).where(User.company_id == Company.id, User.deleted_at.is_(None))
    integrations = select(func.count()).where(IntegrationConfig.company_id == Company.id)
    recent_orders = select(func.count()).where(
        DeliveryOrder.company_id == Company.id,
        DeliveryOrder.created_at >= func.now() - func.make_interval(0, 0, 0, 30))
    with cross_tenant("list companies", actor_id) as session:
        rows = session.execute(
            select(Company, users.scalar_subquery().label("users"),
                   integrations.scalar_subquery().label("integrations"),
                   recent_orders.scalar_subquery().label("recent_orders"))
            .order_by(Company.name)).all()
        for company, *_ in rows:
            session.expunge(company)  # else the commit expires them and they reload under our own tenant only
    db.session.commit()  # keep the audit record of the access
    return rows


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
