"""Sign-in and language forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, Email, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=255)],
                       filters=[lambda value: value.strip() if isinstance(value, str) else value])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class LanguageForm(FlaskForm):
    locale = SelectField(choices=[("en", "English"), ("ar", "العربية")])
    next = HiddenField()


class EmptyForm(FlaskForm):
    """A button-only POST (sign out, deactivate…): just the CSRF token."""
