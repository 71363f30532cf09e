"""Menu pages: catalog, CSV import/export, mapping grid, availability (86), sync runs, the board's 86 panel."""
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, g, make_response, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from flask_login import current_user

from ..auth.decorators import roles_required
from ..auth.forms import EmptyForm
from ..extensions import db
from ..lookups import get_or_404
from ..models import IntegrationConfig, MenuSyncRun, ModifierGroup, ModifierOption, PlatformProduct, Product, UserRole
from ..platforms import adapter_for
from ..web import page_number, page_or_fragment, redirect_back
from . import availability as avail
from . import bp, cells, csv_io, mapping, services, sync
from .forms import ConfirmImportForm, ImportForm, ProductForm, SoldOutForm, SyncForm
from .services import MenuError


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


def _active_product(product_id):
    return get_or_404(Product, product_id, hidden=lambda product: product.deleted_at is not None)


def _back(default):
    return redirect_back(request.form.get("next"), default)


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
        context.update(_availability_context([product]))
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
    product = _active_product(product_id)
    form = ProductForm(obj=product)
    form.price.data = _plain_amount(product.price)
    return _product_page(form, product)


@bp.post("/products/<product_id>")
@roles_required(UserRole.MANAGER)
def update(product_id):
    """Save a product's details."""
    product = _active_product(product_id)
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
    product = _active_product(product_id)
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


# --------------------------------------------------------------------------- modifiers

def _group_of(group_id):
    group = get_or_404(ModifierGroup, group_id)
    return group, _active_product(group.product_id)


@bp.post("/products/<product_id>/groups")
@roles_required(UserRole.MANAGER)
def add_group(product_id):
    """Add a modifier group (e.g. "Size: choose 1")."""
    product = _active_product(product_id)
    try:
        group = services.add_group(product, request.form)
    except MenuError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("menu.edit", product_id=product.id, _anchor="modifiers"))
    db.session.commit()
    flash(_("Group “%(name)s” added. Now add its options.", name=group.name), "success")
    return redirect(url_for("menu.edit", product_id=product.id, _anchor=f"group-{group.id}"))


@bp.post("/groups/<group_id>")
@roles_required(UserRole.MANAGER)
def update_group(group_id):
    """Rename a group or change how many choices it takes."""
    group, product = _group_of(group_id)
    try:
        services.update_group(product, group, request.form)
    except MenuError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Group “%(name)s” saved.", name=group.name), "success")
    return redirect(url_for("menu.edit", product_id=product.id, _anchor=f"group-{group.id}"))


@bp.post("/groups/<group_id>/delete")
@roles_required(UserRole.MANAGER)
def delete_group(group_id):
    group, product = _group_of(group_id)
    name = group.name
    db.session.delete(group)
    db.session.commit()
    flash(_("Group “%(name)s” and its options were removed.", name=name), "success")
    return redirect(url_for("menu.edit", product_id=product.id, _anchor="modifiers"))


@bp.post("/groups/<group_id>/options")
@roles_required(UserRole.MANAGER)
def add_option(group_id):
    """Add an option to a group, with its price change."""
    group, product = _group_of(group_id)
    try:
        option = services.add_option(g.company, group, request.form)
    except MenuError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Option “%(name)s” added.", name=option.name), "success")
    return redirect(url_for("menu.edit", product_id=product.id, _anchor=f"group-{group.id}"))


@bp.post("/options/<option_id>/delete")
@roles_required(UserRole.MANAGER)
def delete_option(option_id):
    option = get_or_404(ModifierOption, option_id)
    group, product = _group_of(option.group_id)
    db.session.delete(option)
    db.session.commit()
    flash(_("Option “%(name)s” removed.", name=option.name), "success")
    return redirect(url_for("menu.edit", product_id=product.id, _anchor=f"group-{group.id}"))


@bp.post("/products/<product_id>/hours")
@roles_required(UserRole.MANAGER)
def hours(product_id):
    """Availability hours on every platform (e.g. breakfast 06:00–11:00 on weekdays), or always."""
    product = _active_product(product_id)
    rules = [(request.form.getlist(f"days-{index}"), request.form.get(f"start-{index}"),
              request.form.get(f"end-{index}")) for index in range(avail.MAX_RULES)]
    try:
        schedule = None if request.form.get("always") == "1" else avail.clean_schedule(rules)
        if not services.mappings_of(product):
            raise MenuError(_("Map the product on a platform first: hours apply to the platforms."), "rule-0")
        avail.set_schedule(g.company, product, schedule, current_user)
    except MenuError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Hours saved: %(hours)s.", hours="; ".join(avail.describe_schedule(schedule)) or _("always")),
              "success")
    return redirect(url_for("menu.edit", product_id=product.id, _anchor="hours"))


