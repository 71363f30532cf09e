"""Meta's side of WhatsApp: the Cloud API's send endpoint, then the signed webhooks that follow. No database.

The portal's connection base URL is `http://127.0.0.1:<simulator port>/v23.0`, so its sends arrive as
`POST /v23.0/<phone_number_id>/messages` with `Authorization: Bearer <token>` (../shared/WHATSAPP.md §1).
`Meta` knows each number it plays as a `WhatsappLine` (phone-number id, the portal's connection id, the
access token and the app secret) and answers like the Cloud API:

- a bad or missing token: 401, OAuthException code 190; an unknown number: 400, code 100;
- a payload it cannot read: 400, code 100 (missing or bad field) or 131051 (a type it does not play);
- a share (`error_rate`) of good sends: 400, code 130429 "Rate limit hit" (retryable: the worker tries again);
- otherwise 200 with `contacts[{input, wa_id}]` and `messages[{id: "wamid.…"}]`.

A moment later (`later`, e.g. Simulation.later) it posts status webhooks to the portal's
`/webhooks/whatsapp/<connection id>`, signed `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the exact body
with the app secret>`: sent, delivered, read, with `biz_opaque_callback_data` echoed. A share
(`fail_rate`) ends `failed` with a real code (131026, 131047 or 130429); a share (`disorder_rate`)
arrives out of order (delivered before sent, or read without delivered), as Meta warns it may.
`inbound()` posts what a customer writes (a `messages[]` webhook), e.g. "STOP".
Every choice is drawn from `rng`, so a seed makes a run reproducible.
"""
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import Blueprint, current_app, jsonify, request
from werkzeug.routing import BaseConverter

from .sender import http_transport

SIGNATURE_HEADER = "X-Hub-Signature-256"
HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
PLAYED_TYPES = ("text", "template")
# The failures a status webhook reports: (code, title, details).
FAILURES = [
    (131026, "Message undeliverable", "Unable to deliver message. Reasons can include: the recipient phone number "
                                      "is not a WhatsApp phone number; the recipient has not accepted the new Terms "
                                      "of Service; the recipient is using an old WhatsApp version."),
    (131047, "Re-engagement message", "Message failed to send because more than 24 hours have passed since the "
                                      "customer last replied to this number."),
    (130429, "Rate limit hit", "Cloud API message throughput has been reached."),
]


@dataclass(frozen=True)
class WhatsappLine:
    """One business number the simulator plays, and what the portal's connection for it holds."""

    phone_number_id: str
    connection_id: str
    token: str
    app_secret: str
    display_phone: str = "15550000000"
    waba_id: str = "102290129340398"


def sign(raw, app_secret):
    """The X-Hub-Signature-256 value Meta sends: sha256= and the HMAC-SHA256 hex of the exact bytes."""
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def digits(phone):
    return "".join(ch for ch in str(phone or "") if ch.isdigit())


def envelope(line, value):
    """The webhook body around one change `value` (statuses[] or messages[]) for `line`."""
    metadata = {"display_phone_number": digits(line.display_phone) or "15550000000",
                "phone_number_id": line.phone_number_id}
    return {"object": "whatsapp_business_account", "entry": [{"id": line.waba_id, "changes": [
        {"value": {"messaging_product": "whatsapp", "metadata": metadata, **value}, "field": "messages"}]}]}


def status_webhook(line, wamid, status, recipient, timestamp, callback_data=None, error=None):
    """A statuses[] webhook like payloads/whatsapp-status-*.json (timestamps are Unix-second strings)."""
    item = {"id": wamid, "status": status, "timestamp": str(int(timestamp)), "recipient_id": recipient}
    if callback_data:
        item["biz_opaque_callback_data"] = callback_data
    if status in ("sent", "delivered"):
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    if error is not None:
        code, title, details = error
        item["errors"] = [{"code": code, "title": title, "message": title, "error_data": {"details": details},
                           "href": HREF}]
    return envelope(line, {"statuses": [item]})


def inbound_webhook(line, sender, text, wamid, timestamp, name=None):
    """A messages[] webhook of one text a customer wrote, like payloads/whatsapp-inbound-text.json."""
    sender = digits(sender)
    return envelope(line, {
        "contacts": [{"profile": {"name": name or "Customer"}, "wa_id": sender}],
        "messages": [{"from": sender, "id": wamid, "timestamp": str(int(timestamp)), "type": "text",
                      "text": {"body": text}}]})


def meta_error(status, code, message, kind="OAuthException", details=None):
    """(HTTP status, body) of a Graph API error."""
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": "Simulator"}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return status, {"error": error}


