"""Rules for the company's platform connections: what is stored, encrypted, required, and how healthy it is.

Credentials (api_key, api_secret) and the webhook secret are encrypted with the company's binding
(portal.crypto) before they reach the session, and are never decrypted for a page, with one
exception: the page right after a new webhook secret is generated shows it once (`reveal_ticket`).
The pages, the CLI commands and the tests all go through these functions.
"""
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

import requests
from babel.numbers import get_currency_precision
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from werkzeug.routing import BuildError

from ..crypto import SecretError, decrypt_secret, encrypt_secret, rotate_secret
from ..dashboard.services import start_of_day
from ..extensions import db
from ..models import AggregationType, DeliveryOrder, IntegrationAnalytics, IntegrationConfig, WhatsappConnection
from ..platforms import adapter_for, all_adapters
from ..tenancy import cross_tenant

# Credentials: encrypted at rest, never sent back to a browser. Identifiers are shown in clear.
SECRET_FIELDS = ("api_key", "api_secret")
STORED_SECRETS = SECRET_FIELDS + ("webhook_secret",)
WHATSAPP_SECRETS = ("access_token", "app_secret", "verify_token")  # sealed columns of whatsapp_connections
IDENTIFIER_FIELDS = ("merchant_id", "store_id")
CHECK_VIOLATION = "23514"
CONNECTION_TIMEOUT = 5  # seconds
PREPARATION_MINUTES = (5, 120)
DEFAULT_PREPARATION_MINUTES = 20
SYNC_LABELS = {"pending": _l("Not synced yet"), "in_progress": _l("Syncing"), "completed": _l("Synced"),
               "failed": _l("Sync failed"), "cancelled": _l("Sync cancelled")}
CAPABILITY_LABELS = (
    ("store_close", _l("Open and close the store")),
    ("timed_pause", _l("Pause the store until a set time")),
    ("busy_mode", _l("Busy mode (longer preparation)")),
    ("item_snooze", _l("Mark items sold out")),
    ("prep_time_change", _l("Change an order's preparation time")),
    ("mark_prepared", _l("Tell the platform an order is ready")),
    ("picked_up", _l("Tell the platform an order was picked up")),
    ("status_api", _l("Order statuses sent back to the platform")),
)


class IntegrationError(ValueError):
    """A change the rules refuse; the message is for the person who asked, `field` the form field (or None)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class MissingCredentials(IntegrationError):
    """Turning a connection on without every credential its platform requires."""

    def __init__(self, fields):
        super().__init__(_("Fill in every required credential before turning this connection on."))
        self.fields = fields


class MissingWebhookSecret(IntegrationError):
    """Turning a connection on before it has a webhook secret: its webhooks could not be verified."""

    def __init__(self, platform):
        super().__init__(_("Generate a webhook secret before turning %(platform)s on: without it, the "
                           "platform's webhooks cannot be verified and every order would be refused.",
                           platform=adapter_for(platform).display_name), "is_enabled")


@dataclass
class Health:
    """How the connection is doing: state is "ok", "failing" or "none" (no traffic yet)."""

    state: str
    at: datetime | None = None
    error: str | None = None


@dataclass
class PlatformCard:
    """One platform on the Integrations page: its adapter, the company's connection (or None), today's orders."""

    adapter: object
    integration: IntegrationConfig | None
    orders_today: int

    @property
    def slug(self):
        return self.adapter.platform.value.lower()

    @property
    def is_set_up(self):
        return self.integration is not None

    @property
    def is_connected(self):
        """Set up with every required credential stored."""
        return self.integration is not None and not missing_credentials(self.adapter, self.integration)

    @property
    def health(self):
        return health_of(self.integration)


@dataclass
class ConnectionResult:
    """The outcome of a reachability check of the platform's base URL."""

    ok: bool
    message: str
    elapsed_ms: int
    status_code: int | None = None


# --- reading -----------------------------------------------------------------------------------------

def get_integration(company, platform):
    """The company's connection to `platform`, or None (RLS already limits it to the current tenant)."""
    platform = adapter_for(platform).platform
    return db.session.scalar(select(IntegrationConfig).where(IntegrationConfig.company_id == company.id,
                                                             IntegrationConfig.platform == platform))


