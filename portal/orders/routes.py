"""The orders list, an order's detail page, its kitchen ticket, and the CSV export."""
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, g, render_template, request, url_for
from flask_babel import get_locale

from ..auth.decorators import roles_required
from ..hooks import order_page_panels
from ..models import DeliveryPlatform, OrderStatus, UserRole
from ..web import csv_download, page_or_fragment
from . import bp
from .queries import (ORDER_TYPE_LABELS, PUSH_LABELS, SORTS, export_csv, export_filename, first_name, get_order,
                      has_any_orders, item_name, items_count, money_breakdown, order_timeline, orders_page,
                      parse_filters, reason_labels)
from .services import ACTIONS, DEFAULT_PREPARATION_MINUTES, available_actions, reasons_for, skip_confirmation


def _order_or_404(order_id):
    """An order of the signed-in company; another company's id, or a malformed one, is simply not found."""
    order = get_order(g.company, order_id)
    if order is None:
        abort(404)
    return order


@bp.get("/orders/")
@roles_required(UserRole.USER)
def index():
    """Every order of the company, with filters, search, sorting and pages of 50."""
    filters = parse_filters(request.args)
    page = orders_page(g.company, filters, after=request.args.get("after"), before=request.args.get("before"))
    any_orders = bool(page.orders) or has_any_orders(g.company, filters.show_test)
    response = page_or_fragment("orders/index.html", "orders/_results.html", page=page, filters=filters,
                                any_orders=any_orders, sorts=SORTS, platforms=list(DeliveryPlatform),
                                statuses=list(OrderStatus), push_labels=PUSH_LABELS, items_count=items_count,
                                first_name=first_name)
    if request.htmx:  # the address bar shows the search as a clean, shareable link
        response.headers["HX-Push-Url"] = url_for("orders.index", **filters.args())
    return response


@bp.get("/orders/export.csv")
@roles_required(UserRole.MANAGER)
def export():
    """The filtered orders as a CSV file (UTF-8 with BOM, so Excel shows Arabic names), streamed."""
    filters = parse_filters(request.args)
    today = datetime.now(tz=ZoneInfo(g.company.timezone)).date()
    return csv_download(export_csv(g.company, filters), export_filename(filters, today))


@bp.get("/orders/<order_id>")
@roles_required(UserRole.USER)
def show(order_id):
    """One order: what was ordered, the money, the customer, the timeline, the raw payload, the actions."""
    order = _order_or_404(order_id)
    actions = [ACTIONS[name] for name in available_actions(order)]
    panels = [panel for _receiver, panel in order_page_panels.send(order) if panel]
    return render_template(
        "orders/show.html", order=order, actions=actions, timeline=order_timeline(order), panels=panels,
        reasons={action.name: reasons_for(order, action.name) for action in actions if action.needs_reason},
        confirmations={action.name: skip_confirmation(order, action.name) for action in actions},
        default_preparation_minutes=DEFAULT_PREPARATION_MINUTES, money=money_breakdown(order),
        push_labels=PUSH_LABELS, order_type_labels=ORDER_TYPE_LABELS, item_name=item_name, locale=get_locale(),
        reason_labels=reason_labels(order), items_count=items_count,
        payload=json.dumps(order.platform_data, indent=2, ensure_ascii=False, sort_keys=True)
        if order.platform_data is not None else None)


@bp.get("/orders/<order_id>/ticket")
@roles_required(UserRole.USER)
def ticket(order_id):
    """The kitchen ticket: a receipt-width page to print; ?print=1 opens the print dialog."""
    order = _order_or_404(order_id)
    return render_template("orders/ticket.html", order=order, item_name=item_name, locale=get_locale(),
                           order_type_labels=ORDER_TYPE_LABELS, auto_print=request.args.get("print") == "1")
