"""GET /audit: the audit log of the company."""
from flask import Blueprint, flash, render_template, request
from flask_babel import gettext as _

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import UserRole
from .services import TABLE_CHOICES, audit_query, author_names, changed_fields, filter_choices, parse_filters

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@roles_required(UserRole.COMPANY_ADMIN)
def index():
    """Every recorded change of the company's settings, users, integrations and menu mappings."""
    filters, error = parse_filters(request.args)
    if error == "date":
        flash(_("Dates are written as YYYY-MM-DD; the date filter was left out."), "error")
    elif error == "order":
        flash(_("The first day comes after the last day; the date filter was left out."), "error")
    query_filters = dict(filters, since=None, until=None) if error else filters
    page = db.paginate(audit_query(**query_filters), per_page=30, error_out=False)
    users, operations = filter_choices()
    return render_template("audit/index.html", page=page, table=filters["table"], tables=TABLE_CHOICES,
                           filters=filters, users=users, operations=operations,
                           authors=author_names(page.items), changed_fields=changed_fields)
