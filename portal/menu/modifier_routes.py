"""Menu pages: a product's modifier groups and their options."""
from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _

from ..auth.decorators import roles_required
from ..extensions import db
from ..lookups import get_or_404
from ..models import ModifierGroup, ModifierOption, UserRole
from . import bp, services
from .services import MenuError
from .web_helpers import active_product_or_404

# --------------------------------------------------------------------------- modifiers

def _group_of(group_id):
    group = get_or_404(ModifierGroup, group_id)
    return group, active_product_or_404(group.product_id)


@bp.post("/products/<product_id>/groups")
@roles_required(UserRole.MANAGER)
def add_group(product_id):
    """Add a modifier group (e.g. "Size: choose 1")."""
    product = active_product_or_404(product_id)
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
