"""Sign-in rules: who may sign in, and what is recorded when they do."""
from dataclasses import dataclass

import uuid

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func

from ..extensions import db
from ..models import AuditLog, User
from ..tenancy import sign_in_lookup, use_company
from ..web import client_address
from . import throttle, two_factor
from .passwords import check_password


@dataclass
class SignInResult:
    user: User | None = None
    error: str | None = None
    retry_after: int = 0  # seconds, when the attempt was refused without checking the password
    used_recovery_code: bool = False


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
    return SignInResult(user=user)


def second_step(user, code):
    """The authenticator code (or a recovery code) after a correct password; wrong ones count as failures."""
    address = client_address()
    wait = throttle.wait_seconds(user.email, address)
    if wait:
        return SignInResult(retry_after=wait, error=_(
            "Too many wrong codes. Try again in %(minutes)d minutes.", minutes=max(1, round(wait / 60))))
    if two_factor.check_code(user, code):
        return SignInResult(user=user)
    if two_factor.use_recovery_code(user, code):
        return SignInResult(user=user, used_recovery_code=True)
    db.session.rollback()
    _record_failed_sign_in(user.email, address, user)
    return SignInResult(error=_("That code is not right. Type the newest code from your app, or a recovery code."))


def user_for_key(session_key):
    """The user a session key ("company:user") names, scoped to their company, while they may sign in."""
    try:
        company_part, user_part = (session_key or "").split(":")
        company_id, user_id = uuid.UUID(company_part), uuid.UUID(user_part)
    except ValueError:
        return None
    use_company(company_id, user_id)
    user = db.session.get(User, user_id)
    if user is None or not user.can_sign_in or not user.company.is_active or user.company.deleted_at:
        use_company(None)
        return None
    return user


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


def record_sign_in(user):
    """Remember when the user last signed in, and audit it; this address's failure count restarts."""
    throttle.record_success(user.email, client_address())
    user.last_login_at = func.now()
    db.session.add(AuditLog(table_name="users", operation="SIGN_IN", record_id=user.id, user_id=user.id,
                            company_id=user.company_id, ip_address=client_address()))
    db.session.commit()

