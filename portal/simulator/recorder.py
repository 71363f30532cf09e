"""The platforms' side of the portal's outbound calls: a small Flask app that records and answers them.

WhatsApp's Cloud API (`POST /v23.0/<phone_number_id>/messages`) is played by simulator/meta.py.

Every request under `/<platform>/…` (the integration's base URL is `http://127.0.0.1:5001/<platform>`)
is recorded in a bounded journal and answered the way the platform would: Careem `PUT /orders/<id>`
gets 200 `{}`, Delivery Hero order status calls 202 `{}`, logins a token, anything else 200
`{"ok": true}`. A `fail_rate` fraction of calls (config, or `?fail_rate=` on one call) gets 503, to
exercise the portal's retries.

`GET /` shows both directions for a person (calls received, webhooks sent; refreshes every 5 s) and
`GET /calls.json` the same for tests and scripts.
"""
import contextlib
import random
import threading
from collections import deque
from datetime import datetime, timezone

from flask import Flask, jsonify, render_template_string, request

from ..models import DeliveryPlatform
from . import catalog
from .orders import CAREEM, DELIVERY_HERO

PLATFORMS = {platform.value.lower() for platform in DeliveryPlatform}
REDACTED_HEADERS = {"authorization", "x-careem-api-key", "x-api-key", "cookie", "proxy-authorization"}
MAX_BODY_CHARS = 20_000


def utcnow():
    return datetime.now(timezone.utc)


class Journal:
    """What the simulator received and sent, oldest first, bounded; safe to share between threads.

    `listeners` are called with each recorded call (after it is recorded), so the sender can react
    to the portal's calls (e.g. a Careem order marked ready is later picked up by a captain).
    """

    def __init__(self, maxlen=1000):
        self.calls = deque(maxlen=maxlen)
        self.sent = deque(maxlen=maxlen)
        self.listeners = []
        self.catalogs = {}   # platform -> the last catalog pushed (simulator/catalog.py)
        self._lock = threading.Lock()

    def record_call(self, call):
        with self._lock:
            self.calls.append(call)
            listeners = list(self.listeners)
        for listener in listeners:
            with contextlib.suppress(Exception):  # a listener's bug must not turn the answer into a 500
                listener(call)

    def record_sent(self, entry):
        with self._lock:
            self.sent.append(entry)

    def snapshot(self):
        """(calls, sent), newest first."""
        with self._lock:
            return list(reversed(self.calls)), list(reversed(self.sent))


def redact(headers):
    """Request headers as recorded: credential values replaced (the scheme of Authorization is kept)."""
    kept = {}
    for name, value in headers.items():
        if name.lower() in REDACTED_HEADERS:
            scheme = value.split(" ", 1)[0] if name.lower() == "authorization" and " " in value else ""
            kept[name] = f"{scheme} [redacted]".strip()
        else:
            kept[name] = value
    return kept


def answer_for(platform, method, path):
    """The status and JSON the real platform gives a successful call."""
    segments = [segment for segment in path.strip("/").split("/") if segment]
    if platform.upper() in DELIVERY_HERO:
        if segments[:1] == ["v2"] and segments[1:2] == ["login"]:
            return 200, {"access_token": "simulator-token", "token_type": "bearer", "expires_in": 3600}
        if segments[:2] in (["v2", "order"], ["v2", "orders"]):
            return 202, {}
    if platform.upper() in CAREEM:
        if segments[:1] == ["token"]:
            return 200, {"access_token": "simulator-token", "token_type": "bearer", "expires_in": 86400}
        if method == "PUT" and len(segments) == 2 and segments[0] == "orders":
            return 200, {}
    return 200, {"ok": True}


