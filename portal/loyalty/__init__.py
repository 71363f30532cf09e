"""Loyalty: programs and tiers, the points ledger, accrual on delivered orders, redemption, customers.

Routes in routes.py (program, tiers, dashboard, customers, the order panel); rules in programs.py (programs
and tiers), ledger.py (members and their points) and balance_check.py, on the basics in services.py.
"""
from flask import Blueprint

bp = Blueprint("loyalty", __name__, url_prefix="/loyalty")

from . import routes  # noqa: E402,F401  (routes register on bp)
