"""Every filter and global the templates use, registered in one place (create_app calls `register`).

The formatting lives beside what it formats (i18n for language and money, the areas for their own
labels); only here does it become part of the Jinja environment, so no blueprint adds to the whole
app's templates behind the others' backs. Like tasks.py, this module may import any area.
"""


def pct_class(percent):
    """The `pct-N` class (N a multiple of 5, 0–100) that portal.css sizes a bar or shades a cell by."""
    try:
        value = float(percent)
    except (TypeError, ValueError):
        value = 0.0
    return f"pct-{int(min(100.0, max(0.0, value)) / 5 + 0.5) * 5}"


def register(app):
    from . import i18n
    from .assistant import queries as assistant
    from .analytics import routes as analytics
    from .loyalty import routes as loyalty
    from .messaging import queries as messaging
    from .settings import logos

    i18n.register_filters(app)
    app.jinja_env.filters.update({
        # reports
        "duration": analytics.duration, "percent": analytics.percent, "number": analytics.number,
        "format_day": analytics.format_day, "currency_places": analytics.currency_places,
        "sync_label": analytics.sync_label, "minutes_label": analytics.minutes_label,
        # loyalty
        "format_date_short": loyalty.format_date_short,
        # WhatsApp: staff see a customer's number masked
        "mask_phone": messaging.mask_phone,
        # bars and heat without style="" (the CSP allows no inline styles): a class per 5 %
        "pct_class": pct_class,
    })
    app.jinja_env.globals.update({
        "report_value": analytics.report_value,
        "loyalty_type_label": loyalty.loyalty_type_label, "tier_label": loyalty.tier_label,
        "loyalty_status_closed": loyalty.loyalty_status_closed,
        # settings
        "company_logo_url": logos.company_logo_url,
        # the Inbox: conversations waiting for staff (the navigation's badge)
        "inbox_waiting": assistant.inbox_waiting,
    })