def check_payload(payload):
    """None when the Cloud API would accept the message body, else (HTTP status, error body)."""
    if not isinstance(payload, dict):
        return meta_error(400, 100, "(#100) Invalid parameter", details="The request body must be a JSON object.")
    if payload.get("messaging_product") != "whatsapp":
        return meta_error(400, 100, "(#100) The parameter messaging_product is required.")
    if not 7 <= len(digits(payload.get("to"))) <= 15:
        return meta_error(400, 100, "(#100) Invalid parameter", details="Invalid value for parameter 'to'.")
    kind = payload.get("type", "text")
    if kind not in PLAYED_TYPES:
        return meta_error(400, 131051, "(#131051) Unsupported message type",
                          details=f"Message type {kind!r} is not played by the simulator (text and template are).")
    if kind == "text":
        body = (payload.get("text") or {}).get("body") if isinstance(payload.get("text"), dict) else None
        if not isinstance(body, str) or not body.strip():
            return meta_error(400, 100, "(#100) The parameter text['body'] is required.")
        if len(body) > 4096:
            return meta_error(400, 100, "(#100) Param text['body'] must be at most 4096 characters long.")
    else:
        template = payload.get("template") if isinstance(payload.get("template"), dict) else {}
        language = template.get("language") if isinstance(template.get("language"), dict) else {}
        if not template.get("name") or not language.get("code"):
            return meta_error(400, 100, "(#100) The parameters template['name'] and template['language']['code'] "
                                        "are required.")
    return None


def _run_later(seconds, description, action):
    """Without a Simulation's queue: a daemon timer."""
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.name = description
    timer.start()


class Meta:
    """Plays the Cloud API for `lines`; status and inbound webhooks go to `portal_url` through `transport`."""

    def __init__(self, lines, portal_url, transport=None, later=None, rng=None, journal=None, echo=None,
                 fail_rate=0.0, error_rate=0.0, disorder_rate=0.0, delay=2.0, clock=time.time):
        import random
        self.lines = {line.phone_number_id: line for line in lines}
        self.portal_url = portal_url.rstrip("/")
        self.transport = transport or http_transport
        self.later = later or _run_later
        self.rng = rng or random.Random()
        self.journal, self.echo, self.clock = journal, echo, clock
        self.fail_rate, self.error_rate, self.disorder_rate, self.delay = fail_rate, error_rate, disorder_rate, delay
        self._lock = threading.Lock()  # the rng is shared by the server's threads

    def line(self, phone_number_id=None):
        """The line for a phone-number id; with None, the only line (or None when there are several)."""
        if phone_number_id is None:
            return next(iter(self.lines.values())) if len(self.lines) == 1 else None
        return self.lines.get(str(phone_number_id))

    # ------------------------------------------------------------------ the send endpoint

    def answer_send(self, phone_number_id, authorization, payload):
        """(HTTP status, body) for `POST /<version>/<phone_number_id>/messages`; schedules the statuses."""
        line = self.lines.get(str(phone_number_id))
        if line is None:
            return meta_error(400, 100, f"Unsupported post request. Object with ID '{phone_number_id}' does not "
                                        "exist, cannot be loaded due to missing permissions, or does not support "
                                        "this operation.", kind="GraphMethodException")
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token or not hmac.compare_digest(token.strip(), line.token):
            return meta_error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        refused = check_payload(payload)
        if refused is not None:
            return refused
        with self._lock:
            if self.error_rate and self.rng.random() < self.error_rate:
                return meta_error(400, 130429, "(#130429) Rate limit hit",
                                  details="Cloud API message throughput has been reached.")
            wamid = "wamid.HBgM" + "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(40))
            plan = self._plan()
        recipient = digits(payload["to"])
        message = {"id": wamid}
        if payload.get("type") == "template":
            message["message_status"] = "accepted"
        self._schedule(line, wamid, recipient, payload.get("biz_opaque_callback_data"), plan)
        return 200, {"messaging_product": "whatsapp", "contacts": [{"input": payload["to"], "wa_id": recipient}],
                     "messages": [message]}

    def _plan(self):
        """The statuses a message gets, in the order they arrive: [(status, seconds after the send, error)]."""
        if self.fail_rate and self.rng.random() < self.fail_rate:
            error = self.rng.choice(FAILURES)
            return [("sent", 1, None), ("failed", 2, error)] if self.rng.random() < 0.5 else [("failed", 1, error)]
        steps = [("sent", 1, None), ("delivered", 2, None), ("read", 4, None)]
        if self.disorder_rate and self.rng.random() < self.disorder_rate:
            if self.rng.random() < 0.5:   # sent arrives after delivered (its timestamp is still the earlier one)
                return [("delivered", 2, None), ("sent", 1, None), ("read", 4, None)]
            return [("sent", 1, None), ("read", 4, None)]   # read without delivered
        return steps

    def _schedule(self, line, wamid, recipient, callback_data, plan):
        sent_at = self.clock()
        for position, (status, offset, error) in enumerate(plan, start=1):
            body = status_webhook(line, wamid, status, recipient, sent_at + offset, callback_data, error)
            wait = self.delay * position * self.rng.uniform(0.7, 1.3) if self.delay else 0
            self.later(wait, f"whatsapp {status} {wamid[-8:]}",
                       lambda body=body, status=status: self.post(line, body, f"status:{status}", wamid))

    # ------------------------------------------------------------------ webhooks to the portal

    def url(self, line):
        return f"{self.portal_url}/webhooks/whatsapp/{line.connection_id}"

    def post(self, line, body, event, reference=""):
        """Sign and post one webhook body; returns (status or None, answer text)."""
        raw = json.dumps(body, separators=(",", ":")).encode()  # non-ASCII escaped (ensure_ascii), as Meta signs it
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua",
                   SIGNATURE_HEADER: sign(raw, line.app_secret)}
        url = self.url(line)
        try:
            answer = self.transport(url, raw, headers)
            status, text = answer if isinstance(answer, tuple) else (answer, "")
            status, error = int(status), None
        except Exception as failure:  # the portal is down: reported, never fatal
            status, text, error = None, "", f"{type(failure).__name__}: {failure}"[:300]
        if self.journal is not None:
            self.journal.record_sent({
                "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "platform": "whatsapp",
                "integration_id": line.connection_id, "event": event, "order_id": reference[-12:],
                "summary": None, "method": "POST", "path": url[len(self.portal_url):], "status": status,
                "answer": (text or "")[:500], "error": error})
        if self.echo is not None:
            self.echo(f"{datetime.now(timezone.utc):%H:%M:%S}  {'whatsapp':<13} {event:<16} {reference[-12:]:<12}"
                      f"  → {status if status is not None else 'no answer'} {error or ' '.join(text.split())[:80]}"
                      .rstrip())
        return status, text or error or ""

    def inbound(self, sender, text, phone_number_id=None, name=None):
        """Post what a customer wrote to the portal now; returns (status or None, answer text)."""
        line = self.line(phone_number_id)
        if line is None:
            raise LookupError(f"No WhatsApp number {phone_number_id!r} is played here." if phone_number_id
                              else "Name the phone_number_id: several numbers are played here.")
        with self._lock:
            wamid = "wamid.HBgM" + "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(40))
        body = inbound_webhook(line, sender, text, wamid, self.clock(), name=name)
        return self.post(line, body, "message", wamid)


