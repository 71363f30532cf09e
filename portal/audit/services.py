"""Reading the audit trail: newest first, with the fields each change touched."""
import uuid
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from ..extensions import db
from ..models import AuditLog, User

TABLE_CHOICES = ("companies", "users", "integration_configs", "menu_mappings", "exports")
IGNORED_FIELDS = {"updated_at", "created_at"}
# Never shown, whatever a trigger or a service recorded: passwords, secrets, tokens, keys and hashes.
SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "credential", "otp")


def is_secret(field):
    """True for a field whose value must never be displayed."""
    name = (field or "").lower()
    return name.endswith("_hash") or any(word in name for word in SECRET_WORDS)


def parse_day(text):
    """A YYYY-MM-DD day, or None for an empty box; ValueError for anything else."""
    text = (text or "").strip()
    return date.fromisoformat(text) if text else None


def parse_filters(args):
    """(filters, error): the audit page's filters from the query; a bad date is an error, not a 500."""
    filters = {"table": args.get("table", ""), "operation": args.get("operation", "").strip().upper()[:40],
               "user": None, "since": None, "until": None}
    try:
        filters["user"] = uuid.UUID(args.get("user", "")) if args.get("user") else None
    except ValueError:
        filters["user"] = None
    try:
        filters["since"], filters["until"] = parse_day(args.get("since")), parse_day(args.get("until"))
    except ValueError:
        return filters, "date"
    if filters["since"] and filters["until"] and filters["since"] > filters["until"]:
        return filters, "order"
    return filters, None


def audit_query(table=None, operation=None, user=None, since=None, until=None):
    """Audit entries of the current company (RLS), newest first, optionally narrowed (days in UTC)."""
    query = select(AuditLog).order_by(AuditLog.created_at.desc(), AuditLog.id)
    if table in TABLE_CHOICES:
        query = query.where(AuditLog.table_name == table)
    if operation:
        query = query.where(AuditLog.operation == operation)
    if user:
        query = query.where(AuditLog.user_id == user)
    if since:
        query = query.where(AuditLog.created_at >= datetime.combine(since, time.min, timezone.utc))
    if until:
        query = query.where(AuditLog.created_at < datetime.combine(until + timedelta(days=1), time.min, timezone.utc))
    return query


def filter_choices():
    """(users, operations) of the current company for the filter boxes (RLS keeps them to it)."""
    users = [(user.id, user.full_name) for user in
             db.session.scalars(select(User).order_by(User.first_name, User.last_name))]
    operations = db.session.scalars(select(AuditLog.operation).distinct().order_by(AuditLog.operation)).all()
    return users, operations


def author_names(entries):
    """Names of the users behind a page of entries, in one query."""
    ids = {entry.user_id for entry in entries if entry.user_id}
    if not ids:
        return {}
    return {user.id: user.full_name for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


def changed_fields(entry):
    """(field, before, after) for each field an entry changed; inserts and deletes list their values."""
    old, new = entry.old_values or {}, entry.new_values or {}
    keys = sorted(key for key in (set(old) | set(new)) - IGNORED_FIELDS if not is_secret(key))
    if entry.operation == "UPDATE":
        return [(key, old.get(key), new.get(key)) for key in keys if old.get(key) != new.get(key)]
    values = new or old
    return [(key, None, values.get(key)) for key in keys if values.get(key) not in (None, "", {}, [])][:8]
