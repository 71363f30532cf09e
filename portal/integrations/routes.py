"""The Integrations pages (COMPANY_ADMIN): the nine platforms, and one connection's settings and secrets."""
from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, session, url_for
from flask_babel import gettext as _

from ..auth.decorators import roles_required
from ..auth.forms import EmptyForm
from ..models import UserRole
from ..platforms import adapter_for
from .forms import integration_form, initial_data
from .services import (CAPABILITY_LABELS, SYNC_LABELS, IntegrationError, MissingCredentials, check_connection,
                       generate_webhook_secret, get_integration, health_of, missing_credentials, platform_cards,
                       reveal_ticket, revealed_secret, save_integration, secret_states, set_enabled, uses_plugin_url,
                       webhook_url)

bp = Blueprint("integrations", __name__, url_prefix="/integrations")
REVEAL_KEY = "reveal_webhook_secret"


def _adapter_or_404(platform):
    """The adapter named by the URL (lower case, e.g. `talabat`); anything else is not found."""
    if platform != platform.lower():
        abort(404)
    try:
        return adapter_for(platform)
    except LookupError:
        abort(404)


def _render_edit(adapter, integration, form, status=200, new_secret=None):
    page = render_template(
        "integrations/edit.html", adapter=adapter, integration=integration, form=form,
        slug=adapter.platform.value.lower(), secrets=secret_states(integration), health=health_of(integration),
        missing=missing_credentials(adapter, integration) if integration else [],
        webhook_url=webhook_url(integration) if integration else None,
        plugin_url=uses_plugin_url(adapter.platform), capability_labels=CAPABILITY_LABELS, new_secret=new_secret,
        action_form=EmptyForm())
    response = make_response(page, status)
    if new_secret:
        response.headers["Cache-Control"] = "no-store"
    return response


def _apply_error(form, error):
    """Show a refused change next to its field, or above the form when it has none."""
    if isinstance(error, MissingCredentials):
        for name in error.fields:
            form[name].errors.append(_("Required to turn this connection on."))
    elif error.field and error.field in form:
        form[error.field].errors.append(str(error))
    else:
        form.form_errors.append(str(error))


@bp.get("/")
@roles_required(UserRole.COMPANY_ADMIN)
def index():
    """Every platform: connected or not, on or off, health, last sync, today's orders, commission."""
    return render_template("integrations/index.html", cards=platform_cards(g.company), sync_labels=SYNC_LABELS)


@bp.get("/<platform>/")
@roles_required(UserRole.COMPANY_ADMIN)
def edit(platform):
    """The connection form of one platform, with its webhook address and health."""
    adapter = _adapter_or_404(platform)
    integration = get_integration(g.company, adapter.platform)
    form = integration_form(adapter, g.company, integration, data=initial_data(adapter, integration))
    new_secret = revealed_secret(integration, session.pop(REVEAL_KEY, None))
    return _render_edit(adapter, integration, form, new_secret=new_secret)


@bp.post("/<platform>/")
@roles_required(UserRole.COMPANY_ADMIN)
def update(platform):
    """Save the connection; an empty secret field keeps the stored secret."""
    adapter = _adapter_or_404(platform)
    integration = get_integration(g.company, adapter.platform)
    form = integration_form(adapter, g.company, integration)
    if form.validate_on_submit():
        try:
            save_integration(g.company, adapter.platform, new_secrets=form.new_secrets(), **form.settings())
        except IntegrationError as error:
            _apply_error(form, error)
            integration = get_integration(g.company, adapter.platform)
        else:
            flash(_("Saved the %(platform)s connection.", platform=adapter.display_name), "success")
            return redirect(url_for("integrations.edit", platform=platform))
    return _render_edit(adapter, integration, form, status=422)


@bp.post("/<platform>/enable")
@roles_required(UserRole.COMPANY_ADMIN)
def enable(platform):
    """Turn the connection on: orders from the platform are received."""
    return _set_enabled(platform, True)


@bp.post("/<platform>/disable")
@roles_required(UserRole.COMPANY_ADMIN)
def disable(platform):
    """Turn the connection off: the platform's webhooks are refused until it is on again."""
    return _set_enabled(platform, False)


def _set_enabled(platform, enabled):
    adapter = _adapter_or_404(platform)
    try:
        set_enabled(g.company, adapter.platform, enabled)
    except MissingCredentials:
        flash(_("Fill in every required credential before turning %(platform)s on.",
                platform=adapter.display_name), "error")
    except IntegrationError as error:
        flash(str(error), "error")
    else:
        message = _("%(platform)s is on.") if enabled else _("%(platform)s is off.")
        flash(message % {"platform": adapter.display_name}, "success")
    return redirect(url_for("integrations.edit", platform=platform))


@bp.post("/<platform>/webhook-secret")
@roles_required(UserRole.COMPANY_ADMIN)
def generate_secret(platform):
    """A new webhook secret, then back to the connection's page, which shows it once (it is stored
    encrypted and never shown again).

    Redirected like every POST, so the page the person saves from is the ordinary one, with the
    connection's settings as stored. The session keeps only a ticket naming the new secret, never
    the secret: the cookie is signed, not encrypted.
    """
    adapter = _adapter_or_404(platform)
    integration, _secret = generate_webhook_secret(g.company, adapter.platform)
    session[REVEAL_KEY] = reveal_ticket(integration)
    return redirect(url_for("integrations.edit", platform=platform))


@bp.post("/<platform>/test")
@roles_required(UserRole.COMPANY_ADMIN)
def test_connection(platform):
    """Check once that the platform's API address answers, and record the result."""
    adapter = _adapter_or_404(platform)
    integration = get_integration(g.company, adapter.platform)
    if integration is None:
        flash(_("Save the connection with the platform's API address first."), "error")
        return redirect(url_for("integrations.edit", platform=platform))
    try:
        result = check_connection(integration)
    except IntegrationError as error:
        flash(str(error), "error")
    else:
        if result.ok:
            flash(_("Connection works: %(message)s (%(ms)s ms)", message=result.message, ms=result.elapsed_ms),
                  "success")
        else:
            flash(_("Connection failed: %(message)s", message=result.message), "error")
    return redirect(url_for("integrations.edit", platform=platform))
