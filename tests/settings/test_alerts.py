"""Alerts: one e-mail per incident to managers and admins, again only after it closed, never across tenants."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from portal.extensions import db
from portal.models import AlertIncident, Company, DeliveryOrder, IntegrationConfig, OpeningShift, OutboundEmail
from portal.settings.alerts import alerts_minute
from portal.tenancy import companies_with_alerts, tenant
from tests.orders.helpers import add_order


def _switch(app, company, **values):
    with app.app_context(), tenant(company.id):
        db.session.execute(update(Company).where(Company.id == company.id).values(**values))
        db.session.commit()


def _mails(app, company):
    with app.app_context(), tenant(company.id):
        return [(m.to_address, m.subject, m.link) for m in db.session.scalars(
            select(OutboundEmail).where(OutboundEmail.kind == "alert").order_by(OutboundEmail.created_at,
                                                                                 OutboundEmail.to_address))]


def _run(app, now=None):
    with app.app_context():
        return alerts_minute(now)


def test_a_waiting_order_is_mailed_once_then_again_after_it_closed_and_reopened(app, two_companies,
                                                                                 make_integration):
    alpha, beta = two_companies
    _switch(app, alpha, alert_pending_enabled=True, alert_pending_minutes=10)
    integration = make_integration(alpha, "TALABAT")
    fresh = add_order(app, alpha, integration, minutes_ago=3)
    order = add_order(app, alpha, integration, minutes_ago=12, order_number="W-1")
    beta_order = add_order(app, beta, make_integration(beta, "TALABAT"), minutes_ago=60, order_number="B-9")

    assert _run(app) == 1
    mails = _mails(app, alpha)
    # Managers and admins (not staff), each with the order's link.
    assert sorted(to for to, _, _ in mails) == ["admin@alpha-kitchen.test", "manager@alpha-kitchen.test"]
    assert all("W-1" in subject and link.endswith(f"/orders/{order}") for _, subject, link in mails)
    assert _run(app) == 0 and len(_mails(app, alpha)) == 2  # still open: not again
    assert _mails(app, beta) == []  # Beta has the alert off, and Alpha's job never saw Beta's order
    assert fresh != beta_order

    # Accepted: the incident closes. Back to pending (a retry, say): a new incident and a new e-mail.
    with app.app_context(), tenant(alpha.id):
        db.session.execute(update(DeliveryOrder).where(DeliveryOrder.id == order).values(status="ACCEPTED"))
        db.session.commit()
    assert _run(app) == 0
    with app.app_context(), tenant(alpha.id):
        assert db.session.scalar(select(AlertIncident.closed_at)) is not None
        db.session.execute(update(DeliveryOrder).where(DeliveryOrder.id == order).values(status="PENDING"))
        db.session.commit()
    assert _run(app) == 1 and len(_mails(app, alpha)) == 4
    with app.app_context(), tenant(alpha.id):
        assert len(db.session.scalars(select(AlertIncident)).all()) == 2


def test_company_b_orders_never_alert_company_a(app, two_companies, make_integration):
    alpha, beta = two_companies
    _switch(app, alpha, alert_pending_enabled=True, alert_pending_minutes=1)
    _switch(app, beta, alert_pending_enabled=True, alert_pending_minutes=1)
    add_order(app, beta, make_integration(beta, "CAREEM"), minutes_ago=30, order_number="B-1")
    assert _run(app) == 1
    assert _mails(app, alpha) == []
    assert {to for to, _, _ in _mails(app, beta)} == {"admin@beta-grill.test", "manager@beta-grill.test"}
    with app.app_context(), tenant(alpha.id):
        assert db.session.scalars(select(AlertIncident)).all() == []


def test_discovery_sees_only_companies_with_an_alert_on(app, two_companies):
    alpha, beta = two_companies
    _switch(app, beta, alert_integration_enabled=True)
    with app.app_context():
        assert companies_with_alerts() == [beta.id]


def test_a_silent_integration_is_mailed_once_while_open_and_closes_on_success(app, two_companies,
                                                                            make_integration):
    alpha, beta = two_companies
    _switch(app, alpha, alert_integration_enabled=True, alert_integration_minutes=30)
    integration = make_integration(alpha, "TALABAT")
    now = datetime.now(timezone.utc)
    with app.app_context(), tenant(alpha.id):
        db.session.execute(update(IntegrationConfig).where(IntegrationConfig.id == integration)
                           .values(last_success_at=now - timedelta(minutes=45), last_error_at=now))
        db.session.commit()
    make_integration(beta, "TALABAT")  # Beta's connection is as old, but Beta has no alert on

    assert _run(app, now) == 1
    mails = _mails(app, alpha)
    assert len(mails) == 2 and all(link.endswith("/integrations/talabat/") for _, _, link in mails)
    assert _run(app, now + timedelta(minutes=1)) == 0
    with app.app_context(), tenant(alpha.id):
        db.session.execute(update(IntegrationConfig).where(IntegrationConfig.id == integration)
                           .values(last_success_at=now + timedelta(minutes=2)))
        db.session.commit()
    assert _run(app, now + timedelta(minutes=3)) == 0
    with app.app_context(), tenant(alpha.id):
        assert db.session.scalar(select(AlertIncident.closed_at)) is not None
    assert _run(app, now + timedelta(minutes=40)) == 1  # silent again: a new incident
    assert len(_mails(app, alpha)) == 4 and _mails(app, beta) == []


def test_silence_outside_opening_hours_is_not_an_incident(app, two_companies, make_integration):
    alpha, _ = two_companies
    _switch(app, alpha, alert_integration_enabled=True, alert_integration_minutes=30)
    integration = make_integration(alpha, "TALABAT")
    now = datetime.now(timezone.utc)
    with app.app_context(), tenant(alpha.id):
        db.session.execute(update(IntegrationConfig).where(IntegrationConfig.id == integration)
                           .values(last_success_at=now - timedelta(hours=5)))
        # Open only one minute, three hours from now.
        from zoneinfo import ZoneInfo
        later = now.astimezone(ZoneInfo("Asia/Riyadh")) + timedelta(hours=3)
        db.session.add(OpeningShift(company_id=alpha.id, weekday=later.weekday(),
                                    opens_at=later.time().replace(second=0, microsecond=0),
                                    closes_at=(later + timedelta(minutes=1)).time().replace(second=0, microsecond=0)))
        db.session.commit()
    assert _run(app, now) == 0 and _mails(app, alpha) == []
