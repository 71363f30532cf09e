"""GET/POST /webhooks/whatsapp/<connection_id>: Meta's verification and its status and message webhooks."""
from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..extensions import csrf, limiter
from . import webhook

bp = Blueprint("whatsapp_webhooks", __name__, url_prefix="/webhooks/whatsapp")


def _connection_key():
    return "whatsapp:" + str((request.view_args or {}).get("connection_id", ""))[:64]


@bp.get("/<connection_id>")
def verify(connection_id):
    """Meta checks the URL with the verify token when it is saved: answered with the bare challenge."""
    body, status = webhook.verify_subscription(connection_id, request.args)
    return body, status, {"Content-Type": "text/plain; charset=utf-8"}


@bp.post("/<connection_id>")
@csrf.exempt
@limiter.limit(lambda: current_app.config["WEBHOOK_RATE_LIMIT"], key_func=_connection_key)
def receive(connection_id):
    """Statuses of sent messages and what customers write: stored, verified, applied; answered fast."""
    request.max_content_length = current_app.config["WEBHOOK_MAX_BYTES"]
    try:
        raw_body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return jsonify(error="payload too large"), 413
    result = webhook.receive(connection_id, raw_body, request.headers, request.remote_addr)
    return jsonify(result.body), result.status_code, result.headers
