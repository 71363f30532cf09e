"""WhatsApp messages to customers: the connection, queueing an event's message once, sending it from the
worker with retries, and what status webhooks and customers' replies change.

Exactly once per event: a message row is keyed by `dedupe_key` (unique per company, e.g. the order
and the event), inserted with ON CONFLICT DO NOTHING, and only the insert that created it queues the
job; the job locks its row and sends only a PENDING message without a wamid. A duplicate webhook, a
replay or two workers therefore never send twice.
"""
import logging
import random
import re
import unicodedata
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from ..crypto import SecretError, decrypt_secret, encrypt_secret
from ..extensions import db
from ..models import (Company, CustomerLoyalty, LoyaltyTransaction, WhatsappConnection, WhatsappContact,
                      WhatsappInboundMessage, WhatsappMessage, WhatsappMessageStatus as Status, WhatsappMessageType,
                      WhatsappNotificationRule, WhatsappTemplate)
from ..hooks import whatsapp_message_received
from ..phones import normalize_phone
from ..queue import defer
from . import provider
from .events import FINAL, ORDER_EVENTS, RANK, NotificationEvent
from .templates import TemplateError, render

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)  # free-form text only this long after the customer last wrote
MAX_ATTEMPTS = 5
# A customer who writes one of these is opted out (or back in); compared without case, diacritics or spaces.
STOP_WORDS = {"stop", "unsubscribe", "إيقاف", "ايقاف", "توقف", "الغاء الاشتراك", "إلغاء الاشتراك", "الغاء"}
START_WORDS = {"start", "subscribe", "بدء", "ابدأ", "ابدا", "اشتراك", "اشترك"}
_ARABIC = re.compile(r"[\u0600-\u06ff]")


class WhatsappConnectionError(ValueError):
    """The connection could not be saved or used; the message says why."""


class SendRefused(ValueError):
    """A message the rules do not allow (opted out, outside the 24-hour window…); the message says why."""


# --- The connection ------------------------------------------------------------------------------

def current_connection():
    """The company's WhatsApp connection (row-level security keeps it to the tenant), or None."""
    return db.session.scalar(select(WhatsappConnection))


def save_connection(company_id, *, phone_number_id, token=None, app_secret=None, verify_token=None,
                    base_url=None, display_phone=None, is_enabled=True):
    """Create or update the company's connection; a blank secret keeps the stored one. The caller commits."""
    connection = current_connection()
    phone_number_id = (phone_number_id or "").strip()
    if not phone_number_id.isdigit() or len(phone_number_id) > 64:
        raise WhatsappConnectionError(_l("The phone number ID is the number Meta shows for it (digits only)."))
    base_url = (base_url or "").strip().rstrip("/") or "https://graph.facebook.com/v23.0"
    if not re.match(r"^https?://[^\s/]+", base_url) or len(base_url) > 500:
        raise WhatsappConnectionError(
            _l("The API address must start with https:// (or http:// for a local simulator)."))
    if connection is None:
        if not (token and app_secret and verify_token):
            raise WhatsappConnectionError(
                _l("The access token, app secret and verify token are all needed to connect."))
        connection = WhatsappConnection(id=uuid.uuid4(), company_id=company_id, access_token="", app_secret="",
                                        verify_token="")
        db.session.add(connection)
    connection.phone_number_id, connection.base_url = phone_number_id, base_url
    connection.display_phone = (display_phone or "").strip()[:32] or None
    connection.is_enabled = bool(is_enabled)
    for column, value in (("access_token", token), ("app_secret", app_secret), ("verify_token", verify_token)):
        if value:
            setattr(connection, column, encrypt_secret(company_id, value.strip()))
    db.session.flush()
    return connection


def secret(connection, column):
    """One of the connection's sealed secrets in clear (for sending or verifying), or None if unreadable."""
    try:
        return decrypt_secret(connection.company_id, getattr(connection, column)) or None
    except SecretError:
        return None


# --- Contacts: opt-out and the 24-hour window ------------------------------------------------------

