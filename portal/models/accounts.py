"""Server-side records of sign-in sessions (one per signed-in browser)."""
import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKeyConstraint, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import company_fk, created_at, uuid_pk


class UserSession(db.Model):
    """One signed-in browser; the Flask session keeps its id, and a revoked record ends the session."""

    __tablename__ = "user_sessions"
    __table_args__ = (ForeignKeyConstraint(["company_id", "user_id"], ["users.company_id", "users.id"],
                                           ondelete="CASCADE", name="fk_user_sessions_user"),)
    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = company_fk()
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    created_at: Mapped[datetime] = created_at()
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
