"""GET /outbox: the e-mail the portal sent (or, without SMTP, would have sent) for this company."""
from flask import Blueprint, render_template

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import UserRole
from .services import outbox_query, smtp_configured

bp = Blueprint("mail", __name__, url_prefix="/outbox")


@bp.get("/")
@roles_required(UserRole.COMPANY_ADMIN)
def outbox():
    """Newest first; without SMTP this is where reset links, invitations and alerts can be read."""
    page = db.paginate(outbox_query(), per_page=20, error_out=False)
    return render_template("mail/outbox.html", page=page, smtp=smtp_configured())
