"""E-mail: send a message (SMTP when configured, else the outbox) and the Outbox page for admins."""
from .routes import bp

__all__ = ["bp"]