# --------------------------------------------------------------------------- CSV

@bp.get("/import")
@roles_required(UserRole.MANAGER)
def import_form():
    """Upload a catalog CSV."""
    return render_template("menu/import.html", form=ImportForm(), preview=None)


@bp.post("/import")
@roles_required(UserRole.MANAGER)
def import_preview():
    """Check every row of the file and show what would change; nothing is written."""
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("menu/import.html", form=form, preview=None), 422
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form.file.errors = [_("Choose a CSV file.")]
        return render_template("menu/import.html", form=form, preview=None), 422
    try:
        text = csv_io.decode(upload.read(csv_io.MAX_BYTES + 1))
        preview = csv_io.parse(text, g.company)
    except MenuError as error:
        form.file.errors = [error.message]
        return render_template("menu/import.html", form=form, preview=None), 422
    finally:
        db.session.rollback()
    return render_template("menu/import.html", form=form, preview=preview,
                           confirm_form=ConfirmImportForm(text=preview.text), filename=upload.filename)


@bp.post("/import/confirm")
@roles_required(UserRole.MANAGER)
def import_confirm():
    """Write the previewed rows that are valid (checked again now); the rows with errors are skipped."""
    form = ConfirmImportForm()
    if not form.validate_on_submit() or not form.text.data:
        abort(400)
    try:
        preview, created, updated = csv_io.confirm(form.text.data, g.company)
    except MenuError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("menu.import_form"))
    db.session.commit()
    skipped = preview.count("error")
    flash(_("Imported: %(created)s new, %(updated)s changed, %(unchanged)s unchanged, %(skipped)s skipped "
            "because of errors.", created=created, updated=updated, unchanged=preview.count("unchanged"),
            skipped=skipped), "success" if not skipped else "info")
    return redirect(url_for("menu.index"))


@bp.get("/export.csv")
@roles_required(UserRole.MANAGER)
def export():
    """The catalog as CSV (UTF-8 with BOM; the import reads it back)."""
    today = datetime.now(tz=ZoneInfo(g.company.timezone)).date()
    response = make_response(stream_with_context(csv_io.export_rows(g.company)))
    response.content_type = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="menu-{today.isoformat()}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- mapping grid

GRID_SIZES = (50, 100, 200, 500)


def _grid_args():
    show = request.values.get("show", "all")
    size = request.values.get("per_page", "")
    return {"q": (request.values.get("q") or "").strip()[:100],
            "category": (request.values.get("category") or "").strip()[:100] or None,
            "show": show if show in ("all", "unmapped", "errors") else "all",
            "per_page": int(size) if size.isdigit() and int(size) in GRID_SIZES else mapping.GRID_PAGE}


@bp.get("/mappings")
@roles_required(UserRole.MANAGER)
def mappings():
    """Products × enabled platforms; each cell saves on change."""
    args = _grid_args()
    integrations, page, mapped = mapping.grid(page=page_number(), **args)
    shared = cells.parts(g.company, integrations)
    # Rows and cells built here, not in the template: the grid may hold 1,500 cells.
    grid_rows = []
    for product in page.items:
        row = [mapping.Cell(product, integration, mapped.get((product.local_product_id, integration.id)))
               for integration in integrations]
        grid_rows.append((product, Markup("").join(cells.render(cell, shared) for cell in row),
                          sum(1 for cell in row if cell.mapping is None)))
    missing_labels = {count: ngettext("Not mapped on %(num)s platform", "Not mapped on %(num)s platforms", count)
                      for count in range(1, len(integrations) + 1)}
    response = page_or_fragment(
        "menu/mappings.html", "menu/_grid.html", integrations=integrations, page=page, grid_rows=grid_rows, args=args,
        categories=services.categories(), unmapped=mapping.unmapped_count(integrations), sizes=GRID_SIZES,
        parts=shared, missing_labels=missing_labels, select_label=_("Select"))
    if request.htmx:
        response.headers["HX-Push-Url"] = url_for("menu.mappings", **{k: v for k, v in args.items()
                                                                      if v and v != "all" and v != mapping.GRID_PAGE})
    return response


def _cell_objects(product_id, integration_id):
    product = _active_product(product_id)
    integration = get_or_404(IntegrationConfig, integration_id, hidden=lambda row: not row.is_enabled)
    return product, integration


