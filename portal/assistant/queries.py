"""What the Inbox reads: conversations by who holds them, their last message and the customer's latest
order, a version for the live list, one conversation's version, and the last 30 days' figures.
Row-level security keeps every read to the tenant."""
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import g, has_request_context
from sqlalchemy import case, func, select

from ..extensions import db
from ..models import AiChatbotSession, ChatChannel, ChatMessage, DeliveryOrder
from .services import ASSISTANT, CLOSED, STAFF

STATS_DAYS = 30
LIST_LIMIT = 50
EXCERPT = 120
TABS = {"all": None, "staff": STAFF, "assistant": ASSISTANT, "closed": CLOSED}
_STATUS_ORDER = case((AiChatbotSession.status == STAFF, 0), (AiChatbotSession.status == ASSISTANT, 1), else_=2)


@dataclass
class Row:
    """One line of the Inbox: the conversation, its last message and the customer's latest order."""
    session: AiChatbotSession
    last_message: str | None
    order: DeliveryOrder | None


def conversations(tab="all", limit=LIST_LIMIT):
    """The conversations of a tab: those needing staff first, then the assistant's, then closed; newest first."""
    query = select(AiChatbotSession).where(AiChatbotSession.messages_count > 0)
    if TABS.get(tab):
        query = query.where(AiChatbotSession.status == TABS[tab])
    sessions = db.session.scalars(query.order_by(_STATUS_ORDER, AiChatbotSession.last_message_at.desc(),
                                                 AiChatbotSession.id).limit(limit)).all()
    last = last_messages([session.id for session in sessions])
    orders = latest_orders(sessions)
    return [Row(session, last.get(session.id), orders.get(session.id)) for session in sessions]


def last_messages(session_ids):
    """{session id: the start of its last message}."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(ChatMessage.chatbot_session_id, ChatMessage.content)
        .where(ChatMessage.chatbot_session_id.in_(session_ids))
        .distinct(ChatMessage.chatbot_session_id)
        .order_by(ChatMessage.chatbot_session_id, ChatMessage.created_at.desc(), ChatMessage.id.desc())).all()
    return {session_id: excerpt(content) for session_id, content in rows}


def excerpt(text, length=EXCERPT):
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[:length - 1].rstrip() + "…"


def latest_orders(sessions):
    """{session id: the order it proved (web) or the latest order with its WhatsApp number}."""
    proved = {session.order_id for session in sessions if session.order_id}
    phones = {session.customer_phone for session in sessions
              if session.order_id is None and session.channel == ChatChannel.WHATSAPP and session.customer_phone}
    by_id, by_phone = {}, {}
    if proved:
        by_id = {order.id: order for order in db.session.scalars(
            select(DeliveryOrder).where(DeliveryOrder.id.in_(proved)))}
    if phones:
        by_phone = {order.customer_phone: order for order in db.session.scalars(
            select(DeliveryOrder).where(DeliveryOrder.customer_phone.in_(phones))
            .distinct(DeliveryOrder.customer_phone)
            .order_by(DeliveryOrder.customer_phone, DeliveryOrder.created_at.desc()))}
    result = {}
    for session in sessions:
        order = by_id.get(session.order_id) if session.order_id else by_phone.get(session.customer_phone)
        if order is not None:
            result[session.id] = order
    return result


def tab_counts():
    """{tab: how many conversations it holds}."""
    rows = dict(db.session.execute(select(AiChatbotSession.status, func.count())
                                   .where(AiChatbotSession.messages_count > 0)
                                   .group_by(AiChatbotSession.status)).all())
    counts = {tab: rows.get(status, 0) for tab, status in TABS.items() if status}
    counts["all"] = sum(rows.values())
    return counts


def needs_staff_count():
    """How many conversations wait for staff (the navigation's badge): one indexed count."""
    return db.session.scalar(select(func.count()).select_from(AiChatbotSession)
                             .where(AiChatbotSession.status == STAFF)) or 0


def list_version():
    """A short digest that changes when any conversation gets a message, changes hands or closes."""
    row = db.session.execute(select(
        func.count(), func.max(AiChatbotSession.last_message_at), func.count().filter(AiChatbotSession.status == STAFF),
        func.count().filter(AiChatbotSession.status == CLOSED), func.max(AiChatbotSession.ended_at),
        func.max(AiChatbotSession.handed_off_at), func.sum(AiChatbotSession.messages_count))).one()
    return hashlib.sha256(repr(tuple(row)).encode()).hexdigest()[:16]


def conversation_version(session):
    """Changes with every message and every change of hands (the conversation page's poll)."""
    return f"{session.messages_count or 0}-{session.status}"


@dataclass
class Figures:
    days: list  # [(date, conversations)], every day of the period, oldest first
    total: int
    without_staff: int
    intents: list  # [(intent, customer messages)], most asked first

    @property
    def without_staff_share(self):
        return round(100 * self.without_staff / self.total) if self.total else None


def figures(zone_name, now=None, days=STATS_DAYS):
    """The last `days` days in the company's time zone: conversations a day, the share the assistant answered
    alone (never handed to staff), and what customers asked about most."""
    zone = ZoneInfo(zone_name)
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=zone).astimezone(timezone.utc)
    local_day = func.date(func.timezone(zone_name, AiChatbotSession.started_at))
    per_day = dict(db.session.execute(select(local_day, func.count()).where(AiChatbotSession.started_at >= since)
                                      .group_by(local_day)).all())
    total, alone = db.session.execute(select(
        func.count(), func.count().filter(AiChatbotSession.handed_off_at.is_(None)))
        .where(AiChatbotSession.started_at >= since)).one()
    intents = db.session.execute(
        select(ChatMessage.intent, func.count()).where(ChatMessage.sender == "CUSTOMER",
                                                       ChatMessage.created_at >= since,
                                                       ChatMessage.intent.is_not(None))
        .group_by(ChatMessage.intent).order_by(func.count().desc(), ChatMessage.intent).limit(8)).all()
    return Figures(days=[(first + timedelta(days=n), per_day.get(first + timedelta(days=n), 0)) for n in range(days)],
                   total=total, without_staff=alone, intents=[tuple(row) for row in intents])


def inbox_waiting():
    """The navigation badge's number, counted once per request (None outside a signed-in company's page)."""
    if not has_request_context() or g.get("company") is None:
        return None
    if "inbox_waiting" not in g:
        g.inbox_waiting = needs_staff_count()
    return g.inbox_waiting
