"""View as company: a super admin sees another company's pages exactly as its admin would, read-only.

The operator starts it from the company's page (admin area, audited there); the Flask session then
holds which company and until when. For the company's own pages the request's tenant becomes that
company and every transaction is read-only (tenancy.read_only_request), so PostgreSQL refuses a
write even from a view that forgot to check; a form or button is refused before its view runs. The
operator's own pages (platform administration, sign-in and out, their account) stay their own.
"""
import time
import uuid

from flask import current_app, g, request, session
from flask_login import current_user
from werkzeug.exceptions import Forbidden

from ..extensions import db
from ..models import Company, UserRole
from ..tenancy import read_only_request, use_company

VIEW_AS_KEY = "view_as"
# Pages that stay the operator's own while viewing: they are not the viewed company's.
# The public web chat (no account: its company comes from its address) is nobody's view, so never read-only.
OPERATOR_BLUEPRINTS = frozenset({"admin", "admin_health", "auth", "account", "static", "health", "chat"})
# Never shown while viewing: the outbox holds that company's sign-in and reset links.
REFUSED_BLUEPRINTS = frozenset({"mail"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadOnlyView(Forbidden):
    """A change asked for while viewing a company read-only."""


def start(company_id, name, name_ar=None):
    """Remember in the session that this browser views the company (the caller has checked and audited it)."""
    minutes = current_app.config["VIEW_AS_MINUTES"]
    session[VIEW_AS_KEY] = {"company": str(company_id), "name": name, "name_ar": name_ar,
                            "until": int(time.time()) + minutes * 60}


def stop():
    """Forget the viewed company; returns its id (or None when nothing was being viewed)."""
    state = session.pop(VIEW_AS_KEY, None) or {}
    try:
        return uuid.UUID(state.get("company", ""))
    except (AttributeError, ValueError):
        return None


def current_state(user):
    """The session's view-as record when `user` is a super admin and it has not expired, else None."""
    state = session.get(VIEW_AS_KEY)
    if not state or user is None or user.role != UserRole.SUPER_ADMIN:
        return None
    if not isinstance(state, dict) or state.get("until", 0) < time.time():
        session.pop(VIEW_AS_KEY, None)
        return None
    return state


def enter_viewed_company(user):
    """Called while loading the user: scope this request to the viewed company, read-only, when it applies.

    Returns the viewed Company (also kept as g.viewing_as) or None.
    """
    state = current_state(user)
    if state is None or request.blueprint in OPERATOR_BLUEPRINTS or request.endpoint is None:
        return None
    company_id = uuid.UUID(state["company"])
    # The operator's own rows are invisible under the viewed tenant: detached now, a rollback or commit
    # cannot expire them into a reload that finds nothing.
    db.session.expunge(user.company)
    db.session.expunge(user)
    read_only_request()
    use_company(company_id, user.id)
    company = db.session.get(Company, company_id)
    if company is None or company.deleted_at is not None:  # deleted since: back to one's own, still read-only
        session.pop(VIEW_AS_KEY, None)
        db.session.rollback()
        use_company(user.company_id, user.id)
        db.session.add(user)
        return None
    g.viewing_as = company
    return company


def refuse_changes():
    """before_app_request: while viewing, nothing that could change anything reaches a view (nor the outbox)."""
    if current_user.is_authenticated and g.get("viewing_as") is not None and (
            request.method not in SAFE_METHODS or request.blueprint in REFUSED_BLUEPRINTS):
        raise ReadOnlyView()