def orders_today_by_platform(company, now=None):
    """Today's orders (company time zone, test orders left out) per platform, in one query."""
    rows = db.session.execute(
        select(DeliveryOrder.platform, func.count())
        .where(DeliveryOrder.company_id == company.id, DeliveryOrder.is_test.is_(False),
               DeliveryOrder.created_at >= start_of_day(company.timezone, now))
        .group_by(DeliveryOrder.platform)).all()
    return {platform: count for platform, count in rows}


def platform_cards(company, now=None):
    """A card for each of the nine platforms, in the adapters' order."""
    integrations = {integration.platform: integration for integration in db.session.scalars(
        select(IntegrationConfig).where(IntegrationConfig.company_id == company.id))}
    orders = orders_today_by_platform(company, now)
    return [PlatformCard(adapter, integrations.get(adapter.platform), orders.get(adapter.platform, 0))
            for adapter in all_adapters()]


def health_of(integration):
    """OK when the last success is newer than the last error, failing when not, none without traffic."""
    if integration is None or (integration.last_success_at is None and integration.last_error_at is None):
        return Health("none")
    if integration.last_error_at is None or (
            integration.last_success_at is not None and integration.last_success_at > integration.last_error_at):
        return Health("ok", integration.last_success_at)
    return Health("failing", integration.last_error_at, integration.last_error)


def missing_credentials(adapter, integration):
    """The required credential fields of the platform that the connection has no value for."""
    return [name for name, _label, required in adapter.credential_fields
            if required and not (integration is not None and getattr(integration, name))]


def secret_states(integration):
    """Which secrets are stored (True/False per column), without ever decrypting them."""
    return {name: bool(integration is not None and getattr(integration, name)) for name in STORED_SECRETS}


def uses_plugin_url(platform):
    """Whether the platform calls `<plugin URL>/order/<remoteId>` (Delivery Hero's middleware) rather than a webhook."""
    return adapter_for(platform).uses_plugin_url


def webhook_url(integration, public_url=None):
    """The address the platform sends this connection's webhooks to.

    Built for the current request's host, or for `public_url` (CLI commands have no request).
    """
    values = {"platform": integration.platform.value.lower(), "integration_id": str(integration.id)}
    base = public_url or request.host_url
    try:
        if public_url:
            with current_app.test_request_context(base_url=public_url):
                return url_for("webhooks.receive", **values, _external=True)
        return url_for("webhooks.receive", **values, _external=True)
    except BuildError:
        # The receiver is not registered in this app: its URL is fixed by docs/DESIGN.md "Names that stay put".
        return f"{base.rstrip('/')}/webhooks/{values['platform']}/{values['integration_id']}"


# --- rules of what may be stored -----------------------------------------------------------------

def clean_commission_rate(value):
    """A percentage between 0 and 100 with at most 2 decimals."""
    try:
        rate = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise IntegrationError(_("Enter a number, such as 15 or 17.5."), "commission_rate") from None
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(100):
        raise IntegrationError(_("Enter a commission between 0 and 100 %."), "commission_rate")
    if rate.as_tuple().exponent < -2:
        raise IntegrationError(_("Use at most 2 decimals."), "commission_rate")
    return rate.quantize(Decimal("0.01"))


