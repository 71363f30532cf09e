"""Language, time zone and money formatting: English/Arabic, company time zone and currency."""
import re
from decimal import Decimal

from babel.dates import get_timezone_location
from babel.numbers import format_currency, get_currency_symbol
from flask import current_app, g, has_request_context, request, session
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .models.enums import WebhookOutcome
from .platforms import all_adapters

RTL_LANGUAGES = {"ar"}


def select_locale():
    """The session's choice, then the user's saved choice, then the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]  # CLI commands and jobs
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated:
        if current_user.locale in languages:
            return current_user.locale
        if _company().default_language in languages:
            return _company().default_language
    return request.accept_languages.best_match(languages) or "en"


def _company():
    """The company the page is about: the user's own, or the one a super admin is viewing."""
    return g.get("company") or current_user.company


def select_timezone():
    """Everything is stored in UTC and shown in the signed-in company's time zone."""
    if has_request_context() and current_user and current_user.is_authenticated:
        return _company().timezone
    return "UTC"


def text_direction():
    return "rtl" if str(get_locale()).split("_")[0] in RTL_LANGUAGES else "ltr"


def money(amount, currency=None):
    """An amount in the currency's own precision (SAR 2 decimals, KWD 3), in the page's language."""
    if amount is None:
        return "—"
    if currency is None:
        currency = _company().currency if current_user.is_authenticated else "SAR"
    text = format_currency(Decimal(amount), currency, locale=get_locale(),
                           format_type="standard", currency_digits=True)
    # Babel skips CLDR's currency spacing: "SAR12.50" should read "SAR 12.50" (a no-break space).
    return re.sub(r"(?<=[A-Z]{3})(?=\d)", "\u00a0", text)


def page_is_arabic():
    return str(get_locale()).split("_")[0] == "ar"


def localized(obj, field="name"):
    """obj.<field>_ar on an Arabic page when it is set, else obj.<field>; objects and dicts alike."""
    def read(name):
        return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    if obj is None:
        return ""
    return (page_is_arabic() and read(f"{field}_ar")) or read(field) or ""


def currency_symbol(currency):
    """The currency as the page's language writes it ("SAR" in English, "ر.س.‏" in Arabic)."""
    return get_currency_symbol(currency, locale=get_locale())


DATETIME_PATTERNS = {"short": "d MMM, HH:mm", "medium": "d MMM y, HH:mm", "time": "HH:mm"}


def local_datetime(value, format="medium"):
    """A UTC timestamp in the company's time zone (day-first, 24-hour: how the Gulf reads times)."""
    return format_datetime(value, DATETIME_PATTERNS.get(format, format)) if value else "—"


def timezone_label(name):
    """'Saudi Arabia Time' / 'توقيت السعودية' rather than 'Asia/Riyadh'."""
    try:
        return get_timezone_location(name, locale=get_locale(), return_city=False)
    except (LookupError, ValueError):
        return name


ROLE_LABELS = {"USER": _l("Staff"), "MANAGER": _l("Manager"), "COMPANY_ADMIN": _l("Company admin"),
               "SUPER_ADMIN": _l("Super admin")}
STATUS_LABELS = {"PENDING": _l("New"), "ACCEPTED": _l("Accepted"), "REJECTED": _l("Rejected"),
                 "IN_PREPARATION": _l("Preparing"), "READY_FOR_PICKUP": _l("Ready"),
                 "OUT_FOR_DELIVERY": _l("On the way"), "DELIVERED": _l("Delivered"), "CANCELLED": _l("Cancelled")}
AUDIT_TABLE_LABELS = {"companies": _l("Company"), "users": _l("User"),
                      "integration_configs": _l("Platform connection"), "menu_mappings": _l("Menu mapping"),
                      "delivery_orders": _l("Order"), "*": _l("Operator access"), "exports": _l("Export")}