@bp.post("/mappings/<product_id>/<integration_id>")
@roles_required(UserRole.MANAGER)
def save_cell(product_id, integration_id):
    """Save one cell; an error comes back in place with what was typed."""
    product, integration = _cell_objects(product_id, integration_id)
    result = mapping.save_cell(g.company, product, integration, request.form)
    if result.errors:
        db.session.rollback()
    else:
        db.session.commit()
    if request.htmx:
        return render_template("menu/_cell.html", cell=result, parts=cells.parts(g.company, [integration]))
    flash(_("Saved.") if not result.errors else "; ".join(result.errors.values()),
          "success" if not result.errors else "error")
    return redirect(url_for("menu.mappings"))


@bp.post("/mappings/<product_id>/<integration_id>/unmap")
@roles_required(UserRole.MANAGER)
def unmap(product_id, integration_id):
    """Remove one mapping (the product is no longer sold on that platform after the next full sync)."""
    product, integration = _cell_objects(product_id, integration_id)
    result = mapping.unmap(product, integration)
    db.session.commit()
    if request.htmx:
        return render_template("menu/_cell.html", cell=result, parts=cells.parts(g.company, [integration]))
    flash(_("%(name)s is no longer mapped on %(platform)s.", name=product.name,
            platform=adapter_for(integration.platform).display_name), "success")
    return redirect(url_for("menu.mappings"))


def _integrations_from(values, name):
    result = []
    for raw in values:
        try:
            result.append(get_or_404(IntegrationConfig, raw, hidden=lambda row: not row.is_enabled))
        except Exception:
            raise MenuError(_("Choose the platforms again."), name) from None
    return result


@bp.post("/mappings/bulk")
@roles_required(UserRole.MANAGER)
def bulk():
    """Map selected, change prices by a percentage, reset prices, or copy one platform's mappings to another."""
    action = request.form.get("action")
    product_ids = []
    for raw in request.form.getlist("product_ids"):
        try:
            product_ids.append(uuid.UUID(raw))
        except ValueError:
            abort(400)
    try:
        if action == "map":
            integration, = _integrations_from([request.form.get("platform")], "platform")
            created, skipped = mapping.map_selected(g.company, integration, product_ids)
            message = _("%(count)s products mapped on %(platform)s with their own ids.", count=created,
                        platform=adapter_for(integration.platform).display_name)
            if skipped:
                message += " " + _("Skipped (id already used there): %(ids)s.", ids=", ".join(skipped))
        elif action in ("price", "reset"):
            targets = _integrations_from(request.form.getlist("platforms"), "platforms")
            ids = [integration.id for integration in targets]
            if action == "price":
                count = mapping.change_prices(g.company, ids, product_ids, request.form.get("percent", ""))
                message = _("%(count)s platform prices changed by %(percent)s %%.", count=count,
                            percent=request.form.get("percent", "").strip())
            else:
                count = mapping.reset_prices(ids, product_ids)
                message = _("%(count)s platform prices follow the catalog again.", count=count)
        elif action == "copy":
            source, target = _integrations_from([request.form.get("source"), request.form.get("target")], "target")
            created, updated, skipped = mapping.copy_mappings(g.company, source, target, product_ids)
            message = _("Copied from %(source)s to %(target)s: %(created)s new, %(updated)s updated, %(skipped)s "
                        "skipped (id taken).", source=adapter_for(source.platform).display_name,
                        target=adapter_for(target.platform).display_name, created=created, updated=updated,
                        skipped=skipped)
        else:
            raise MenuError(_("Choose what to do with the selected products."), "action")
    except MenuError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _back(url_for("menu.mappings"))
    db.session.commit()
    flash(message + " " + _("Sync the menu to send it to the platforms."), "success")
    return _back(url_for("menu.mappings"))


@bp.get("/mappings/waiting")
@roles_required(UserRole.MANAGER)
def waiting():
    """Platform products seen in orders (or imported) that no mapping names, with suggestions."""
    mapping.refresh_seen_in_orders()
    rows = mapping.waiting_platform_products()
    db.session.commit()
    return _waiting_list(rows)


def _waiting_list(rows, **context):
    return render_template("menu/_waiting.html", rows=rows, products=mapping.products_for_choice() if rows else [],
                           mapped_as=mapping.mapped_as([row for row, _, _ in rows], [product for _, product, _ in rows]),
                           **context)