def contact_for(phone):
    return db.session.scalar(select(WhatsappContact).where(WhatsappContact.phone == phone)) if phone else None


def is_opted_out(phone):
    contact = contact_for(phone)
    return contact is not None and contact.opted_out_at is not None


def window_open(phone, now=None):
    """True while the customer wrote within the last 24 hours (free-form text is allowed)."""
    contact = contact_for(phone)
    now = now or datetime.now(timezone.utc)
    return contact is not None and contact.last_inbound_at is not None and now - contact.last_inbound_at < WINDOW


def _keyword(text):
    folded = unicodedata.normalize("NFKD", text or "")
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch) and ch not in "\u0640")  # tatweel
    folded = folded.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
    return " ".join(re.sub(r"[^\w\s]", " ", folded).casefold().split())


_STOP = {_keyword(word) for word in STOP_WORDS}
_START = {_keyword(word) for word in START_WORDS}


def opt_keyword(text):
    """"stop", "start" or None for what a customer wrote."""
    word = _keyword(text)
    return "stop" if word in _STOP else "start" if word in _START else None


# --- Queueing one event's message once -------------------------------------------------------------

def _pick_template(name, language, fallback):
    """The APPROVED template `name` in `language`, else in `fallback`, else None."""
    rows = db.session.scalars(select(WhatsappTemplate).where(WhatsappTemplate.name == name,
                                                             WhatsappTemplate.status == "APPROVED")).all()
    by_language = {row.language: row for row in rows}
    return by_language.get(language) or by_language.get(fallback) or (rows[0] if rows else None)


def queue_event(event, *, phone, values, dedupe_key, order_id=None, company=None):
    """Record the message an event sends and queue its job; None when no rule asks for one, or when this
    event was already recorded (a duplicate). A message the rules refuse is recorded SKIPPED, with why."""
    rule = db.session.scalar(select(WhatsappNotificationRule).where(WhatsappNotificationRule.event == str(event),
                                                                    WhatsappNotificationRule.is_enabled.is_(True)))
    connection = current_connection()
    if rule is None or connection is None or not connection.is_enabled:
        return None
    company = company or db.session.get(Company, connection.company_id)
    values = {key: value for key, value in values.items() if value not in (None, "")}
    recipient = normalize_phone(phone, company.country_code or "SA")
    contact = contact_for(recipient)
    language = (contact.language if contact and contact.language else company.default_language) or "ar"
    template = _pick_template(rule.template_name, language, "en" if language == "ar" else "ar")
    values = {"restaurant": company.display_name(template.language if template else language), **values}
    skipped, content = None, ""
    if recipient is None:
        skipped = _l("No WhatsApp number is known for this customer.")
    elif contact is not None and contact.opted_out_at is not None:
        skipped = _l("The customer asked not to receive messages (STOP).")
    elif template is None:
        skipped = _l("No approved template named %(name)s.", name=rule.template_name)
    else:
        try:
            content = render(template.body, values)
        except TemplateError as error:
            skipped = str(error)
    used = {key: str(values[key]) for key in (template.variables if template else []) if key in values}
    row = {"id": uuid.uuid4(), "company_id": company.id, "recipient_phone": (recipient or str(phone or "—"))[:20],
           "message_content": content or (template.body if template else ""),
           "message_type": WhatsappMessageType.TEMPLATE, "template_id": template.id if template else None,
           "event": str(event), "order_id": order_id, "dedupe_key": dedupe_key[:200],
           "language": template.language if template else language, "variables": used,
           "status": Status.SKIPPED if skipped else Status.PENDING, "error_message": str(skipped) if skipped else None}
    inserted = db.session.execute(insert(WhatsappMessage).values(**row).on_conflict_do_nothing(
        index_elements=["company_id", "dedupe_key"]).returning(WhatsappMessage.id)).scalar()
    if inserted is None:
        return None
    if not skipped:
        defer("send_whatsapp_message", message_id=inserted, company_id=company.id)
    return db.session.get(WhatsappMessage, inserted)


