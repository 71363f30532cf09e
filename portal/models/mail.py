"""E-mail the portal sends: every message is kept, sent by SMTP when configured, else left in the outbox."""
import uuid
from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import company_fk, created_at, uuid_pk


class OutboundEmail(db.Model):
    """One message to one address; `sent_at` is set once SMTP accepted it (never, without SMTP)."""

    __tablename__ = "outbound_emails"
    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = company_fk()
    to_address: Mapped[str] = mapped_column(String(255), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    # The one link the message is about (reset, invitation, alert), shown by the outbox and the CLI.
    link: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40), nullable=False, default="notice")
    created_at: Mapped[datetime] = created_at()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
