"""The Messages area (MANAGER+): the WhatsApp connection, templates, notification rules, and every message."""
from flask import Blueprint

bp = Blueprint("messaging", __name__, url_prefix="/messages")