def clean_base_url(value):
    """An http(s) address with a host, or None when empty."""
    value = (value or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(ch.isspace() for ch in value):
        raise IntegrationError(_("Enter an address that starts with http:// or https://."), "base_url")
    if len(value) > 500:
        raise IntegrationError(_("Use at most 500 characters."), "base_url")
    return value


def clean_preparation_minutes(value, auto_accept_enabled):
    """Whole minutes between 5 and 120; when auto-accept is off an empty value takes the default."""
    low, high = PREPARATION_MINUTES
    if value in (None, ""):
        if auto_accept_enabled:
            raise IntegrationError(_("Enter the preparation time in minutes."), "preparation_minutes")
        return DEFAULT_PREPARATION_MINUTES
    try:
        minutes = int(str(value).strip())
    except ValueError:
        raise IntegrationError(_("Enter whole minutes."), "preparation_minutes") from None
    if not low <= minutes <= high:
        raise IntegrationError(_("Enter between %(low)s and %(high)s minutes.", low=low, high=high),
                               "preparation_minutes")
    return minutes


def clean_max_total(company, value):
    """An optional amount above zero in the company's currency, with at most its decimals; a string or None."""
    if value in (None, ""):
        return None
    places = get_currency_precision(company.currency)
    try:
        total = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise IntegrationError(_("Enter an amount, such as 150."), "max_total") from None
    if not total.is_finite() or total <= 0 or total >= Decimal("1e9"):
        raise IntegrationError(_("Enter an amount above zero."), "max_total")
    if total.as_tuple().exponent < -places:
        raise IntegrationError(_("Use at most %(places)s decimals for %(currency)s.", places=places,
                                 currency=company.currency), "max_total")
    return str(total.quantize(Decimal(1).scaleb(-places)))


def auto_accept_settings(company, enabled, preparation_minutes=None, max_total=None):
    """The auto-accept rules as stored: {"enabled", "preparation_minutes", "max_total" (string or None)}."""
    return {"enabled": bool(enabled),
            "preparation_minutes": clean_preparation_minutes(preparation_minutes, enabled),
            "max_total": clean_max_total(company, max_total)}


# --- changing ------------------------------------------------------------------------------------

def save_integration(company, platform, *, new_secrets=None, **settings):
    """Create or update the company's connection to `platform` and commit.

    `settings` may hold is_enabled, commission_rate, base_url, auto_accept, merchant_id, store_id:
    what is given is set, what is not is kept. `new_secrets` maps api_key/api_secret/webhook_secret to a
    new plain value; a secret that is not given (or is empty) keeps its stored value.
    """
    adapter = adapter_for(platform)
    unknown = set(settings) - {"is_enabled", "commission_rate", "base_url", "auto_accept", *IDENTIFIER_FIELDS}
    if unknown or set(new_secrets or {}) - set(STORED_SECRETS):
        raise TypeError(f"Unknown integration settings: {sorted(unknown)}")
    if "commission_rate" in settings:
        settings["commission_rate"] = clean_commission_rate(settings["commission_rate"])
    if "base_url" in settings:
        settings["base_url"] = clean_base_url(settings["base_url"])
    if "auto_accept" in settings:
        settings["auto_accept"] = auto_accept_settings(company, **settings["auto_accept"])
    for name in IDENTIFIER_FIELDS:
        if name in settings:
            settings[name] = (settings[name] or "").strip() or None
            if settings[name] and len(settings[name]) > 100:
                raise IntegrationError(_("Use at most 100 characters."), name)

    integration = get_integration(company, adapter.platform)
    if integration is None:
        integration = IntegrationConfig(company_id=company.id, platform=adapter.platform, is_enabled=False,
                                        commission_rate=Decimal("0"), auto_accept={})
        db.session.add(integration)
    for name, value in settings.items():
        setattr(integration, name, value)
    for name, value in (new_secrets or {}).items():
        if value:
            setattr(integration, name, encrypt_secret(company.id, value))
    if integration.is_enabled:
        missing = missing_credentials(adapter, integration)
        if missing:
            db.session.rollback()
            raise MissingCredentials(missing)
        if not integration.webhook_secret:
            db.session.rollback()
            raise MissingWebhookSecret(adapter.platform)
    _commit_or_explain()
    return integration


def set_enabled(company, platform, enabled):
    """Turn a connection on (every required credential and the webhook secret stored) or off."""
    if get_integration(company, platform) is None:
        raise IntegrationError(_("Set this platform up before turning it on."))
    return save_integration(company, platform, is_enabled=enabled)


def generate_webhook_secret(company, platform):
    """A new random webhook secret for the connection (created as a draft if needed); returns it once, in clear."""
    secret = secrets.token_urlsafe(32)
    integration = save_integration(company, platform, new_secrets={"webhook_secret": secret})
    return integration, secret


REVEAL_SECONDS = 300


def reveal_ticket(integration, now=None):
    """What the session keeps so the next page can show a just-generated webhook secret once.

    It names the stored secret by a digest of its ciphertext, so the cookie (signed, not encrypted)
    holds neither the secret nor its ciphertext, and a later change of the secret voids the ticket.
    """
    return {"integration": str(integration.id), "digest": _digest(integration.webhook_secret),
            "at": int((now or datetime.now(timezone.utc)).timestamp())}


def revealed_secret(integration, ticket, now=None):
    """The plain webhook secret named by `ticket` (see reveal_ticket), or None when it is stale or
    names another secret."""
    if not isinstance(ticket, dict) or integration is None or not integration.webhook_secret:
        return None
    age = (now or datetime.now(timezone.utc)).timestamp() - (ticket.get("at") or 0)
    if ticket.get("integration") != str(integration.id) or ticket.get("digest") != _digest(
            integration.webhook_secret) or not 0 <= age <= REVEAL_SECONDS:
        return None
    try:
        return decrypt_secret(integration.company_id, integration.webhook_secret)
    except SecretError:
        return None


def _digest(token):
    return hashlib.sha256((token or "").encode()).hexdigest()[:32]


def check_connection(integration, timeout=CONNECTION_TIMEOUT):
    """Reach the platform's base URL once, record the outcome on the connection and as a response time.

    Any HTTP answer below 500 counts as reachable; a refused connection, a timeout or a 5xx does not.
    """
    if not integration.base_url:
        raise IntegrationError(_("Add the platform's base URL and save it before testing the connection."),
                               "base_url")
    status_code = None
    started = time.perf_counter()
    try:
        with requests.get(integration.base_url, timeout=timeout, allow_redirects=False, stream=True,
                          headers={"User-Agent": "merchant-portal/connection-test"}) as response:
            status_code = response.status_code
    except requests.Timeout:
        ok, message = False, _("No answer from %(host)s within %(seconds)s seconds.",
                               host=_host(integration.base_url), seconds=timeout)
    except requests.RequestException as error:
        ok, message = False, _("Could not connect to %(host)s: %(reason)s.",
                               host=_host(integration.base_url), reason=_reason(error))
    else:
        ok = status_code < 500
        message = (_("%(host)s answered with HTTP %(status)s.", host=_host(integration.base_url), status=status_code)
                   if ok else _("%(host)s answered with a server error (HTTP %(status)s).",
                                host=_host(integration.base_url), status=status_code))
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    now = datetime.now(timezone.utc)
    if ok:
        integration.last_success_at = now
    else:
        integration.last_error_at = now
        integration.last_error = message
    db.session.add(IntegrationAnalytics(
        company_id=integration.company_id, platform=integration.platform, metric_name="api_response_time",
        metric_value=Decimal(elapsed_ms), metric_unit="ms", aggregation_type=AggregationType.AVG,
        period_start=now, period_end=now,
        tags={"source": "connection_test", "integration_id": str(integration.id), "ok": ok,
              "status_code": status_code}))
    _commit_or_explain()
    return ConnectionResult(ok, message, elapsed_ms, status_code)


def rotate_stored_secrets():
    """Re-encrypt every stored credential and webhook secret of every company with the newest key.

    That is the integrations' credentials and webhook secrets, and the WhatsApp connections' access
    token, app secret and verify token. Returns (re-encrypted, unreadable) with unreadable a list of
    (what, id, column): secrets already sealed with the newest key are left alone, so running it twice
    re-encrypts nothing the second time; unreadable ones are listed, not changed.
    """
    newest = _newest_key()
    rotated, unreadable = 0, []
    with cross_tenant("rotate-keys: re-encrypt platform credentials with the newest key") as session:
        for what, model, names in (("integration", IntegrationConfig, STORED_SECRETS),
                                   ("WhatsApp connection", WhatsappConnection, WHATSAPP_SECRETS)):
            count, missed = _rotate_columns(session, newest, model, names)
            rotated += count
            unreadable += [(what, row_id, name) for row_id, name in missed]
    db.session.commit()
    return rotated, unreadable


def _rotate_columns(session, newest, model, names):
    """Re-encrypt the sealed `names` columns of every row of `model`; returns (re-encrypted, [(id, column)])."""
    rotated, unreadable = 0, []
    rows = session.execute(select(model.id, *[getattr(model, name) for name in names])).all()
    for row in rows:
        changes = {}
        for name in names:
            token = getattr(row, name)
            if not token or _sealed_with(newest, token):
                continue
            try:
                changes[name] = rotate_secret(token)
            except InvalidToken:
                unreadable.append((row.id, name))
        if changes:
            session.execute(update(model).where(model.id == row.id).values(**changes))
            rotated += len(changes)
    return rotated, unreadable


# --- helpers ---------------------------------------------------------------------------------------

def _commit_or_explain():
    """Commit; a database rule (trigger or CHECK) that refuses the change becomes an IntegrationError."""
    try:
        db.session.commit()
    except DBAPIError as error:
        db.session.rollback()
        if getattr(error.orig, "sqlstate", None) != CHECK_VIOLATION:
            raise
        diag = getattr(error.orig, "diag", None)
        reason = (diag.message_primary if diag is not None and diag.message_primary else str(error.orig)).strip()
        raise IntegrationError(_("The change was refused: %(reason)s.", reason=reason.rstrip("."))) from error


def _newest_key():
    keys = [key.strip() for key in current_app.config["PORTAL_ENCRYPTION_KEYS"].split(",") if key.strip()]
    return Fernet(keys[0])


def _sealed_with(fernet, token):
    try:
        fernet.extract_timestamp(token.encode())
    except InvalidToken:
        return False
    return True


def _host(url):
    parts = urlsplit(url)
    return parts.netloc or url


def _reason(error):
    """The short cause of a requests error ("Connection refused"), not urllib3's whole chain."""
    match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(error))
    if match:
        return match.group(1).strip()
    if isinstance(error, requests.exceptions.SSLError):
        return _("the TLS certificate could not be verified")
    return type(error).__name__


