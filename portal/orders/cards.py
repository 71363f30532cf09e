"""Rendered order cards, kept while the order is unchanged.

The board re-renders whole lanes whenever anything changes; most cards did not. A card's HTML
depends only on the order row (its updated_at moves on every change), the language, the company's
time zone and the viewer's CSRF token, so that is the key. Bounded, per process.
"""
import threading
from collections import OrderedDict

from flask import current_app
from flask_babel import get_locale, get_timezone
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

MAX_CARDS = 5000
_cards = OrderedDict()
_lock = threading.Lock()


def render_card(order, context):
    """The card of `order`, from the cache when the order has not changed since it was rendered."""
    key = (order.id, order.updated_at, str(get_locale()), str(get_timezone()), generate_csrf())
    with _lock:
        html = _cards.get(key)
        if html is not None:
            _cards.move_to_end(key)
            return html
    html = Markup(current_app.jinja_env.get_template("orders/_card.html").render(order=order, **context))
    with _lock:
        _cards[key] = html
        while len(_cards) > MAX_CARDS:
            _cards.popitem(last=False)
    return html
