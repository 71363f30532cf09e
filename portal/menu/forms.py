"""Menu forms. The rules live in services (MenuError names the field); these render and carry CSRF."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional


def strip(value):
    return value.strip() if isinstance(value, str) else value


class ProductForm(FlaskForm):
    local_product_id = StringField(_l("Product id (PLU)"), filters=[strip],
                                   description=_l("Your own code for the item; platforms send it back in orders."),
                                   render_kw={"dir": "ltr", "autocomplete": "off", "maxlength": 100})
    name = StringField(_l("Name (English)"), filters=[strip], render_kw={"maxlength": 300})
    name_ar = StringField(_l("Name (Arabic)"), filters=[strip],
                          render_kw={"dir": "rtl", "lang": "ar", "maxlength": 300})
    category = StringField(_l("Category"), filters=[strip], render_kw={"list": "categories", "maxlength": 100})
    price = StringField(_l("Price"), filters=[strip], render_kw={"inputmode": "decimal", "dir": "ltr"})
    sku = StringField(_l("SKU"), filters=[strip], render_kw={"dir": "ltr", "maxlength": 100})
    description = TextAreaField(_l("Description (English)"), filters=[strip], render_kw={"rows": 3})
    description_ar = TextAreaField(_l("Description (Arabic)"), filters=[strip],
                                   render_kw={"rows": 3, "dir": "rtl", "lang": "ar"})
    image_url = StringField(_l("Image address"), filters=[strip], render_kw={"dir": "ltr", "inputmode": "url"},
                            description=_l("An https:// link to a photo of the dish."))
    sort_order = IntegerField(_l("Position"), validators=[Optional()], render_kw={"min": 0})
    is_available = BooleanField(_l("On the menu"), default=True,
                                description=_l("Off: not offered anywhere until switched on again."))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), description=_l("UTF-8, with a header line: local_product_id, name, price, and "
                                                    "optionally sku, name_ar, description, description_ar, category, "
                                                    "image_url, is_available."))


class ConfirmImportForm(FlaskForm):
    text = HiddenField()


class SoldOutForm(FlaskForm):
    until = RadioField(_l("Sold out"), default="END_OF_DAY", choices=[
        ("END_OF_DAY", _l("Until end of day")), ("UNTIL_TIME", _l("Until a time")),
        ("INDEFINITE", _l("Until switched back on"))])
    until_time = StringField(_l("Time"), filters=[strip], render_kw={"type": "time", "dir": "ltr"})
    reason = StringField(_l("Note (optional)"), filters=[strip], render_kw={"maxlength": 200})


class SyncForm(FlaskForm):
    mode = SelectField(_l("What to send"), default="diff", choices=[
        ("diff", _l("Changes since the last sync")), ("full", _l("The whole menu"))])
