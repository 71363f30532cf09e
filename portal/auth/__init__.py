"""Sign-in, sign-out, language choice, and the role check every area uses."""
from flask import g

from ..extensions import login_manager
from ..tenancy import use_company
from .services import user_for_key
from .sessions import session_is_live
from .view_as import enter_viewed_company


@login_manager.user_loader
def load_user(session_key):
    """Scope the request to the user's company (or the company a super admin views), then load the user."""
    user = user_for_key(session_key)
    if user is None or not session_is_live(user):
        use_company(None)
        return None
    g.company = user.company
    g.company = enter_viewed_company(user) or g.company
    return user
