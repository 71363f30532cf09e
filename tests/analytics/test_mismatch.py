"""What counts as "the platform's totals disagree with the items" (analytics_order_mismatch, migration 0009)."""
import json

import pytest
from sqlalchemy import text

from portal.extensions import db

LINE = [{"name": "Burger", "quantity": 2, "unit_price": "10.00", "line_total": "20.00",
         "modifiers": [{"name": "Cheese", "price": "3.00", "children": [{"name": "Extra", "price": "1.00"}]}]}]


@pytest.mark.parametrize("subtotal, discount, delivery, service, tax, tip, total, items, places, expected", [
    ("20.00", "0", "0", "0", "0", "0", "20.00", LINE, 2, None),                 # lines include the modifiers
    ("24.00", "0", "0", "0", "0", "0", "24.00", LINE, 2, None),                 # toppings priced outside (DH)
    ("21.00", "0", "0", "0", "0", "0", "21.00", LINE, 2, "ITEMS"),
    ("20.00", "2", "7", "1", "3", "1", "30.00", LINE, 2, None),                 # 20 − 2 + 7 + 1 + 3 + 1
    ("20.00", "2", "7", "1", "3", "1", "27.00", LINE, 2, None),                 # tax included in the prices
    ("20.00", "2", "7", "1", "3", "1", "31.00", LINE, 2, "TOTAL"),
    ("20.01", "0", "0", "0", "0", "0", "20.01", LINE, 2, None),                 # one minor unit: rounding
    ("20.02", "0", "0", "0", "0", "0", "20.02", LINE, 2, "ITEMS"),
    ("20.002", "0", "0", "0", "0", "0", "20.002", LINE, 3, "ITEMS"),            # KWD: 0.002 is not rounding
    ("20.00", "0", "0", "0", "0", "0", "20.00", [], 2, "ITEMS_UNREADABLE"),
    ("20.00", "0", "0", "0", "0", "0", "20.00", [{"name": "X", "line_total": "twenty"}], 2, "ITEMS_UNREADABLE"),
    ("20.00", "0", "0", "0", "0", "0", "20.00", [{"name": "X", "unit_price": "10", "quantity": 2}], 2, None),
    ("20.00", "0", "0", "0", "0", "0", "20.00", {"not": "a list"}, 2, "ITEMS_UNREADABLE"),
])
def test_order_mismatch(app, subtotal, discount, delivery, service, tax, tip, total, items, places, expected):
    with app.app_context():
        reason = db.session.scalar(text(
            "SELECT analytics_order_mismatch(CAST(:s AS numeric), CAST(:d AS numeric), CAST(:f AS numeric),"
            " CAST(:sf AS numeric), CAST(:t AS numeric), CAST(:tip AS numeric), CAST(:total AS numeric),"
            " CAST(:items AS jsonb), :places)"),
            {"s": subtotal, "d": discount, "f": delivery, "sf": service, "t": tax, "tip": tip, "total": total,
             "items": json.dumps(items), "places": places})
        db.session.rollback()
    assert reason == expected
