"""The Settings forms: company details, opening hours, a holiday, alerts."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, DecimalField, EmailField, IntegerField, SelectField, StringField, \
    TextAreaField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, ValidationError

from .services import CURRENCIES, check_time_zone, SettingsError


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _time_zone(form, field):
    try:
        check_time_zone(field.data)
    except SettingsError as error:
        raise ValidationError(str(error)) from None


class CompanyForm(FlaskForm):
    """The company's details as customers and tickets show them."""

    name = StringField(_l("Name (English)"), filters=[_strip], validators=[InputRequired(), Length(max=255)])
    name_ar = StringField(_l("Name (Arabic)"), filters=[_strip], validators=[Optional(), Length(max=255)])
    email = EmailField(_l("Contact e-mail"), filters=[_strip], validators=[Optional(), Email(), Length(max=255)])
    phone = StringField(_l("Contact phone"), filters=[_strip], validators=[Optional(), Length(max=50)])
    address = TextAreaField(_l("Address"), filters=[_strip], validators=[Optional(), Length(max=500)])
    business_type = StringField(_l("Business type"), filters=[_strip], validators=[Optional(), Length(max=100)],
                                description=_l("For example: restaurant, café, bakery, cloud kitchen."))
    timezone = StringField(_l("Time zone"), filters=[_strip], validators=[InputRequired(), _time_zone],
                           description=_l("For example Asia/Riyadh, Asia/Dubai or Europe/London."))
    currency = SelectField(_l("Currency"), choices=[(code, code) for code in CURRENCIES])
    default_language = SelectField(_l("Default language"), choices=[("en", "English"), ("ar", "العربية")],
                                   description=_l("For new users and the sign-in page."))
    tax_rate = DecimalField(_l("Tax rate (%)"), places=2, validators=[Optional(), NumberRange(min=0, max=100)])
    tax_number = StringField(_l("Tax number"), filters=[_strip], validators=[Optional(), Length(max=50)],
                             description=_l("Printed on the kitchen ticket."))
    preparation_minutes = IntegerField(_l("Default preparation time (minutes)"),
                                       validators=[InputRequired(), NumberRange(min=1, max=180)])
    two_factor_required = BooleanField(_l("Require two-step sign-in for company admins"),
                                       description=_l("Admins without it set it up at their next page."))
    assistant_enabled = BooleanField(_l("The assistant answers customers"),
                                     description=_l("Off: every message from the web chat and WhatsApp waits in the "
                                                    "Inbox for a person."))
    logo = FileField(_l("Logo"), description=_l("PNG, JPEG or WebP, at most 512 KB."))
    remove_logo = BooleanField(_l("Remove the logo"))


class HoursForm(FlaskForm):
    """One line of shifts per weekday (0 = Monday); the fields are added below."""


for _day, _label in enumerate([_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
                               _l("Saturday"), _l("Sunday")]):
    setattr(HoursForm, f"day_{_day}", StringField(_label, filters=[_strip], validators=[Length(max=200)]))


class HolidayForm(FlaskForm):
    """A closure: from the first to the last day, with a note."""

    starts_on = DateField(_l("First day"), validators=[InputRequired()])
    ends_on = DateField(_l("Last day"), validators=[InputRequired()])
    note = StringField(_l("Note"), filters=[_strip], validators=[Optional(), Length(max=200)])


class AlertsForm(FlaskForm):
    """When to e-mail the managers."""

    pending_enabled = BooleanField(_l("E-mail the managers when an order waits unaccepted"))
    pending_minutes = IntegerField(_l("Minutes an order may wait"), validators=[InputRequired(),
                                                                              NumberRange(min=1, max=1440)])
    integration_enabled = BooleanField(_l("E-mail the managers when an integration is silent or failing"))
    integration_minutes = IntegerField(_l("Minutes without a successful exchange"),
                                       validators=[InputRequired(), NumberRange(min=1, max=1440)])
