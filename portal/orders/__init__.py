"""Orders: the live board, the orders list and detail, and the order lifecycle.

One blueprint for the area; its routes live in board.py (the live board and staff actions) and
routes.py (the orders list, detail, kitchen ticket and export).
"""
from flask import Blueprint

bp = Blueprint("orders", __name__)

from . import board, routes  # noqa: E402,F401  (routes register on bp)
