"""Receiving platform webhooks: store first, verify, parse, upsert idempotently, answer fast.

1. The integration named in the URL is resolved through tenancy.resolve_integration (no session).
2. The raw payload, redacted headers and source IP are committed to webhook_logs before anything
   else can fail.
3. The signature is checked the platform's way; the body is parsed by the platform's adapter.
4. The order is upserted on (company_id, platform, platform_order_id): duplicates, also concurrent
   ones, find the existing row. Status events never move an order backwards.
5. A processing failure is kept on the log row and retried by the worker with backoff and jitter.
"""
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert as core_insert, select, text, update

from ..crypto import SecretError, decrypt_secret
from ..extensions import db
from ..queue import defer
from ..models import (Company, DeliveryOrder, IntegrationConfig, OrderStatus, OrderStatusHistory, Product,
                      WebhookLog)
from ..models import WebhookOutcome as Outcome
from ..orders.lifecycle import TransitionRefused, apply_status, can_move
from ..platforms import adapter_for
from ..platforms.base import ParseContext, SignatureError, WebhookError
from ..platforms.parsing import fit_event
from ..tenancy import resolve_integration, store_unclaimed_webhook, unfinished_webhooks, use_company
from .bodies import clean_text, read_body

SECRET_HEADERS = {"authorization", "x-careem-api-key", "x-signature", "x-api-key", "cookie", "proxy-authorization",
                  "x-server-authorization-hmac-sha256"}
SIGNATURE_HEADERS = ("authorization", "x-careem-api-key", "x-signature", "x-server-authorization-hmac-sha256")
NOT_FOUND = {"error": "not found"}


@dataclass
class WebhookResponse:
    status_code: int
    body: dict
    headers: dict = field(default_factory=dict)


# A suspended company's platforms are told to come back later: their retries land once it is reactivated.
SUSPENDED_RETRY_AFTER_SECONDS = 600


def redact_headers(headers):
    """Headers as stored: every credential-bearing header replaced by its length."""
    kept = {}
    for name, value in headers.items():
        kept[clean_text(name)] = (f"[redacted {len(value)} chars]" if name.lower() in SECRET_HEADERS
                                  else clean_text(value)[:500])
    return kept


def _ms_since(started):
    return int((time.perf_counter() - started) * 1000)


def receive_webhook(platform_name, integration_id, subpath, raw_body, headers, remote_addr):
    """Handle one inbound webhook; returns what to answer."""
    started = time.perf_counter()
    try:
        adapter = adapter_for(platform_name)
    except LookupError:
        return WebhookResponse(404, NOT_FOUND)
    try:
        integration_uuid = uuid.UUID(integration_id)
    except ValueError:
        integration_uuid = None
    body = read_body(raw_body)
    log_values = {"platform": adapter.platform.value, "event_type": "unknown", "payload": body.payload,
                  "raw_body": body.raw, "headers": redact_headers(headers), "ip_address": remote_addr,
                  "request_path": clean_text(subpath)[:500] or None}

    resolved = resolve_integration(integration_uuid) if integration_uuid else None
    if resolved is None or resolved.platform != adapter.platform.value or not resolved.is_enabled:
        if resolved is not None:  # a known company: its admins see what was refused and why
            use_company(resolved.company_id)
            store_log(log_values | {"outcome": Outcome.UNKNOWN_INTEGRATION, "status_code": 404,
                                     "is_processed": True, "error_message": "integration disabled or wrong platform",
                                     "integration_config_id": resolved.id, "company_id": resolved.company_id})
        else:
            store_unclaimed_webhook(log_values | {
                "payload": None if body.payload is None else json.dumps(body.payload),
                "headers": json.dumps(log_values["headers"]),
                "error_message": "no such integration"})
        db.session.commit()
        return WebhookResponse(404, NOT_FOUND)

    use_company(resolved.company_id)
    company = db.session.get(Company, resolved.company_id)
    if company is None or company.deleted_at is not None or not company.is_active:
        return _refuse_inactive_company(company, resolved, log_values)
    integration = db.session.get(IntegrationConfig, resolved.id)
    refused = _refusal(adapter, integration, headers, raw_body)
    # Stored as RECEIVED only once authentic: a RECEIVED row the portal stopped on is safe to process later.
    log = store_log(log_values | {"integration_config_id": resolved.id, "company_id": resolved.company_id,
                                   "signature": _signature_of(headers),
                                   "outcome": Outcome.UNAUTHORIZED if refused else Outcome.RECEIVED})
    db.session.commit()  # the payload is safe before parsing or processing can fail
    if refused:
        return finish_log(log, started, Outcome.UNAUTHORIZED, 401, {"error": "unauthorized"}, refused)
    if body.problem:
        return finish_log(log, started, Outcome.INVALID, 400, {"error": body.problem}, body.problem)
    return process_log(log, integration, adapter, body.payload, started=started)


