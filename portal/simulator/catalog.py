"""The platforms' menu side: accept catalog pushes and availability calls, report imports, hand out menus.

- Careem `PUT /catalogs` answers `{"request_id": n, "status": "PENDING"}`; a moment later Careem sends
  CATALOG_REQUEST_STATUS_UPDATED (COMPLETED) with warnings: LOW for an item without an Arabic name,
  HIGH for an item priced 0 (the simulator's stand-in for an item Careem refuses).
- Delivery Hero `PUT /v2/chains/{chain}/catalog` answers 202 `{"catalogImportId": …}`; then the
  catalog-import callback says `done`, or `done_with_errors` when a product is priced 0.
- Generic platforms: `PUT /menu` is kept and `GET /menu` hands it back (or a small sample menu, so
  "Import from platform" has something to import before the first sync).
No database access: what was pushed is remembered in the journal (`journal.catalogs`).
"""
import itertools
import uuid
from decimal import Decimal

from .model import Webhook
from .orders import CAREEM, DELIVERY_HERO, GENERIC

_request_ids = itertools.count(9294432)
SAMPLE_MENU = [
    {"id": "g-101", "plu": None, "name": "Chicken Shawerma Wrap", "price": "14.00", "category": "Shawarma"},
    {"id": "g-102", "plu": None, "name": "Classic Beef Burgr", "price": "28.00", "category": "Burgers"},
    {"id": "g-103", "plu": None, "name": "Kunafa Nabulsi", "price": "24.00", "category": "Desserts"},
    {"id": "g-104", "plu": None, "name": "Pepsi Can", "price": "6.00", "category": "Drinks"},
]


def answer(platform, method, path, body, journal):
    """(status, JSON) for a menu call, or None when the call is not about the menu."""
    platform = platform.upper()
    segments = [segment for segment in path.strip("/").split("/") if segment]
    if platform in CAREEM and method == "PUT" and segments == ["catalogs"]:
        request_id = next(_request_ids)
        journal.catalogs[platform] = {"request_id": request_id, "body": body}
        return 200, {"request_id": request_id, "status": "PENDING"}
    if platform in DELIVERY_HERO and method == "PUT" and segments[:2] == ["v2", "chains"] and segments[3:] == [
            "catalog"]:
        import_id = str(uuid.uuid4())
        journal.catalogs[platform] = {"request_id": import_id, "body": body}
        return 202, {"catalogImportId": import_id, "status": "in_progress"}
    if platform in GENERIC and segments == ["menu"]:
        if method == "PUT":
            journal.catalogs[platform] = {"body": body}
            return 200, {"ok": True, "items": len((body or {}).get("items", []))}
        if method == "GET":
            pushed = journal.catalogs.get(platform, {}).get("body") or {}
            return 200, {"items": pushed.get("items") or SAMPLE_MENU}
    return None


def callback(platform, call, journal):
    """The import report the platform sends after a catalog push it accepted, or None."""
    platform = platform.upper()
    if call.get("status", 500) >= 300:
        return None
    answer_body = call.get("answer") if isinstance(call.get("answer"), dict) else {}
    body = call.get("json") if isinstance(call.get("json"), dict) else {}
    if platform in CAREEM and "request_id" in answer_body:
        warnings = []
        for item in body.get("items", []):
            if not (item.get("name_localized") or {}).get("ar"):
                warnings.append(_careem_warning(item, "LOW", "The item has no Arabic name."))
            if not item.get("price"):
                warnings.append(_careem_warning(item, "HIGH", "The item's price must be greater than 0."))
        catalog = body.get("catalog") or {}
        return Webhook(platform=platform, event="CATALOG_REQUEST_STATUS_UPDATED", order_id="", summary="catalog report",
                       body={"event_id": str(uuid.uuid4()), "event_type": "CATALOG_REQUEST_STATUS_UPDATED",
                             "details": {"status": "COMPLETED", "catalog_id": catalog.get("id"),
                                         "request_id": answer_body["request_id"], "vendor_branch_id": catalog.get("id"),
                                         "warnings": warnings},
                             "occurred_at": call.get("time")})
    if platform in DELIVERY_HERO and "catalogImportId" in answer_body:
        items = ((body.get("catalog") or {}).get("items") or {}).values()
        free = [entry for entry in items if entry.get("type") == "Product" and not entry.get("isTopping")
                and Decimal(str(entry.get("price") or 0)) == 0]
        status = "done_with_errors" if free else "done"
        message = (f"{len(free)} product(s) rejected: a price must be greater than 0" if free
                   else "Catalog imported")
        return Webhook(platform=platform, event="CATALOG_IMPORT", order_id="", summary="catalog import report",
                       path="catalog-import", method="POST",
                       body={"catalogImportId": answer_body["catalogImportId"], "status": status, "message": message,
                             "details": [{"status": status, "posVendorId": (body.get("vendors") or [""])[0],
                                          "platformVendorId": "sim-vendor", "globalEntityId": "TB_SA"}]})
    return None


def _careem_warning(item, severity, description):
    return {"entity_name": item.get("name"), "entity_id": item.get("id"), "entity_type": "PRODUCT", "level": "item",
            "severity": severity, "description": description}
