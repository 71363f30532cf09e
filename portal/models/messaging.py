"""Chatbot sessions and WhatsApp messaging."""
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (Boolean, DateTime, ForeignKeyConstraint, Integer, Numeric, String, Text, UniqueConstraint,
                        func)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import company_fk, created_at, updated_at, uuid_pk
from .enums import (ChatChannel, DeliveryPlatform, WhatsappMessageStatus, WhatsappMessageType, chat_channel,
                    delivery_platform, whatsapp_message_status, whatsapp_message_type)


class AiChatbotSession(db.Model):
    """A customer conversation with the assistant on one channel."""

    __tablename__ = "ai_chatbot_sessions"
    __table_args__ = (
        UniqueConstraint("company_id", "session_id", name="uq_chatbot_sessions_session"),
        UniqueConstraint("company_id", "id", name="uq_chatbot_sessions_company_id"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    session_id: Mapped[str] = mapped_column(String(100), nullable=False)
    customer_phone: Mapped[str | None] = mapped_column(String(20))
    platform: Mapped[DeliveryPlatform | None] = mapped_column(delivery_platform)
    channel: Mapped[ChatChannel] = mapped_column(chat_channel, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    started_at: Mapped[datetime] = created_at()
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    messages_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    intent: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    context: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    # 0023: who holds the conversation (ASSISTANT, STAFF, CLOSED), the handoff, the proved order.
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="ASSISTANT")
    handed_off_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handoff_reason: Mapped[str | None] = mapped_column(String(40))
    misunderstood: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locale: Mapped[str | None] = mapped_column(String(5))
    order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    last_message_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                      server_default=func.now())
    company_id: Mapped[uuid.UUID] = company_fk()


class ChatMessage(db.Model):
    """One message of a chatbot session."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        ForeignKeyConstraint(["company_id", "chatbot_session_id"],
                             ["ai_chatbot_sessions.company_id", "ai_chatbot_sessions.id"],
                             ondelete="CASCADE", name="fk_chat_messages_session"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    chatbot_session_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    sender: Mapped[str] = mapped_column(String(20), nullable=False)  # CUSTOMER, ASSISTANT or STAFF
    content: Mapped[str] = mapped_column(Text, nullable=False)
    intent: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))  # the staff member who wrote
    answer_key: Mapped[str | None] = mapped_column(String(60))  # the answer template used
    channel_message_id: Mapped[str | None] = mapped_column(String(200))  # the WhatsApp wamid
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()


class WhatsappTemplate(db.Model):
    """An approved WhatsApp message template of a company."""

    __tablename__ = "whatsapp_templates"
    __table_args__ = (
        UniqueConstraint("company_id", "name", "language", name="uq_whatsapp_templates_name"),
        UniqueConstraint("company_id", "id", name="uq_whatsapp_templates_company_id"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    language: Mapped[str] = mapped_column(String(10), nullable=False, default="ar")
    category: Mapped[str] = mapped_column(String(30), nullable=False, default="UTILITY")
    body: Mapped[str] = mapped_column(Text, nullable=False)
    variables: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="PENDING")
    external_template_id: Mapped[str | None] = mapped_column(String(100))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class WhatsappMessage(db.Model):
    """One outbound WhatsApp message and its delivery status."""

    __tablename__ = "whatsapp_messages"
    __table_args__ = (
        ForeignKeyConstraint(["company_id", "template_id"], ["whatsapp_templates.company_id", "whatsapp_templates.id"],
                             name="fk_whatsapp_messages_template"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    recipient_phone: Mapped[str] = mapped_column(String(20), nullable=False)
    message_content: Mapped[str] = mapped_column(Text, nullable=False)
    message_type: Mapped[WhatsappMessageType] = mapped_column(whatsapp_message_type, nullable=False)
    template_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[WhatsappMessageStatus] = mapped_column(whatsapp_message_status, nullable=False,
                                                          default=WhatsappMessageStatus.PENDING)
    whatsapp_message_id: Mapped[str | None] = mapped_column(String(100))
    error_code: Mapped[str | None] = mapped_column(String(50))
    error_message: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    event: Mapped[str | None] = mapped_column(String(40))  # what caused it (NotificationEvent), None for a test
    order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    dedupe_key: Mapped[str | None] = mapped_column(String(200))  # unique per company: an event sends once
    language: Mapped[str | None] = mapped_column(String(10))
    variables: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class WhatsappConnection(db.Model):
    """A company's WhatsApp Business number: where to send, and the secrets (Fernet-sealed) to send and verify."""

    __tablename__ = "whatsapp_connections"
    __table_args__ = (
        UniqueConstraint("company_id", name="uq_whatsapp_connections_company"),
        UniqueConstraint("company_id", "id", name="uq_whatsapp_connections_company_id"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    phone_number_id: Mapped[str] = mapped_column(String(64), nullable=False)
    display_phone: Mapped[str | None] = mapped_column(String(32))
    access_token: Mapped[str] = mapped_column(Text, nullable=False)  # sealed
    app_secret: Mapped[str] = mapped_column(Text, nullable=False)  # sealed
    verify_token: Mapped[str] = mapped_column(Text, nullable=False)  # sealed
    base_url: Mapped[str] = mapped_column(String(500), nullable=False, default="https://graph.facebook.com/v23.0")
    is_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    last_webhook_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class WhatsappNotificationRule(db.Model):
    """Which template (by name; the language is the customer's) an event sends."""

    __tablename__ = "whatsapp_notification_rules"
    __table_args__ = (UniqueConstraint("company_id", "event", name="uq_whatsapp_rules_event"),)
    id: Mapped[uuid.UUID] = uuid_pk()
    event: Mapped[str] = mapped_column(String(40), nullable=False)
    template_name: Mapped[str] = mapped_column(String(100), nullable=False)
    is_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class WhatsappContact(db.Model):
    """A customer's WhatsApp number: opt-out, language, and when they last wrote (the 24-hour window)."""

    __tablename__ = "whatsapp_contacts"
    __table_args__ = (UniqueConstraint("company_id", "phone", name="uq_whatsapp_contacts_phone"),)
    id: Mapped[uuid.UUID] = uuid_pk()
    phone: Mapped[str] = mapped_column(String(20), nullable=False)  # E.164
    wa_id: Mapped[str | None] = mapped_column(String(32))
    profile_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(10))
    opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opted_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    company_id: Mapped[uuid.UUID] = company_fk()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class WhatsappInboundMessage(db.Model):
    """What a customer wrote (kept for the assistant and the inbox)."""

    __tablename__ = "whatsapp_inbound_messages"
    __table_args__ = (
        UniqueConstraint("company_id", "wamid", name="uq_whatsapp_inbound_wamid"),
        ForeignKeyConstraint(["company_id", "connection_id"],
                             ["whatsapp_connections.company_id", "whatsapp_connections.id"],
                             name="fk_whatsapp_inbound_connection"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    connection_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    wamid: Mapped[str] = mapped_column(String(200), nullable=False)
    from_phone: Mapped[str] = mapped_column(String(20), nullable=False)
    message_type: Mapped[str] = mapped_column(String(20), nullable=False)
    body: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    company_id: Mapped[uuid.UUID] = company_fk()
    received_at: Mapped[datetime] = created_at()
