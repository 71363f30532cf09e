"""Menu pages: the catalog (products). The other menu pages live beside it on the same blueprint:
modifier_routes.py (modifier groups and options), csv_routes.py (CSV import/export), mapping_routes.py
(the mapping grid and waiting platform products), availability_routes.py (86, the board's panel, hours)
and sync_routes.py (sync and import runs)."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import roles_required
from ..extensions import db
from ..lookups import get_or_404
from ..models import Product, UserRole
from ..platforms import adapter_for
from ..web import page_number, page_or_fragment
from . import availability as avail
from . import bp, cells, mapping, services
from .forms import ProductForm
from .services import MenuError
from .web_helpers import active_product_or_404, availability_context


@bp.context_processor
def menu_helpers():
    """What the menu templates use beyond the app's filters."""
    return {"adapter_for": adapter_for, "group_problems": services.group_problems, "plain_amount": _plain_amount,
            "render_cell": cells.render}


def _plain_amount(amount):
    """An amount as typed in an input: digits in the company currency's precision ("28.00", "1.250")."""
    from babel.numbers import get_currency_precision
    from decimal import Decimal
    if amount is None:
        return ""
    return str(Decimal(amount).quantize(Decimal(1).scaleb(-get_currency_precision(g.company.currency))))


def _form_errors(form, error):
    """Show a MenuError next to its field (or as a message when no field of the form matches)."""
    if error.field and error.field in form:
        form[error.field].errors = list(form[error.field].errors or []) + [error.message]
    else:
        flash(error.message, "error")


# --------------------------------------------------------------------------- catalog

@bp.get("/")
@roles_required(UserRole.MANAGER)
def index():
    """The catalog: search, category filter, pages of 25; deleted products on their own tab."""
    q = (request.args.get("q") or "").strip()[:100]
    category = (request.args.get("category") or "").strip()[:100] or None
    deleted = request.args.get("deleted") == "1"
    page = services.catalog_page(q, category, page_number(), deleted=deleted)
    active, removed = services.product_counts()
    product_ids = [product.id for product in page.items]
    response = page_or_fragment(
        "menu/index.html", "menu/_products.html", page=page, q=q, category=category, deleted=deleted,
        categories=services.categories(), counts=(active, removed), windows=avail.open_windows(product_ids),
        groups=services.groups_of(product_ids))
    if request.htmx:
        response.headers["HX-Push-Url"] = url_for("menu.index", **{key: value for key, value in (
            ("q", q), ("category", category), ("deleted", "1" if deleted else None)) if value})
    return response


def _product_page(form, product=None, status=200):
    groups = services.groups_of([product.id]).get(product.id, []) if product else []
    mappings = services.mappings_of(product) if product else {}
    schedule = next((m.availability_schedule for m in mappings.values() if m.availability_schedule), None)
    context = {"form": form, "product": product, "groups": groups, "mappings": mappings,
               "categories": services.categories(), "schedule": schedule,
               "schedule_rules": (schedule or {}).get("rules", []), "day_labels": avail.DAY_LABELS,
               "integrations": mapping.enabled_integrations()}
    if product:
        context.update(availability_context([product]))
    return render_template("menu/product.html", **context), status


@bp.get("/products/new")
@roles_required(UserRole.MANAGER)
def new():
    """The form for a new product."""
    return _product_page(ProductForm())


@bp.post("/products/")
@roles_required(UserRole.MANAGER)
def create():
    """Add a product; errors next to the fields, nothing saved."""
    form = ProductForm()
    if not form.validate_on_submit():
        return _product_page(form, status=422)
    try:
        product = services.create_product(g.company, request.form.to_dict())
    except MenuError as error:
        db.session.rollback()
        _form_errors(form, error)
        return _product_page(form, status=422)
    db.session.commit()
    flash(_("%(name)s was added to the menu.", name=product.name), "success")
    return redirect(url_for("menu.edit", product_id=product.id))


@bp.get("/products/<product_id>")
@roles_required(UserRole.MANAGER)
def edit(product_id):
    """A product: its details, modifier groups, availability and how it stands on each platform."""
    product = active_product_or_404(product_id)
    form = ProductForm(obj=product)
    form.price.data = _plain_amount(product.price)
    return _product_page(form, product)


@bp.post("/products/<product_id>")
@roles_required(UserRole.MANAGER)
def update(product_id):
    """Save a product's details."""
    product = active_product_or_404(product_id)
    form = ProductForm()
    if not form.validate_on_submit():
        return _product_page(form, product, status=422)
    data = request.form.to_dict()
    data["is_available"] = "1" if form.is_available.data else "0"
    was_available = product.is_available
    try:
        services.update_product(g.company, product, data)
        if was_available != product.is_available:
            avail.reconcile(g.company, [product.id], source="SWITCH", user_id=current_user.id)
    except MenuError as error:
        db.session.rollback()
        _form_errors(form, error)
        return _product_page(form, product, status=422)
    db.session.commit()
    flash(_("Saved. Sync the menu to send the change to the platforms."), "success")
    return redirect(url_for("menu.edit", product_id=product.id))


@bp.post("/products/<product_id>/delete")
@roles_required(UserRole.MANAGER)
def delete(product_id):
    """Take a product off the menu (it can be restored)."""
    product = active_product_or_404(product_id)
    services.delete_product(product, current_user)
    db.session.commit()
    flash(_("%(name)s was removed from the menu. A full sync takes it off the platforms.", name=product.name),
          "success")
    return redirect(url_for("menu.index"))


@bp.post("/products/<product_id>/restore")
@roles_required(UserRole.MANAGER)
def restore(product_id):
    """Bring a deleted product back."""
    product = get_or_404(Product, product_id, hidden=lambda row: row.deleted_at is None)
    services.restore_product(product)
    db.session.commit()
    flash(_("%(name)s is back on the menu.", name=product.name), "success")
    return redirect(url_for("menu.edit", product_id=product.id))