# audit_logs.operation: the triggers' TG_OP, tenancy.cross_tenant's access, orders.services' ORDER_<action>.
AUDIT_OPERATION_LABELS = {"INSERT": _l("created"), "UPDATE": _l("updated"), "DELETE": _l("deleted"),
                          "CROSS_TENANT_ACCESS": _l("cross-company access"), "ORDER_ACCEPT": _l("accepted"),
                          "ORDER_REJECT": _l("rejected"), "ORDER_START": _l("started preparing"),
                          "ORDER_READY": _l("marked ready"), "ORDER_PICKED_UP": _l("marked picked up"),
                          "ORDER_DELIVER": _l("marked delivered"), "ORDER_CANCEL": _l("cancelled"),
                          "SIGN_IN": _l("signed in"), "SIGN_IN_FAILED": _l("failed sign-in"),
                          "PASSWORD_CHANGED": _l("changed password"), "PASSWORD_RESET": _l("reset password"),
                          "INVITED": _l("invited"), "INVITATION_ACCEPTED": _l("accepted the invitation"),
                          "TWO_FACTOR_ENABLED": _l("turned on two-step sign-in"),
                          "TWO_FACTOR_DISABLED": _l("turned off two-step sign-in"), "EXPORT": _l("exported"),
                          "RECOVERY_CODES_RENEWED": _l("made new recovery codes"),
                          "RECOVERY_CODE_USED": _l("signed in with a recovery code"),
                          "SUSPENDED": _l("suspended"), "REACTIVATED": _l("reactivated"),
                          "DELETED": _l("deleted"), "VIEW_AS_STARTED": _l("started viewing as company"),
                          "VIEW_AS_ENDED": _l("stopped viewing as company"),
                          "UPDATE_BY_OPERATOR": _l("updated by the operator")}
# Audited fields shown by name on the audit page; a field without a label is shown as "some field".
AUDIT_FIELD_LABELS = {"name": _l("Name"), "name_ar": _l("Arabic name"), "email": _l("E-mail"),
                      "first_name": _l("First name"), "last_name": _l("Last name"), "role": _l("Role"),
                      "is_active": _l("Active"), "status": _l("Status"), "reason": _l("Reason"),
                      "customer_loyalty": _l("Customer loyalty"), "platform_available": _l("Available on platform"),
                      "timezone": _l("Time zone"), "currency": _l("Currency"), "phone": _l("Phone"),
                      "order_number": _l("Order number"), "preparation_minutes": _l("Preparation minutes"),
                      "file": _l("File"), "path": _l("Page"), "platform": _l("Platform"),
                      "subscription_status": _l("Subscription status"), "read_only": _l("Read-only"),
                      "deleted_at": _l("Deleted at"),
                      "two_factor_required": _l("Two-step sign-in required"),
                      "totp_enabled_at": _l("Two-step sign-in since")}
OUTCOME_LABELS = {WebhookOutcome.PROCESSED: _l("Processed"), WebhookOutcome.DUPLICATE: _l("Duplicate"),
                  WebhookOutcome.IGNORED: _l("Ignored"), WebhookOutcome.FAILED: _l("Failed, will retry"),
                  WebhookOutcome.DEAD: _l("Gave up"), WebhookOutcome.INVALID: _l("Invalid"),
                  WebhookOutcome.UNAUTHORIZED: _l("Unauthorized"),
                  WebhookOutcome.UNKNOWN_INTEGRATION: _l("Unknown integration"),
                  WebhookOutcome.RECEIVED: _l("Not processed yet")}
# The assistant: what a customer asked, why a conversation came to staff, and each answer template in words.
INTENT_LABELS = {"order_status": _l("Where is my order"), "menu": _l("Menu and prices"),
                 "opening_hours": _l("Opening hours"), "loyalty_balance": _l("Loyalty points"),
                 "greeting": _l("Greeting"), "complaint": _l("Complaint"), "human": _l("Asked for a person"),
                 "other": _l("Something else")}
HANDOFF_REASON_LABELS = {"complaint": _l("Complaint"), "asked_for_person": _l("Asked for a person"),
                         "low_confidence": _l("The assistant was not sure"),
                         "misunderstood_twice": _l("Not understood twice"), "staff_joined": _l("Staff joined"),
                         "assistant_off": _l("The assistant is turned off")}