def create_app(journal=None, fail_rate=0.0, rng=None, meta=None):
    """The outbound-endpoints app; `journal` is shared with the sender so `/` shows both directions.

    `meta` (simulator/meta.py) plays WhatsApp's Cloud API at `/<version>/<phone_number_id>/messages`
    and takes customers' messages at `/whatsapp/inbound`; without it no number is known there.
    """
    from .meta import Meta, bp as meta_bp

    app = Flask(__name__)
    app.config["SIMULATOR_FAIL_RATE"] = float(fail_rate or 0)
    app.extensions["simulator_journal"] = journal if journal is not None else Journal()
    app.extensions["simulator_meta"] = meta if meta is not None else Meta([], "http://127.0.0.1:5000")
    app.register_blueprint(meta_bp)
    chance = rng or random.Random()

    def journal_():
        return app.extensions["simulator_journal"]

    @app.get("/")
    def index():
        calls, sent = journal_().snapshot()
        return render_template_string(INDEX_TEMPLATE, calls=calls, sent=sent,
                                      fail_rate=app.config["SIMULATOR_FAIL_RATE"])

    @app.get("/calls.json")
    def calls_json():
        calls, sent = journal_().snapshot()
        return jsonify(calls=[_jsonable(call) for call in calls], sent=[_jsonable(entry) for entry in sent])

    @app.route("/<platform>", defaults={"rest": ""},
               methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @app.route("/<platform>/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def platform_call(platform, rest):
        platform = platform.lower()
        path = "/" + rest
        try:
            rate = float(request.args.get("fail_rate", app.config["SIMULATOR_FAIL_RATE"]))
        except ValueError:
            rate = app.config["SIMULATOR_FAIL_RATE"]
        if platform not in PLATFORMS:
            status, body = 404, {"error": f"unknown platform {platform!r}"}
        elif rate > 0 and chance.random() < rate:
            status, body = 503, {"error": "simulated outage", "retry": True}
        else:
            status, body = catalog.answer(platform, request.method, path, request.get_json(silent=True),
                                          journal_()) or answer_for(platform, request.method, path)
        payload = request.get_json(silent=True)
        if payload is None and request.content_length:
            payload = request.get_data(as_text=True)[:MAX_BODY_CHARS]
        journal_().record_call({
            "time": utcnow().isoformat(timespec="milliseconds"), "platform": platform,
            "method": request.method, "path": path,
            "query": request.query_string.decode("latin-1") or None,
            "json": payload, "headers": redact(request.headers), "status": status, "answer": body,
        })
        return jsonify(body), status

    return app


def _jsonable(entry):
    return {key: (value.isoformat() if isinstance(value, datetime) else value) for key, value in entry.items()}


INDEX_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>Platform simulator</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
  h1 { font-size: 1.3rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
  th { background: #f4f4f4; }
  code, pre { font: 12px/1.3 ui-monospace, monospace; }
  pre { margin: .3rem 0 0; white-space: pre-wrap; max-width: 60rem; }
  .ok { color: #176f2c; } .bad { color: #b3261e; font-weight: 600; }
  .muted { color: #777; }
</style>
</head>
<body>
<h1>Platform simulator</h1>
<p class="muted">Plays Talabat, HungerStation, Careem and the generic-webhook platforms on this machine.
The portal's integrations call <code>{{ request.host_url }}&lt;platform&gt;/…</code>; the simulator sends
signed order webhooks to the portal. This page refreshes every 5 seconds.
{% if fail_rate %}<strong>{{ (fail_rate * 100) | round(1) }} % of calls are answered 503 on purpose.</strong>{% endif %}
<a href="{{ url_for('calls_json') }}">JSON</a></p>

<h2>Calls from the portal ({{ calls | length }})</h2>
{% if calls %}
<table>
  <thead><tr><th>Time (UTC)</th><th>Platform</th><th>Call</th><th>Answer</th><th>Body</th></tr></thead>
  <tbody>
  {% for call in calls %}
  <tr>
    <td><code>{{ call.time[11:23] }}</code></td>
    <td>{{ call.platform }}</td>
    <td><code>{{ call.method }} {{ call.path }}{% if call.query %}?{{ call.query }}{% endif %}</code></td>
    <td class="{{ 'ok' if call.status < 300 else 'bad' }}">{{ call.status }}</td>
    <td>{% if call.json is not none %}<details><summary><code>{{ call.json | tojson | truncate(90) }}</code></summary>
      <pre>{{ call.json | tojson(indent=2) }}</pre></details>{% endif %}</td>
  </tr>
  {% endfor %}
  </tbody>
</table>
{% else %}
<p class="muted">No calls yet. Accept or reject an order on the portal's board, change an item's
availability or the store status, and the call appears here.</p>
{% endif %}

<h2>Webhooks sent to the portal ({{ sent | length }})</h2>
{% if sent %}
<table>
  <thead><tr><th>Time (UTC)</th><th>Platform</th><th>Event</th><th>Order</th><th>Request</th>
    <th>Portal's answer</th></tr></thead>
  <tbody>
  {% for entry in sent %}
  <tr>
    <td><code>{{ entry.time[11:23] }}</code></td>
    <td>{{ entry.platform | lower }}</td>
    <td>{{ entry.event }}</td>
    <td><code>{{ entry.order_id }}</code>
      {% if entry.summary %}<br><span class="muted">{{ entry.summary }}</span>{% endif %}</td>
    <td><code>{{ entry.method }} {{ entry.path }}</code></td>
    <td class="{{ 'ok' if entry.status and entry.status < 300 else 'bad' }}">{{ entry.status or '—' }}
      {% if entry.error %}<br>{{ entry.error }}
      {% elif entry.answer %}<br><code class="muted">{{ entry.answer | truncate(120) }}</code>{% endif %}</td>
  </tr>
  {% endfor %}
  </tbody>
</table>
{% else %}
<p class="muted">Nothing sent yet.</p>
{% endif %}
</body>
</html>
"""
