"""Rendered order cards, kept while the order is unchanged.

A card's HTML depends only on the order row (its updated_at moves on every change), the language,
the company's time zone and the viewer's CSRF token, so that is the key. The board reads only
(id, status, updated_at) for its lanes and loads the full rows of the cards it has not rendered yet,
in one query. Bounded, per process.
"""
import threading
from collections import OrderedDict

from flask import current_app
from flask_babel import get_locale, get_timezone
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import defer

from ..extensions import db
from ..models import DeliveryOrder, OrderStatus

MAX_CARDS = 5000
WHO_DELIVERS_MATTERS = (OrderStatus.READY_FOR_PICKUP, OrderStatus.OUT_FOR_DELIVERY)
_cards = OrderedDict()
_lock = threading.Lock()


def _viewer():
    return str(get_locale()), str(get_timezone()), generate_csrf()


def _render(order, context):
    return Markup(current_app.jinja_env.get_template("orders/_card.html").render(order=order, **context))


def _remember(key, html):
    with _lock:
        _cards[key] = html
        while len(_cards) > MAX_CARDS:
            _cards.popitem(last=False)


def render_cards(rows_by_lane, context):
    """The cards of each lane's (id, status, updated_at) rows, rendering only what the cache lacks."""
    viewer = _viewer()
    found, missing, with_payload = {}, set(), set()
    with _lock:
        for rows in rows_by_lane.values():
            for row in rows:
                key = (row.id, row.updated_at, *viewer)
                html = _cards.get(key)
                if html is None:
                    missing.add(row.id)
                    if row.status in WHO_DELIVERS_MATTERS:
                        with_payload.add(row.id)
                else:
                    _cards.move_to_end(key)
                    found[row.id] = html
    if missing:
        # The raw platform payload is large and no card shows it; only ready and on-the-way cards read
        # it, for who delivers the order (their next step is the rider's or the restaurant's).
        for ids, options in ((with_payload, ()), (missing - with_payload, (defer(DeliveryOrder.platform_data),))):
            if not ids:
                continue
            for order in db.session.scalars(select(DeliveryOrder).options(*options)
                                            .where(DeliveryOrder.id.in_(ids))):
                found[order.id] = html = _render(order, context)
                _remember((order.id, order.updated_at, *viewer), html)
    # An order that left the board between the two reads has no card: it goes at the next poll.
    return {lane: [found[row.id] for row in rows if row.id in found] for lane, rows in rows_by_lane.items()}