def _refuse_inactive_company(company, resolved, log_values):
    """Suspended: 503 with Retry-After (nothing becomes an order; the platform retries). Deleted: 410.

    The payload is kept either way, so an operator can see what arrived while the company was off.
    """
    deleted = company is None or company.deleted_at is not None
    status = 410 if deleted else 503
    store_log(log_values | {"outcome": Outcome.IGNORED, "status_code": status, "is_processed": True,
                             "error_message": "company deleted" if deleted else
                             "company suspended: answered 503 so the platform retries later",
                             "integration_config_id": resolved.id, "company_id": resolved.company_id})
    db.session.commit()
    if deleted:
        return WebhookResponse(410, {"error": "gone"})
    return WebhookResponse(503, {"error": "temporarily unavailable"},
                           {"Retry-After": str(SUSPENDED_RETRY_AFTER_SECONDS)})


def _refusal(adapter, integration, headers, raw_body):
    """Why the request is not authentic for the integration, or None when it is."""
    try:
        secret = decrypt_secret(integration.company_id, integration.webhook_secret)
        if not secret:
            raise SignatureError("no webhook secret is set for this integration")
        adapter.verify(headers, raw_body, secret)
    except (SignatureError, SecretError) as error:
        return str(error)
    except Exception as error:  # a header the check trips over is no proof of authenticity
        current_app.logger.exception("Webhook signature check failed")
        return f"the signature could not be checked ({type(error).__name__})"
    return None


def _signature_of(headers):
    for name in SIGNATURE_HEADERS:
        value = headers.get(name)
        if value:
            return clean_text(value)[-500:] if name != "x-careem-api-key" else None
    return None


@dataclass
class StoredLog:
    """What processing needs of a freshly stored webhook, without reading the row back."""

    id: uuid.UUID
    company_id: uuid.UUID
    integration_config_id: uuid.UUID | None
    request_path: str | None
    retry_count: int = 0
    max_retries: int = 3


def store_log(values):
    log_id = db.session.scalar(core_insert(WebhookLog).values(**values).returning(WebhookLog.id))
    return StoredLog(log_id, values["company_id"], values.get("integration_config_id"), values.get("request_path"))


# At most one health write a minute per integration, so busy integrations do not contend on its row.
_TOUCH_SUCCESS = text("UPDATE integration_configs SET last_success_at = now() WHERE id = :id"
                      " AND (last_success_at IS NULL OR last_success_at < now() - interval '1 minute')")
_TOUCH_ERROR = text("UPDATE integration_configs SET last_error_at = now(), last_error = :error WHERE id = :id"
                    " AND (last_error_at IS NULL OR last_error_at < now() - interval '1 minute')")


def _touch_health(log, outcome, error):
    if log.integration_config_id is None:
        return
    if outcome in (Outcome.PROCESSED, Outcome.DUPLICATE, Outcome.IGNORED):
        db.session.execute(_TOUCH_SUCCESS, {"id": log.integration_config_id})
    elif outcome in (Outcome.UNAUTHORIZED, Outcome.INVALID, Outcome.DEAD):
        db.session.execute(_TOUCH_ERROR, {"id": log.integration_config_id,
                                          "error": f"Webhook {outcome.lower()}: {error or ''}"[:1000]})


