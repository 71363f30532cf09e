"""Alerts to managers: an order waiting unaccepted too long, an integration silent or failing too long.

Each thing alerted about is an incident (`alert_incidents`): the managers get one e-mail when it
opens, none while it stays open, and it closes when the order is no longer waiting or the
integration exchanged successfully again (or the alert is turned off). A new incident for the same
order or integration opens only after the previous one closed.

"Silent or failing" is one measure: no successful webhook or platform call (`last_success_at`,
else since the connection was made) for M minutes. Outside the opening hours silence is normal,
so integrations are only checked while the restaurant is open.
"""
import logging
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..mail.services import send_mail
from ..models import AlertIncident, Company, DeliveryOrder, IntegrationConfig, OrderStatus, User, UserRole
from ..tenancy import companies_with_alerts, tenant
from .hours import is_open

logger = logging.getLogger(__name__)
RECIPIENT_ROLES = [UserRole.MANAGER, UserRole.COMPANY_ADMIN]


class AlertKind(StrEnum):
    ORDER_WAITING = "ORDER_WAITING"
    INTEGRATION_SILENT = "INTEGRATION_SILENT"


def _waiting_orders(company, now):
    limit = now - timedelta(minutes=company.alert_pending_minutes)
    return {order.id: order for order in db.session.scalars(
        select(DeliveryOrder).where(DeliveryOrder.company_id == company.id,
                                    DeliveryOrder.status == OrderStatus.PENDING,
                                    DeliveryOrder.is_test.is_(False),
                                    func.coalesce(DeliveryOrder.placed_at, DeliveryOrder.created_at) <= limit))}


def _silent_integrations(company, now):
    limit = now - timedelta(minutes=company.alert_integration_minutes)
    return {integration.id: integration for integration in db.session.scalars(
        select(IntegrationConfig).where(IntegrationConfig.company_id == company.id,
                                        IntegrationConfig.is_enabled.is_(True),
                                        func.coalesce(IntegrationConfig.last_success_at,
                                                      IntegrationConfig.created_at) <= limit))}


def _recipients(company):
    return list(db.session.scalars(
        select(User.email).where(User.company_id == company.id, User.role.in_(RECIPIENT_ROLES),
                                 User.is_active.is_(True), User.deleted_at.is_(None)).order_by(User.email)))


def _message(company, kind, subject):
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    with force_locale(company.default_language or "en"):
        if kind == AlertKind.ORDER_WAITING:
            return (_("Order #%(number)s is waiting to be accepted", number=subject.order_number),
                    _("Order #%(number)s has waited more than %(minutes)s minutes without being accepted.",
                      number=subject.order_number, minutes=company.alert_pending_minutes),
                    f"{base}/orders/{subject.id}")
        platform = subject.platform.value.title()
        return (_("%(platform)s has been silent or failing", platform=platform),
                _("%(platform)s has had no successful exchange with the portal for more than %(minutes)s minutes.",
                  platform=platform, minutes=company.alert_integration_minutes),
                f"{base}/integrations/{subject.platform.value.lower()}/")


def _reconcile(company, kind, problems, now):
    """Open (and e-mail) an incident per new problem, close the incidents whose problem is over."""
    open_incidents = {incident.subject_id: incident for incident in db.session.scalars(
        select(AlertIncident).where(AlertIncident.company_id == company.id, AlertIncident.kind == kind,
                                    AlertIncident.closed_at.is_(None)))}
    for subject_id, incident in open_incidents.items():
        if subject_id not in problems:
            incident.closed_at = now
    sent = 0
    recipients = None
    for subject_id, subject in problems.items():
        incident = open_incidents.get(subject_id)
        if incident is None:
            incident = AlertIncident(company_id=company.id, kind=kind, subject_id=subject_id, opened_at=now)
            db.session.add(incident)
        if incident.notified_at is None:
            recipients = _recipients(company) if recipients is None else recipients
            title, body, link = _message(company, kind, subject)
            for address in recipients:
                send_mail(address, title, f"{body}\n\n{link}", link=link, kind="alert")
            incident.notified_at = now
            sent += 1
    return sent


def check_alerts(company_id, now=None):
    """One company's alerts, under its own tenant; commits; returns how many incidents were e-mailed."""
    now = now or datetime.now(timezone.utc)
    with tenant(company_id):
        company = db.session.get(Company, company_id)
        if company is None:
            db.session.rollback()
            return 0
        orders = _waiting_orders(company, now) if company.alert_pending_enabled else {}
        integrations = (_silent_integrations(company, now)
                        if company.alert_integration_enabled and is_open(company, now) else {})
        sent = (_reconcile(company, AlertKind.ORDER_WAITING, orders, now)
                + _reconcile(company, AlertKind.INTEGRATION_SILENT, integrations, now))
        db.session.commit()
        return sent


def alerts_minute(now=None):
    """Every company with an alert on, one transaction each (one company's failure stops no other)."""
    now = now or datetime.now(timezone.utc)
    company_ids = companies_with_alerts()
    db.session.commit()
    sent = 0
    for company_id in company_ids:
        try:
            sent += check_alerts(company_id, now)
        except Exception:  # logged; the next minute tries again
            db.session.rollback()
            logger.exception("Alert check failed for company %s", company_id)
    return sent
