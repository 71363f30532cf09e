"""Conversations: a customer writes (web widget or WhatsApp), the assistant classifies and answers from the
portal's rows, or hands the conversation to staff, who reply from the Inbox, close it or give it back.

Handoff: a complaint, a request for a person, a confidence under ASSISTANT_CONFIDENCE_THRESHOLD, or two
misunderstandings in a row. While staff hold a conversation the assistant stays quiet.
Every function runs under the company's tenant; the caller commits.
"""
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import AiChatbotSession, ChatChannel, ChatMessage, Company
from .answers import answer, identity_in, language_of

ASSISTANT, STAFF, CLOSED = "ASSISTANT", "STAFF", "CLOSED"
MAX_MESSAGE = 2000  # characters of one customer message kept and read
HANDOFF_INTENTS = {"complaint": "complaint", "human": "asked_for_person"}
# After asking for the order number and last 4 digits, the next message with them answers that question.
AWAITS_IDENTITY = {"order_ask_identity": "order_status", "loyalty_ask_identity": "loyalty_balance"}


class ConversationError(ValueError):
    """A staff action that cannot be done (closed conversation, WhatsApp window shut…); the message says why."""


@dataclass
class Classified:
    intent: str
    confidence: float


def classify_message(text):
    """The intent classifier (portal/assistant/classifier.py), imported when first needed (it trains once)."""
    from .classifier import classify
    result = classify(text)
    return Classified(result.intent, float(result.confidence))


def _now():
    return datetime.now(timezone.utc)


# --- Sessions --------------------------------------------------------------------------------------

def widget_token():
    """A new browser's secret: kept in its Flask session; only its hash is stored."""
    return secrets.token_urlsafe(24)


def _token_key(token):
    return "web:" + hashlib.sha256(token.encode()).hexdigest()


def widget_session(company_id, token, locale=None, create=True):
    """The web-widget conversation of the browser holding `token` (a new one after a close)."""
    key = _token_key(token)
    session = db.session.scalar(select(AiChatbotSession).where(AiChatbotSession.session_id == key))
    if session is None and create:
        session = AiChatbotSession(id=uuid.uuid4(), company_id=company_id, session_id=key,
                                   channel=ChatChannel.WEB_WIDGET, locale=locale, context={})
        db.session.add(session)
        db.session.flush()
    return session


def whatsapp_session(company_id, phone):
    """The open WhatsApp conversation with `phone`, or a new one (a closed one stays closed in the history)."""
    session = db.session.scalar(select(AiChatbotSession).where(
        AiChatbotSession.channel == ChatChannel.WHATSAPP, AiChatbotSession.customer_phone == phone,
        AiChatbotSession.status != CLOSED).order_by(AiChatbotSession.started_at.desc()).limit(1))
    if session is None:
        session = AiChatbotSession(id=uuid.uuid4(), company_id=company_id, customer_phone=phone,
                                   session_id=f"wa:{phone}:{uuid.uuid4().hex[:12]}", channel=ChatChannel.WHATSAPP,
                                   context={})
        db.session.add(session)
        db.session.flush()
    return session


def messages_of(session, after=None):
    query = select(ChatMessage).where(ChatMessage.chatbot_session_id == session.id)
    if after is not None:
        query = query.where(ChatMessage.created_at > after)
    return db.session.scalars(query.order_by(ChatMessage.created_at, ChatMessage.id)).all()


def _record(session, sender, content, **values):
    message = ChatMessage(id=uuid.uuid4(), company_id=session.company_id, chatbot_session_id=session.id,
                          sender=sender, content=content, created_at=_now(), **values)
    db.session.add(message)
    session.messages_count = (session.messages_count or 0) + 1
    session.last_message_at = message.created_at
    return message


# --- The customer writes ---------------------------------------------------------------------------

def customer_says(session, text, channel_message_id=None, classify=None):
    """Record what the customer wrote and what the assistant answers (None while staff hold it).

    Returns the assistant's ChatMessage, or None when it stays quiet."""
    text = (text or "").strip()[:MAX_MESSAGE]
    if not text:
        return None
    company = db.session.get(Company, session.company_id)
    locale = language_of(text, session.locale or company.default_language or "ar")
    session.locale = locale
    if session.status == CLOSED:  # writing again reopens it, with the assistant
        session.status, session.ended_at, session.is_active, session.misunderstood = ASSISTANT, None, True, 0
    result = (classify or classify_message)(text)
    _record(session, "CUSTOMER", text, intent=result.intent, confidence=_confidence(result.confidence),
            channel_message_id=channel_message_id)
    session.intent, session.confidence = result.intent, _confidence(result.confidence)
    if session.status == STAFF:
        return None
    if not company.assistant_enabled:  # Company settings: people answer everything
        _hand_off(session, "assistant_off")
        return None
    reply = _decide(company, session, text, result, locale)
    if reply.handoff:
        _hand_off(session, reply.facts.get("reason") or _reason(result))
    return _record(session, "ASSISTANT", reply.text, answer_key=reply.key, intent=result.intent,
                   confidence=_confidence(result.confidence))


