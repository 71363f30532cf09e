"""Sending e-mail: every message is stored first, then sent by the worker when SMTP is configured.

Without MAIL_SERVER (a developer's machine, the tests) messages stay in the outbox, where company
admins read them and `flask --app wsgi outbox` prints their links: a reset or invitation link is
never lost, and no test ever needs a mail server.
"""
import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import OutboundEmail
from ..queue import defer
from ..tenancy import current_company_id

MAX_SUBJECT = 255


def smtp_configured():
    return bool(current_app.config.get("MAIL_SERVER"))


def send_mail(to_address, subject, body_text, *, link=None, kind="notice"):
    """Queue one message to `to_address` for the current company, in the caller's transaction.

    The caller commits; the message exists (and is sent) exactly when the change that caused it does.
    """
    message = OutboundEmail(company_id=current_company_id(), to_address=to_address.strip().lower(),
                            subject=subject[:MAX_SUBJECT], body_text=body_text, link=link, kind=kind)
    db.session.add(message)
    db.session.flush()
    if smtp_configured():
        defer("send_email", email_id=message.id, company_id=message.company_id)
    return message


def deliver(email_id):
    """Send one stored message by SMTP (the worker's task); a failure is recorded, and raised to retry."""
    message = db.session.get(OutboundEmail, email_id)
    if message is None or message.sent_at is not None:
        return
    config = current_app.config
    email = EmailMessage()
    email["From"] = formataddr((config["MAIL_FROM_NAME"], config["MAIL_FROM"]))
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rsplit("@", 1)[-1])
    email.set_content(message.body_text)
    try:
        smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
        with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(email)
    except (OSError, smtplib.SMTPException) as error:
        message.error = f"{type(error).__name__}: {error}"[:500]
        db.session.commit()
        raise
    message.sent_at = func.now()
    message.error = None
    db.session.commit()


def outbox_query(kind=None):
    """The company's messages (RLS), newest first."""
    query = select(OutboundEmail).order_by(OutboundEmail.created_at.desc(), OutboundEmail.id)
    if kind:
        query = query.where(OutboundEmail.kind == kind)
    return query