def order_values(order, company):
    """The variables an order fills (its ETA in the company's time zone)."""
    eta = order.expected_at
    if eta is None and order.accepted_at is not None:
        eta = order.accepted_at + timedelta(minutes=order.preparation_minutes or company.preparation_minutes or 15)
    values = {"customer_name": (order.customer_name or "").split(" ")[0] or None, "order_number": order.order_number,
              "pickup_code": order.short_code, "tracking_note": order.delivery_notes}
    if eta is not None:
        values["eta"] = eta.astimezone(ZoneInfo(company.timezone)).strftime("%H:%M")
    return {key: value for key, value in values.items() if value}


def notify_order(order, event):
    """Queue the message an order event sends (once per order and event); the caller commits."""
    company = db.session.get(Company, order.company_id)
    return queue_event(event, phone=order.customer_phone, values=order_values(order, company),
                       dedupe_key=f"order:{order.id}:{event}", order_id=order.id, company=company)


def on_order_status(order, previous, target, **_):
    """The lifecycle's hook: an order event queues its message. A messaging failure never stops the order."""
    event = ORDER_EVENTS.get(target)
    if event is None or getattr(order, "is_test", False):
        return
    if event == NotificationEvent.ORDER_READY and order.order_type != "PICKUP":
        return  # "ready for pickup" is for the customer only when they collect it themselves
    try:
        with db.session.begin_nested():
            notify_order(order, event)
    except Exception:  # the order's change must survive a messaging bug
        logger.exception("WhatsApp hook failed for order %s (%s)", order.id, target)


def on_points_earned(member, points, order_id=None, **_):
    """Loyalty's hook: a delivered order's points queue their message (once per order)."""
    try:
        with db.session.begin_nested():
            queue_event(NotificationEvent.POINTS_EARNED, phone=member.customer_phone,
                        values={"points": str(points), "balance": str(member.current_points),
                                "customer_name": (member.customer_name or "").split(" ")[0] or None},
                        dedupe_key=f"points:{order_id or member.id}:{NotificationEvent.POINTS_EARNED}",
                        order_id=order_id)
    except Exception:
        logger.exception("WhatsApp hook failed for loyalty member %s", member.id)


def remind_expiring_points(now=None):
    """For the current tenant: each member whose points expire within WHATSAPP_EXPIRY_NOTICE_DAYS is told
    once per expiry date; returns how many messages were recorded."""
    now = now or datetime.now(timezone.utc)
    horizon = now + timedelta(days=current_app.config.get("WHATSAPP_EXPIRY_NOTICE_DAYS", 7))
    rows = db.session.execute(
        select(CustomerLoyalty, func.sum(LoyaltyTransaction.remaining_points), func.min(LoyaltyTransaction.expires_at))
        .join(LoyaltyTransaction, (LoyaltyTransaction.company_id == CustomerLoyalty.company_id)
              & (LoyaltyTransaction.customer_loyalty_id == CustomerLoyalty.id))
        .where(LoyaltyTransaction.remaining_points > 0, LoyaltyTransaction.expires_at > now,
               LoyaltyTransaction.expires_at <= horizon)
        .group_by(CustomerLoyalty.id)).all()
    recorded = 0
    for member, points, first_expiry in rows:
        company = db.session.get(Company, member.company_id)
        day = first_expiry.astimezone(ZoneInfo(company.timezone)).date()
        message = queue_event(NotificationEvent.POINTS_EXPIRING, phone=member.customer_phone, company=company,
                              values={"points": str(points), "balance": str(member.current_points),
                                      "expiry_date": day.isoformat(),
                                      "customer_name": (member.customer_name or "").split(" ")[0] or None},
                              dedupe_key=f"expiring:{member.id}:{day.isoformat()}")
        recorded += message is not None
    db.session.commit()
    return recorded


# --- Sending (the worker) --------------------------------------------------------------------------

def retry_delay(attempts):
    """Exponential backoff with ±20 % jitter, capped at ten minutes."""
    base = current_app.config.get("WHATSAPP_RETRY_BASE_SECONDS", 10)
    return timedelta(seconds=min(base * (2 ** (attempts - 1)), 600) * random.uniform(0.8, 1.2))


