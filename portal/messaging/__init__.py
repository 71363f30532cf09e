"""WhatsApp for customers: connection, templates, notifications, status webhooks and the Messages page."""
from .routes import bp
from .webhook_routes import bp as webhook_bp

__all__ = ["bp", "webhook_bp"]
