"""The rules of the Settings pages: what may be saved, and the audit of each save.

Changes to `companies` are recorded by its audit trigger (old and new row); the logo, the opening
hours and the holidays live in their own tables and write an AuditLog row here, with no image bytes.
"""
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy import delete

from ..extensions import db
from ..models import AuditLog, CompanyLogo, HolidayClosure, OpeningShift
from .hours import HoursError, check_holiday, check_week, format_shifts, load_week, parse_shifts, weekday_name

CURRENCIES = ["SAR", "AED", "QAR", "KWD", "BHD", "OMR", "EGP", "JOD", "USD", "EUR", "GBP"]
MAX_LOGO_BYTES = 512 * 1024
COMPANY_FIELDS = ["name", "name_ar", "email", "phone", "address", "business_type", "timezone", "currency",
                  "default_language", "tax_rate", "tax_number", "preparation_minutes", "two_factor_required",
                  "assistant_enabled"]
ALERT_FIELDS = ["alert_pending_enabled", "alert_pending_minutes", "alert_integration_enabled",
                "alert_integration_minutes"]


class SettingsError(ValueError):
    """A setting that cannot be saved; the message is for the user."""


def check_time_zone(name):
    """Refuse a name zoneinfo does not know (e.g. 'Asia/Riyad'); raises SettingsError."""
    try:
        ZoneInfo(name or "")
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(_("“%(zone)s” is not a time zone; use a name such as Asia/Riyadh.",
                              zone=name or "")) from None


def logo_type(data):
    """The image type by its first bytes (PNG, JPEG or WebP), or None: the file name proves nothing."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_logo(data):
    """The content type of an acceptable logo; raises SettingsError for anything else."""
    if not data:
        raise SettingsError(_("The logo file is empty."))
    if len(data) > MAX_LOGO_BYTES:
        raise SettingsError(_("The logo is larger than 512 KB."))
    content_type = logo_type(data)
    if content_type is None:
        raise SettingsError(_("The logo must be a PNG, JPEG or WebP image."))
    return content_type


def update_company(company, values, user, logo_data=None, remove_logo=False):
    """Save the company's details (audited by the trigger) and its logo (audited here); commits.

    Everything is checked before anything changes, so a bad logo saves none of the other fields.
    """
    content_type = check_logo(logo_data) if logo_data is not None else None
    check_time_zone(values.get("timezone"))
    if not values.get("name"):
        raise SettingsError(_("The company needs a name."))
    for field in COMPANY_FIELDS:
        if field in values:
            value = values[field]
            setattr(company, field, value if value != "" else None)
    logo = db.session.get(CompanyLogo, company.id)
    if content_type:
        if logo is None:
            logo = CompanyLogo(company_id=company.id)
            db.session.add(logo)
        logo.content_type, logo.data = content_type, logo_data
        _audit(company, user, "LOGO_UPDATE", None, {"content_type": content_type, "bytes": len(logo_data)})
    elif remove_logo and logo is not None:
        db.session.delete(logo)
        _audit(company, user, "LOGO_DELETE", {"content_type": logo.content_type}, None)
    db.session.commit()


def update_alerts(company, values, user):
    """Turn the two alerts on or off and set their minutes (audited by the companies trigger); commits."""
    for field in ALERT_FIELDS:
        setattr(company, field, values[field])
    db.session.commit()


def _audit(company, user, operation, old, new, table="companies"):
    db.session.add(AuditLog(table_name=table, operation=operation, record_id=company.id, company_id=company.id,
                            user_id=user.id if user else None, old_values=old, new_values=new))


def _week_text(week):
    return {str(day): format_shifts(shifts) for day, shifts in week.items() if shifts}


def save_week(company, texts, user):
    """Replace the week's shifts from one text per weekday ('09:00-15:00, 18:00-02:00'); commits.

    Raises HoursError (nothing saved) for an unreadable shift, one that ends when it starts, or overlaps.
    """
    week = {}
    for day in range(7):
        try:
            week[day] = parse_shifts(texts.get(day, ""))
        except HoursError as error:
            raise HoursError(f"{weekday_name(day)}: {error}") from None
    check_week(week)
    old = _week_text(load_week(company.id))
    db.session.execute(delete(OpeningShift).where(OpeningShift.company_id == company.id))
    for day, shifts in week.items():
        for opens, closes in shifts:
            db.session.add(OpeningShift(company_id=company.id, weekday=day, opens_at=opens, closes_at=closes))
    new = _week_text(week)
    if old != new:
        _audit(company, user, "OPENING_HOURS_UPDATE", old, new, table="opening_hours")
    db.session.commit()


def add_holiday(company, starts_on, ends_on, note, user):
    """Add a closure (raises HoursError when it ends before it starts); commits."""
    check_holiday(starts_on, ends_on)
    holiday = HolidayClosure(company_id=company.id, starts_on=starts_on, ends_on=ends_on, note=note or "")
    db.session.add(holiday)
    db.session.flush()
    _audit(company, user, "HOLIDAY_ADD", None, {"id": str(holiday.id), "starts_on": starts_on.isoformat(),
                                                 "ends_on": ends_on.isoformat(), "note": holiday.note},
           table="holiday_closures")
    db.session.commit()
    return holiday


def delete_holiday(company, holiday, user):
    """Remove a closure; commits."""
    _audit(company, user, "HOLIDAY_DELETE", {"id": str(holiday.id), "starts_on": holiday.starts_on.isoformat(),
                                             "ends_on": holiday.ends_on.isoformat(), "note": holiday.note}, None,
           table="holiday_closures")
    db.session.delete(holiday)
    db.session.commit()
