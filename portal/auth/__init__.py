"""Sign-in, sign-out, language choice, and the role check every area uses."""
import uuid

from flask import g

from ..extensions import db, login_manager
from ..models import User
from ..tenancy import use_company
from .sessions import session_is_live


@login_manager.user_loader
def load_user(session_key):
    """Scope the request to the user's company, then load the user under that tenant."""
    try:
        company_part, user_part = session_key.split(":")
        company_id, user_id = uuid.UUID(company_part), uuid.UUID(user_part)
    except ValueError:
        return None
    use_company(company_id, user_id)
    user = db.session.get(User, user_id)
    if (user is None or not user.can_sign_in or not user.company.is_active or user.company.deleted_at
            or not session_is_live(user)):
        use_company(None)
        return None
    g.company = user.company
    return user
