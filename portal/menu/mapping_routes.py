"""Menu pages: the mapping grid (products x platforms), bulk actions and the waiting platform products."""
import uuid

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from ..auth.decorators import roles_required
from ..extensions import db
from ..lookups import get_or_404
from ..models import IntegrationConfig, PlatformProduct, UserRole
from ..platforms import adapter_for
from ..web import page_number, page_or_fragment
from . import bp, cells, mapping, services
from .services import MenuError
from .web_helpers import active_product_or_404, back_to_next

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
    product = active_product_or_404(product_id)
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
        return back_to_next(url_for("menu.mappings"))
    db.session.commit()
    flash(message + " " + _("Sync the menu to send it to the platforms."), "success")
    return back_to_next(url_for("menu.mappings"))


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
                           mapped_as=mapping.mapped_as([row for row, _, _ in rows],
                                                       [product for _, product, _ in rows]),
                           **context)


@bp.post("/platform-products/<platform_product_id>/accept")
@roles_required(UserRole.MANAGER)
def accept(platform_product_id):
    """Map a platform product onto the suggested (or chosen) catalog product."""
    platform_product = get_or_404(PlatformProduct, platform_product_id)
    product = active_product_or_404(request.form.get("product_id"))
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
