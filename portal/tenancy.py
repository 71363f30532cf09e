"""The single place where the tenant of a transaction is set.

Every transaction the app opens gets `app.current_company_id` set with
`set_config(..., true)` (transaction-local) by one `after_begin` listener, from the tenant kept in
`flask.g`. PostgreSQL's row-level security does the filtering; a query that forgets `company_id`
still only sees the current tenant, and no tenant means no rows.

The only ways around the tenant are here too, each narrow and grep-able:
`sign_in_lookup` (find an account by e-mail before the tenant is known), `sign_in_scope` (the
sign-in throttle's counters, which belong to no tenant) and `cross_tenant` (audited super-admin access).
`read_only_request` makes every transaction of the rest of a request read-only (a super admin viewing a
company): PostgreSQL itself then refuses any write, whatever a view tries.
"""
from contextlib import contextmanager
from enum import StrEnum

from flask import g, has_app_context
from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .extensions import db



class DatabaseRole(StrEnum):
    """The PostgreSQL roles of the runtime; the migrations create them (with their own copy of the names)."""
    APP = "portal_app"  # every request and job: row-level security by the tenant set below
    SUPER = "portal_super"  # audited cross-tenant access (super admins, operator commands)
    LOGIN = "portal_login"  # the columns sign-in needs, before the tenant is known
    WEBHOOK = "portal_webhook"  # an integration's company from the id in a webhook URL
    ROLLUP = "portal_rollup"  # which companies have analytics days to roll up
    SCHEDULER = "portal_scheduler"  # which companies have menu, loyalty or alert work due

_SET_TENANT = text(
    "SELECT set_config('app.current_company_id', :company_id, true),"
    " set_config('app.user_id', :user_id, true)"
)


def current_company_id():
    """The tenant of this app context, or None."""
    return g.get("company_id") if has_app_context() else None


_SET_READ_ONLY = text("SELECT set_config('transaction_read_only', 'on', true)")


def _apply(connection):
    company_id = current_company_id()
    user_id = g.get("user_id") if has_app_context() else None
    connection.execute(_SET_TENANT, {"company_id": str(company_id or ""),
                                     "user_id": str(user_id or "")})
    if has_app_context() and g.get("read_only"):
        connection.execute(_SET_READ_ONLY)


@event.listens_for(Session, "after_begin")
def _set_tenant_on_begin(session, transaction, connection):
    """Every transaction starts scoped to the tenant in `g` (or to none)."""
    _apply(connection)


def use_company(company_id, user_id=None):
    """Make `company_id` the tenant of this app context, including a transaction already open."""
    g.company_id = company_id
    g.user_id = user_id
    session = db.session()
    if session.in_transaction():
        _apply(session.connection())


def read_only_request():
    """From now until the request ends, every transaction is read-only (an open one too); never undone."""
    g.read_only = True
    session = db.session()
    if session.in_transaction():
        session.connection().execute(_SET_READ_ONLY)


