"""Menu sync: push the mapped catalog to a platform as a job, and import a platform's menu.

A run (`menu_sync_runs`) goes QUEUED → PREPARING (items checked and fingerprinted in batches; the
progress bar follows `processed_items`) → SENDING (one `platform_calls` row, sent by the worker with
its retries) → WAITING (platforms that report the import by webhook: Careem's
CATALOG_REQUEST_STATUS_UPDATED, Delivery Hero's catalog-import callback) → COMPLETED, PARTIAL (some
items failed or were refused) or FAILED. Each mapping keeps its own `sync_status`, `sync_errors`
and `last_sync_at`; the integration keeps `sync_status` and `last_sync_at`.

A diff run sends only items whose fingerprint (`synced_hash`: what the last successful sync sent)
changed, or that failed last time. Items the platform would refuse are not sent: they are reported
with the reason, and the rest goes.
"""
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import requests
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select, update

from ..extensions import db
from ..integrations.outbound import TIMEOUT, queue_call, request_headers
from ..queue import defer
from ..models import (CallStatus, Company, IntegrationConfig, MenuMapping, MenuSyncRun, ModifierOption, PlatformCall,
                      PlatformProduct, Product, SyncRunStatus, SyncStatus)
from ..platforms import adapter_for
from ..platforms.base import PayloadError
from .availability import should_show, sold_out_ids
from .services import MenuError, group_problems, groups_of, utcnow

BATCH = 250
STALE_AFTER = timedelta(minutes=30)     # a run with no answer for this long no longer blocks a new one
STATUS_LABELS = {SyncRunStatus.QUEUED: _l("Waiting for the worker"),
                 SyncRunStatus.PREPARING: _l("Checking items"),
                 SyncRunStatus.SENDING: _l("Sending to the platform"),
                 SyncRunStatus.WAITING: _l("Waiting for the platform's report"),
                 SyncRunStatus.COMPLETED: _l("Completed"),
                 SyncRunStatus.PARTIAL: _l("Completed with problems"),
                 SyncRunStatus.FAILED: _l("Failed")}
OK_STATUSES = {"completed", "done", "success", "succeeded"}
FAILED_STATUSES = {"failed", "rejected", "error"}


@dataclass
class SyncItem:
    mapping: MenuMapping
    product: Product
    groups: list


