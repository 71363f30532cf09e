"""Forms of the Users page."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

ROLE_CHOICES = [("USER", _l("Staff")), ("MANAGER", _l("Manager")), ("COMPANY_ADMIN", _l("Company admin"))]


class UserForm(FlaskForm):
    """Invite a user, or edit one. Nobody types a colleague's password: invitations and reset links do."""

    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=255)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="USER")
