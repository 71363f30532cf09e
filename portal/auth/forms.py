"""Sign-in and language forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=255)],
                       filters=[lambda value: value.strip() if isinstance(value, str) else value])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class TwoFactorForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("The 6-digit code your app shows now, or one of your recovery codes."),
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off",
                                  "spellcheck": "false", "dir": "ltr"})


class LanguageForm(FlaskForm):
    locale = SelectField(choices=[("en", "English"), ("ar", "العربية")])
    next = HiddenField()


class EmptyForm(FlaskForm):
    """A button-only POST (sign out, deactivate…): just the CSRF token."""
