"""Database health for SUPER_ADMIN: table and index sizes, job-queue depth, the oldest unprocessed webhook."""
from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import text

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import UserRole
from ..tenancy import cross_tenant

bp = Blueprint("admin_health", __name__, url_prefix="/admin")


@bp.get("/database")
@roles_required(UserRole.SUPER_ADMIN)
def database():
    with cross_tenant("database health page", actor_id=current_user.id) as session:
        tables = session.execute(text(
            "SELECT tablename, size, size_bytes FROM v_table_sizes ORDER BY size_bytes DESC LIMIT 50")).all()
        indexes = session.execute(text("SELECT * FROM v_index_usage LIMIT 50")).mappings().all()
        queues = session.execute(text(
            "SELECT queue_name, status::text AS status, count(*) AS jobs FROM procrastinate_jobs"
            " GROUP BY queue_name, status ORDER BY queue_name, status")).all()
        oldest = session.scalar(text(
            "SELECT now() - min(created_at) FROM webhook_logs WHERE outcome = 'RECEIVED'"))
    db.session.commit()
    return render_template("admin/database.html", tables=tables, indexes=indexes, queues=queues, oldest=oldest)
