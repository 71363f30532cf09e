"""Menu pages: sold out ("86") on every platform (staff too), the order board's 86 panel, and a product's hours."""
from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import Product, UserRole
from ..web import page_number, page_or_fragment
from . import availability as avail
from . import bp, services
from .forms import SoldOutForm
from .services import MenuError
from .web_helpers import active_product_or_404, availability_context, back_to_next

# --------------------------------------------------------------------------- availability (staff too)

@bp.get("/availability")
@roles_required(UserRole.USER)
def availability():
    """Sold out ("86") on every platform at once: search items, 86 them, bring them back."""
    q = (request.args.get("q") or "").strip()[:100]
    only = request.args.get("sold_out") == "1"
    page = avail.availability_page(q, only, page_number())
    response = page_or_fragment("menu/availability.html", "menu/_availability_list.html", page=page, q=q,
                                       only_sold_out=only, **availability_context(page.items))
    if request.htmx:
        response.headers["HX-Push-Url"] = url_for("menu.availability", **{k: v for k, v in (
            ("q", q), ("sold_out", "1" if only else None)) if v})
    return response


def _availability_answer(product, message=None, category="success"):
    context = availability_context([product])
    if request.htmx:
        template = "menu/_board_item.html" if request.form.get("from") == "board" else "menu/_availability_row.html"
        response = make_response(render_template(template, product=product, message=message,
                                                 message_category=category, **context))
        response.headers["HX-Trigger"] = "menu-availability-changed"
        return response
    if message:
        flash(message, category)
    return back_to_next(url_for("menu.availability"))


@bp.post("/products/<product_id>/sold-out")
@roles_required(UserRole.USER)
def sold_out(product_id):
    """86 a product on every platform until the end of day, a time, or until switched back on."""
    product = active_product_or_404(product_id)
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
    product = active_product_or_404(product_id)
    avail.back_on(g.company, product, current_user)
    db.session.commit()
    return _availability_answer(product, _("%(name)s is available again on every platform.", name=product.name))


@bp.get("/products/<product_id>/availability")
@roles_required(UserRole.USER)
def availability_row(product_id):
    """One product's availability row (the page polls it while the platforms answer)."""
    product = active_product_or_404(product_id)
    template = "menu/_board_item.html" if request.args.get("from") == "board" else "menu/_availability_row.html"
    return render_template(template, product=product, **availability_context([product]))


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
    return render_template(template, q=q, sold=sold, found=found, **availability_context(products))


def _local_time(moment):
    from ..i18n import local_datetime
    return local_datetime(moment, "short")


# --------------------------------------------------------------------------- hours

@bp.post("/products/<product_id>/hours")
@roles_required(UserRole.MANAGER)
def hours(product_id):
    """Availability hours on every platform (e.g. breakfast 06:00–11:00 on weekdays), or always."""
    product = active_product_or_404(product_id)
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
