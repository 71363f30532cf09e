"""The navigation each role sees (DESIGN.md "Who uses it")."""
from flask_babel import lazy_gettext as _l

from .models import UserRole

# (endpoint, label, minimum role)
NAVIGATION = [
    ("dashboard.index", _l("Dashboard"), UserRole.USER),
    ("users.index", _l("Users"), UserRole.COMPANY_ADMIN),
    ("integrations.index", _l("Integrations"), UserRole.COMPANY_ADMIN),
    ("webhooks.log_index", _l("Webhook log"), UserRole.COMPANY_ADMIN),
    ("audit.index", _l("Audit log"), UserRole.COMPANY_ADMIN),
    ("admin.companies", _l("Companies"), UserRole.SUPER_ADMIN),
]


def navigation_for(user):
    """The links of the main navigation this user may follow."""
    if user is None:
        return []
    return [(endpoint, label) for endpoint, label, minimum in NAVIGATION if user.has_role(minimum)]
