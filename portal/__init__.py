"""The merchant portal: one app factory, built in named steps."""
import logging
import os
import secrets
from pathlib import Path

from flask import Flask, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from . import config as config_module
from .extensions import babel, csrf, db, htmx, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None):
    """Build the Flask app; `config` is a Config class or object, or a dict of overrides."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=str(Path(os.environ.get("PORTAL_INSTANCE_PATH", ROOT / "instance"))))
    load_config(app, config)
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_cli(app)
    register_tasks_and_hooks()
    return app


def load_config(app, config):
    """Settings from the environment, then overrides; resolve the two database URLs."""
    base = config_module.Config
    overrides = {}
    if isinstance(config, dict):
        overrides = config
    elif config is not None:
        base = config
    app.config.from_object(base)
    app.config.update(overrides)
    config_module.check_production(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app, "secret_key")
    owner_url = app.config.get("DATABASE_URL")
    if not owner_url:
        from .embedded_db import owner_url as embedded_owner_url
        owner_url = embedded_owner_url(app.instance_path)
    app.config["OWNER_DATABASE_URL"] = config_module.sqlalchemy_url(owner_url)
    app.config["SQLALCHEMY_DATABASE_URI"] = (
        config_module.sqlalchemy_url(app.config["APP_DATABASE_URL"]) if app.config.get("APP_DATABASE_URL")
        else config_module.app_url_from_owner(owner_url, app.config.get("PORTAL_APP_PASSWORD")))
    if not app.config.get("PORTAL_ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet
        app.config["PORTAL_ENCRYPTION_KEYS"] = _instance_secret(app, "encryption_key",
                                                                lambda: Fernet.generate_key().decode())


def _instance_secret(app, name, make=lambda: secrets.token_hex(32)):
    """A development secret kept in instance/ so sessions and encrypted data survive restarts."""
    path = Path(app.instance_path) / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def register_extensions(app):
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    from .i18n import select_locale, select_timezone
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    from . import auth  # noqa: F401  registers the user loader
    from . import models  # noqa: F401  the metadata Alembic and the tests see


def register_blueprints(app):
    from .admin.health_routes import bp as admin_health_bp
    from .admin.routes import bp as admin_bp
    from .audit.routes import bp as audit_bp
    from .auth.routes import bp as auth_bp
    from .dashboard.routes import bp as dashboard_bp
    from .health import bp as health_bp
    from .orders import bp as orders_bp
    from .integrations.routes import bp as integrations_bp
    from .users.routes import bp as users_bp
    from .webhooks.routes import bp as webhooks_bp

    for blueprint in (auth_bp, dashboard_bp, orders_bp, users_bp, integrations_bp, audit_bp, webhooks_bp, admin_bp,
                      admin_health_bp, health_bp):
        app.register_blueprint(blueprint)
    from .menu import bp as menu_bp
    app.register_blueprint(menu_bp)

    from .loyalty import bp as loyalty_bp
    app.register_blueprint(loyalty_bp)
    from .analytics.routes import bp as analytics_bp  # reports
    app.register_blueprint(analytics_bp)
    from .mail import bp as mail_bp  # the outbox
    app.register_blueprint(mail_bp)
    from .settings import bp as settings_bp  # company settings, opening hours, alerts
    app.register_blueprint(settings_bp)
    from .account.routes import bp as account_bp  # forgotten password, invitations
    app.register_blueprint(account_bp)
    from .messaging import bp as messaging_bp, webhook_bp as whatsapp_webhook_bp  # WhatsApp for customers
    app.register_blueprint(messaging_bp)
    app.register_blueprint(whatsapp_webhook_bp)
    from .assistant.routes import bp as inbox_bp, chat_bp  # the Inbox, and the customers' web chat
    app.register_blueprint(inbox_bp)
    app.register_blueprint(chat_bp)


def register_tasks_and_hooks():
    """Every background task known by name (for `defer`), and the areas' reactions to each other."""
    from . import tasks  # noqa: F401  (registers the tasks on the queue)
    from .assistant.services import on_whatsapp_message
    from .hooks import (order_page_panels, order_status_changed, platform_call_finished, points_earned,
                        whatsapp_message_received)
    from .loyalty.ledger import on_status_change
    from .loyalty.routes import order_page_panel
    from .menu.sync import on_call_finished
    from .messaging.routes import order_page_panel as whatsapp_order_panel
    from .messaging.services import on_order_status, on_points_earned
    from .messaging.webhook import reprocess as reprocess_whatsapp_webhook
    from .webhooks.services import register_channel

    order_status_changed.connect(on_status_change)  # loyalty first: its points are then known to messaging
    order_status_changed.connect(on_order_status)
    points_earned.connect(on_points_earned)
    register_channel("whatsapp", reprocess_whatsapp_webhook)
    whatsapp_message_received.connect(on_whatsapp_message)
    platform_call_finished.connect(on_call_finished)
    order_page_panels.connect(order_page_panel)
    order_page_panels.connect(whatsapp_order_panel)


CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'", "object-src 'none'",
))


def register_request_hooks(app):
    from . import web
    web.register(app)

    @app.before_request
    def load_tenant():
        """Load the signed-in user first, which scopes the request to their company."""
        if request.endpoint and request.endpoint != "static":
            g.user = current_user._get_current_object()

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # No inline script or style anywhere (templates use static files, data- attributes and classes).
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if app.config.get("ENV_NAME") == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def register_error_handlers(app):
    from sqlalchemy.exc import DBAPIError

    from .auth.view_as import ReadOnlyView
    from .tenancy import is_read_only_error

    def page(code, title, message):
        if request.headers.get("HX-Request"):
            return render_template("errors/_message.html", title=title, message=message), code
        return render_template("errors/error.html", code=code, title=title, message=message), code

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        flash(_("Your form had expired. Please try again."), "error")
        return page(400, _("Please try again"),
                    _("The form had expired or was sent from elsewhere. Nothing was changed."))

    @app.errorhandler(400)
    def bad_request(error):
        return page(400, _("Bad request"), _("The request could not be understood. Nothing was changed."))

    @app.errorhandler(403)
    def forbidden(error):
        return page(403, _("Not allowed"), _("Your role does not give access to this page."))

    @app.errorhandler(ReadOnlyView)
    def read_only_view(error):
        return page(403, _("Read-only view"),
                    _("You are viewing this company read-only: nothing can be changed. "
                      "Stop viewing to work as yourself."))

    @app.errorhandler(DBAPIError)
    def database_error(error):
        """A write the database refused in a read-only view is that view's answer; anything else is a 500."""
        db.session.rollback()
        if is_read_only_error(error):
            return read_only_view(error)
        raise error

    @app.errorhandler(404)
    def not_found(error):
        return page(404, _("Not found"), _("There is nothing here, or it belongs to someone else."))

    @app.errorhandler(405)
    def method_not_allowed(error):
        return page(405, _("Not allowed"), _("That action is not available here."))

    @app.errorhandler(413)
    def too_large(error):
        return page(413, _("Too large"), _("What you sent is larger than the portal accepts."))

    @app.errorhandler(429)
    def too_many(error):
        return page(429, _("Too many attempts"),
                    _("Too many attempts in a short time. Please wait a minute and try again."))

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        logging.getLogger(__name__).exception("Unhandled error")
        return page(500, _("Something went wrong"),
                    _("The portal hit an unexpected error. Nothing was lost; please try again."))


def register_template_helpers(app):
    from . import templating
    templating.register(app)

    @app.context_processor
    def inject_navigation():
        from .auth.view_as import current_state
        from .navigation import current_section, navigation_for
        user = current_user if current_user.is_authenticated else None
        settings = navigation_for(user, "settings")
        section = current_section(request.endpoint)
        return {"navigation": navigation_for(user, "main"), "settings_navigation": settings, "section": section,
                "in_settings": section in {endpoint for endpoint, _ in settings},
                "current_locale": session.get("locale"),
                "view_as": current_state(user) if user else None, "viewing_as": g.get("viewing_as")}

    @app.get("/favicon.ico")
    def favicon():
        return redirect(url_for("static", filename="img/favicon.svg"))


def register_cli(app):
    from .cli import register
    register(app)
