"""Rules for the company's users: roles, the last-admin rule, unique e-mail addresses, invitations."""
import secrets

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from ..account.services import request_password_reset, send_invitation
from ..auth.passwords import hash_password
from ..auth.sessions import end_all_sessions
from ..extensions import db
from ..models import User, UserRole


class UserRuleError(ValueError):
    """A change the rules refuse; the message is for the person who asked, `field` is the form field."""

    def __init__(self, message, field="role"):
        super().__init__(message)
        self.field = field


def list_users(search=None, role=None):
    """The company's users (RLS scopes to the current tenant), admins first, then by name."""
    query = select(User).where(User.deleted_at.is_(None))
    if search:
        escaped = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(or_(User.email.ilike(pattern), User.first_name.ilike(pattern),
                                User.last_name.ilike(pattern)))
    if role:
        query = query.where(User.role == UserRole(role))
    return query.order_by(User.is_active.desc(), User.role, User.first_name, User.last_name)


def _check_role_allowed(actor, role):
    if not actor.has_role(role):
        raise UserRuleError(_("You cannot give a role above your own."))


def _other_active_admins(user):
    return db.session.scalar(
        select(func.count()).select_from(User).where(
            User.company_id == user.company_id, User.id != user.id, User.role == UserRole.COMPANY_ADMIN,
            User.is_active.is_(True), User.deleted_at.is_(None)))


def _check_keeps_admin(user):
    if user.role == UserRole.COMPANY_ADMIN and user.is_active and _other_active_admins(user) == 0:
        raise UserRuleError(_("The company must keep at least one active company admin."))


def _commit_or_explain(step=None):
    """Flush (`step="flush"`) or commit; a refused write is rolled back and explained when it can be."""
    try:
        db.session.flush() if step == "flush" else db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        if "uq_users_email" in str(error.orig):
            raise UserRuleError(_("This e-mail address is already in use."), field="email") from error
        if "company_keeps_admin" in str(error.orig):
            raise UserRuleError(_("The company must keep at least one active company admin.")) from error
        raise


def create_user(actor, *, email, first_name, last_name, role, password, company_id=None):
    """Create a user in the actor's company (or `company_id` for operator commands)."""
    role = UserRole(role)
    if actor is not None:
        _check_role_allowed(actor, role)
    user = User(email=email.strip().lower(), first_name=first_name.strip(), last_name=last_name.strip(),
                role=role, password=hash_password(password),
                company_id=company_id or actor.company_id, created_by=actor.id if actor else None)
    db.session.add(user)
    _commit_or_explain()
    return user


def invite_user(actor, *, email, first_name, last_name, role):
    """Create the user with a password nobody knows and e-mail them a link to choose their own.

    The admin never types or sees a colleague's password; until the link is used the account
    cannot be signed in to.
    """
    role = UserRole(role)
    _check_role_allowed(actor, role)
    user = User(email=email.strip().lower(), first_name=first_name.strip(), last_name=last_name.strip(),
                role=role, password=hash_password(secrets.token_urlsafe(32)), company_id=actor.company_id,
                created_by=actor.id)
    db.session.add(user)
    _commit_or_explain("flush")  # the e-mail may be taken: explained before any link is made
    send_invitation(user, actor)
    _commit_or_explain()
    return user


def resend_invitation(actor, user):
    """A new invitation link (the earlier one stops working)."""
    _check_role_allowed(actor, user.role)
    send_invitation(user, actor)
    db.session.commit()


def send_reset_link(actor, user):
    """E-mail the user a password-reset link; their password stays until they use it."""
    _check_role_allowed(actor, user.role)
    if not user.is_active:
        raise UserRuleError(_("Reactivate %(name)s first.", name=user.full_name), field="is_active")
    request_password_reset(user.email)


def update_user(actor, user, *, email, first_name, last_name, role, password=None):
    """Change a user's details and role; refuse what would leave the company without an admin."""
    role = UserRole(role)
    _check_role_allowed(actor, role)
    _check_role_allowed(actor, user.role)
    if user.role == UserRole.COMPANY_ADMIN and role != UserRole.COMPANY_ADMIN:
        _check_keeps_admin(user)
    user.email = email.strip().lower()
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    if password or user.role != role:
        end_all_sessions(user)  # a new password or role signs every browser of the user out
    user.role = role
    if password:
        user.password = hash_password(password)
    _commit_or_explain()
    return user


def set_active(actor, user, active):
    """Deactivate or reactivate a user; nobody deactivates themselves or the last admin."""
    _check_role_allowed(actor, user.role)
    if not active:
        if user.id == actor.id:
            raise UserRuleError(_("You cannot deactivate your own account."), field="is_active")
        _check_keeps_admin(user)
        end_all_sessions(user)
    user.is_active = active
    _commit_or_explain()
    return user
