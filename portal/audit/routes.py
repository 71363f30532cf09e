"""GET /audit: the audit log of the company."""
from flask import Blueprint, render_template, request

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import UserRole
from .services import TABLE_CHOICES, audit_query, author_names, changed_fields

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@roles_required(UserRole.COMPANY_ADMIN)
def index():
    """Every recorded change of the company's settings, users, integrations and menu mappings."""
    table = request.args.get("table", "")
    page = db.paginate(audit_query(table), per_page=30, error_out=False)
    return render_template("audit/index.html", page=page, table=table, tables=TABLE_CHOICES,
                           authors=author_names(page.items), changed_fields=changed_fields)