def finish_log(log, started, outcome, status_code, body, error=None, event=None, order_id=None, next_retry_at=None):
    """Record the outcome on the log row (one UPDATE by id) and commit; returns the answer for the platform."""
    values = {"outcome": outcome, "status_code": status_code, "response": body, "error_message": error,
              "is_processed": outcome in (Outcome.PROCESSED, Outcome.DUPLICATE, Outcome.IGNORED, Outcome.INVALID,
                                          Outcome.UNAUTHORIZED, Outcome.DEAD),
              "processed_at": datetime.now(timezone.utc), "next_retry_at": next_retry_at}
    if started:
        values["latency_ms"] = _ms_since(started)
    if event is not None:
        values["event_type"] = event.event_type[:100]
        values["event_id"] = (event.event_id or "")[:200] or None
    if order_id is not None:
        values["order_id"] = order_id
    db.session.execute(update(WebhookLog).where(WebhookLog.id == log.id).values(**values))
    _touch_health(log, outcome, error)
    db.session.commit()
    return WebhookResponse(status_code, body)


def process_log(log, integration, adapter, payload, started=None):
    """Parse a stored webhook and apply it; safe to run again for the same log (replay, retry)."""
    company = db.session.get(Company, integration.company_id)
    context = ParseContext(currency=company.currency, country_code=company.country_code,
                           path=log.request_path or "")
    try:
        event = fit_event(adapter.parse_webhook(payload, context))
    except WebhookError as error:
        return finish_log(log, started, Outcome.INVALID, error.status_code, {"error": error.message}, error.message)
    except Exception as error:  # parsing is pure: the same body fails the same way, so retrying is no use
        current_app.logger.exception("Webhook %s could not be read", log.id)
        message = f"the portal could not read this body ({type(error).__name__})"
        return finish_log(log, started, Outcome.INVALID, 422, {"error": message}, f"{message}: {error}"[:1000])
    try:
        outcome, order_id, message = _apply_event(event, integration, company, adapter, payload)
        db.session.flush()
    except Exception as error:  # any failure: keep the log, retry from it later
        db.session.rollback()
        current_app.logger.exception("Webhook %s failed", log.id)
        return schedule_retry(log, event, started, f"{type(error).__name__}: {error}")
    body = adapter.ack_body(event, order_id)
    return finish_log(log, started, outcome, 200, body, message, event=event, order_id=order_id)


def _apply_event(event, integration, company, adapter, payload):
    """Apply a parsed event; returns (outcome, order_id, message)."""
    if event.kind == "order":
        order_id, created = upsert_order(event.order, integration, company, payload)
        if created:
            _maybe_auto_accept(order_id, integration, adapter)
        outcome = Outcome.PROCESSED if created else Outcome.DUPLICATE
        return outcome, order_id, "; ".join(event.order.adjustments) or None
    if event.kind == "status":
        return _apply_status_event(event, integration, company, payload)
    if event.kind == "catalog":   # an import report for a menu sync run, or DH asking for our menu
        from ..menu.sync import apply_catalog_event
        return Outcome.PROCESSED, None, apply_catalog_event(integration, event)
    return Outcome.IGNORED, None, event.details.get("reason") or f"{event.event_type} needs no action"


def _apply_status_event(event, integration, company, payload):
    update = event.status
    order_id = db.session.scalar(select(DeliveryOrder.id).where(
        DeliveryOrder.company_id == integration.company_id, DeliveryOrder.platform == integration.platform,
        DeliveryOrder.platform_order_id == update.platform_order_id))
    if order_id is None:
        if event.order is None:
            raise LookupError(f"no order {update.platform_order_id} yet; the order event may still be coming")
        order_id, _ = upsert_order(event.order, integration, company, payload)
    order = db.session.scalar(select(DeliveryOrder).where(DeliveryOrder.id == order_id).with_for_update())
    if not can_move(order.status, update.status, source="PLATFORM"):
        return Outcome.DUPLICATE if order.status == update.status else Outcome.IGNORED, order_id, (
            f"order is already {order.status.value}; {update.status.value} would move it backwards")
    try:
        apply_status(order, update.status, source="PLATFORM", reason=update.reason, at=update.occurred_at)
    except TransitionRefused as error:
        return Outcome.IGNORED, order_id, str(error)
    return Outcome.PROCESSED, order_id, None


