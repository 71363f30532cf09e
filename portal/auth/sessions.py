"""Server-side session records: sign-in creates one, its id lives in the Flask session, revoking ends it."""
import uuid

from flask import request, session
from sqlalchemy import func, update

from ..extensions import db
from ..models import UserSession

SESSION_KEY = "sid"


def start_session(user):
    """Record the new sign-in and keep its id in the (already cleared) Flask session. The caller commits."""
    record = UserSession(id=uuid.uuid4(), company_id=user.company_id, user_id=user.id,
                         ip=(request.remote_addr or "")[:64] or None,
                         user_agent=(request.user_agent.string or "")[:300] or None)
    db.session.add(record)
    session[SESSION_KEY] = str(record.id)
    return record


def current_session_id():
    try:
        return uuid.UUID(session.get(SESSION_KEY) or "")
    except ValueError:
        return None


def session_is_live(user):
    """True when the Flask session's record exists, belongs to the user and is not revoked."""
    sid = current_session_id()
    if sid is None:
        return False
    record = db.session.get(UserSession, sid)
    return record is not None and record.user_id == user.id and record.revoked_at is None


def revoke_current():
    """Sign-out: end this browser's record. The caller commits."""
    sid = current_session_id()
    if sid is not None:
        db.session.execute(update(UserSession).where(UserSession.id == sid, UserSession.revoked_at.is_(None))
                           .values(revoked_at=func.now()))


def end_all_sessions(user, except_id=None):
    """End every open session of the user (password or role change, deactivation, reset); how many. Caller commits."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if except_id is not None:
        query = query.where(UserSession.id != except_id)
    return db.session.execute(query.values(revoked_at=func.now())).rowcount
