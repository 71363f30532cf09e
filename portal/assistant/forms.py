"""Forms of the web chat and the Inbox: a customer's message and a staff reply (at most 2000 characters)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from .services import MAX_MESSAGE


class ChatForm(FlaskForm):
    """What a customer writes in the web chat."""

    text = TextAreaField(_l("Your message"), validators=[
        DataRequired(_l("Write your message first.")),
        Length(max=MAX_MESSAGE, message=_l("Your message is too long: at most %(max)d characters, please."))],
        render_kw={"rows": 1, "dir": "auto", "maxlength": MAX_MESSAGE, "autocomplete": "off"})


class ReplyForm(FlaskForm):
    """A staff member's answer to a conversation."""

    text = TextAreaField(_l("Reply"), validators=[
        DataRequired(_l("Write the reply.")),
        Length(max=MAX_MESSAGE, message=_l("The reply is too long: at most %(max)d characters."))],
        render_kw={"rows": 3, "dir": "auto", "maxlength": MAX_MESSAGE})
