"""Helpers the menu's route modules share: the product lookup, the "back" redirect and the availability context."""
from flask import g, request

from ..extensions import db
from ..lookups import get_or_404
from ..models import Product
from ..web import redirect_back
from . import availability as avail
from . import mapping
from .forms import SoldOutForm


def active_product_or_404(product_id):
    return get_or_404(Product, product_id, hidden=lambda product: product.deleted_at is not None)


def back_to_next(default):
    return redirect_back(request.form.get("next"), default)


def availability_context(products):
    ids = [product.id for product in products]
    return {"windows": avail.open_windows(ids), "results": avail.platform_results(ids),
            "integrations": mapping.enabled_integrations(), "until_labels": avail.UNTIL_LABELS,
            "call_labels": avail.CALL_LABELS, "sold_out_form": SoldOutForm(formdata=None),
            "mapped": mapped_integrations(ids), "states": avail.shown_states(g.company, products)}


def mapped_integrations(product_ids):
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
