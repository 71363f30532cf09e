"""Settings from environment variables, with safe defaults for a developer's machine."""
import os

from sqlalchemy.engine import make_url

from .tenancy import DatabaseRole


def _bool(name, default=False):
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Runtime configuration; production must set SECRET_KEY and PORTAL_ENCRYPTION_KEYS."""

    ENV_NAME = os.environ.get("PORTAL_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # Owner connection (migrations, operator commands). Unset: an embedded PostgreSQL in instance/.
    DATABASE_URL = os.environ.get("DATABASE_URL")
    # Runtime connection as portal_app. Unset: DATABASE_URL with the user swapped for portal_app.
    APP_DATABASE_URL = os.environ.get("APP_DATABASE_URL")
    PORTAL_APP_PASSWORD = os.environ.get("PORTAL_APP_PASSWORD")
    PORTAL_ENCRYPTION_KEYS = os.environ.get("PORTAL_ENCRYPTION_KEYS")

    SQLALCHEMY_ENGINE_OPTIONS = {
        "pool_pre_ping": True,
        "pool_size": int(os.environ.get("DB_POOL_SIZE", "10")),
        "max_overflow": int(os.environ.get("DB_MAX_OVERFLOW", "10")),
    }
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    BCRYPT_ROUNDS = int(os.environ.get("BCRYPT_ROUNDS", "12"))
    SESSION_COOKIE_HTTPONLY = True
    WEBHOOK_LOG_RETENTION_DAYS = int(os.environ.get("WEBHOOK_LOG_RETENTION_DAYS", "30"))
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", ENV_NAME == "production")
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = int(os.environ.get("SESSION_LIFETIME_SECONDS", str(12 * 3600)))
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session; a kitchen tablet stays open all day
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(1024 * 1024)))

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    # Failed sign-ins before a pause (auth/throttle.py): this account from one address; the account
    # from addresses it never signed in from (an hour); one address across accounts (an hour).
    SIGN_IN_PAIR_FAILURES = int(os.environ.get("SIGN_IN_PAIR_FAILURES", "5"))
    SIGN_IN_ACCOUNT_FAILURES = int(os.environ.get("SIGN_IN_ACCOUNT_FAILURES", "20"))
    SIGN_IN_ADDRESS_FAILURES = int(os.environ.get("SIGN_IN_ADDRESS_FAILURES", "50"))
    VIEW_AS_MINUTES = int(os.environ.get("VIEW_AS_MINUTES", "30"))  # a super admin's read-only view of a company

    WEBHOOK_RATE_LIMIT = os.environ.get("WEBHOOK_RATE_LIMIT", "1200 per minute")  # per integration
    WEBHOOK_MAX_BYTES = int(os.environ.get("WEBHOOK_MAX_BYTES", str(256 * 1024)))
    WEBHOOK_RETRY_BASE_SECONDS = int(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "30"))
    PLATFORM_CALL_MAX_ATTEMPTS = int(os.environ.get("PLATFORM_CALL_MAX_ATTEMPTS", "5"))
    PLATFORM_CALL_RETRY_BASE_SECONDS = int(os.environ.get("PLATFORM_CALL_RETRY_BASE_SECONDS", "10"))
    # WhatsApp sends: tries on Meta's retryable errors (rate limits, temporarily unavailable), backoff base.
    WHATSAPP_MAX_ATTEMPTS = int(os.environ.get("WHATSAPP_MAX_ATTEMPTS", "5"))
    WHATSAPP_RETRY_BASE_SECONDS = int(os.environ.get("WHATSAPP_RETRY_BASE_SECONDS", "10"))
    # The assistant hands a conversation to staff below this confidence (and on complaints, "a person", or
    # two misunderstandings in a row).
    ASSISTANT_CONFIDENCE_THRESHOLD = float(os.environ.get("ASSISTANT_CONFIDENCE_THRESHOLD", "0.45"))
    # The public web chat: messages one address may send, and one conversation may send.
    CHAT_RATE_LIMIT_ADDRESS = os.environ.get("CHAT_RATE_LIMIT_ADDRESS", "30 per minute")
    CHAT_RATE_LIMIT_CONVERSATION = os.environ.get("CHAT_RATE_LIMIT_CONVERSATION", "10 per minute")
    WHATSAPP_EXPIRY_NOTICE_DAYS = int(os.environ.get("WHATSAPP_EXPIRY_NOTICE_DAYS", "7"))  # points-expiring reminder

    # E-mail: SMTP when MAIL_SERVER is set; otherwise messages stay in the outbox (GET /outbox).
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_FROM = os.environ.get("MAIL_FROM", "portal@localhost")
    MAIL_FROM_NAME = os.environ.get("MAIL_FROM_NAME", "Merchant Portal")
    # The address links in e-mail start with (no request to read it from in the worker).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    # Account links (portal/auth/tokens.py): how long a password-reset and an invitation link work.
    RESET_LINK_MINUTES = int(os.environ.get("RESET_LINK_MINUTES", "60"))
    INVITATION_LINK_DAYS = int(os.environ.get("INVITATION_LINK_DAYS", "7"))

    LANGUAGES = ("en", "ar")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                 "translations")


class TestConfig(Config):
    """Tests: fast password hashing, a fixed key; CSRF stays on unless a test turns it off."""

    TESTING = True
    SECRET_KEY = "test-secret-key"
    BCRYPT_ROUNDS = 4
    RATELIMIT_STORAGE_URI = "memory://"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5}


def check_production(settings):
    """Fail fast on what production must set (development generates its own under instance/)."""
    if settings.get("ENV_NAME") == "production":
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL", "PORTAL_ENCRYPTION_KEYS")
                   if not settings.get(name)]
        if missing:
            raise RuntimeError(f"Set {', '.join(missing)} in the environment for production.")


def sqlalchemy_url(url):
    """Normalise a postgres:// or postgresql:// URL to the psycopg 3 driver."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def app_url_from_owner(owner_url, password=None):
    """The runtime URL: the owner's server and database, logged in as portal_app."""
    parsed = make_url(sqlalchemy_url(owner_url))
    return parsed.set(username=DatabaseRole.APP.value, password=password).render_as_string(hide_password=False)
