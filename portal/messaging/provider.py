"""The WhatsApp Business Cloud API, as the portal uses it: send a message, check a webhook's signature.

`POST {base_url}/{phone-number-id}/messages` with a bearer token (../shared/WHATSAPP.md §1). The base
URL is the connection's, so the simulator can play Meta. Errors are told apart by Meta's `code`, never
by the HTTP status (130429 comes with HTTP 400).
"""
import hashlib
import hmac
from dataclasses import dataclass

import requests

TIMEOUT = (3, 10)  # seconds to connect, to read
# Codes worth another try, with backoff (rate limits, temporarily unavailable).
RETRYABLE_CODES = {"130429", "4", "80007", "131056", "131000", "131016", "2", "133004"}
# Not Meta's: the portal could not reach it or read its answer; tried again like a rate limit.
NETWORK_ERROR = "network"


@dataclass
class SendResult:
    wamid: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def ok(self):
        return self.wamid is not None

    @property
    def retryable(self):
        return self.error_code in RETRYABLE_CODES or self.error_code == NETWORK_ERROR


def template_payload(to, name, language, values):
    """A template message with named parameters (their order then does not matter)."""
    parameters = [{"type": "text", "parameter_name": key, "text": str(value)} for key, value in values.items()]
    template = {"name": name, "language": {"code": language}}
    if parameters:
        template["components"] = [{"type": "body", "parameters": parameters}]
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template",
            "template": template}


def text_payload(to, body):
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
            "text": {"preview_url": False, "body": body[:4096]}}


def send(base_url, phone_number_id, token, payload, callback_data=None):
    """Send one message; never raises for what Meta or the network answers."""
    if callback_data:
        payload = {**payload, "biz_opaque_callback_data": str(callback_data)[:512]}
    url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
    try:
        response = requests.post(url, json=payload, timeout=TIMEOUT,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    except requests.RequestException as error:
        return SendResult(error_code=NETWORK_ERROR, error_message=f"{type(error).__name__}: {error}"[:500])
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    messages = body.get("messages")
    if response.status_code < 300 and isinstance(messages, list) and messages and isinstance(messages[0], dict) \
            and messages[0].get("id"):
        return SendResult(wamid=str(messages[0]["id"])[:200])
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    code = error.get("code")
    if code is None:  # no Meta error: a proxy, an outage, a reply we cannot read
        code = NETWORK_ERROR if response.status_code >= 500 or response.status_code == 429 \
            else str(response.status_code)
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    message = error.get("message") or f"HTTP {response.status_code}"
    return SendResult(error_code=str(code)[:50], error_message=(f"{message} {details or ''}").strip()[:1000])


def signature_ok(raw_body, header, app_secret):
    """X-Hub-Signature-256 is `sha256=` + the HMAC-SHA256 of the exact bytes received, keyed with the app secret."""
    if not header or not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())