@bp.post("/platform-products/<platform_product_id>/accept")
@roles_required(UserRole.MANAGER)
def accept(platform_product_id):
    """Map a platform product onto the suggested (or chosen) catalog product."""
    platform_product = get_or_404(PlatformProduct, platform_product_id)
    product = _active_product(request.form.get("product_id"))
    try:
        mapping.accept(g.company, platform_product, product)
    except MenuError as error:
        db.session.rollback()
        message, category = error.message, "error"
    else:
        db.session.commit()
        message, category = _("%(platform_name)s is now mapped to %(name)s. Orders for it will show your product.",
                              platform_name=platform_product.name, name=product.name), "success"
    if request.htmx:
        return _waiting_list(mapping.waiting_platform_products(), message=message, message_category=category)
    flash(message, category)
    return redirect(url_for("menu.mappings"))


@bp.post("/platform-products/<platform_product_id>/dismiss")
@roles_required(UserRole.MANAGER)
def dismiss(platform_product_id):
    """Hide a platform product from the list (e.g. a discontinued item)."""
    platform_product = get_or_404(PlatformProduct, platform_product_id)
    mapping.dismiss(platform_product)
    db.session.commit()
    if request.htmx:
        return _waiting_list(mapping.waiting_platform_products())
    return redirect(url_for("menu.mappings"))


# --------------------------------------------------------------------------- availability (staff too)

def _availability_context(products):
    ids = [product.id for product in products]
    return {"windows": avail.open_windows(ids), "results": avail.platform_results(ids),
            "integrations": mapping.enabled_integrations(), "until_labels": avail.UNTIL_LABELS,
            "call_labels": avail.CALL_LABELS, "sold_out_form": SoldOutForm(formdata=None),
            "mapped": _mapped_integrations(ids), "states": avail.shown_states(g.company, products)}


def _mapped_integrations(product_ids):
    from sqlalchemy import select
    from ..models import MenuMapping
    if not product_ids:
        return {}
    rows = db.session.execute(select(Product.id, MenuMapping.integration_config_id).join(
        MenuMapping, (MenuMapping.company_id == Product.company_id)
        & (MenuMapping.local_product_id == Product.local_product_id)).where(Product.id.in_(product_ids))).all()
    result = {}
    for product_id, integration_id in rows:
        result.setdefault(product_id, set()).add(integration_id)
    return result


@bp.get("/availability")
@roles_required(UserRole.USER)
def availability():
    """Sold out ("86") on every platform at once: search items, 86 them, bring them back."""
    q = (request.args.get("q") or "").strip()[:100]
    only = request.args.get("sold_out") == "1"
    page = avail.availability_page(q, only, page_number())
    response = page_or_fragment("menu/availability.html", "menu/_availability_list.html", page=page, q=q,
                                       only_sold_out=only, **_availability_context(page.items))
    if request.htmx:
        response.headers["HX-Push-Url"] = url_for("menu.availability", **{k: v for k, v in (
            ("q", q), ("sold_out", "1" if only else None)) if v})
    return response


def _availability_answer(product, message=None, category="success"):
    context = _availability_context([product])
    if request.htmx:
        template = "menu/_board_item.html" if request.form.get("from") == "board" else "menu/_availability_row.html"
        response = make_response(render_template(template, product=product, message=message,
                                                 message_category=category, **context))
        response.headers["HX-Trigger"] = "menu-availability-changed"
        return response
    if message:
        flash(message, category)
    return _back(url_for("menu.availability"))


@bp.post("/products/<product_id>/sold-out")
@roles_required(UserRole.USER)
def sold_out(product_id):
    """86 a product on every platform until the end of day, a time, or until switched back on."""
    product = _active_product(product_id)
    form = SoldOutForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    try:
        window, results = avail.sell_out(g.company, product, request.form.get("until", ""),
                                         request.form.get("until_time"), current_user,
                                         reason=request.form.get("reason"))
    except MenuError as error:
        db.session.rollback()
        return _availability_answer(product, error.message, "error")
    db.session.commit()
    if not results:
        message = _("%(name)s is sold out, but it is not mapped on any connected platform.", name=product.name)
    elif window.until_at is None:
        message = _("%(name)s is sold out on every platform until someone switches it back on.", name=product.name)
    else:
        message = _("%(name)s is sold out on every platform until %(time)s.", name=product.name,
                    time=_local_time(window.until_at))
    return _availability_answer(product, message)


@bp.post("/products/<product_id>/back-on")
@roles_required(UserRole.USER)
def back_on(product_id):
    """End a product's 86 now."""
    product = _active_product(product_id)
    avail.back_on(g.company, product, current_user)
    db.session.commit()
    return _availability_answer(product, _("%(name)s is available again on every platform.", name=product.name))


