"""POST /webhooks/<platform>/<integration_id>: the receiver; /webhooks/log: the Webhook log page."""
import json

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from ..auth.decorators import roles_required
from ..auth.forms import EmptyForm
from ..extensions import csrf, db, limiter
from ..i18n import OUTCOME_LABELS
from ..lookups import get_or_404
from ..models import DeliveryPlatform, UserRole, WebhookLog
from ..tenancy import cross_tenant
from .log import OUTCOMES, clean_filters, company_names, log_query
from .services import receive_webhook, replay_webhook

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _integration_key():
    return "webhook:" + str((request.view_args or {}).get("integration_id", ""))[:64]


@bp.route("/<platform>/<integration_id>", methods=["POST", "PUT"], defaults={"subpath": ""})
# GET: Delivery Hero's middleware asks for the menu with `GET …/menuimport/<remoteId>`, no body.
@bp.route("/<platform>/<integration_id>/<path:subpath>", methods=["POST", "PUT", "GET"])
@csrf.exempt
@limiter.limit(lambda: current_app.config["WEBHOOK_RATE_LIMIT"], key_func=_integration_key)
def receive(platform, integration_id, subpath):
    """A platform's webhook: stored, verified, applied; answered with what the platform expects."""
    request.max_content_length = current_app.config["WEBHOOK_MAX_BYTES"]
    try:
        raw_body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return jsonify(error="payload too large"), 413
    if request.method == "GET" and not raw_body:
        raw_body = b"{}"  # a request without a body is stored (and read) as an empty object
    result = receive_webhook(platform, integration_id, subpath, raw_body, request.headers, request.remote_addr)
    return jsonify(result.body), result.status_code, result.headers


@bp.get("/log")
@roles_required(UserRole.COMPANY_ADMIN)
def log_index():
    """Every webhook the company's integrations received, with filters (operators: every company)."""
    filters = clean_filters(request.args)
    all_companies = current_user.has_role(UserRole.SUPER_ADMIN) and request.args.get("scope") == "all"
    timezone_name = g.company.timezone
    if all_companies:
        with cross_tenant("webhook log, all companies", current_user.id):
            page = db.paginate(log_query(filters, timezone_name), per_page=50, error_out=False)
            names = company_names({entry.company_id for entry in page.items})
            for entry in page.items:  # keep them readable after the audited access commits
                db.session.expunge(entry)
        db.session.commit()
    else:
        page = db.paginate(log_query(filters, timezone_name), per_page=50, error_out=False)
        names = {}
    rows = [(entry, names.get(entry.company_id)) for entry in page.items]
    return render_template("webhooks/log.html", page=page, rows=rows, filters=filters, outcomes=OUTCOMES,
                           platforms=list(DeliveryPlatform), all_companies=all_companies)


@bp.get("/log/<log_id>")
@roles_required(UserRole.COMPANY_ADMIN)
def log_show(log_id):
    """One webhook: payload and headers, pretty-printed, and what the portal made of it."""
    entry = get_or_404(WebhookLog, log_id)
    if entry.payload is None:  # not JSON the log can keep: the bytes as received
        payload = bytes(entry.raw_body or b"").decode("utf-8", errors="backslashreplace")
    else:
        payload = json.dumps(entry.payload, indent=2, ensure_ascii=False, sort_keys=True)
    return render_template("webhooks/show.html", entry=entry, form=EmptyForm(), payload=payload,
                           headers=json.dumps(entry.headers or {}, indent=2, ensure_ascii=False, sort_keys=True),
                           response=json.dumps(entry.response, indent=2, ensure_ascii=False)
                           if entry.response is not None else None)


@bp.post("/log/<log_id>/replay")
@roles_required(UserRole.COMPANY_ADMIN)
def log_replay(log_id):
    """Process a stored webhook again (idempotent: it never creates a second order)."""
    entry = get_or_404(WebhookLog, log_id)
    try:
        result = replay_webhook(entry.id)
    except ValueError as error:
        flash(str(error), "error")
    else:
        entry = db.session.get(WebhookLog, entry.id)
        category = "success" if result.status_code < 300 else "error"
        flash(_("Replayed: %(outcome)s.", outcome=str(OUTCOME_LABELS.get(entry.outcome, entry.outcome)).lower()) +
              (f" {entry.error_message}" if entry.error_message else ""), category)
    return redirect(url_for("webhooks.log_show", log_id=log_id))