CONVERSATION_STATUS_LABELS = {"ASSISTANT": _l("Assistant"), "STAFF": _l("Needs you"), "CLOSED": _l("Closed")}
ANSWER_LABELS = {
    "greeting": _l("Greeting: what the assistant can help with"),
    "order_status": _l("Order status"), "order_status_eta": _l("Order status with ETA"),
    "order_ask_identity": _l("Asking for the order number and the phone's last 4 digits"),
    "order_not_found": _l("No order matches the number and phone"),
    "order_none": _l("No order from this WhatsApp number"),
    "menu_item": _l("A menu item with its price"), "menu_item_sold_out": _l("A menu item that is sold out (86)"),
    "menu_item_unavailable": _l("A menu item outside its hours"), "menu_overview": _l("A few favourites from the menu"),
    "menu_unknown": _l("Something that is not on the menu"),
    "hours_open": _l("Open now, with the closing time"), "hours_closed": _l("Closed now, with the next opening"),
    "hours_closed_unknown": _l("Closed now, next opening unknown"), "hours_always": _l("Open (no hours set)"),
    "loyalty_balance": _l("Loyalty points balance"), "loyalty_expiring": _l("Loyalty points with an expiry soon"),
    "loyalty_none": _l("No loyalty points yet"),
    "loyalty_ask_identity": _l("Asking for an order number and phone digits to find the points"),
    "handoff": _l("Passing the customer to staff"), "handoff_closed": _l("Passing to staff while closed"),
    "not_understood": _l("Not understood"), "staff_busy": _l("Staff have the message"),
}
# Platform names are not translated: each is the platform's own name, as its adapter gives it.
PLATFORM_LABELS = {adapter.platform.value: adapter.display_name for adapter in all_adapters()}


def _label(labels):
    def label(value):
        key = getattr(value, "value", value)
        return labels.get(key, key)
    return label


def audit_operation_label(operation):
    """'UPDATE' -> 'updated'; an operation without a label, 'SOME_THING', is shown as 'some thing'."""
    return AUDIT_OPERATION_LABELS.get(operation) or (operation or "").replace("_", " ").lower()


def audit_field_label(field):
    """'platform_available' -> 'Available on platform'; unknown fields lose their underscores."""
    return AUDIT_FIELD_LABELS.get(field) or (field or "").replace("_", " ").capitalize()


