"""Forms of the operator pages."""
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..i18n import SUBSCRIPTION_LABELS

GULF_TIMEZONES = ["Asia/Riyadh", "Asia/Dubai", "Asia/Kuwait", "Asia/Qatar", "Asia/Bahrain", "Asia/Muscat"]
CURRENCIES = [("SAR", "SAR"), ("AED", "AED"), ("KWD", "KWD"), ("QAR", "QAR"), ("BHD", "BHD"), ("OMR", "OMR")]
COUNTRIES = [("SA", _l("Saudi Arabia")), ("AE", _l("United Arab Emirates")), ("KW", _l("Kuwait")),
             ("QA", _l("Qatar")), ("BH", _l("Bahrain")), ("OM", _l("Oman"))]


class CompanyForm(FlaskForm):
    """A new restaurant company with its first company admin, who is invited by e-mail."""

    name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=255)])
    name_ar = StringField(_l("Name in Arabic"), validators=[Length(max=255)])
    timezone = SelectField(_l("Time zone"), choices=[(zone, zone) for zone in GULF_TIMEZONES])
    currency = SelectField(_l("Currency"), choices=CURRENCIES)
    country_code = SelectField(_l("Country"), choices=COUNTRIES)
    admin_email = EmailField(_l("Admin e-mail"), validators=[DataRequired(), Email(), Length(max=255)])
    admin_first_name = StringField(_l("Admin first name"), validators=[DataRequired(), Length(max=100)])
    admin_last_name = StringField(_l("Admin last name"), validators=[DataRequired(), Length(max=100)])

    def validate_timezone(self, field):
        if field.data not in available_timezones():
            raise ValidationError(_l("Unknown time zone."))


class CompanyDetailsForm(FlaskForm):
    """What an operator edits on a company's page (its admins edit the rest in Company settings)."""

    name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=255)])
    name_ar = StringField(_l("Name in Arabic"), validators=[Length(max=255)])
    email = EmailField(_l("Contact e-mail"), validators=[Optional(), Email(), Length(max=255)])
    subscription_status = SelectField(_l("Subscription"), choices=list(SUBSCRIPTION_LABELS.items()))


class DeleteCompanyForm(FlaskForm):
    confirm_name = StringField(_l("Type the company's name to confirm"), validators=[DataRequired(), Length(max=255)])
