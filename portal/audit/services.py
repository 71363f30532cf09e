"""Reading the audit trail: newest first, with the fields each change touched."""
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


def audit_query(table=None):
    """Audit entries of the current company (RLS), newest first."""
    query = select(AuditLog).order_by(AuditLog.created_at.desc(), AuditLog.id)
    if table in TABLE_CHOICES:
        query = query.where(AuditLog.table_name == table)
    return query


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
