"""WhatsApp test material: a fake Cloud API on a real socket, a connected company, signed webhooks."""
import copy
import hashlib
import hmac
import http.server
import itertools
import json
import threading

import pytest

from portal.extensions import db
from portal.messaging.services import save_connection
from portal.messaging.templates import check_template
from portal.models import WhatsappNotificationRule, WhatsappTemplate
from portal.tenancy import tenant
from tests.integration_fixtures import load_payload

TOKEN, APP_SECRET, VERIFY_TOKEN = "test-access-token", "test-app-secret", "test-verify-token"
STARTERS = {
    ("order_accepted", "en"): "Hi {{customer_name}}, {{restaurant}} accepted order #{{order_number}}. "
                              "It should be ready by {{eta}}. Thank you!",
    ("order_accepted", "ar"): "أهلاً {{customer_name}}، قبل {{restaurant}} طلبك رقم {{order_number}}. "
                              "سيكون جاهزاً الساعة {{eta}}. شكراً لك!",
    ("order_ready", "en"): "Good news: order #{{order_number}} is ready for pickup at {{restaurant}}.",
    ("order_ready", "ar"): "طلبك رقم {{order_number}} جاهز للاستلام من {{restaurant}}.",
    ("points_earned", "en"): "You earned {{points}} points at {{restaurant}}. Your balance is {{balance}} points.",
}
_wamids = itertools.count(1)


class FakeMeta(http.server.BaseHTTPRequestHandler):
    """The Cloud API messages endpoint: records each send, answers the next queued answer (else success)."""

    received = []
    answers = []
    lock = threading.Lock()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        with type(self).lock:
            type(self).received.append((self.path, body, dict(self.headers)))
            status, answer = type(self).answers.pop(0) if type(self).answers else (
                200, {"messaging_product": "whatsapp", "contacts": [{"input": body.get("to"), "wa_id": "9665"}],
                      "messages": [{"id": f"wamid.TEST{next(_wamids)}"}]})
        raw = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


def meta_error(code, message="error", status=400):
    return status, {"error": {"message": f"(#{code}) {message}", "type": "OAuthException", "code": code,
                              "error_data": {"details": message}}}


@pytest.fixture
def meta():
    FakeMeta.received, FakeMeta.answers = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeMeta)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.base_url = f"http://127.0.0.1:{server.server_port}/v23.0"
    yield server
    server.shutdown()


def connect(app, company, base_url, phone_number_id="109999999999999", events=("ORDER_ACCEPTED", "ORDER_READY",
                                                                               "POINTS_EARNED")):
    """Connect `company` to WhatsApp with the starter templates (approved) and rules for `events`."""
    with app.app_context(), tenant(company.id):
        connection = save_connection(company.id, phone_number_id=phone_number_id, token=TOKEN, app_secret=APP_SECRET,
                                     verify_token=VERIFY_TOKEN, base_url=base_url)
        for (name, language), body in STARTERS.items():
            check = check_template(name, language, "UTILITY", body)
            assert check.ok, check.errors
            db.session.add(WhatsappTemplate(company_id=company.id, name=name, language=language, category="UTILITY",
                                            body=body, variables=check.variables, status="APPROVED"))
        for event in events:
            name = {"ORDER_ACCEPTED": "order_accepted", "ORDER_READY": "order_ready"}.get(event, "points_earned")
            db.session.add(WhatsappNotificationRule(company_id=company.id, event=event, template_name=name))
        db.session.commit()
        return connection.id


def sign(raw, secret=APP_SECRET):
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def post_webhook(client, connection_id, body, secret=APP_SECRET, signature=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signature is not False:
        headers["X-Hub-Signature-256"] = signature or sign(raw, secret)
    return client.post(f"/webhooks/whatsapp/{connection_id}", data=raw, headers=headers)


def status_webhook(wamid, status, timestamp="1765000000", phone_number_id="109999999999999", error_code=None):
    """Meta's status webhook (the shape of the shared examples) for one message."""
    body = copy.deepcopy(load_payload(f"whatsapp-status-{'failed' if status == 'failed' else status}.json"))
    value = body["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = phone_number_id
    item = value["statuses"][0]
    item.update(id=wamid, status=status, timestamp=timestamp)
    if error_code is not None:
        item["errors"][0]["code"] = error_code
    return body


def inbound_webhook(text, sender="966551234567", wamid=None, timestamp=None, phone_number_id="109999999999999"):
    body = copy.deepcopy(load_payload("whatsapp-inbound-text.json"))
    value = body["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = phone_number_id
    value["contacts"][0]["wa_id"] = sender
    message = value["messages"][0]
    message.update({"from": sender, "id": wamid or f"wamid.IN{next(_wamids)}", "text": {"body": text}})
    if timestamp is not None:
        message["timestamp"] = str(timestamp)
    return body
