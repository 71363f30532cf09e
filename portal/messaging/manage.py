"""What the Messages pages change: templates (checked against Meta's rules) and notification rules.

The sending and webhook logic is in services.py; nothing here sends. The caller commits.
"""
import uuid

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import WhatsappNotificationRule, WhatsappTemplate
from . import queries
from .events import NotificationEvent
from .templates import check_template

TEMPLATE_STATUSES = ("PENDING", "APPROVED", "REJECTED", "PAUSED", "DISABLED")


class TemplateRefused(ValueError):
    """A template that cannot be saved; `errors` are the messages by field."""

    def __init__(self, errors):
        super().__init__("; ".join(str(message) for messages in errors.values() for message in messages))
        self.errors = errors


def save_template(template, company_id, *, name, language, category, body, status, rejection_reason=None):
    """Create (template None) or update a template after Meta's rules; raises TemplateRefused by field."""
    name = (name or "").strip()
    check = check_template(name, language, category, body)
    errors = {field: list(messages) for field, messages in check.errors.items()}
    if status not in TEMPLATE_STATUSES:
        errors.setdefault("status", []).append(_l("Choose one of the statuses Meta reports."))
    if not errors and queries.same_name_and_language(name, language, template.id if template else None):
        errors["name"] = [_l("A template named %(name)s already exists in this language: edit it, or choose "
                             "another name or language.", name=name)]
    if errors:
        raise TemplateRefused(errors)
    if template is None:
        template = WhatsappTemplate(id=uuid.uuid4(), company_id=company_id)
        db.session.add(template)
    template.name, template.language, template.category = name, language, category.upper()
    template.body, template.variables, template.status = body, check.variables, status
    template.rejection_reason = (rejection_reason or "").strip() or None
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # the same name and language saved a moment ago by someone else
        raise TemplateRefused({"name": [_l("A template named %(name)s already exists in this language.",
                                           name=name)]}) from None
    return template


def delete_template(template):
    """Remove a template; one that messages were sent with stays (they point at it): disable it instead."""
    if queries.messages_using(template.id):
        raise TemplateRefused({"status": [_l("Messages were sent with this template, so it stays for their "
                                             "history. Set its status to Disabled instead.")]})
    db.session.delete(template)
    db.session.flush()


def save_rules(company_id, choices):
    """{event: (template name or "", enabled)}: a name creates or updates the event's rule, "" removes it."""
    rules = queries.rules_by_event()
    for event in NotificationEvent:
        name, enabled = choices.get(str(event), ("", False))
        rule = rules.get(str(event))
        if not name:
            if rule is not None:
                db.session.execute(delete(WhatsappNotificationRule).where(WhatsappNotificationRule.id == rule.id))
            continue
        if rule is None:
            rule = WhatsappNotificationRule(id=uuid.uuid4(), company_id=company_id, event=str(event))
            db.session.add(rule)
        rule.template_name, rule.is_enabled = name, bool(enabled)
    db.session.flush()