def _clean_payload(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _clean_payload(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean_payload(item) for item in value]
    return value


def fingerprint(payload):
    """A stable hash of what would be sent for an item (diff syncs compare it with the last one)."""
    return hashlib.sha256(json.dumps(_clean_payload(payload), sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def load_items(integration):
    """The integration's mappings of catalog products (not deleted), with their modifier groups."""
    rows = db.session.execute(
        select(MenuMapping, Product)
        .join(Product, and_(Product.company_id == MenuMapping.company_id,
                            Product.local_product_id == MenuMapping.local_product_id))
        .where(MenuMapping.integration_config_id == integration.id, Product.deleted_at.is_(None))
        .order_by(Product.category.nulls_last(), Product.sort_order, Product.name)).all()
    groups = groups_of(product.id for _, product in rows)
    return [SyncItem(mapping, product, groups.get(product.id, [])) for mapping, product in rows]


def option_platform_id(platform_product_id, group, option):
    """The id an option is pushed under (and comes back by in orders): its local id, else one made
    from its product's platform id and its group's and its own places."""
    return option.local_option_id or f"{platform_product_id}-g{group.sort_order}-o{option.sort_order}"


def option_names(integration, option_ids):
    """{option id as pushed to the integration's platform: (name, name_ar)} for those of `option_ids`
    the company's catalog knows (two to four queries, whatever the number of ids)."""
    wanted = {str(option_id) for option_id in option_ids if option_id}
    if not wanted:
        return {}
    names = {option.local_option_id: (option.name, option.name_ar) for option in db.session.scalars(
        select(ModifierOption).where(ModifierOption.company_id == integration.company_id,
                                     ModifierOption.local_option_id.in_(wanted)))}
    # Ids made from a product's platform id ("<product>-g<n>-o<m>"): the options of those products.
    prefixes = {option_id.rsplit("-g", 1)[0] for option_id in wanted - set(names) if "-g" in option_id}
    if prefixes:
        mapped = db.session.execute(
            select(MenuMapping.platform_product_id, Product.id)
            .join(Product, and_(Product.company_id == MenuMapping.company_id,
                                Product.local_product_id == MenuMapping.local_product_id))
            .where(MenuMapping.integration_config_id == integration.id,
                   MenuMapping.platform_product_id.in_(prefixes))).all()
        groups = groups_of(product_id for _platform_id, product_id in mapped)
        for platform_product_id, product_id in mapped:
            for group, options in groups.get(product_id, []):
                for option in options:
                    names.setdefault(option_platform_id(platform_product_id, group, option),
                                     (option.name, option.name_ar))
    return {option_id: pair for option_id, pair in names.items() if option_id in wanted}


def item_payload(item, available):
    """The dict an adapter's menu_request takes for one mapped product."""
    mapping, product = item.mapping, item.product
    payload = {"local_product_id": product.local_product_id, "platform_product_id": mapping.platform_product_id,
               "name": product.name, "name_ar": product.name_ar, "price": mapping.product_price,
               "available": available, "category": product.category, "description": product.description,
               "description_ar": product.description_ar, "image_url": product.image_url}
    if item.groups:
        payload["modifier_groups"] = [{
            "id": f"{mapping.platform_product_id}-g{group.sort_order}", "name": group.name, "name_ar": group.name_ar,
            "min": group.min_choices, "max": group.max_choices,
            "options": [{"id": option_platform_id(mapping.platform_product_id, group, option),
                         "name": option.name, "name_ar": option.name_ar,
                         "price": option.price_delta, "available": option.is_available} for option in options],
        } for group, options in item.groups]
    return payload


def item_problems(item):
    """Why a platform would refuse this item (then it is not sent)."""
    problems = []
    if not (item.mapping.platform_product_id or "").strip():
        problems.append(_("No platform product id."))
    if item.mapping.product_price is None or item.mapping.product_price < 0:
        problems.append(_("No valid price."))
    for group, options in item.groups:
        problems.extend(group_problems(group, options))
    return problems


# --------------------------------------------------------------------------- starting runs

class SyncRefused(MenuError):
    """A run cannot start now (another is running, the platform's rate limit, no base URL…)."""


def _blocking_run(integration, now):
    run = db.session.scalar(select(MenuSyncRun).where(
        MenuSyncRun.integration_config_id == integration.id,
        MenuSyncRun.status.not_in(MenuSyncRun.FINISHED)).order_by(MenuSyncRun.created_at.desc()).limit(1))
    if run is not None and now - run.created_at > STALE_AFTER:
        _finish(run, integration, SyncRunStatus.FAILED, _("The platform never answered; the run was given up."),
                now=now)
        return None
    return run


def start_sync(company, integration, mode="full", user=None, now=None):
    """Queue a sync of the mapped catalog to one platform; returns the run (flushed, not committed)."""
    now = now or utcnow()
    if mode not in ("full", "diff"):
        raise SyncRefused(_("Choose a full sync or changes only."), "mode")
    if not integration.is_enabled:
        raise SyncRefused(_("This platform is switched off in Integrations."))
    adapter = adapter_for(integration.platform)
    if _blocking_run(integration, now) is not None:
        raise SyncRefused(_("A sync or import of %(platform)s is already running.", platform=adapter.display_name))
    interval = adapter.menu_sync_min_interval
    if interval is not None:
        last = db.session.scalar(select(MenuSyncRun.created_at).where(
            MenuSyncRun.integration_config_id == integration.id, MenuSyncRun.kind == "SYNC")
            .order_by(MenuSyncRun.created_at.desc()).limit(1))
        if last is not None and now - last < interval:
            wait = int((interval - (now - last)).total_seconds()) + 1
            raise SyncRefused(_("%(platform)s accepts one menu sync every %(minutes)s minutes. Try again in "
                                "%(seconds)s seconds.", platform=adapter.display_name,
                                minutes=int(interval.total_seconds() // 60), seconds=wait))
    run = MenuSyncRun(company_id=company.id, integration_config_id=integration.id, platform=integration.platform,
                      kind="SYNC", mode=mode, status=SyncRunStatus.QUEUED, created_by=getattr(user, "id", None),
                      report=[])
    db.session.add(run)
    db.session.flush()
    defer("menu_sync", run_id=run.id, company_id=company.id)
    return run


def start_import(company, integration, user=None, now=None):
    """Queue "Import from platform" where the platform can hand out its menu."""
    now = now or utcnow()
    adapter = adapter_for(integration.platform)
    if not adapter.capabilities.menu_import:
        raise SyncRefused(adapter.menu_import_note)
    if not integration.is_enabled:
        raise SyncRefused(_("This platform is switched off in Integrations."))
    if _blocking_run(integration, now) is not None:
        raise SyncRefused(_("A sync or import of %(platform)s is already running.", platform=adapter.display_name))
    run = MenuSyncRun(company_id=company.id, integration_config_id=integration.id, platform=integration.platform,
                      kind="IMPORT", mode="full", status=SyncRunStatus.QUEUED, created_by=getattr(user, "id", None),
                      report=[])
    db.session.add(run)
    db.session.flush()
    defer("menu_import", run_id=run.id, company_id=company.id)
    return run


# --------------------------------------------------------------------------- the job

def _claim(run_id, kind):
    run = db.session.scalar(select(MenuSyncRun).where(MenuSyncRun.id == run_id).with_for_update(skip_locked=True))
    if run is None or run.kind != kind or run.status != SyncRunStatus.QUEUED:
        db.session.rollback()
        return None
    return run


def run_sync(run_id, company_id, now=None):
    """The worker's part of a sync: check items in batches, then queue the catalog call."""
    from ..tenancy import use_company

    use_company(company_id)
    run = _claim(run_id, "SYNC")
    if run is None:
        return None
    integration = db.session.get(IntegrationConfig, run.integration_config_id)
    company = db.session.get(Company, run.company_id)
    adapter = adapter_for(integration.platform)
    now = now or utcnow()
    run.status, run.started_at = SyncRunStatus.PREPARING, now
    integration.sync_status = SyncStatus.in_progress
    items = load_items(integration)
    run.total_items = len(items)
    db.session.commit()

    sold = sold_out_ids(now)
    local_moment = now.astimezone(ZoneInfo(company.timezone))
    to_send, report = [], []
    for start in range(0, len(items), BATCH):
        for item in items[start:start + BATCH]:
            available = should_show(item.product.is_available, item.mapping, item.product.id in sold, local_moment)
            payload = item_payload(item, available)
            digest = fingerprint(payload)
            problems = item_problems(item)
            if problems:
                item.mapping.sync_status, item.mapping.sync_errors = SyncStatus.failed, problems
                item.mapping.synced_hash = None
                report.extend({"local_product_id": item.product.local_product_id, "name": item.product.name,
                               "severity": "error", "problem": problem} for problem in problems)
                run.failed_items += 1
            elif (run.mode == "diff" and item.mapping.synced_hash == digest
                  and item.mapping.sync_status == SyncStatus.completed):
                run.skipped_items += 1
            else:
                to_send.append((item, payload, digest))
        run.processed_items = min(len(items), start + BATCH)
        db.session.commit()   # progress is visible to the page between batches

    run.report = report
    limit = adapter.capabilities.max_catalog_items
    if limit and len(to_send) > limit:
        return _finish(run, integration, SyncRunStatus.FAILED,
                       _("%(platform)s accepts at most %(limit)s items in one catalog; this one has %(count)s.",
                         platform=adapter.display_name, limit=limit, count=len(to_send)), now=now, commit=True)
    if not to_send:
        status = SyncRunStatus.FAILED if run.failed_items and not run.skipped_items else (
            SyncRunStatus.PARTIAL if run.failed_items else SyncRunStatus.COMPLETED)
        message = (_("Nothing to send: no item is mapped on this platform.") if not items else
                   _("Nothing changed since the last sync.") if not run.failed_items else
                   _("No item could be sent."))
        return _finish(run, integration, status, message, now=now, commit=True)
    try:
        outbound = adapter.menu_request([payload for _, payload, _ in to_send], store_id=integration.store_id,
                                        merchant_id=integration.merchant_id, currency=company.currency,
                                        diff=run.mode == "diff")
    except ValueError as error:
        return _finish(run, integration, SyncRunStatus.FAILED,
                       _("The catalog could not be built: %(error)s", error=str(error)),
                       now=now, commit=True)
    for item, _payload, digest in to_send:
        item.mapping.sync_status, item.mapping.synced_hash = SyncStatus.in_progress, digest
    run.sent_items = len(to_send)
    run.status = SyncRunStatus.SENDING
    call = queue_call(integration, outbound, "MENU_SYNC", user_id=run.created_by)
    db.session.flush()
    run.platform_call_id = call.id
    if call.status == CallStatus.DEAD:
        _finish(run, integration, SyncRunStatus.FAILED, call.error, now=now)
    db.session.commit()
    return run


def on_call_finished(call):
    """The menu sync run that sent a catalog learns how its call went (hook, inside the call's transaction)."""
    if call.action != "MENU_SYNC":
        return
    run = db.session.scalar(select(MenuSyncRun).where(MenuSyncRun.platform_call_id == call.id))
    if run is None or run.is_finished:
        return
    integration = db.session.get(IntegrationConfig, run.integration_config_id)
    adapter = adapter_for(integration.platform)
    if call.status == CallStatus.SUCCEEDED:
        try:
            answer = json.loads(call.response_body or "null")
        except ValueError:
            answer = None
        run.platform_request_id = adapter.catalog_request_id(answer)
        if adapter.capabilities.catalog_callback:
            run.status = SyncRunStatus.WAITING
            run.message = _("Sent. %(platform)s imports catalogs in the background and reports back.",
                            platform=adapter.display_name)
        else:
            _finish(run, integration, SyncRunStatus.COMPLETED, None)
    elif call.status == CallStatus.DEAD:
        _finish(run, integration, SyncRunStatus.FAILED,
                _("The platform refused the catalog: %(error)s", error=call.error or ""))
    else:
        run.message = _("The platform did not take the catalog (%(error)s). Trying again: attempt %(next)s of "
                        "%(max)s.", error=(call.error or "")[:200], next=call.attempts + 1, max=call.max_attempts)


def _finish(run, integration, status, message, now=None, item_failures=None, item_warnings=None,
            platform_status=None, commit=False):
    """Close a run: the sent items' statuses, the run's counts, the integration's sync status."""
    now = now or utcnow()
    item_failures, item_warnings = item_failures or {}, item_warnings or {}
    sent = db.session.scalars(select(MenuMapping).where(MenuMapping.integration_config_id == integration.id,
                                                        MenuMapping.sync_status == SyncStatus.in_progress)).all()
    products = {product.local_product_id: product.name for product in db.session.scalars(
        select(Product).where(Product.local_product_id.in_([mapping.local_product_id for mapping in sent])))} \
        if sent else {}
    report = list(run.report or [])
    failed_now = 0
    for mapping in sent:
        problems = item_failures.get(mapping.platform_product_id, [])
        warnings = item_warnings.get(mapping.platform_product_id, [])
        if status == SyncRunStatus.FAILED or problems:
            mapping.sync_status = SyncStatus.failed
            mapping.sync_errors = (problems or [message or _("The sync failed.")])[:20]
            mapping.synced_hash = None
            failed_now += 1
            report.extend({"local_product_id": mapping.local_product_id,
                           "name": products.get(mapping.local_product_id, mapping.product_name),
                           "severity": "error", "problem": problem} for problem in problems)
        else:
            mapping.sync_status, mapping.last_sync_at = SyncStatus.completed, now
            mapping.sync_errors = warnings[:20] or None
        for warning in warnings:
            report.append({"local_product_id": mapping.local_product_id,
                           "name": products.get(mapping.local_product_id, mapping.product_name),
                           "severity": "warning", "problem": warning})
    run.failed_items += failed_now
    run.warning_count = sum(1 for entry in report if entry.get("severity") == "warning")
    if status == SyncRunStatus.COMPLETED and (run.failed_items or failed_now):
        status = SyncRunStatus.PARTIAL
    run.status, run.finished_at, run.report = status, now, report[:2000]
    if message is not None:
        run.message = message
    if platform_status is not None:
        run.platform_status = str(platform_status)[:40]
    if run.kind == "SYNC":
        integration.last_sync_at = now
        integration.sync_status = SyncStatus.failed if status == SyncRunStatus.FAILED else SyncStatus.completed
    if commit:
        db.session.commit()
    return run


# --------------------------------------------------------------------------- the platforms' reports

def apply_catalog_event(integration, event, now=None):
    """A catalog webhook (import report, or DH asking for our menu); returns a note for the webhook log."""
    now = now or utcnow()
    details = event.details or {}
    if event.event_type == "MENU_IMPORT_REQUEST":
        company = db.session.get(Company, integration.company_id)
        try:
            run = start_sync(company, integration, "full", now=now)
        except SyncRefused as error:
            return f"menu requested; not started: {error.message}"
        return f"menu requested; sync {run.id} queued"
    request_id = details.get("request_id") or details.get("catalog_import_id")
    run = None
    if request_id:
        run = db.session.scalar(select(MenuSyncRun).where(MenuSyncRun.integration_config_id == integration.id,
                                                          MenuSyncRun.platform_request_id == str(request_id)))
    if run is None:
        run = db.session.scalar(select(MenuSyncRun).where(
            MenuSyncRun.integration_config_id == integration.id, MenuSyncRun.kind == "SYNC",
            MenuSyncRun.status.in_((SyncRunStatus.SENDING, SyncRunStatus.WAITING)))
            .order_by(MenuSyncRun.created_at.desc()).limit(1))
    status = str(details.get("status") or "").strip()
    key = status.lower()
    failures, warnings = _warnings(details.get("warnings") or [])
    if run is None:   # nothing of ours is waiting: record what the platform says on the integration
        integration.last_sync_at = now
        if key in OK_STATUSES:
            integration.sync_status = SyncStatus.completed
        elif key in FAILED_STATUSES or key == "done_with_errors":
            integration.sync_status = SyncStatus.failed
        elif key == "in_progress":
            integration.sync_status = SyncStatus.in_progress
        return f"catalog status {status or '?'}; no sync run was waiting for it"
    if run.is_finished:
        return f"catalog status {status or '?'} for run {run.id}, already finished"
    run.platform_status = status[:40] or None
    platform_message = details.get("message")
    if key in OK_STATUSES:
        _finish(run, integration, SyncRunStatus.COMPLETED, _("%(platform)s imported the menu.",
                                                 platform=adapter_for(integration.platform).display_name)
                if not failures and not warnings else _("Imported, with the platform's remarks below."),
                now=now, item_failures=failures, item_warnings=warnings, platform_status=status)
    elif key == "done_with_errors":
        _finish(run, integration, SyncRunStatus.PARTIAL, _("The platform imported the menu with errors: %(message)s",
                                               message=platform_message or _("no details given")),
                now=now, item_failures=failures, item_warnings=warnings, platform_status=status)
    elif key in FAILED_STATUSES:
        _finish(run, integration, SyncRunStatus.FAILED, _("The platform could not import the menu: %(message)s",
                                              message=platform_message or _("no details given")),
                now=now, item_failures=failures, item_warnings=warnings, platform_status=status)
    else:
        run.status = SyncRunStatus.WAITING
        run.message = _("The platform reports: %(status)s.", status=status or "?")
    return f"catalog status {status or '?'} applied to run {run.id}"


def _warnings(entries):
    """Careem's warnings[] by entity id: HIGH severity fails the item, LOW/MEDIUM are remarks."""
    failures, warnings = {}, {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        entity = str(entry.get("entity_id") or "")
        severity = str(entry.get("severity") or "LOW").upper()
        text = f"{severity}: {entry.get('description') or entry.get('entity_name') or ''}".strip()[:500]
        (failures if severity == "HIGH" else warnings).setdefault(entity, []).append(text)
    return failures, warnings


# --------------------------------------------------------------------------- import from a platform

def run_import(run_id, company_id):
    """Read the platform's menu: map what matches our products, keep the rest for suggestions."""
    from ..tenancy import use_company

    use_company(company_id)
    run = _claim(run_id, "IMPORT")
    if run is None:
        return None
    integration = db.session.get(IntegrationConfig, run.integration_config_id)
    adapter = adapter_for(integration.platform)
    now = utcnow()
    run.status, run.started_at = SyncRunStatus.SENDING, now
    db.session.commit()
    outbound = adapter.menu_import_request(store_id=integration.store_id, merchant_id=integration.merchant_id)
    base_url = (integration.base_url or "").rstrip("/")
    if outbound is None or not base_url:
        return _finish(run, integration, SyncRunStatus.FAILED, adapter.menu_import_note if outbound is None else
                       _("No platform base URL is configured for this integration."), commit=True)
    call = PlatformCall(company_id=integration.company_id, integration_config_id=integration.id,
                        action="MENU_IMPORT", method=outbound.method, url=f"{base_url}{outbound.path}"[:1000],
                        attempts=1, max_attempts=1, user_id=run.created_by)
    db.session.add(call)
    try:
        response = requests.request(outbound.method, call.url, headers=request_headers(integration), timeout=TIMEOUT)
        call.response_status, call.response_body = response.status_code, response.text[:4000]
        if response.status_code >= 300:
            raise ValueError(f"HTTP {response.status_code}: {response.text[:300]}")
        items = adapter.parse_menu_import(response.json())
    except (requests.RequestException, ValueError, PayloadError) as error:
        message = getattr(error, "message", None) or str(error)
        call.status, call.error, call.completed_at = CallStatus.DEAD, message[:1000], utcnow()
        db.session.flush()
        run.platform_call_id = call.id
        return _finish(run, integration, SyncRunStatus.FAILED, _("The platform's menu could not be read: %(error)s",
                                                     error=message[:300]), commit=True)
    call.status, call.completed_at = CallStatus.SUCCEEDED, utcnow()
    db.session.flush()
    run.platform_call_id = call.id
    run.status, run.total_items = SyncRunStatus.PREPARING, len(items)
    mapped, kept = import_items(integration, items, now)
    run.processed_items = run.sent_items = len(items)
    run.message = _("%(count)s products read: %(mapped)s mapped to our products, %(kept)s waiting for you under "
                    "“Not mapped yet”.", count=len(items), mapped=mapped, kept=kept)
    run.status, run.finished_at = SyncRunStatus.COMPLETED, utcnow()
    db.session.commit()
    return run


def import_items(integration, items, now=None):
    """Map imported items onto products with the same id (PLU) or name; keep the rest; returns counts."""
    now = now or utcnow()
    products = db.session.scalars(select(Product).where(Product.deleted_at.is_(None))).all()
    by_id = {product.local_product_id: product for product in products}
    by_name = {}
    for product in products:
        by_name.setdefault(product.name.strip().casefold(), product)
    mapped_here = {mapping.local_product_id: mapping for mapping in db.session.scalars(
        select(MenuMapping).where(MenuMapping.integration_config_id == integration.id))}
    taken = {mapping.platform_product_id for mapping in mapped_here.values()}
    mapped = kept = 0
    for item in items:
        product = by_id.get(item.get("local_product_id") or "") or by_name.get(item["name"].strip().casefold())
        if item["platform_product_id"] in taken:
            continue
        if product is not None and product.local_product_id not in mapped_here:
            mapping = MenuMapping(company_id=integration.company_id, integration_config_id=integration.id,
                                  platform=integration.platform, local_product_id=product.local_product_id,
                                  platform_product_id=item["platform_product_id"], product_name=product.name,
                                  is_available=True)
            if item.get("price") is not None and item["price"] != product.price:
                mapping.product_price, mapping.price_overridden = item["price"], True
            db.session.add(mapping)
            mapped_here[product.local_product_id] = mapping
            taken.add(item["platform_product_id"])
            mapped += 1
            continue
        _keep_platform_product(integration, item, "IMPORT", now)
        kept += 1
    db.session.flush()
    return mapped, kept


def _keep_platform_product(integration, item, source, now):
    from sqlalchemy.dialects.postgresql import insert
    db.session.execute(insert(PlatformProduct).values(
        company_id=integration.company_id, integration_config_id=integration.id, platform=integration.platform,
        platform_product_id=item["platform_product_id"], name=item["name"][:300], price=item.get("price"),
        category=(item.get("category") or None) and item["category"][:100], source=source, last_seen_at=now,
    ).on_conflict_do_update(constraint="uq_platform_products_product", set_={
        "name": item["name"][:300], "price": item.get("price"), "last_seen_at": now, "dismissed_at": None}))


# --------------------------------------------------------------------------- pages

def latest_runs(limit=20, integration_id=None):
    query = select(MenuSyncRun).order_by(MenuSyncRun.created_at.desc()).limit(limit)
    if integration_id is not None:
        query = query.where(MenuSyncRun.integration_config_id == integration_id)
    return db.session.scalars(query).all()


def sync_overview(integrations):
    """{integration id: (mapped, failed, last run)} for the sync page."""
    from sqlalchemy import func
    counts = {row[0]: (row[1], row[2]) for row in db.session.execute(
        select(MenuMapping.integration_config_id, func.count(),
               func.count().filter(MenuMapping.sync_status == SyncStatus.failed))
        .join(Product, and_(Product.company_id == MenuMapping.company_id,
                            Product.local_product_id == MenuMapping.local_product_id))
        .where(Product.deleted_at.is_(None)).group_by(MenuMapping.integration_config_id))}
    overview = {}
    for integration in integrations:
        runs = latest_runs(1, integration.id)
        mapped, failed = counts.get(integration.id, (0, 0))
        overview[integration.id] = (mapped, failed, runs[0] if runs else None)
    return overview


def recently_finished(run, minutes=10):
    """A run that ended in the last few minutes (its result stays on the sync page's card)."""
    return run.finished_at is not None and utcnow() - run.finished_at < timedelta(minutes=minutes)


def progress_percent(run):
    """How far a run is, for the progress bar (checking items is 80 %, the platform's part the rest)."""
    if run.is_finished:
        return 100
    if run.status == SyncRunStatus.QUEUED:
        return 2
    if run.status == SyncRunStatus.PREPARING:
        return 5 + int(75 * run.processed_items / run.total_items) if run.total_items else 5
    return 85 if run.status == SyncRunStatus.SENDING else 92


def stop_waiting(run, user=None):
    """A person gives up waiting for a platform's report: the run fails, its items can be synced again."""
    integration = db.session.get(IntegrationConfig, run.integration_config_id)
    if run.is_finished:
        return run
    db.session.execute(update(PlatformCall).where(PlatformCall.id == run.platform_call_id,
                                                  PlatformCall.status.in_((CallStatus.QUEUED, CallStatus.FAILED)))
                       .values(status=CallStatus.DEAD, error="Stopped by a person", completed_at=utcnow()))
    return _finish(run, integration, SyncRunStatus.FAILED, _("Stopped before the platform reported back."))
