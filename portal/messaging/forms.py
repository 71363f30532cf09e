"""Forms of the Messages pages: the WhatsApp connection and its test message, templates, notification rules,
and the filters of the message list."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..i18n import LANGUAGE_LABELS, NOTIFICATION_EVENT_LABELS, TEMPLATE_CATEGORY_LABELS, TEMPLATE_STATUS_LABELS
from .events import NotificationEvent
from .manage import TEMPLATE_STATUSES
from .templates import CATEGORIES, LANGUAGES, MAX_BODY

LTR = {"dir": "ltr", "autocomplete": "off", "spellcheck": "false"}
SECRET = {"dir": "ltr", "autocomplete": "new-password", "spellcheck": "false"}


class ConnectionForm(FlaskForm):
    """The company's WhatsApp Business number and the secrets Meta gave for it (never shown back)."""

    phone_number_id = StringField(_l("Phone number ID"), validators=[DataRequired(), Length(max=64)],
                                  render_kw={**LTR, "inputmode": "numeric"},
                                  description=_l("In Meta's WhatsApp Manager, under API setup: digits only."))
    display_phone = StringField(_l("WhatsApp number"), validators=[Optional(), Length(max=32)],
                                render_kw={**LTR, "inputmode": "tel"},
                                description=_l("The number customers see, e.g. +966 50 123 4567."))
    # PasswordField never renders a value back, not even what was just typed.
    access_token = PasswordField(_l("Access token"), validators=[Optional(), Length(max=2000)], render_kw=SECRET)
    app_secret = PasswordField(_l("App secret"), validators=[Optional(), Length(max=500)], render_kw=SECRET)
    verify_token = PasswordField(_l("Verify token"), validators=[Optional(), Length(max=500)], render_kw=SECRET)
    base_url = StringField(_l("API address"), validators=[Optional(), Length(max=500)], render_kw=LTR,
                           description=_l("Leave empty for Meta's Graph API (https://graph.facebook.com/v23.0)."))
    is_enabled = BooleanField(_l("On: send customers their WhatsApp messages"), default=True)


class TestMessageForm(FlaskForm):
    """A test message from the connection page: an approved template, or text within the 24-hour window."""

    phone = StringField(_l("Send to"), validators=[DataRequired(_l("Enter the phone number to send to.")),
                                                   Length(max=40)],
                        render_kw={**LTR, "inputmode": "tel"}, description=_l("Any format: +966 5…, 05…, 9665…"))
    template_id = SelectField(_l("Approved template"), choices=[], validate_choice=False)
    text = TextAreaField(_l("Or free text"), validators=[Optional(), Length(max=4096)], render_kw={"rows": 3},
                         description=_l("Free text reaches only a customer who wrote to you in the last 24 hours."))

    def set_templates(self, templates):
        self.template_id.choices = [("", _l("— Free text —"))] + [
            (str(template.id), f"{template.name} ({LANGUAGE_LABELS.get(template.language, template.language)})")
            for template in templates]


class TemplateForm(FlaskForm):
    """A message template as Meta reviewed it: name, language, category, body, and the status Meta reported."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)], render_kw=LTR,
                       description=_l("The name in Meta's WhatsApp Manager: lowercase letters, digits and _."))
    language = SelectField(_l("Language"), choices=[(code, LANGUAGE_LABELS[code]) for code in LANGUAGES],
                           default="ar")
    category = SelectField(_l("Category"), choices=[(code, TEMPLATE_CATEGORY_LABELS[code]) for code in CATEGORIES],
                           default="UTILITY", description=_l("Order updates are utility; anything promotional is "
                                                             "marketing."))
    body = TextAreaField(_l("Message"), validators=[Length(max=MAX_BODY * 2)], render_kw={"rows": 6, "dir": "auto"},
                         description=_l("Variables are written {{customer_name}}; the preview shows them filled."))
    status = SelectField(_l("Status at Meta"), choices=[(code, TEMPLATE_STATUS_LABELS[code])
                                                        for code in TEMPLATE_STATUSES], default="PENDING",
                         description=_l("What Meta reported after its review: only approved templates are sent."))
    rejection_reason = StringField(_l("Reason Meta gave"), validators=[Optional(), Length(max=500)],
                                   description=_l("For a rejected or paused template, e.g. INVALID_FORMAT."))


def notification_form(names, rules):
    """One template choice and one on/off box per event; a name no longer among the templates stays offered."""
    fields = {}
    for event in NotificationEvent:
        rule = rules.get(str(event))
        choices = [("", _l("Don't send"))] + [(name, name) for name in names]
        if rule is not None and rule.template_name not in names:
            choices.append((rule.template_name, rule.template_name))
        fields[f"template_{event}"] = SelectField(NOTIFICATION_EVENT_LABELS[str(event)], choices=choices,
                                                  default=rule.template_name if rule else "")
        fields[f"enabled_{event}"] = BooleanField(_l("On"), default=rule.is_enabled if rule else True)
    form_class = type("NotificationForm", (FlaskForm,), fields)
    form = form_class()

    def rows():
        return [(str(event), form[f"template_{event}"], form[f"enabled_{event}"]) for event in NotificationEvent]
    form.rows = rows
    return form