# ---------------------------------------------------------------------- the endpoints

class GraphVersion(BaseConverter):
    """A Graph API version segment (v23.0): a platform's own paths never match it."""

    regex = r"v\d+(?:\.\d+)?"


bp = Blueprint("meta", __name__)
bp.record_once(lambda state: state.app.url_map.converters.setdefault("graph_version", GraphVersion))


def _meta():
    return current_app.extensions["simulator_meta"]


@bp.post("/<graph_version:version>/<phone_number_id>/messages")
def send(version, phone_number_id):
    """The Cloud API's send: `POST /v23.0/<phone_number_id>/messages` with a bearer token."""
    payload = request.get_json(silent=True)
    status, body = _meta().answer_send(phone_number_id, request.headers.get("Authorization"), payload)
    journal = current_app.extensions.get("simulator_journal")
    if journal is not None:
        from .recorder import redact, utcnow
        journal.record_call({"time": utcnow().isoformat(timespec="milliseconds"), "platform": "whatsapp",
                             "method": "POST", "path": f"/{version}/{phone_number_id}/messages", "query": None,
                             "json": payload, "headers": redact(request.headers), "status": status, "answer": body})
    return jsonify(body), status


@bp.post("/whatsapp/inbound")
def inbound():
    """A customer writes: JSON {"from": "+9665…", "text": "STOP", "phone_number_id"?: "…", "name"?: "…"}."""
    data = request.get_json(silent=True) or request.form
    sender, text = str(data.get("from") or ""), str(data.get("text") or "")
    if not 7 <= len(digits(sender)) <= 15 or not text.strip():
        return jsonify(error="Give 'from' (the customer's number, +9665…) and 'text'."), 400
    try:
        status, answer = _meta().inbound(sender, text, data.get("phone_number_id"), data.get("name"))
    except LookupError as error:
        return jsonify(error=str(error)), 404
    return jsonify(portal_status=status, portal_answer=answer), 200 if status and status < 300 else 502
