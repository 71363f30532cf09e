"""Password-reset and invitation links: signed, single-use, expiring, and stored only as a hash.

The link carries `itsdangerous`-signed {company, secret}. The signature lets the portal scope to the
right tenant before it looks anything up (RLS stays on); the secret's SHA-256 is the only thing kept,
so a copy of the database gives nobody a working link. Issuing a new link of a purpose retires the
user's earlier ones; using a link marks it used in one conditional UPDATE, so two tabs racing with the
same link set one password, not two.
"""
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import AccountToken, User
from ..tenancy import use_company

RESET = "RESET"
INVITE = "INVITE"


def _serializer(purpose):
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"account-{purpose.lower()}")


def _digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def _lifetime(purpose):
    minutes = current_app.config["RESET_LINK_MINUTES"] if purpose == RESET else \
        current_app.config["INVITATION_LINK_DAYS"] * 24 * 60
    return timedelta(minutes=minutes)


def issue(user, purpose, created_by=None):
    """A new link for `user` (in the current tenant); earlier unused links of the purpose stop working.

    The caller commits, in the same transaction as the e-mail that carries the link.
    """
    db.session.execute(update(AccountToken).where(
        AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=func.now()))
    secret = secrets.token_urlsafe(32)
    db.session.add(AccountToken(company_id=user.company_id, user_id=user.id, purpose=purpose,
                                token_hash=_digest(secret), created_by=created_by,
                                expires_at=func.now() + _lifetime(purpose)))
    return _serializer(purpose).dumps({"c": str(user.company_id), "s": secret})


@dataclass
class OpenLink:
    token: AccountToken
    user: User


def peek(link, purpose):
    """The unused, unexpired link's record and its user, scoped to the link's company; else None.

    A tampered, foreign or garbage link is simply not found (and leaves no tenant set).
    """
    try:
        data = _serializer(purpose).loads(link)
        company_id = uuid.UUID(str(data["c"]))
        secret = str(data["s"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    use_company(company_id)
    token = db.session.scalar(select(AccountToken).where(
        AccountToken.token_hash == _digest(secret), AccountToken.purpose == purpose,
        AccountToken.used_at.is_(None), AccountToken.expires_at > func.now()))
    user = db.session.get(User, token.user_id) if token else None
    if user is None or not user.can_sign_in or not user.company.is_active or user.company.deleted_at:
        use_company(None)
        return None
    return OpenLink(token, user)


def consume(open_link):
    """Mark the link used; False when another request used it first. The caller commits."""
    used = db.session.execute(update(AccountToken).where(
        AccountToken.id == open_link.token.id, AccountToken.used_at.is_(None))
        .values(used_at=func.now()).returning(AccountToken.id)).first()
    return used is not None


def pending_invitations(user_ids):
    """Which of these users (current tenant) still hold an unused invitation, expired or not."""
    if not user_ids:
        return {}
    rows = db.session.execute(select(AccountToken.user_id, func.max(AccountToken.expires_at) > func.now())
                              .where(AccountToken.user_id.in_(user_ids), AccountToken.purpose == INVITE,
                                     AccountToken.used_at.is_(None))
                              .group_by(AccountToken.user_id)).all()
    return {user_id: ("open" if still_open else "expired") for user_id, still_open in rows}
