"""Every filter and global the templates use, registered in one place (create_app calls `register`).

The formatting lives beside what it formats (i18n for language and money, the areas for their own
labels); only here does it become part of the Jinja environment, so no blueprint adds to the whole
app's templates behind the others' backs. Like tasks.py, this module may import any area.
"""


def register(app):
    from . import i18n
    from .analytics import routes as analytics
    from .loyalty import routes as loyalty
    from .settings import logos

    i18n.register_filters(app)
    app.jinja_env.filters.update({
        # reports
        "duration": analytics.duration, "percent": analytics.percent, "number": analytics.number,
        "format_day": analytics.format_day, "currency_places": analytics.currency_places,
        "sync_label": analytics.sync_label, "minutes_label": analytics.minutes_label,
        # loyalty
        "format_date_short": loyalty.format_date_short,
    })
    app.jinja_env.globals.update({
        "report_value": analytics.report_value,
        "loyalty_type_label": loyalty.loyalty_type_label, "tier_label": loyalty.tier_label,
        "loyalty_status_closed": loyalty.loyalty_status_closed,
        # settings
        "company_logo_url": logos.company_logo_url,
    })
