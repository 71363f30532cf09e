"""What the Messages pages read: templates, rules, messages with their filters, the 30-day figures per
template, an order's messages, and a customer's opt-out. Row-level security keeps every read to the tenant.
"""
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from ..extensions import db
from ..models import DeliveryOrder, WhatsappContact, WhatsappMessage, WhatsappMessageStatus as Status, \
    WhatsappNotificationRule, WhatsappTemplate
from ..phones import normalize_phone

STATS_DAYS = 30


def all_templates():
    """Every template of the company, by name then language."""
    return db.session.scalars(select(WhatsappTemplate).order_by(WhatsappTemplate.name,
                                                                WhatsappTemplate.language)).all()


def approved_templates():
    """The templates that can be sent (for the test message)."""
    return db.session.scalars(select(WhatsappTemplate).where(WhatsappTemplate.status == "APPROVED")
                              .order_by(WhatsappTemplate.name, WhatsappTemplate.language)).all()


def template_names():
    """The company's distinct template names (a rule names a template; the language is the customer's)."""
    return db.session.scalars(select(WhatsappTemplate.name).distinct().order_by(WhatsappTemplate.name)).all()


def approved_names():
    return set(db.session.scalars(select(WhatsappTemplate.name).where(WhatsappTemplate.status == "APPROVED")))


def same_name_and_language(name, language, exclude_id=None):
    """Another template with this name and language (the unique key), or None."""
    query = select(WhatsappTemplate).where(WhatsappTemplate.name == name, WhatsappTemplate.language == language)
    if exclude_id is not None:
        query = query.where(WhatsappTemplate.id != exclude_id)
    return db.session.scalar(query)


def messages_using(template_id):
    """How many messages were sent with a template (they keep pointing at it)."""
    return db.session.scalar(select(func.count()).select_from(WhatsappMessage)
                             .where(WhatsappMessage.template_id == template_id))


def rules_by_event():
    """{event: rule} for the company's notification rules."""
    return {rule.event: rule for rule in db.session.scalars(select(WhatsappNotificationRule))}


@dataclass
class MessageFilters:
    status: str = ""
    template: str = ""  # a template id
    date_from: object = None  # dates in the company's time zone, both days included
    date_to: object = None

    @property
    def any(self):
        return bool(self.status or self.template or self.date_from or self.date_to)

    def args(self):
        """The filters as query arguments (for links that keep them)."""
        values = {"status": self.status, "template": self.template,
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else ""}
        return {key: value for key, value in values.items() if value}


def _day_start(day, zone):
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


def messages_query(filters, zone_name):
    """Every message newest first, narrowed by the filters (days are the company's, not UTC's)."""
    zone = ZoneInfo(zone_name)
    query = select(WhatsappMessage).order_by(WhatsappMessage.created_at.desc(), WhatsappMessage.id)
    if filters.status:
        query = query.where(WhatsappMessage.status == Status(filters.status))
    if filters.template:
        query = query.where(WhatsappMessage.template_id == filters.template)
    if filters.date_from:
        query = query.where(WhatsappMessage.created_at >= _day_start(filters.date_from, zone))
    if filters.date_to:
        query = query.where(WhatsappMessage.created_at < _day_start(filters.date_to + timedelta(days=1), zone))
    return query


def any_messages():
    return db.session.scalar(select(WhatsappMessage.id).limit(1)) is not None


def order_numbers(messages):
    """{order id: order number} for the orders these messages were about."""
    ids = {message.order_id for message in messages if message.order_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(DeliveryOrder.id, DeliveryOrder.order_number)
                                   .where(DeliveryOrder.id.in_(ids))).all())


def templates_by_id():
    return {template.id: template for template in all_templates()}


@dataclass
class TemplateFigures:
    template_id: object
    sent: int
    delivered: int
    read: int
    failed: int

    @property
    def delivered_rate(self):
        return round(100 * self.delivered / self.sent, 1) if self.sent else None

    @property
    def read_rate(self):
        return round(100 * self.read / self.sent, 1) if self.sent else None


def template_figures(now=None, days=STATS_DAYS):
    """Per template, over the last `days` days: sent (accepted by WhatsApp), delivered, read and failed."""
    since = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    reached = (Status.SENT, Status.DELIVERED, Status.READ)
    sent = func.count(case((WhatsappMessage.status.in_(reached) | WhatsappMessage.sent_at.is_not(None), 1)))
    delivered = func.count(case((WhatsappMessage.status.in_((Status.DELIVERED, Status.READ))
                                 | WhatsappMessage.delivered_at.is_not(None), 1)))
    read = func.count(case(((WhatsappMessage.status == Status.READ) | WhatsappMessage.read_at.is_not(None), 1)))
    failed = func.count(case((WhatsappMessage.status == Status.FAILED, 1)))
    rows = db.session.execute(
        select(WhatsappMessage.template_id, sent, delivered, read, failed)
        .where(WhatsappMessage.created_at >= since, WhatsappMessage.template_id.is_not(None))
        .group_by(WhatsappMessage.template_id)).all()
    return sorted((TemplateFigures(*row) for row in rows), key=lambda figures: -figures.sent)


def messages_for_order(order_id):
    """An order's messages, oldest first."""
    return db.session.scalars(select(WhatsappMessage).where(WhatsappMessage.order_id == order_id)
                              .order_by(WhatsappMessage.created_at)).all()


def status_time(message):
    """When the message reached its current status."""
    return {Status.SENT: message.sent_at, Status.DELIVERED: message.delivered_at, Status.READ: message.read_at,
            Status.FAILED: message.failed_at}.get(message.status) or message.updated_at or message.created_at


def contact_for_phone(phone, country_code="SA"):
    """The WhatsApp contact (opt-out, last message) of a phone in any format, or None."""
    number = normalize_phone(phone, country_code or "SA")
    if number is None:
        return None
    return db.session.scalar(select(WhatsappContact).where(WhatsappContact.phone == number))


def mask_phone(phone):
    """'+966501234567' -> '+9665•••••567': enough for staff to recognise, not to copy."""
    text = str(phone or "")
    if len(text) <= 8:
        return "•" * len(text)
    return text[:5] + "•" * (len(text) - 8) + text[-3:]
