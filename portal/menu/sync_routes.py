"""Menu pages: menu sync and "Import from platform" runs, their progress and reports."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import roles_required
from ..auth.forms import EmptyForm
from ..extensions import db
from ..lookups import get_or_404
from ..models import IntegrationConfig, MenuSyncRun, UserRole
from ..platforms import adapter_for
from ..web import page_or_fragment
from . import bp, mapping, sync
from .forms import SyncForm
from .services import MenuError

# --------------------------------------------------------------------------- sync and import

@bp.get("/sync")
@roles_required(UserRole.MANAGER)
def sync_index():
    """Every enabled platform: its last sync, a "Sync menu" button, "Import from platform" where possible."""
    integrations = mapping.enabled_integrations()
    return render_template("menu/sync.html", integrations=integrations, overview=sync.sync_overview(integrations),
                           runs=sync.latest_runs(20), form=SyncForm(), csrf=EmptyForm(), labels=sync.STATUS_LABELS,
                           progress=sync.progress_percent, recent=sync.recently_finished)


@bp.post("/sync/<integration_id>")
@roles_required(UserRole.MANAGER)
def start_sync(integration_id):
    """Queue a menu sync (full or changes only); the page follows its progress."""
    integration = get_or_404(IntegrationConfig, integration_id)
    try:  # the mode is checked by the service; CSRF by the app-wide check
        run = sync.start_sync(g.company, integration, request.form.get("mode", "diff"), current_user)
    except MenuError as error:
        db.session.rollback()
        return _sync_answer(None, error.message, "error")
    db.session.commit()
    return _sync_answer(run, _("Sync of %(platform)s queued.", platform=adapter_for(integration.platform).display_name))


@bp.post("/import-platform/<integration_id>")
@roles_required(UserRole.MANAGER)
def start_import(integration_id):
    """Queue "Import from platform" (only where the platform hands out its menu)."""
    integration = get_or_404(IntegrationConfig, integration_id)
    try:
        run = sync.start_import(g.company, integration, current_user)
    except MenuError as error:
        db.session.rollback()
        return _sync_answer(None, error.message, "error")
    db.session.commit()
    return _sync_answer(run, _("Import from %(platform)s queued.",
                               platform=adapter_for(integration.platform).display_name))


def _sync_answer(run, message, category="success"):
    if request.htmx:
        return render_template("menu/_sync_run.html", run=run, message=message, message_category=category,
                               labels=sync.STATUS_LABELS, progress=sync.progress_percent)
    flash(message, category)
    if run is not None:
        return redirect(url_for("menu.run", run_id=run.id))
    return redirect(url_for("menu.sync_index"))


@bp.get("/sync/runs/<run_id>")
@roles_required(UserRole.MANAGER)
def run(run_id):
    """A run's progress (polled by the page while it runs) and its report of what failed and why."""
    run = get_or_404(MenuSyncRun, run_id)
    response = page_or_fragment("menu/run.html", "menu/_sync_run.html", run=run, labels=sync.STATUS_LABELS,
                                       progress=sync.progress_percent, csrf=EmptyForm(),
                                       integration=db.session.get(IntegrationConfig, run.integration_config_id))
    response.headers["Cache-Control"] = "no-store"
    if request.htmx and run.is_finished:
        response.headers["HX-Trigger"] = "menu-sync-finished"
    return response


@bp.post("/sync/runs/<run_id>/stop")
@roles_required(UserRole.MANAGER)
def stop_run(run_id):
    """Give up waiting for a platform's report."""
    run = get_or_404(MenuSyncRun, run_id)
    sync.stop_waiting(run, current_user)
    db.session.commit()
    flash(_("The run was stopped. Its items will be sent again by the next sync."), "info")
    return redirect(url_for("menu.run", run_id=run.id))
