"""The per-platform connection form: the adapter's credential fields, then the settings every platform shares."""
from babel.numbers import get_currency_precision
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import NumberInput

from .services import (DEFAULT_PREPARATION_MINUTES, SECRET_FIELDS, IntegrationError, MissingWebhookSecret,
                       clean_base_url, clean_commission_rate, clean_max_total, clean_preparation_minutes)

REQUIRED_TO_ENABLE = _l("Required to turn this connection on.")


def _rule(clean):
    """A WTForms validator made of a service rule, so the page and the CLI refuse the same values."""
    def validate(form, field):
        try:
            clean(field.data)
        except IntegrationError as error:
            raise ValidationError(str(error)) from None
    return validate


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class IntegrationForm(FlaskForm):
    """Settings every platform shares; integration_form() adds the platform's own credential fields."""

    is_enabled = BooleanField(_l("Receive orders from this platform"))
    commission_rate = StringField(_l("Commission rate (%)"), default="0",
                                  widget=NumberInput(step="0.01", min=0, max=100),
                                  validators=[_rule(clean_commission_rate)], filters=[_strip],
                                  description=_l("What the platform keeps of each order, for your reports."))
    base_url = StringField(_l("Platform API address"), filters=[_strip],
                           validators=[Length(max=500), _rule(clean_base_url)],
                           description=_l("The platform's base URL for status and menu calls, "
                                          "starting with https://."))
    auto_accept_enabled = BooleanField(_l("Accept new orders automatically"))
    preparation_minutes = StringField(_l("Preparation time (minutes)"), default=str(DEFAULT_PREPARATION_MINUTES),
                                      widget=NumberInput(step="1", min=5, max=120), filters=[_strip],
                                      description=_l("Sent to the platform with each accepted order: 5 to 120."))
    max_total = StringField(_l("Only up to this order total"), filters=[_strip],
                            description=_l("Leave empty to accept every order automatically."))

    def credential_rows(self):
        """(field, required, is_secret) for the platform's credential fields, in the adapter's order."""
        return [(self[name], required, name in SECRET_FIELDS)
                for name, _label, required in self.adapter.credential_fields]

    def validate_preparation_minutes(self, field):
        try:
            clean_preparation_minutes(field.data, self.auto_accept_enabled.data)
        except IntegrationError as error:
            raise ValidationError(str(error)) from None

    def validate_max_total(self, field):
        try:
            clean_max_total(self.company, field.data)
        except IntegrationError as error:
            raise ValidationError(str(error)) from None

    def validate(self, extra_validators=None):
        """Field rules, then: turning the connection on needs every required credential, typed or stored,
        and a webhook secret (save_integration checks the same)."""
        valid = super().validate(extra_validators)
        if self.is_enabled.data:
            for field, required, _secret in self.credential_rows():
                stored = self.integration is not None and getattr(self.integration, field.name)
                if required and not field.data and not stored and not field.errors:
                    field.errors.append(REQUIRED_TO_ENABLE)
                    valid = False
            if not (self.integration is not None and self.integration.webhook_secret):
                self.is_enabled.errors = [*self.is_enabled.errors, str(MissingWebhookSecret(self.adapter.platform))]
                valid = False
        return valid

    def settings(self):
        """What save_integration sets: everything but the secrets."""
        values = {"is_enabled": self.is_enabled.data, "commission_rate": self.commission_rate.data,
                  "base_url": self.base_url.data,
                  "auto_accept": {"enabled": self.auto_accept_enabled.data,
                                  "preparation_minutes": self.preparation_minutes.data,
                                  "max_total": self.max_total.data}}
        for field, _required, secret in self.credential_rows():
            if not secret:
                values[field.name] = field.data
        return values

    def new_secrets(self):
        """The secrets typed to replace the stored ones; an empty field keeps what is stored."""
        return {field.name: field.data for field, _required, secret in self.credential_rows()
                if secret and field.data}


def integration_form(adapter, company, integration=None, **kwargs):
    """The form for `adapter`'s platform: its credential fields (labels from the adapter) plus the shared ones."""
    fields = {}
    for name, label, _required in adapter.credential_fields:
        if name in SECRET_FIELDS:
            # PasswordField never renders a value back, not even what was just typed.
            fields[name] = PasswordField(label, validators=[Optional(), Length(max=500)])
        else:
            fields[name] = StringField(label, validators=[Optional(), Length(max=100)], filters=[_strip])
    form_class = type(f"{adapter.platform.value.title()}Form", (IntegrationForm,), fields)
    form = form_class(**kwargs)
    form.adapter, form.company, form.integration = adapter, company, integration
    places = get_currency_precision(company.currency)
    form.max_total.widget = NumberInput(step=f"{1 / 10 ** places:.{places}f}", min=0)
    form.max_total.currency = company.currency
    return form


def initial_data(adapter, integration):
    """The form's values for a stored connection (secrets are never among them)."""
    if integration is None:
        return {}
    rules = integration.auto_accept or {}
    data = {"is_enabled": integration.is_enabled, "commission_rate": f"{integration.commission_rate:.2f}",
            "base_url": integration.base_url or "", "auto_accept_enabled": bool(rules.get("enabled")),
            "preparation_minutes": str(rules.get("preparation_minutes") or DEFAULT_PREPARATION_MINUTES),
            "max_total": rules.get("max_total") or ""}
    for name, _label, _required in adapter.credential_fields:
        if name not in SECRET_FIELDS:
            data[name] = getattr(integration, name) or ""
    return data
