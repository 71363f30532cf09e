"""GET /: the dashboard every role lands on."""
from flask import Blueprint, g, render_template

from ..auth.decorators import roles_required
from ..models import UserRole
from .services import dashboard_figures

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@roles_required(UserRole.USER)
def index():
    """Today's orders, sales and open orders, and the last week per platform."""
    return render_template("dashboard/index.html", figures=dashboard_figures(g.company))
