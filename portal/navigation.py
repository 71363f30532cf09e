"""The navigation each role sees (docs/DESIGN.md "Who uses it")."""
from flask_babel import lazy_gettext as _l

from .models import UserRole

# (endpoint, label, minimum role, menu): "main" links sit in the bar, "settings" ones in its menu.
NAVIGATION = [
    ("dashboard.index", _l("Dashboard"), UserRole.USER, "main"),
    ("orders.board", _l("Board"), UserRole.USER, "main"),
    ("orders.index", _l("Orders"), UserRole.USER, "main"),
    ("inbox.index", _l("Inbox"), UserRole.USER, "main"),
    ("account.profile", _l("Your account"), UserRole.USER, "settings"),
    ("settings.index", _l("Company settings"), UserRole.COMPANY_ADMIN, "settings"),
    ("integrations.index", _l("Integrations"), UserRole.COMPANY_ADMIN, "settings"),
    ("messaging.connection", _l("WhatsApp"), UserRole.COMPANY_ADMIN, "settings"),
    ("users.index", _l("Users"), UserRole.COMPANY_ADMIN, "settings"),
    ("webhooks.log_index", _l("Webhook log"), UserRole.COMPANY_ADMIN, "settings"),
    ("audit.index", _l("Audit log"), UserRole.COMPANY_ADMIN, "settings"),
    ("mail.outbox", _l("Outbox"), UserRole.COMPANY_ADMIN, "settings"),
    ("admin.companies", _l("Companies"), UserRole.SUPER_ADMIN, "settings"),
    ("admin_health.database", _l("Database health"), UserRole.SUPER_ADMIN, "settings"),
    ("menu.index", _l("Menu"), UserRole.MANAGER, "main"),
    ("loyalty.index", _l("Loyalty"), UserRole.MANAGER, "main"),
    ("messaging.index", _l("Messages"), UserRole.MANAGER, "main"),
    ("analytics.index", _l("Reports"), UserRole.MANAGER, "main"),
]


def navigation_for(user, menu=None):
    """The links (endpoint, label) this user may follow, of one menu or of all."""
    if user is None:
        return []
    return [(endpoint, label) for endpoint, label, minimum, group in NAVIGATION
            if user.has_role(minimum) and menu in (None, group)]


# Pages that belong to a section whose link has another endpoint.
SECTION_OF = {"orders.lanes": "orders.board", "orders.act": "orders.board", "orders.pause": "orders.board",
              "orders.auto_accept": "orders.board",
              "messaging.update_connection": "messaging.connection", "messaging.send_test": "messaging.connection"}


def current_section(request_endpoint):
    """The navigation endpoint a page belongs to: itself, an alias, or its area's index."""
    if not request_endpoint:
        return None
    endpoints = [endpoint for endpoint, *_ in NAVIGATION]
    if request_endpoint in endpoints:
        return request_endpoint
    if request_endpoint in SECTION_OF:
        return SECTION_OF[request_endpoint]
    area = request_endpoint.split(".")[0]
    same_area = [endpoint for endpoint in endpoints if endpoint.split(".")[0] == area]
    return next((endpoint for endpoint in same_area if endpoint.endswith("index")), same_area[0] if same_area else None)