def _money(value, places):
    return Decimal(value or 0).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def order_money(unified, currency):
    """The money columns delivery_orders stores for a unified order, at the currency's precision."""
    places = get_currency_precision(currency)
    return {
        "subtotal": _money(unified.subtotal, places), "discount_amount": _money(unified.discount_amount, places),
        "platform_discount": _money(unified.discount_by_sponsor("PLATFORM"), places),
        "vendor_discount": _money(unified.discount_by_sponsor("VENDOR"), places),
        "third_party_discount": _money(unified.discount_by_sponsor("THIRD_PARTY"), places),
        "delivery_fee": _money(unified.delivery_fee, places), "service_fee": _money(unified.service_fee, places),
        "tax_amount": _money(unified.tax_amount, places), "tip_amount": _money(unified.tip_amount, places),
        "total_amount": _money(unified.total_amount, places),
        "collect_from_customer": (None if unified.collect_from_customer is None
                                  else _money(unified.collect_from_customer, places)),
    }


def order_row(unified, integration, company, payload=None):
    """The delivery_orders values of a unified order for this integration."""
    places = get_currency_precision(company.currency)
    money = order_money(unified, company.currency)
    total = money["total_amount"]
    rate = integration.commission_rate or Decimal(0)
    return {
        "company_id": integration.company_id, "integration_config_id": integration.id,
        "platform": integration.platform, "platform_order_id": unified.platform_order_id,
        "order_number": unified.order_number or unified.platform_order_id,
        "short_code": unified.short_code, "platform_token": unified.platform_token,
        "status": OrderStatus.PENDING, "order_type": unified.order_type, "is_test": unified.is_test,
        "currency": company.currency, **money,
        "commission_rate": rate, "commission_amount": _money(total * rate / 100, places),
        "payment_method": unified.payment_method, "customer_name": (unified.customer_name or None),
        "customer_phone": unified.customer_phone, "customer_email": unified.customer_email,
        "delivery_address": unified.delivery_address, "delivery_notes": unified.delivery_notes,
        "scheduled_delivery_at": unified.scheduled_at, "accept_by": unified.accept_by,
        "expected_at": unified.expected_at, "placed_at": unified.placed_at,
        "order_items": _named_items(unified.items, integration),
        "platform_data": payload,
    }


def _named_items(items, integration):
    """Items as stored, with the catalog's English and Arabic names (one query per order, and a few
    more when the items have modifiers)."""
    rows = [item_json(item) for item in items]
    _name_modifiers(items, rows, integration)
    local_ids = {row["local_product_id"] for row in rows if row["local_product_id"]}
    if not local_ids:
        return rows
    names = {product_id: (name, name_ar) for product_id, name, name_ar in db.session.execute(
        select(Product.local_product_id, Product.name, Product.name_ar).where(
            Product.company_id == integration.company_id, Product.local_product_id.in_(local_ids)))}
    renames = not adapter_for(integration.platform).sends_item_names
    for row in rows:
        name, name_ar = names.get(row["local_product_id"], (None, None))
        if name and (renames or not row["name"]):
            row["name"] = name
        if name_ar:
            row["name_ar"] = name_ar
    return rows


def _name_modifiers(items, rows, integration):
    """Modifiers (stored `rows`) named from the company's catalog options, matched by the id the
    option was pushed under: the English name when the platform sent none (Careem sends only the
    option's id), the Arabic one whenever the platform sent none, so each page shows its language."""
    pairs = []

    def walk(modifiers, stored):
        for modifier, row in zip(modifiers, stored, strict=True):
            pairs.append((modifier, row))
            walk(modifier.children, row["children"])

    for item, row in zip(items, rows, strict=True):
        walk(item.modifiers, row["modifiers"])
    ids = {modifier.local_id or modifier.platform_id for modifier, _row in pairs} - {None}
    if not ids:
        return
    from ..menu.sync import option_names
    names = option_names(integration, ids)
    for modifier, row in pairs:
        name, name_ar = names.get(modifier.local_id or modifier.platform_id, (None, None))
        if name and not modifier.named:
            row["name"] = name
        if name_ar and not row.get("name_ar"):
            row["name_ar"] = name_ar


