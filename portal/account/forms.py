"""Forms of the account pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=255)],
                       filters=[_strip])


class SetPasswordForm(FlaskForm):
    """A new password, typed twice (reset and invitation links)."""

    password = PasswordField(_l("New password"),
                             validators=[DataRequired(),
                                         Length(min=8, max=200, message=_l("Use 8 to 200 characters."))],
                             description=_l("At least 8 characters."), render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class ProfileForm(FlaskForm):
    """What a person may change about themselves (the e-mail and role are the admin's)."""

    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)], filters=[_strip])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)], filters=[_strip])
    locale = SelectField(_l("Language"), choices=[("en", "English"), ("ar", "العربية")])


class ChangePasswordForm(SetPasswordForm):
    """The current password first: a session left open on a shared tablet cannot take the account."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})

    def validate_password(self, field):
        if field.data and field.data == self.current_password.data:
            raise ValidationError(_l("Choose a password different from the current one."))


class ConfirmCodeForm(FlaskForm):
    """The first code from the authenticator app proves it was set up right."""

    code = StringField(_l("Code from the app"), validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "dir": "ltr"})


class CurrentPasswordForm(FlaskForm):
    """Turning two-step sign-in off, or making new recovery codes, asks for the password again."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