def send_message(message_id):
    """Send one queued message (the worker's job); a message already sent, final or locked is left alone."""
    message = db.session.scalar(select(WhatsappMessage).where(WhatsappMessage.id == message_id)
                                .with_for_update(skip_locked=True))
    if message is None or message.status != Status.PENDING or message.whatsapp_message_id:
        db.session.rollback()
        return None
    now = datetime.now(timezone.utc)
    connection = current_connection()
    refused = None
    if connection is None or not connection.is_enabled:
        refused = _l("WhatsApp is not connected.")
    elif is_opted_out(message.recipient_phone):
        refused = _l("The customer asked not to receive messages (STOP).")
    elif message.message_type == WhatsappMessageType.TEXT and not window_open(message.recipient_phone, now):
        refused = _l("Free-form text is only allowed within 24 hours of the customer's last message.")
    token = secret(connection, "access_token") if connection is not None and not refused else None
    if refused is None and token is None:
        refused = _l("The access token cannot be read: enter it again on the WhatsApp page.")
    if refused is not None:
        message.status, message.error_message, message.next_attempt_at = Status.SKIPPED, str(refused), None
        db.session.commit()
        return message
    message.attempts += 1
    result = provider.send(connection.base_url, connection.phone_number_id, token, _payload(message),
                           callback_data=str(message.id))
    if result.ok:
        message.whatsapp_message_id, message.status = result.wamid, Status.SENT
        message.sent_at, message.next_attempt_at, message.error_code, message.error_message = now, None, None, None
    elif result.retryable and message.attempts < current_app.config.get("WHATSAPP_MAX_ATTEMPTS", MAX_ATTEMPTS):
        message.error_code, message.error_message = result.error_code, result.error_message
        message.next_attempt_at = now + retry_delay(message.attempts)
        defer("send_whatsapp_message", at=message.next_attempt_at, message_id=message.id,
              company_id=message.company_id)
    else:
        message.status, message.failed_at, message.next_attempt_at = Status.FAILED, now, None
        message.error_code, message.error_message = result.error_code, result.error_message
        connection.last_error = f"{result.error_code}: {result.error_message}"[:1000]
    db.session.commit()
    return message


def _payload(message):
    if message.message_type == WhatsappMessageType.TEXT:
        return provider.text_payload(message.recipient_phone, message.message_content)
    template = db.session.get(WhatsappTemplate, message.template_id) if message.template_id else None
    name = template.name if template else "hello_world"
    return provider.template_payload(message.recipient_phone, name, message.language or "en", message.variables or {})


def send_test(company_id, phone, text=None, template=None, event=None):
    """A message to one number: a test from the connection page (a template any time, or text within the
    24-hour window), or with `event` a reply in a conversation."""
    company = db.session.get(Company, company_id)
    recipient = normalize_phone(phone, company.country_code or "SA")
    if recipient is None:
        raise SendRefused(_l("That is not a phone number WhatsApp can reach. Use the international form, +9665…"))
    if is_opted_out(recipient):
        raise SendRefused(_l("This customer asked not to receive messages (STOP)."))
    if template is None and not window_open(recipient):
        raise SendRefused(_l("Free-form text is only allowed within 24 hours of the customer's last message. "
                             "Send a template instead."))
    if template is not None:
        from .templates import sample_values
        values = {key: sample_values(template.language)[key] for key in template.variables}
        content = render(template.body, values)
    else:
        values, content = {}, (text or "").strip()[:4096]
        if not content:
            raise SendRefused(_l("Write the message."))
    message = WhatsappMessage(id=uuid.uuid4(), company_id=company_id, recipient_phone=recipient,
                              message_content=content, variables=values,
                              message_type=WhatsappMessageType.TEMPLATE if template else WhatsappMessageType.TEXT,
                              template_id=template.id if template else None,
                              language=template.language if template else None, event=event,
                              dedupe_key=f"test:{uuid.uuid4()}")
    db.session.add(message)
    db.session.flush()
    defer("send_whatsapp_message", message_id=message.id, company_id=company_id)
    return message