def item_json(item):
    """One item of a unified order as delivery_orders.order_items stores it (before catalog names)."""
    def modifier_json(modifier):
        row = {"name": modifier.name, "quantity": modifier.quantity, "price": str(modifier.price),
               "platform_id": modifier.platform_id, "local_id": modifier.local_id,
               "children": [modifier_json(child) for child in modifier.children]}
        if modifier.name_ar:
            row["name_ar"] = modifier.name_ar
        return row
    return {"name": item.name, "quantity": item.quantity, "unit_price": str(item.unit_price),
            "line_total": str(item.line_total), "platform_product_id": item.platform_product_id,
            "local_product_id": item.local_product_id, "notes": item.notes,
            "modifiers": [modifier_json(modifier) for modifier in item.modifiers],
            "discounts": [{"name": d.name, "amount": str(d.amount), "sponsor": d.sponsor} for d in item.discounts]}


# Built once: SQLAlchemy cannot cache PostgreSQL's INSERT … ON CONFLICT, and compiling it for every
# webhook cost ~12 % of the receiver's CPU (bench/README.md).
_ORDER_COLUMNS = tuple(DeliveryOrder.__table__.columns[name] for name in (
    "company_id", "integration_config_id", "platform", "platform_order_id", "order_number", "short_code",
    "platform_token", "status", "order_type", "is_test", "currency", "subtotal", "discount_amount",
    "platform_discount", "vendor_discount", "third_party_discount", "delivery_fee", "service_fee", "tax_amount",
    "tip_amount", "total_amount", "collect_from_customer", "commission_rate", "commission_amount",
    "payment_method", "customer_name", "customer_phone", "customer_email", "delivery_address", "delivery_notes",
    "scheduled_delivery_at", "accept_by", "expected_at", "placed_at", "order_items", "platform_data"))
_UPSERT_ORDER = text(
    f"INSERT INTO delivery_orders ({', '.join(column.name for column in _ORDER_COLUMNS)})"
    f" VALUES ({', '.join(':' + column.name for column in _ORDER_COLUMNS)})"
    " ON CONFLICT ON CONSTRAINT uk_platform_order DO NOTHING RETURNING id"
).bindparams(*(bindparam(column.name, type_=column.type) for column in _ORDER_COLUMNS))


def _received_reason(unified):
    if not unified.adjustments:
        return "received from the platform"
    return f"received from the platform ({'; '.join(unified.adjustments)})"


def upsert_order(unified, integration, company, payload=None):
    """Insert the order unless it exists; returns (order id, created). Safe under concurrency."""
    values = order_row(unified, integration, company, payload)
    order_id = db.session.scalar(_UPSERT_ORDER, values)
    if order_id is not None:
        db.session.add(OrderStatusHistory(order_id=order_id, company_id=integration.company_id, to_status="PENDING",
                                          source="PLATFORM", reason=_received_reason(unified)))
        return order_id, True
    existing = db.session.scalar(select(DeliveryOrder.id).where(
        DeliveryOrder.company_id == integration.company_id, DeliveryOrder.platform == integration.platform,
        DeliveryOrder.platform_order_id == values["platform_order_id"]))
    return existing, False


def _maybe_auto_accept(order_id, integration, adapter):
    """Accept at once when the integration's auto-accept rule covers this order (never test orders)."""
    rule = integration.auto_accept or {}
    if not rule.get("enabled"):
        return
    order = db.session.scalar(select(DeliveryOrder).where(DeliveryOrder.id == order_id).with_for_update())
    if order.is_test:
        return
    if rule.get("max_total") not in (None, "") and order.total_amount > Decimal(str(rule["max_total"])):
        return
    from ..integrations.outbound import queue_status_push
    apply_status(order, OrderStatus.ACCEPTED, source="SYSTEM", reason="auto-accepted")
    queue_status_push(order, integration, OrderStatus.ACCEPTED,
                      preparation_minutes=int(rule.get("preparation_minutes") or 15))


def retry_delay(retry_count):
    """Exponential backoff with ±20 % jitter, capped at an hour."""
    base = current_app.config.get("WEBHOOK_RETRY_BASE_SECONDS", 30)
    delay = min(base * (2 ** retry_count), 3600)
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))


