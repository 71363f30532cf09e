"""E-mail: stored in the company's outbox first, sent by SMTP only when configured, never across tenants."""
import socket
import uuid

import pytest
from smtplib import SMTPException

from portal.extensions import db
from portal.mail.services import deliver, send_mail
from portal.models import OutboundEmail
from portal.tenancy import tenant


def _send(app, company, to, subject, link=None):
    with app.app_context(), tenant(company.id):
        message = send_mail(to, subject, f"Hello {to}", link=link, kind="test")
        db.session.commit()
        return message.id


def test_outbox_shows_the_companys_own_messages(app, auth, client, two_companies):
    alpha, beta = two_companies
    _send(app, alpha, "Chef@Alpha.test", "Alpha reset", link="http://portal.test/reset/alpha-token")
    _send(app, beta, "chef@beta.test", "Beta reset", link="http://portal.test/reset/beta-token")
    auth.login(alpha.email("COMPANY_ADMIN"))
    page = client.get("/outbox/").get_data(as_text=True)
    assert "Alpha reset" in page and "chef@alpha.test" in page and "alpha-token" in page
    assert "Beta reset" not in page and "beta-token" not in page


def test_outbox_is_for_company_admins(auth, client, two_companies):
    alpha, _ = two_companies
    auth.login(alpha.email("MANAGER"))
    assert client.get("/outbox/").status_code == 403


def test_without_smtp_nothing_is_queued_and_the_cli_prints_the_link(app, runner, owner_conninfo, two_companies):
    import psycopg
    alpha, _ = two_companies
    _send(app, alpha, "chef@alpha.test", "Your invitation", link="http://portal.test/invite/xyz")
    with psycopg.connect(owner_conninfo) as connection:
        jobs = connection.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'send_email'").fetchone()[0]
    assert jobs == 0
    result = runner.invoke(args=["outbox", "--to", "chef@alpha.test"])
    assert result.exit_code == 0
    assert "Your invitation" in result.output and "http://portal.test/invite/xyz" in result.output


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_smtp_failure_is_recorded_and_raised_for_a_retry(app, owner_conninfo, two_companies):
    import psycopg
    alpha, _ = two_companies
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_closed_port(), MAIL_USE_TLS=False)
    try:
        email_id = _send(app, alpha, "chef@alpha.test", "Alert")
        with psycopg.connect(owner_conninfo) as connection:
            jobs = connection.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'send_email' AND args->>'email_id' = %s",
                (str(email_id),)).fetchone()[0]
        assert jobs == 1
        with app.app_context(), tenant(alpha.id), pytest.raises((OSError, SMTPException)):
            deliver(email_id)
        with app.app_context(), tenant(alpha.id):
            message = db.session.get(OutboundEmail, email_id)
            assert message.sent_at is None and message.error
    finally:
        app.config.update(MAIL_SERVER=None)


def test_a_message_is_invisible_to_another_company(app, two_companies):
    alpha, beta = two_companies
    email_id = _send(app, alpha, "chef@alpha.test", "Private")
    with app.app_context(), tenant(beta.id):
        assert db.session.get(OutboundEmail, email_id) is None
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboundEmail)) == 0
    with app.app_context(), tenant(uuid.uuid4()):
        assert db.session.get(OutboundEmail, email_id) is None
