"""Menu: the catalog, the mapping editor, one-switch availability ("86") and menu sync to every platform.

Routes in routes.py; the rules in services.py (catalog), csv_io.py (import/export), mapping.py
(the grid), availability.py (86 and hours), sync.py (sync and import runs) and jobs.py (the worker).
"""
from flask import Blueprint

bp = Blueprint("menu", __name__, url_prefix="/menu")

from . import routes  # noqa: E402,F401  (routes register on bp)
