"""Forms of the account pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=255)],
                       filters=[lambda value: value.strip() if isinstance(value, str) else value])


class SetPasswordForm(FlaskForm):
    """A new password, typed twice (reset and invitation links)."""

    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)],
                             description=_l("At least 8 characters."), render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})
