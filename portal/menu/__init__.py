"""Menu: the catalog, the mapping editor, one-switch availability ("86") and menu sync to every platform.

One blueprint for the area; its routes live in routes.py (the catalog), modifier_routes.py (modifier
groups and options), csv_routes.py (CSV import/export), mapping_routes.py (the mapping grid),
availability_routes.py (86, the board's panel, hours) and sync_routes.py (sync and import runs); the
helpers they share in web_helpers.py. The rules in services.py (catalog), csv_io.py (import/export), mapping.py
(the grid), availability.py (86 and hours), sync.py (sync and import runs) and jobs.py (the worker).
"""
from flask import Blueprint

bp = Blueprint("menu", __name__, url_prefix="/menu")

# Each routes module registers its routes on bp when imported.
from . import (  # noqa: E402,F401
    availability_routes,
    csv_routes,
    mapping_routes,
    modifier_routes,
    routes,
    sync_routes,
)