def _confidence(value):
    return Decimal(str(round(min(max(float(value), 0.0), 1.0), 4)))


def _reason(result):
    return HANDOFF_INTENTS.get(result.intent, "low_confidence")


def _decide(company, session, text, result, locale):
    """Answer, or hand off: complaint, a person asked for, low confidence, or a second misunderstanding."""
    threshold = current_app.config.get("ASSISTANT_CONFIDENCE_THRESHOLD", 0.45)
    awaiting = (session.context or {}).get("awaiting")
    if awaiting and result.intent not in HANDOFF_INTENTS and identity_in(text) is not None:
        result = Classified(awaiting, max(result.confidence, threshold))  # "1042 4567" answers our question
    if result.intent in HANDOFF_INTENTS:
        reply = answer(company, session, text, result.intent, locale)
        reply.facts["reason"] = HANDOFF_INTENTS[result.intent]
        return reply
    if result.confidence < threshold or result.intent == "other":
        session.misunderstood = (session.misunderstood or 0) + 1
        if session.misunderstood >= 2:
            reply = answer(company, session, text, "human", locale)
            reply.facts["reason"] = "misunderstood_twice" if result.confidence >= threshold else "low_confidence"
            return reply
        return answer(company, session, text, "other", locale)
    reply = answer(company, session, text, result.intent, locale)
    session.misunderstood = 0 if reply.understood else (session.misunderstood or 0) + 1
    context = {key: value for key, value in (session.context or {}).items() if key != "awaiting"}
    if reply.key in AWAITS_IDENTITY:
        context["awaiting"] = AWAITS_IDENTITY[reply.key]
    if reply.facts.get("order_id"):
        context["order_id"] = reply.facts["order_id"]
    session.context = context
    return reply


def _hand_off(session, reason):
    session.status, session.handed_off_at, session.handoff_reason = STAFF, _now(), reason[:40]
    session.misunderstood = 0


# --- Staff -----------------------------------------------------------------------------------------

def staff_reply(session, user, text):
    """A staff member answers: into the widget, or by WhatsApp inside the 24-hour window. The caller commits."""
    text = (text or "").strip()[:MAX_MESSAGE]
    if not text:
        raise ConversationError(_l("Write the reply."))
    if session.status == CLOSED:
        raise ConversationError(_l("This conversation is closed. The customer can write again to reopen it."))
    channel_message_id = None
    if session.channel == ChatChannel.WHATSAPP:
        from ..messaging.services import SendRefused, send_text
        try:
            message = send_text(session.company_id, session.customer_phone, text)
        except SendRefused as error:
            raise ConversationError(str(error)) from error
        channel_message_id = str(message.id)
    session.status = STAFF
    if session.handed_off_at is None:
        session.handed_off_at, session.handoff_reason = _now(), "staff_joined"
    return _record(session, "STAFF", text, user_id=user.id, channel_message_id=channel_message_id)


def close(session, user=None):
    if session.status == CLOSED:
        return session
    session.status, session.ended_at, session.is_active = CLOSED, _now(), False
    return session


def give_back(session, user=None):
    """The assistant answers again (staff are done)."""
    if session.status == CLOSED:
        raise ConversationError(_l("This conversation is closed."))
    if not db.session.get(Company, session.company_id).assistant_enabled:
        raise ConversationError(
            _l("The assistant is turned off in Company settings: the conversation stays with staff."))
    session.status, session.misunderstood = ASSISTANT, 0
    return session


# --- WhatsApp: what customers write reaches the assistant --------------------------------------------

def on_whatsapp_message(connection, phone=None, text=None, wamid=None, **_):
    """The messaging area's hook for an inbound WhatsApp text (not STOP/START): answer it on WhatsApp.

    Runs in a savepoint: an assistant failure never loses the stored webhook or the inbound message."""
    if not text or not phone:
        return None
    from ..messaging.services import is_opted_out, send_text
    try:
        with db.session.begin_nested():
            session = whatsapp_session(connection.company_id, phone)
            reply = customer_says(session, text, channel_message_id=wamid)
            # The customer just wrote, so the 24-hour window is open; opted out, the answer stays in the Inbox.
            if reply is not None and not is_opted_out(phone):
                reply.channel_message_id = str(send_text(connection.company_id, phone, reply.content).id)
    except Exception:
        current_app.logger.exception("The assistant failed on a WhatsApp message from %s", phone)
        return None
    return reply


def answer_texts(locale):
    """Every answer template in `locale`, by key, placeholders as written (the Answers page)."""
    from flask_babel import force_locale

    from .answers import ANSWERS
    with force_locale(locale):
        return {key: str(template) for key, template in ANSWERS.items()}
