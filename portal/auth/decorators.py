"""roles_required: the table of docs/DESIGN.md "Who uses it" as one decorator."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from ..models import UserRole


def roles_required(minimum):
    """Allow signed-in users whose role is `minimum` or above (USER < MANAGER < COMPANY_ADMIN < SUPER_ADMIN)."""
    minimum = UserRole(minimum)

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(minimum):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator
