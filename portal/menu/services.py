"""The catalog: products with their modifier groups and options, and the rules they keep.

Routes, the CSV import and the tests all change the catalog through these functions. They check
what a person can get wrong (ids, prices in the currency's precision, min/max choices) and raise
MenuError with a message for that person and the field it concerns; nothing is written then.
"""
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import urlsplit

from babel.numbers import get_currency_precision
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import MenuMapping, ModifierGroup, ModifierOption, Product, SoldOut

PAGE_SIZE = 25
MAX_PRICE = Decimal("99999999")
PRODUCT_FIELDS = ("local_product_id", "sku", "name", "name_ar", "description", "description_ar", "category",
                  "price", "image_url", "is_available", "sort_order")
LIMITS = {"local_product_id": 100, "sku": 100, "name": 300, "name_ar": 300, "category": 100, "image_url": 1000,
          "description": 5000, "description_ar": 5000}


class MenuError(ValueError):
    """A change the menu rules refuse; `field` names the form field it concerns (or None)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


def utcnow():
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- values

def clean_text(value, field, required=False, label=None):
    """A trimmed string (None when empty), refused when too long or required and missing."""
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if not text:
        if required:
            raise MenuError(_("%(field)s is required.", field=label or field), field)
        return None
    limit = LIMITS.get(field)
    if limit and len(text) > limit:
        raise MenuError(_("%(field)s can be at most %(limit)s characters.", field=label or field, limit=limit), field)
    return text


def clean_money(value, currency, field="price", required=True, allow_negative=False, label=None):
    """A price typed by a person ("12.5", "12,50", "١٢٫٥") as a Decimal in the currency's precision."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise MenuError(_("Enter a price."), field)
        return None
    if isinstance(value, Decimal):
        amount = value
    else:
        text = str(value).strip().translate(ARABIC_DIGITS).replace("\u066b", ".").replace(" ", "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise MenuError(_("“%(value)s” is not an amount. Use digits, e.g. 12.50.", value=str(value)[:40]),
                            field) from None
    if not amount.is_finite():
        raise MenuError(_("“%(value)s” is not an amount. Use digits, e.g. 12.50.", value=str(value)[:40]), field)
    places = get_currency_precision(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):
        raise MenuError(_("%(currency)s amounts have at most %(places)s decimals.", currency=currency, places=places),
                        field)
    if amount < 0 and not allow_negative:
        raise MenuError(_("A price cannot be negative."), field)
    if abs(amount) > MAX_PRICE:
        raise MenuError(_("That amount is too large."), field)
    return amount.quantize(Decimal(1).scaleb(-places))


ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def clean_local_id(value, field="local_product_id"):
    """Our product id (PLU): letters, digits and - _ . / only, so every platform accepts it."""
    text = clean_text(value, field, required=True, label=_("Product id"))
    if any(ch.isspace() for ch in text) or not all(ch.isalnum() or ch in "-_./" for ch in text):
        raise MenuError(_("A product id may use letters, digits and - _ . / only (no spaces)."), field)
    return text


def clean_url(value, field="image_url"):
    text = clean_text(value, field)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise MenuError(_("The image address must start with https:// (or http://)."), field)
    return text


def clean_int(value, field, low, high, label):
    try:
        number = int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise MenuError(_("%(field)s must be a whole number from %(low)s to %(high)s.", field=label, low=low,
                          high=high), field)
    return number


# --------------------------------------------------------------------------- products

def product_query(q=None, category=None, deleted=False):
    """The products of the tenant (RLS), newest sort order first, filtered by search and category."""
    query = select(Product).where(Product.deleted_at.is_not(None) if deleted else Product.deleted_at.is_(None))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Product.name.ilike(pattern), Product.name_ar.ilike(pattern),
                                Product.local_product_id.ilike(pattern), Product.sku.ilike(pattern)))
    if category:
        query = query.where(Product.category == category) if category != "-" else query.where(
            Product.category.is_(None))
    return query.order_by(Product.category.nulls_last(), Product.sort_order, Product.name, Product.id)


def catalog_page(q=None, category=None, page=1, deleted=False, per_page=PAGE_SIZE):
    """One page of the catalog (Flask-SQLAlchemy Pagination)."""
    return db.paginate(product_query(q, category, deleted), page=page, per_page=per_page, error_out=False)


def categories():
    """The categories in use, alphabetically."""
    return list(db.session.scalars(select(Product.category).where(Product.deleted_at.is_(None),
                                                                 Product.category.is_not(None))
                                   .group_by(Product.category).order_by(Product.category)))


def product_counts():
    """(products, deleted products) of the tenant."""
    row = db.session.execute(select(func.count().filter(Product.deleted_at.is_(None)),
                                    func.count().filter(Product.deleted_at.is_not(None)))).one()
    return row[0], row[1]


def clean_product(data, currency, existing=None):
    """The validated columns of a product from form or CSV values (strings); raises MenuError."""
    values = {
        "local_product_id": clean_local_id(data.get("local_product_id")),
        "sku": clean_text(data.get("sku"), "sku"),
        "name": clean_text(data.get("name"), "name", required=True, label=_("Name")),
        "name_ar": clean_text(data.get("name_ar"), "name_ar"),
        "description": clean_text(data.get("description"), "description"),
        "description_ar": clean_text(data.get("description_ar"), "description_ar"),
        "category": clean_text(data.get("category"), "category"),
        "price": clean_money(data.get("price"), currency),
        "image_url": clean_url(data.get("image_url")),
        "is_available": _boolean(data.get("is_available", True)),
    }
    if data.get("sort_order") not in (None, ""):
        values["sort_order"] = clean_int(data.get("sort_order"), "sort_order", 0, 100000, _("Position"))
    taken = db.session.scalar(select(Product).where(Product.local_product_id == values["local_product_id"]))
    if taken is not None and (existing is None or taken.id != existing.id):
        if taken.deleted_at is not None:
            raise MenuError(_("Product id %(id)s belongs to a deleted product. Restore it instead.",
                              id=values["local_product_id"]), "local_product_id")
        raise MenuError(_("Product id %(id)s is already used by “%(name)s”.", id=values["local_product_id"],
                          name=taken.name), "local_product_id")
    return values


def _boolean(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "y", "on", "نعم", "available")


def create_product(company, data):
    """Add a product to the catalog; returns it (flushed, not committed)."""
    values = clean_product(data, company.currency)
    if "sort_order" not in values:
        values["sort_order"] = (db.session.scalar(select(func.max(Product.sort_order))) or 0) + 1
    product = Product(company_id=company.id, **values)
    db.session.add(product)
    db.session.flush()
    return product


def update_product(company, product, data):
    """Change a product; mappings that inherit its price follow (database trigger)."""
    values = clean_product(data, company.currency, existing=product)
    for key, value in values.items():
        setattr(product, key, value)
    db.session.flush()
    return product


def delete_product(product, user=None):
    """Soft-delete: the product leaves the catalog, the grid and the next syncs; its 86 ends."""
    now = utcnow()
    product.deleted_at = now
    for window in db.session.scalars(select(SoldOut).where(SoldOut.product_id == product.id,
                                                          SoldOut.ended_at.is_(None))):
        window.ended_at, window.end_reason, window.ended_by = now, "MANUAL", getattr(user, "id", None)
    db.session.flush()


def restore_product(product):
    product.deleted_at = None
    db.session.flush()


def mappings_of(product):
    """The product's mappings, by integration id."""
    return {mapping.integration_config_id: mapping for mapping in db.session.scalars(
        select(MenuMapping).where(MenuMapping.local_product_id == product.local_product_id))}


# --------------------------------------------------------------------------- modifiers

