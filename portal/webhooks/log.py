"""Reading the webhook log: filters, one entry, and the operator's all-companies view."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..extensions import db
from ..models import Company, DeliveryPlatform, WebhookLog, WebhookOutcome

# The filter's choices: every outcome, "not processed yet" last.
OUTCOMES = tuple(o for o in WebhookOutcome if o != WebhookOutcome.RECEIVED) + (WebhookOutcome.RECEIVED,)


def _parse_date(value):
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except (TypeError, ValueError):
        return None


WHATSAPP = "WHATSAPP"  # the source filter's value for WhatsApp webhooks (not a delivery platform)


def clean_filters(args):
    """The filters a request asked for, keeping only valid values."""
    platform = args.get("platform", "")
    outcome = args.get("outcome", "")
    return {
        "platform": platform if platform in DeliveryPlatform.__members__ or platform == WHATSAPP else "",
        "outcome": outcome if outcome in OUTCOMES else "",
        "event": (args.get("event") or "").strip()[:100],
        "date_from": _parse_date(args.get("date_from")),
        "date_to": _parse_date(args.get("date_to")),
    }


def company_names(company_ids):
    """Names of the companies behind a page of entries (operators' view), in one query."""
    ids = {company_id for company_id in company_ids if company_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(Company.id, Company.name).where(Company.id.in_(ids))).all())


def log_query(filters, timezone_name):
    """Webhook log entries newest first; dates are days in the company's time zone."""
    zone = ZoneInfo(timezone_name)
    query = select(WebhookLog)
    if filters["platform"] == WHATSAPP:
        query = query.where(WebhookLog.channel == "whatsapp")
    elif filters["platform"]:
        query = query.where(WebhookLog.platform == DeliveryPlatform(filters["platform"]))
    if filters["outcome"]:
        query = query.where(WebhookLog.outcome == filters["outcome"])
    if filters["event"]:
        query = query.where(WebhookLog.event_type.ilike(f"%{filters['event']}%"))
    if filters["date_from"]:
        query = query.where(WebhookLog.created_at >= datetime.combine(filters["date_from"], time(), zone))
    if filters["date_to"]:
        end = datetime.combine(filters["date_to"], time(), zone) + timedelta(days=1)
        query = query.where(WebhookLog.created_at < end)
    return query.order_by(WebhookLog.created_at.desc(), WebhookLog.id.desc())