# --- From the order board: pause a platform, auto-accept ----------------------------------------

PAUSE_CHOICES = (15, 30, 60, 120)


def pause_store(integration, minutes, user=None):
    """Stop new orders on a platform for `minutes` (or until resumed when the platform cannot time it).

    The platform is told through the job queue; the board shows the pause until it ends.
    """
    from datetime import timedelta

    from .outbound import queue_call

    adapter = adapter_for(integration.platform)
    if not (adapter.capabilities.timed_pause or adapter.capabilities.store_close):
        raise IntegrationError(_("%(platform)s cannot be paused from the portal.", platform=adapter.display_name))
    minutes = int(minutes)
    if minutes not in PAUSE_CHOICES:
        raise IntegrationError(_("Choose one of the pause lengths offered."))
    integration.paused_until = datetime.now(timezone.utc) + timedelta(minutes=minutes)
    outbound = adapter.store_status_request(False, minutes if adapter.capabilities.timed_pause else None,
                                            reason=adapter.pause_reason,
                                            store_id=integration.store_id)
    if outbound is not None:
        queue_call(integration, outbound, "STORE_PAUSE", user_id=user.id if user else None)
    db.session.commit()
    return integration


def resume_store(integration, user=None):
    """Take new orders again on a platform."""
    from .outbound import queue_call

    adapter = adapter_for(integration.platform)
    integration.paused_until = None
    outbound = adapter.store_status_request(True, store_id=integration.store_id)
    if outbound is not None:
        queue_call(integration, outbound, "STORE_RESUME", user_id=user.id if user else None)
    db.session.commit()
    return integration


def set_auto_accept(integration, enabled):
    """Turn the integration's auto-accept rule on or off, keeping its other settings."""
    rule = dict(integration.auto_accept or {})
    rule["enabled"] = bool(enabled)
    rule.setdefault("preparation_minutes", 15)
    integration.auto_accept = rule
    db.session.commit()
    return integration
