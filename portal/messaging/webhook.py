"""WhatsApp webhooks: Meta's verification GET, and status and message POSTs, stored first in the same
webhook log as the platforms' (same retries, same replay).

1. The connection named in the URL is resolved through tenancy.resolve_whatsapp_connection (no session).
2. The body is committed to webhook_logs before anything else can fail (channel 'whatsapp').
3. X-Hub-Signature-256 is checked over the exact bytes, in constant time: missing or wrong → 401, logged.
4. Statuses and inbound messages are applied under the connection's tenant; a failure is retried.
"""
import hmac
import json
import time
import uuid

from flask import current_app

from ..extensions import db
from ..models import Company, WebhookOutcome as Outcome, WhatsappConnection
from ..tenancy import resolve_whatsapp_connection, store_unclaimed_webhook, use_company
from ..webhooks.bodies import clean_text, read_body
from ..webhooks.services import (NOT_FOUND, SUSPENDED_RETRY_AFTER_SECONDS, WebhookResponse, finish_log,
                                 redact_headers, schedule_retry, store_log)
from . import services
from .provider import signature_ok

SIGNATURE_HEADER = "X-Hub-Signature-256"


def _connection(connection_id):
    try:
        connection_uuid = uuid.UUID(str(connection_id))
    except ValueError:
        return None
    return resolve_whatsapp_connection(connection_uuid)


def verify_subscription(connection_id, args):
    """Meta's GET: the bare challenge when hub.verify_token is the connection's, else 403."""
    resolved = _connection(connection_id)
    if resolved is None:
        return "not found", 404
    use_company(resolved.company_id)
    connection = db.session.get(WhatsappConnection, resolved.id)
    expected = services.secret(connection, "verify_token") if connection else None
    given = args.get("hub.verify_token", "")
    if args.get("hub.mode") != "subscribe" or not expected or \
            not hmac.compare_digest(expected.encode(), given.encode()):
        db.session.rollback()
        return "forbidden", 403
    db.session.rollback()
    return clean_text(args.get("hub.challenge", ""))[:200], 200


def _event_type(payload):
    """"whatsapp.statuses", "whatsapp.messages" (or both, joined) for the log's list."""
    kinds = {key for _field, value in services.changes_of(payload) for key in ("statuses", "messages", "errors")
             if value.get(key)}
    return "whatsapp." + ("+".join(sorted(kinds)) or "other")


def receive(connection_id, raw_body, headers, remote_addr):
    """One POST from Meta; returns the WebhookResponse to answer."""
    started = time.perf_counter()
    body = read_body(raw_body)
    values = {"channel": "whatsapp", "platform": None, "event_type": _event_type(body.payload)[:100],
              "payload": body.payload, "raw_body": body.raw, "headers": redact_headers(headers),
              "ip_address": remote_addr, "request_path": None}
    resolved = _connection(connection_id)
    if resolved is None:
        store_unclaimed_webhook(values | {
            "payload": None if body.payload is None else json.dumps(body.payload),
            "headers": json.dumps(values["headers"]), "error_message": "no such WhatsApp connection"})
        db.session.commit()
        return WebhookResponse(404, NOT_FOUND)
    use_company(resolved.company_id)
    values |= {"company_id": resolved.company_id, "whatsapp_connection_id": resolved.id}
    company = db.session.get(Company, resolved.company_id)
    if company is None or company.deleted_at is not None or not company.is_active or not resolved.is_enabled:
        return _refuse(company, resolved, values)
    connection = db.session.get(WhatsappConnection, resolved.id)
    app_secret = services.secret(connection, "app_secret")
    authentic = signature_ok(raw_body, headers.get(SIGNATURE_HEADER), app_secret)
    signature = clean_text(headers.get(SIGNATURE_HEADER) or "")[-500:] or None
    log = store_log(values | {"signature": signature,
                              "outcome": Outcome.RECEIVED if authentic else Outcome.UNAUTHORIZED})
    db.session.commit()  # the payload is safe before processing can fail
    if not authentic:
        why = "missing X-Hub-Signature-256" if not headers.get(SIGNATURE_HEADER) else "signature does not match"
        return finish_log(log, started, Outcome.UNAUTHORIZED, 401, {"error": "unauthorized"}, why)
    if body.problem:
        return finish_log(log, started, Outcome.INVALID, 400, {"error": body.problem}, body.problem)
    return process(log, connection, body.payload, started)


def _refuse(company, resolved, values):
    """Suspended company or disabled connection: 503 so Meta retries later; deleted: 410. Kept either way."""
    deleted = company is None or company.deleted_at is not None
    status = 410 if deleted else 503
    why = ("company deleted" if deleted else "connection disabled" if not resolved.is_enabled
           else "company suspended: answered 503 so Meta retries later")
    store_log(values | {"outcome": Outcome.IGNORED, "status_code": status, "is_processed": True, "error_message": why})
    db.session.commit()
    if deleted:
        return WebhookResponse(410, {"error": "gone"})
    return WebhookResponse(503, {"error": "temporarily unavailable"},
                           {"Retry-After": str(SUSPENDED_RETRY_AFTER_SECONDS)})


def process(log, connection, payload, started=None):
    """Apply a stored webhook (statuses forward only, inbound kept once): safe to run again."""
    try:
        statuses, inbound = services.apply_webhook(connection, payload)
        db.session.flush()
    except Exception as error:  # keep the log, retry from it later
        db.session.rollback()
        current_app.logger.exception("WhatsApp webhook %s failed", log.id)
        return schedule_retry(log, None, started, f"{type(error).__name__}: {error}")
    outcome = Outcome.PROCESSED if statuses or inbound else Outcome.IGNORED
    note = None if statuses or inbound else "nothing for this connection (unknown message ids or another number)"
    return finish_log(log, started, outcome, 200, {"status": "ok", "statuses": statuses, "messages": inbound}, note)


def reprocess(log):
    """The webhook log's retry and replay, for a stored WhatsApp webhook."""
    connection = db.session.get(WhatsappConnection, log.whatsapp_connection_id) if log.whatsapp_connection_id else None
    if connection is None:
        return finish_log(log, None, Outcome.DEAD, 410, {"error": "connection removed"},
                          "the WhatsApp connection no longer exists")
    payload = log.payload
    if payload is None:
        body = read_body(bytes(log.raw_body or b""))
        if body.problem:
            return finish_log(log, None, Outcome.INVALID, 400, {"error": body.problem}, body.problem)
        payload = body.payload
    return process(log, connection, payload)

