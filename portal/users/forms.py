"""Forms of the Users page."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

ROLE_CHOICES = [("USER", _l("Staff")), ("MANAGER", _l("Manager")), ("COMPANY_ADMIN", _l("Company admin"))]


class UserForm(FlaskForm):
    """Create a user, or edit one (password optional when editing)."""

    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=255)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="USER")
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=8, max=200)],
                             description=_l("At least 8 characters."))

    def __init__(self, *args, creating=False, **kwargs):
        super().__init__(*args, **kwargs)
        if creating:
            self.password.validators = [DataRequired(), Length(min=8, max=200)]
        else:
            self.password.description = _l("Leave empty to keep the current password.")
