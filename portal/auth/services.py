"""Sign-in rules: who may sign in, and what is recorded when they do."""
from dataclasses import dataclass

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import func

from ..extensions import db
from ..models import AuditLog, User
from ..tenancy import sign_in_lookup, use_company
from . import throttle
from .passwords import check_password


@dataclass
class SignInResult:
    user: User | None = None
    error: str | None = None
    retry_after: int = 0  # seconds, when the attempt was refused without checking the password


def authenticate(email, password):
    """Check the credentials; on success scope to the user's company and return the user."""
    email = email.strip().lower()
    address = client_address()
    wait = throttle.wait_seconds(email, address)
    if wait:
        minutes = max(1, round(wait / 60))
        return SignInResult(retry_after=wait, error=_(
            "Too many failed sign-ins. Try again in %(minutes)d minutes, or reset your password.", minutes=minutes))
    account = sign_in_lookup(email)
    password_ok = check_password(password, account.password if account else None)
    if account is None or not password_ok:
        _record_failed_sign_in(email, address, account)
        return SignInResult(error=_("E-mail or password is incorrect."))
    if not account.is_active or account.deleted_at is not None:
        return SignInResult(error=_("This account is deactivated. Ask your company admin to reactivate it."))
    use_company(account.company_id, account.id)
    user = db.session.get(User, account.id)
    if user is None or not user.company.is_active or user.company.deleted_at is not None:
        use_company(None)
        return SignInResult(error=_("This company's portal is not active. Contact support."))
    throttle.record_success(email, address)
    return SignInResult(user=user)


def _record_failed_sign_in(email, address, account):
    """Count the failure (also for unknown addresses, which look the same); a known account's company audits it."""
    incident = throttle.record_failure(email, address)
    if account is not None:
        use_company(account.company_id)
        db.session.add(AuditLog(table_name="users", operation="SIGN_IN_FAILED", record_id=account.id,
                                company_id=account.company_id, ip_address=address))
        if incident:
            throttle.sign_in_blocked.send(current_app._get_current_object(), account=account, address=address)
    db.session.commit()
    use_company(None)


def client_address():
    return request.remote_addr if has_request_context() else None


def record_sign_in(user):
    """Remember when the user last signed in, and audit it."""
    user.last_login_at = func.now()
    db.session.add(AuditLog(table_name="users", operation="SIGN_IN", record_id=user.id, user_id=user.id,
                            company_id=user.company_id, ip_address=client_address()))
    db.session.commit()