def is_read_only_error(error):
    """True when PostgreSQL refused a write because the transaction is read-only."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) == "25006"


@contextmanager
def tenant(company_id, user_id=None):
    """Run a block as `company_id` (CLI commands, jobs, tests), then restore the previous tenant."""
    previous = (g.get("company_id"), g.get("user_id"))
    use_company(company_id, user_id)
    try:
        yield
    finally:
        use_company(*previous)


@contextmanager
def _as_role(role):
    """Run a block of the current transaction as a narrower `role`, then drop back to portal_app."""
    session = db.session()
    session.execute(text(f"SET LOCAL ROLE {role}"))
    try:
        yield session
    finally:
        _reset_role(session)


def sign_in_lookup(email):
    """Find the account for a sign-in, before any tenant is known.

    Runs as portal_login, which may read only the columns sign-in needs; returns a row with
    id, company_id, password, is_active, deleted_at, or None.
    """
    with _as_role(DatabaseRole.LOGIN) as session:
        return session.execute(
            text("SELECT id, company_id, password, is_active, deleted_at FROM users WHERE email = :email"),
            {"email": email},
        ).first()


@contextmanager
def sign_in_scope():
    """Run a block as portal_login: it may use the sign-in throttle table and read nothing of any tenant."""
    with _as_role(DatabaseRole.LOGIN) as session:
        yield session


@contextmanager
def cross_tenant(reason, actor_id=None):
    """Audited super-admin access to every company, for the rest of the block.

    Only admin pages and operator commands use it; each use writes an audit_logs row.
    """
    with _as_role(DatabaseRole.SUPER) as session:
        session.execute(
            text("INSERT INTO audit_logs (table_name, operation, user_id, new_values)"
                 " VALUES ('*', 'CROSS_TENANT_ACCESS', CAST(:actor AS uuid),"
                 " jsonb_build_object('reason', CAST(:reason AS text)))"),
            {"actor": actor_id, "reason": reason},
        )
        yield session


def _reset_role(session):
    """Drop back to portal_app; a failed transaction drops the role itself when rolled back."""
    try:
        session.execute(text("RESET ROLE"))
    except SQLAlchemyError:
        session.rollback()


def resolve_integration(integration_id):
    """The (id, company_id, platform, is_enabled) of an integration named in a webhook URL, or None.

    Webhooks carry no session: this is the one narrow path from an unguessable id to its company.
    It runs as portal_webhook, which may read only those four columns.
    """
    with _as_role(DatabaseRole.WEBHOOK) as session:
        return session.execute(
            text("SELECT id, company_id, platform, is_enabled FROM integration_configs WHERE id = :id"),
            {"id": integration_id},
        ).first()


def resolve_whatsapp_connection(connection_id):
    """The (id, company_id, is_enabled) of the WhatsApp connection a webhook URL names, or None (portal_webhook)."""
    with _as_role(DatabaseRole.WEBHOOK) as session:
        return session.execute(
            text("SELECT id, company_id, is_enabled FROM whatsapp_connections WHERE id = :id"),
            {"id": connection_id},
        ).first()


def store_unclaimed_webhook(values):
    """Keep a webhook that no enabled integration claims; without a company, only operators see it."""
    values = {"channel": "platform", **values}
    with _as_role(DatabaseRole.WEBHOOK) as session:
        session.execute(
            text("INSERT INTO webhook_logs (channel, platform, event_type, payload, raw_body, headers, ip_address,"
                 " request_path, outcome, status_code, error_message, is_processed, processed_at, company_id)"
                 " VALUES (:channel, CAST(:platform AS delivery_platform), :event_type, CAST(:payload AS jsonb),"
                 " CAST(:raw_body AS bytea), CAST(:headers AS jsonb), CAST(:ip_address AS inet), :request_path,"
                 " 'UNKNOWN_INTEGRATION', 404,"
                 " :error_message, true, now(), NULL)"),
            values,
        )


def unfinished_webhooks(received_before):
    """(id, company_id) of the webhooks still RECEIVED that arrived before `received_before`.

    Such a webhook is authentic (it is stored RECEIVED only after its signature passed) but the portal
    stopped while processing it. Runs as portal_scheduler, which may read only those rows' id, company,
    outcome and arrival time; each one is then retried under its own company's tenant.
    """
    with _as_role(DatabaseRole.SCHEDULER) as session:
        return session.execute(
            text("SELECT id, company_id FROM webhook_logs WHERE outcome = 'RECEIVED' AND created_at < :before"
                 " ORDER BY created_at LIMIT 500"),
            {"before": received_before}).all()


def companies_with_pending_rollup():
    """Ids of the companies that have days waiting for the analytics rollup (the worker's periodic job).

    The job's one look across companies: it runs as portal_rollup, which may read only the company
    and day of analytics_dirty_days and the time zone of companies; only days before the company's
    today count (today is always read live). Each company's days are then rolled up under its own tenant.
    """
    with _as_role(DatabaseRole.ROLLUP) as session:
        return session.scalars(text(
            "SELECT DISTINCT d.company_id FROM analytics_dirty_days d JOIN companies c ON c.id = d.company_id"
            " WHERE d.day < (now() AT TIME ZONE c.timezone)::date")).all()


def companies_with_menu_work(now):
    """The companies with an 86 that has ended by `now` or with availability hours (the worker's tick).

    Runs as portal_scheduler, which may read only company ids, 86 end times and whether a mapping
    has a schedule; each company's work then runs under its own tenant.
    """
    with _as_role(DatabaseRole.SCHEDULER) as session:
        return list(session.scalars(
            text("SELECT company_id FROM menu_sold_out WHERE ended_at IS NULL AND until_at <= :now"
                 " UNION SELECT company_id FROM menu_mappings WHERE availability_schedule IS NOT NULL"),
            {"now": now}))


def companies_with_alerts():
    """The companies with an e-mail alert turned on (the alerts job's tick).

    Runs as portal_scheduler, which may read only the id and the two alert switches of companies;
    each company's check then runs under its own tenant.
    """
    with _as_role(DatabaseRole.SCHEDULER) as session:
        return list(session.scalars(
            text("SELECT id FROM companies WHERE alert_pending_enabled OR alert_integration_enabled ORDER BY id")))


_LOYALTY_DUE = text("""
SELECT company_id FROM loyalty_transactions WHERE remaining_points > 0 AND expires_at <= :now
UNION
SELECT t.company_id FROM loyalty_tiers t
JOIN loyalty_programs p ON p.company_id = t.company_id AND p.id = t.loyalty_program_id
WHERE p.is_active AND t.window_days IS NOT NULL
""")


def companies_with_loyalty_work(now):
    """Companies with points past their expiry, or with tiers measured over a sliding window.

    Runs as portal_scheduler like the menu's look, which may read only the columns this needs;
    each company's expiry then runs under its own tenant.
    """
    with _as_role(DatabaseRole.SCHEDULER) as session:
        return [row[0] for row in session.execute(_LOYALTY_DUE, {"now": now})]


def companies_with_expiry_reminders():
    """Companies that send a WhatsApp reminder before points expire (portal_scheduler: those three columns)."""
    with _as_role(DatabaseRole.SCHEDULER) as session:
        return list(session.scalars(text(
            "SELECT DISTINCT company_id FROM whatsapp_notification_rules"
            " WHERE event = 'POINTS_EXPIRING' AND is_enabled ORDER BY company_id")))


def resolve_chat_company(public_chat_id):
    """The id of the active company whose web chat has this public id, or None (portal_webhook: id and state)."""
    with _as_role(DatabaseRole.WEBHOOK) as session:
        return session.scalar(
            text("SELECT id FROM companies WHERE public_chat_id = :public_id AND is_active AND deleted_at IS NULL"),
            {"public_id": str(public_chat_id)[:32]})