def groups_of(product_ids):
    """{product id: [(group, [options])]} in their order, for one or many products (two queries)."""
    ids = list(product_ids)
    if not ids:
        return {}
    groups = db.session.scalars(select(ModifierGroup).where(ModifierGroup.product_id.in_(ids))
                                .order_by(ModifierGroup.sort_order, ModifierGroup.name)).all()
    options = {}
    if groups:
        for option in db.session.scalars(select(ModifierOption).where(
                ModifierOption.group_id.in_([group.id for group in groups]))
                .order_by(ModifierOption.sort_order, ModifierOption.name)):
            options.setdefault(option.group_id, []).append(option)
    result = {}
    for group in groups:
        result.setdefault(group.product_id, []).append((group, options.get(group.id, [])))
    return result


def clean_group(data, product, existing=None):
    name = clean_text(data.get("name"), "name", required=True, label=_("Group name"))
    if len(name) > 200:
        raise MenuError(_("%(field)s can be at most %(limit)s characters.", field=_("Group name"), limit=200), "name")
    minimum = clean_int(data.get("min_choices", 0), "min_choices", 0, 50, _("Minimum choices"))
    maximum = clean_int(data.get("max_choices", 1), "max_choices", 1, 50, _("Maximum choices"))
    if maximum < minimum:
        raise MenuError(_("The maximum cannot be below the minimum (%(min)s).", min=minimum), "max_choices")
    taken = db.session.scalar(select(ModifierGroup).where(ModifierGroup.product_id == product.id,
                                                         func.lower(ModifierGroup.name) == name.lower()))
    if taken is not None and (existing is None or taken.id != existing.id):
        raise MenuError(_("This product already has a group called “%(name)s”.", name=name), "name")
    return {"name": name, "name_ar": clean_text(data.get("name_ar"), "name_ar"), "min_choices": minimum,
            "max_choices": maximum}


def add_group(product, data):
    values = clean_group(data, product)
    position = (db.session.scalar(select(func.max(ModifierGroup.sort_order))
                                  .where(ModifierGroup.product_id == product.id)) or 0) + 1
    group = ModifierGroup(company_id=product.company_id, product_id=product.id, sort_order=position, **values)
    db.session.add(group)
    db.session.flush()
    return group


def update_group(product, group, data):
    for key, value in clean_group(data, product, existing=group).items():
        setattr(group, key, value)
    db.session.flush()
    return group


def clean_option(data, group, currency, existing=None):
    name = clean_text(data.get("name"), "name", required=True, label=_("Option name"))
    if len(name) > 200:
        raise MenuError(_("%(field)s can be at most %(limit)s characters.", field=_("Option name"), limit=200), "name")
    taken = db.session.scalar(select(ModifierOption).where(ModifierOption.group_id == group.id,
                                                          func.lower(ModifierOption.name) == name.lower()))
    if taken is not None and (existing is None or taken.id != existing.id):
        raise MenuError(_("This group already has an option called “%(name)s”.", name=name), "name")
    local_id = data.get("local_option_id")
    return {"name": name, "name_ar": clean_text(data.get("name_ar"), "name_ar"),
            "local_option_id": clean_local_id(local_id, "local_option_id") if (local_id or "").strip() else None,
            "price_delta": clean_money(data.get("price_delta") or "0", currency, "price_delta", allow_negative=True),
            "is_available": _boolean(data.get("is_available", True))}


def add_option(company, group, data):
    values = clean_option(data, group, company.currency)
    position = (db.session.scalar(select(func.max(ModifierOption.sort_order))
                                  .where(ModifierOption.group_id == group.id)) or 0) + 1
    option = ModifierOption(company_id=group.company_id, group_id=group.id, sort_order=position, **values)
    db.session.add(option)
    db.session.flush()
    return option


def group_problems(group, options):
    """What a platform would refuse about a group (Careem's rules: min ≤ max ≤ available options)."""
    available = [option for option in options if option.is_available]
    if not options:
        return [_("“%(group)s” has no options.", group=group.name)]
    problems = []
    if group.min_choices > len(available):
        problems.append(_("“%(group)s” asks for at least %(min)s choices but has %(count)s available options.",
                          group=group.name, min=group.min_choices, count=len(available)))
    if group.max_choices > len(options):
        problems.append(_("“%(group)s” allows %(max)s choices but has only %(count)s options.",
                          group=group.name, max=group.max_choices, count=len(options)))
    return problems