def schedule_retry(log, event, started, error):
    if log.retry_count >= log.max_retries:
        return finish_log(log, started, Outcome.DEAD, 202, {"status": "accepted"}, error, event=event)
    next_retry_at = datetime.now(timezone.utc) + retry_delay(log.retry_count)
    defer("retry_webhook", at=next_retry_at, log_id=log.id, company_id=log.company_id)
    # Stored and queued for retry: the platform need not send it again.
    return finish_log(log, started, Outcome.FAILED, 202, {"status": "accepted"}, error, event=event,
                   next_retry_at=next_retry_at)


# A webhook is processed within its request; one still RECEIVED this long after is one the portal
# stopped on (a restart, a crash) and will not finish by itself.
UNFINISHED_AFTER = timedelta(minutes=5)


def recover_unfinished_webhooks(now=None):
    """Hand the webhooks left RECEIVED to the retry job (each as a failure to retry now); returns how many."""
    now = now or datetime.now(timezone.utc)
    found = unfinished_webhooks(now - UNFINISHED_AFTER)
    db.session.commit()
    recovered = 0
    for log_id, company_id in found:
        use_company(company_id)
        marked = db.session.scalar(
            update(WebhookLog).where(WebhookLog.id == log_id, WebhookLog.outcome == Outcome.RECEIVED)
            .values(outcome=Outcome.FAILED, next_retry_at=now,
                    error_message="left unfinished: the portal stopped while processing it")
            .returning(WebhookLog.id))
        if marked is not None:  # not finished meanwhile
            defer("retry_webhook", at=now, log_id=log_id, company_id=company_id)
            recovered += 1
        db.session.commit()
    use_company(None)
    return recovered


def retry_webhook(log_id, company_id):
    """The worker's retry of a failed webhook (idempotent: a processed log is left alone)."""
    use_company(company_id)
    log = db.session.get(WebhookLog, log_id)
    if log is None or log.outcome != Outcome.FAILED:
        return None
    log.retry_count += 1
    db.session.commit()  # the attempt counts even if processing fails again
    return _reprocess(log)


def replay_webhook(log_id):
    """Process a stored webhook again on a person's request; idempotent like the first time."""
    log = db.session.get(WebhookLog, log_id)
    if log is None:
        raise LookupError("no such webhook")
    if log.outcome in (Outcome.UNAUTHORIZED, Outcome.UNKNOWN_INTEGRATION):
        raise ValueError(_l("This webhook was never authenticated, so it cannot be replayed."))
    if log.outcome == Outcome.DEAD:
        log.retry_count = 0  # a person gave it another full set of retries
        db.session.commit()
    return _reprocess(log)


# Webhooks of other channels (WhatsApp) share this log, its retries and its replay; their area
# registers how to process a stored one (register_tasks_and_hooks), so this module imports none of them.
CHANNEL_PROCESSORS = {}


def register_channel(channel, reprocess):
    """`reprocess(log)` processes a stored webhook of `channel` again and returns a WebhookResponse."""
    CHANNEL_PROCESSORS[channel] = reprocess


def _reprocess(log):
    if log.channel != "platform":
        return CHANNEL_PROCESSORS[log.channel](log)
    integration = db.session.get(IntegrationConfig, log.integration_config_id) if log.integration_config_id else None
    if integration is None:
        return finish_log(log, None, Outcome.DEAD, 410, {"error": "integration removed"},
                       "the integration no longer exists")
    payload = log.payload
    if payload is None:  # kept as bytes: read them again (they may be readable since a fix)
        body = read_body(bytes(log.raw_body or b""))
        if body.problem:
            return finish_log(log, None, Outcome.INVALID, 400, {"error": body.problem}, body.problem)
        payload = body.payload
    return process_log(log, integration, adapter_for(integration.platform), payload)


def prune_webhook_logs(keep_days=None):
    """Delete finished webhook logs older than the retention (days); returns how many went.

    One narrow cross-company statement: the migration's SECURITY DEFINER function, which never
    touches RECEIVED (unprocessed) or FAILED (waiting for a retry) logs.
    """
    if keep_days is None:
        keep_days = int(current_app.config.get("WEBHOOK_LOG_RETENTION_DAYS", 30))
    removed = db.session.scalar(text("SELECT prune_webhook_logs(:days)"), {"days": max(int(keep_days), 1)})
    db.session.commit()
    return removed or 0