def audit_value(value):
    """A recorded value for people: Yes/No for booleans, role and order status labels, "—" for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _l("Yes") if value else _l("No")
    if isinstance(value, str) and value in ROLE_LABELS:
        return ROLE_LABELS[value]
    if isinstance(value, str) and value in STATUS_LABELS:
        return STATUS_LABELS[value]
    if isinstance(value, dict):
        return ", ".join(f"{key}: {item}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return value


COMPANY_STATUS_LABELS = {"active": _l("Active"), "suspended": _l("Suspended"), "deleted": _l("Deleted")}
SUBSCRIPTION_LABELS = {"trial": _l("Trial"), "active": _l("Active"), "past_due": _l("Payment overdue"),
                       "cancelled": _l("Cancelled")}


# WhatsApp (portal/messaging): message statuses, what sends a message, templates, and Meta's error codes.
WHATSAPP_STATUS_LABELS = {"PENDING": _l("Queued"), "SENT": _l("Sent"), "DELIVERED": _l("Delivered"),
                          "READ": _l("Read"), "FAILED": _l("Failed"), "SKIPPED": _l("Not sent")}
NOTIFICATION_EVENT_LABELS = {"ORDER_ACCEPTED": _l("Order accepted (with the ready time)"),
                             "ORDER_READY": _l("Order ready for pickup"),
                             "ORDER_OUT_FOR_DELIVERY": _l("Order out for delivery"),
                             "ORDER_DELIVERED": _l("Order delivered"), "POINTS_EARNED": _l("Loyalty points earned"),
                             "POINTS_EXPIRING": _l("Loyalty points about to expire"),
                             "CONVERSATION": _l("Reply in a conversation")}
TEMPLATE_STATUS_LABELS = {"PENDING": _l("In review"), "APPROVED": _l("Approved"), "REJECTED": _l("Rejected"),
                          "PAUSED": _l("Paused"), "DISABLED": _l("Disabled")}
TEMPLATE_CATEGORY_LABELS = {"UTILITY": _l("Utility (order updates)"), "MARKETING": _l("Marketing"),
                            "AUTHENTICATION": _l("Authentication (one-time codes)")}
LANGUAGE_LABELS = {"ar": _l("Arabic"), "en": _l("English")}
# Meta's error codes (docs/WHATSAPP.md §1), as a manager can act on them.
_RATE_LIMIT = _l("WhatsApp's sending limit was reached; the message is retried later.")
_UNAVAILABLE = _l("WhatsApp was temporarily unavailable; the message is retried a few times.")
_TEMPLATE_WRONG = _l("The template's values do not match what Meta approved, or the template is paused or disabled.")
_ACCOUNT = _l("The WhatsApp account cannot send: check the access token, billing and the account's status with Meta.")
WHATSAPP_ERROR_LABELS = {
    **dict.fromkeys(("130429", "4", "80007"), _RATE_LIMIT),
    "131056": _l("Too many messages to this customer in a short time; retried after a few seconds."),
    **dict.fromkeys(("131000", "131016", "2", "133004"), _UNAVAILABLE),
    "131047": _l("More than 24 hours since the customer last wrote: only an approved template can be sent."),
    "131026": _l("The number cannot receive WhatsApp messages (not on WhatsApp, an old app, or terms not accepted)."),
    "131051": _l("WhatsApp does not support this kind of message."),
    "131049": _l("Meta chose not to deliver it (a limit on marketing messages per customer); try after 24 hours."),
    "131050": _l("The customer turned off marketing messages in WhatsApp."),
    **dict.fromkeys(("130472", "131048"), _l("Meta held it back (an experiment or its spam limit).")),
    "132001": _l("The template does not exist in this language or is not approved yet."),
    **dict.fromkeys(("132000", "132005", "132012", "132015", "132016"), _TEMPLATE_WRONG),
    **dict.fromkeys(("0", "190", "10", "131042", "131031", "368"), _ACCOUNT),
    **dict.fromkeys(("100", "131008", "131009"), _l("A value in the message was refused by Meta (a bad parameter).")),
}


def whatsapp_error_label(code):
    """A readable reason for one of Meta's error codes ('131047' -> 'More than 24 hours…'); None when unknown."""
    return WHATSAPP_ERROR_LABELS.get(str(code).strip()) if code not in (None, "") else None


def register_filters(app):
    app.jinja_env.filters["audit_field_label"] = audit_field_label
    app.jinja_env.filters["audit_value"] = audit_value
    app.jinja_env.filters["role_label"] = _label(ROLE_LABELS)
    app.jinja_env.filters["status_label"] = _label(STATUS_LABELS)
    app.jinja_env.filters["platform_label"] = _label(PLATFORM_LABELS)
    app.jinja_env.filters["audit_table_label"] = _label(AUDIT_TABLE_LABELS)
    app.jinja_env.filters["audit_operation_label"] = audit_operation_label
    app.jinja_env.filters["outcome_label"] = _label(OUTCOME_LABELS)
    app.jinja_env.filters["company_status_label"] = _label(COMPANY_STATUS_LABELS)
    app.jinja_env.filters["subscription_label"] = _label(SUBSCRIPTION_LABELS)
    app.jinja_env.filters["whatsapp_status_label"] = _label(WHATSAPP_STATUS_LABELS)
    app.jinja_env.filters["notification_event_label"] = _label(NOTIFICATION_EVENT_LABELS)
    app.jinja_env.filters["template_status_label"] = _label(TEMPLATE_STATUS_LABELS)
    app.jinja_env.filters["template_category_label"] = _label(TEMPLATE_CATEGORY_LABELS)
    app.jinja_env.filters["language_label"] = _label(LANGUAGE_LABELS)
    app.jinja_env.filters["whatsapp_error_label"] = whatsapp_error_label
    app.jinja_env.filters["intent_label"] = _label(INTENT_LABELS)
    app.jinja_env.filters["handoff_reason_label"] = _label(HANDOFF_REASON_LABELS)
    app.jinja_env.filters["conversation_status_label"] = _label(CONVERSATION_STATUS_LABELS)
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["timezone_label"] = timezone_label
    app.jinja_env.globals["text_direction"] = text_direction
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["localized"] = localized
    app.jinja_env.filters["currency_symbol"] = currency_symbol