@bp.get("/products/<product_id>/availability")
@roles_required(UserRole.USER)
def availability_row(product_id):
    """One product's availability row (the page polls it while the platforms answer)."""
    product = _active_product(product_id)
    template = "menu/_board_item.html" if request.args.get("from") == "board" else "menu/_availability_row.html"
    return render_template(template, product=product, **_availability_context([product]))


@bp.get("/board")
@roles_required(UserRole.USER)
def board_panel():
    """The order board's "Sold out" panel: what is 86'd now, and a search to 86 more."""
    q = (request.args.get("q") or "").strip()[:100]
    windows = avail.open_windows()
    sold = db.session.scalars(db.select(Product).where(Product.id.in_(list(windows)),
                                                       Product.deleted_at.is_(None))
                              .order_by(Product.name)).all() if windows else []
    found = avail.availability_page(q, False, 1, per_page=8).items if q else []
    products = sold + [product for product in found if product.id not in windows]
    template = "menu/_board_results.html" if request.args.get("part") == "results" else "menu/_board_panel.html"
    return render_template(template, q=q, sold=sold, found=found, **_availability_context(products))


def _local_time(moment):
    from ..i18n import local_datetime
    return local_datetime(moment, "short")


# --------------------------------------------------------------------------- sync and import

@bp.get("/sync")
@roles_required(UserRole.MANAGER)
def sync_index():
    """Every enabled platform: its last sync, a "Sync menu" button, "Import from platform" where possible."""
    integrations = mapping.enabled_integrations()
    return render_template("menu/sync.html", integrations=integrations, overview=sync.sync_overview(integrations),
                           runs=sync.latest_runs(20), form=SyncForm(), csrf=EmptyForm(), labels=sync.STATUS_LABELS,
                           progress=sync.progress_percent, recent=sync.recently_finished)


@bp.post("/sync/<integration_id>")
@roles_required(UserRole.MANAGER)
def start_sync(integration_id):
    """Queue a menu sync (full or changes only); the page follows its progress."""
    integration = get_or_404(IntegrationConfig, integration_id)
    form = SyncForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
    try:
        run = sync.start_sync(g.company, integration, request.form.get("mode", "diff"), current_user)
    except MenuError as error:
        db.session.rollback()
        return _sync_answer(None, error.message, "error")
    db.session.commit()
    return _sync_answer(run, _("Sync of %(platform)s queued.", platform=adapter_for(integration.platform).display_name))


@bp.post("/import-platform/<integration_id>")
@roles_required(UserRole.MANAGER)
def start_import(integration_id):
    """Queue "Import from platform" (only where the platform hands out its menu)."""
    integration = get_or_404(IntegrationConfig, integration_id)
    try:
        run = sync.start_import(g.company, integration, current_user)
    except MenuError as error:
        db.session.rollback()
        return _sync_answer(None, error.message, "error")
    db.session.commit()
    return _sync_answer(run, _("Import from %(platform)s queued.",
                               platform=adapter_for(integration.platform).display_name))


def _sync_answer(run, message, category="success"):
    if request.htmx:
        return render_template("menu/_sync_run.html", run=run, message=message, message_category=category,
                               labels=sync.STATUS_LABELS, progress=sync.progress_percent)
    flash(message, category)
    if run is not None:
        return redirect(url_for("menu.run", run_id=run.id))
    return redirect(url_for("menu.sync_index"))


@bp.get("/sync/runs/<run_id>")
@roles_required(UserRole.MANAGER)
def run(run_id):
    """A run's progress (polled by the page while it runs) and its report of what failed and why."""
    run = get_or_404(MenuSyncRun, run_id)
    response = page_or_fragment("menu/run.html", "menu/_sync_run.html", run=run, labels=sync.STATUS_LABELS,
                                       progress=sync.progress_percent, csrf=EmptyForm(),
                                       integration=db.session.get(IntegrationConfig, run.integration_config_id))
    response.headers["Cache-Control"] = "no-store"
    if request.htmx and run.is_finished:
        response.headers["HX-Trigger"] = "menu-sync-finished"
    return response


@bp.post("/sync/runs/<run_id>/stop")
@roles_required(UserRole.MANAGER)
def stop_run(run_id):
    """Give up waiting for a platform's report."""
    run = get_or_404(MenuSyncRun, run_id)
    sync.stop_waiting(run, current_user)
    db.session.commit()
    flash(_("The run was stopped. Its items will be sent again by the next sync."), "info")
    return redirect(url_for("menu.run", run_id=run.id))