CONVERSATION = "CONVERSATION"  # the event of a reply in a conversation (the assistant's or staff's)


def send_text(company_id, phone, text):
    """Free-form text in a conversation (the Inbox, the assistant): only within 24 hours of their last message."""
    return send_test(company_id, phone, text=text, event=CONVERSATION)


# --- Webhooks: statuses and what customers write ---------------------------------------------------

def _at(timestamp):
    try:
        return datetime.fromtimestamp(int(str(timestamp)), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(timezone.utc)


STATUS_OF = {"sent": Status.SENT, "delivered": Status.DELIVERED, "read": Status.READ, "failed": Status.FAILED}


def apply_status(item):
    """One entry of `statuses[]`: move the message forward (never back); True when a message of ours was found."""
    wamid, status = str(item.get("id") or "")[:200], STATUS_OF.get(str(item.get("status") or "").lower())
    if not wamid or status is None:
        return False
    message = db.session.scalar(select(WhatsappMessage).where(WhatsappMessage.whatsapp_message_id == wamid)
                                .with_for_update())
    if message is None:
        message = _message_being_sent(item.get("biz_opaque_callback_data"), wamid)
    if message is None:
        return False
    at = _at(item.get("timestamp"))
    if status == Status.FAILED:
        if message.status in (Status.PENDING, Status.SENT):
            error = (item.get("errors") or [{}])[0] if isinstance(item.get("errors"), list) else {}
            error = error if isinstance(error, dict) else {}
            data = error.get("error_data")
            details = data.get("details") if isinstance(data, dict) else None
            message.status, message.failed_at = Status.FAILED, at
            message.error_code = str(error.get("code") or "")[:50] or None
            message.error_message = " ".join(str(part) for part in (error.get("title") or error.get("message"), details)
                                             if part)[:1000] or None
        return True
    if message.status in FINAL:
        return True
    # Fill the timestamps a status implies (read implies delivered), then move forward only.
    if message.sent_at is None:
        message.sent_at = at
    if status in (Status.DELIVERED, Status.READ) and message.delivered_at is None:
        message.delivered_at = at
    if status == Status.READ and message.read_at is None:
        message.read_at = at
    if RANK[status] > RANK.get(message.status, 0):
        message.status = status
    return True


def _message_being_sent(callback_data, wamid):
    """A status can overtake the send's own commit: the callback data names our message, and locking it waits
    for the sending transaction, after which the row carries the wamid (or it is not ours)."""
    try:
        message_id = uuid.UUID(str(callback_data or ""))
    except ValueError:
        return None
    message = db.session.scalar(select(WhatsappMessage).where(WhatsappMessage.id == message_id)
                                .with_for_update().execution_options(populate_existing=True))
    return message if message is not None and message.whatsapp_message_id == wamid else None


def record_inbound(connection, item, contacts):
    """One entry of `messages[]`: kept once (by wamid); the contact's window, language and opt-out follow."""
    sender = normalize_phone("+" + str(item.get("from") or "").lstrip("+"))
    wamid = str(item.get("id") or "")[:200]
    if sender is None or not wamid:
        return False
    kind = str(item.get("type") or "unknown")[:20]
    body = None
    if kind == "text" and isinstance(item.get("text"), dict):
        body = str(item["text"].get("body") or "")[:4096]
    elif kind == "button" and isinstance(item.get("button"), dict):
        body = str(item["button"].get("text") or "")[:4096]
    elif kind == "interactive" and isinstance(item.get("interactive"), dict):
        reply = item["interactive"].get("button_reply") or item["interactive"].get("list_reply") or {}
        body = str(reply.get("title") or "")[:4096] if isinstance(reply, dict) else None
    sent_at = _at(item.get("timestamp"))
    stored = db.session.execute(insert(WhatsappInboundMessage).values(
        id=uuid.uuid4(), company_id=connection.company_id, connection_id=connection.id, wamid=wamid,
        from_phone=sender, message_type=kind, body=body, payload=item, sent_at=sent_at,
    ).on_conflict_do_nothing(index_elements=["company_id", "wamid"]).returning(WhatsappInboundMessage.id)).scalar()
    if stored is None:
        return False  # a duplicate delivery: already counted
    contact = contact_for(sender)
    if contact is None:
        contact = WhatsappContact(id=uuid.uuid4(), company_id=connection.company_id, phone=sender)
        db.session.add(contact)
    profile = next((entry for entry in contacts if isinstance(entry, dict) and entry.get("wa_id") == item.get("from")),
                   None)
    if profile:
        contact.wa_id = str(profile.get("wa_id") or "")[:32] or contact.wa_id
        contact.profile_name = str((profile.get("profile") or {}).get("name") or "")[:200] or contact.profile_name
    if contact.last_inbound_at is None or sent_at > contact.last_inbound_at:
        contact.last_inbound_at = sent_at
    keyword = None
    if body:
        contact.language = "ar" if _ARABIC.search(body) else "en"
        keyword = opt_keyword(body)
        if keyword == "stop":
            contact.opted_out_at = sent_at
        elif keyword == "start":
            contact.opted_out_at, contact.opted_in_at = None, sent_at
    db.session.flush()
    if body and keyword is None:  # the assistant (and the Inbox) hear what the customer asked
        whatsapp_message_received.send(connection, phone=sender, text=body, wamid=wamid)
    return True


# Meta's template events, as the portal keeps them (others, e.g. FLAGGED or IN_APPEAL, leave the status).
TEMPLATE_EVENTS = {"APPROVED": "APPROVED", "REINSTATED": "APPROVED", "PENDING": "PENDING", "REJECTED": "REJECTED",
                   "PAUSED": "PAUSED", "DISABLED": "DISABLED", "LIMIT_EXCEEDED": "PAUSED", "LOCKED": "DISABLED",
                   "ARCHIVED": "DISABLED", "PENDING_DELETION": "DISABLED", "DELETED": "DISABLED"}


def apply_template_status(value):
    """A `message_template_status_update`: the template (by name and language) takes the status Meta reports."""
    status = TEMPLATE_EVENTS.get(str(value.get("event") or "").upper())
    name, language = str(value.get("message_template_name") or ""), str(value.get("message_template_language") or "")
    if status is None or not name:
        return 0
    template = db.session.scalar(select(WhatsappTemplate).where(WhatsappTemplate.name == name[:100],
                                                                WhatsappTemplate.language == language[:10]))
    if template is None:
        return 0
    template.status = status
    reason = str(value.get("reason") or "").strip()
    template.rejection_reason = reason[:500] if status != "APPROVED" and reason and reason.upper() != "NONE" else None
    if value.get("message_template_id"):
        template.external_template_id = str(value["message_template_id"])[:100]
    return 1


def _list(value):
    return value if isinstance(value, list) else []


def changes_of(payload):
    """(field, value) of every change in a webhook body, skipping whatever is not Meta's envelope shape."""
    for entry in _list(payload.get("entry") if isinstance(payload, dict) else None):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                yield change.get("field"), value


def apply_webhook(connection, payload):
    """Every change of a webhook body for this connection; returns (statuses applied, inbound stored).

    Only changes addressed to the connection's own number are read (metadata.phone_number_id), and
    the tenant is the connection's: a webhook for one company can never touch another's messages.
    """
    statuses = inbound = 0
    for field, value in changes_of(payload):
        if field == "message_template_status_update":
            statuses += apply_template_status(value)
            continue
        metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
        number = str(metadata.get("phone_number_id") or "")
        if number and number != connection.phone_number_id:
            continue
        for item in _list(value.get("statuses")):
            if isinstance(item, dict) and apply_status(item):
                statuses += 1
        contacts = _list(value.get("contacts"))
        for item in _list(value.get("messages")):
            if isinstance(item, dict) and record_inbound(connection, item, contacts):
                inbound += 1
    connection.last_webhook_at = func.now()
    return statuses, inbound
