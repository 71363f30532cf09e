"""WhatsApp benchmark: a status webhook's latency through the app, and the worker's sends per second.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/whatsapp.py \
        [--messages 500 --database portal_bench_whatsapp]

1. A fresh database (dropped at the end): one company connected to a local fake Cloud API, an approved
   template and a rule for accepted orders, and --messages orders.
2. "queue": notify_order for each order (the row with its dedupe key, the job), committed one by one.
3. "send": the worker (procrastinate, 4 threads) sends them all to the fake Cloud API; messages per second.
4. "status": POST /webhooks/whatsapp/<id> with a signed `delivered` then `read` for each message, through the
   app's test client (stored first, signature checked, applied); p50/p95 milliseconds per webhook.
Figures are printed (not a test). The machine is shared: figures are noisy.
"""
import argparse
import hashlib
import hmac
import http.server
import itertools
import json
import sys
import threading
import time

from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common as common
from _common import percentile

APP_SECRET, NUMBER = "bench-app-secret", "109999999999999"
_ids = itertools.count(1)


class FakeCloudApi(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        raw = json.dumps({"messaging_product": "whatsapp", "messages": [{"id": f"wamid.B{next(_ids)}"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


def status_body(wamid, status):
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": NUMBER},
                                       "statuses": [{"id": wamid, "status": status, "timestamp": str(int(time.time())),
                                                     "recipient_id": "966551234567"}]}}]}]}).encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--database", default="portal_bench_whatsapp")
    args = parser.parse_args()
    server = common.server_url()
    url = common.database_url(server, args.database)
    common.drop_database(server, args.database)
    common.create_database(server, args.database)
    try:
        run(url, args.messages)
    finally:
        common.drop_database(server, args.database)


def run(url, count):
    from datetime import datetime, timezone
    from decimal import Decimal

    common.migrate(url)
    api = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeCloudApi)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    app = common.bench_app(url)

    from portal.admin.services import create_company
    from portal.crypto import encrypt_secret
    from portal.extensions import db
    from portal.messaging import services
    from portal.messaging.events import NotificationEvent
    from portal.models import DeliveryOrder, IntegrationConfig, WhatsappNotificationRule, WhatsappTemplate
    from portal.queue import run_worker
    from portal.tenancy import tenant

    with app.app_context():
        company = create_company(name="Bench Kitchen", admin_email="bench@bench.test", admin_password="x" * 12)
        with tenant(company.id):
            connection = services.save_connection(company.id, phone_number_id=NUMBER, token="t", app_secret=APP_SECRET,
                                                  verify_token="v",
                                                  base_url=f"http://127.0.0.1:{api.server_port}/v23.0")
            integration = IntegrationConfig(company_id=company.id, platform="NASHMI", is_enabled=False,
                                            webhook_secret=encrypt_secret(company.id, "s"))
            db.session.add(integration)
            db.session.add(WhatsappTemplate(company_id=company.id, name="order_accepted", language="en",
                                            body="Order #{{order_number}} was accepted.", status="APPROVED",
                                            variables=["order_number"]))
            db.session.add(WhatsappNotificationRule(company_id=company.id, event="ORDER_ACCEPTED",
                                                    template_name="order_accepted"))
            db.session.flush()
            now = datetime.now(timezone.utc)
            orders = [DeliveryOrder(company_id=company.id, integration_config_id=integration.id, platform="NASHMI",
                                    platform_order_id=f"B{n}", order_number=f"B{n}", status="ACCEPTED",
                                    total_amount=Decimal("10"), order_items=[], customer_phone="+966551234567",
                                    accepted_at=now) for n in range(count)]
            db.session.add_all(orders)
            db.session.commit()
            connection_id = connection.id

            started = time.perf_counter()
            for order in orders:
                services.notify_order(order, NotificationEvent.ORDER_ACCEPTED)
                db.session.commit()
            queued = time.perf_counter() - started
        db.engine.dispose()

    started = time.perf_counter()
    run_worker(app, concurrency=4, wait=False)
    sent_seconds = time.perf_counter() - started

    with app.app_context(), tenant(company.id):
        from sqlalchemy import select

        from portal.models import WhatsappMessage
        wamids = db.session.scalars(select(WhatsappMessage.whatsapp_message_id).where(
            WhatsappMessage.whatsapp_message_id.is_not(None))).all()
    client = app.test_client()
    latencies = []
    for status in ("delivered", "read"):
        for wamid in wamids:
            body = status_body(wamid, status)
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            began = time.perf_counter()
            answer = client.post(f"/webhooks/whatsapp/{connection_id}", data=body,
                                 headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
            latencies.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200, answer.status_code
    with app.app_context(), tenant(company.id):
        read = db.session.scalar(select(db.func.count()).select_from(WhatsappMessage).where(
            WhatsappMessage.status == "READ"))
    common.echo(f"queue:  {count} order events recorded in {queued:.2f} s ({queued / count * 1000:.1f} ms each)")
    common.echo(f"send:   {len(wamids)} of {count} sent in {sent_seconds:.2f} s "
                f"({len(wamids) / sent_seconds:.0f} messages/s, worker with 4 threads)")
    common.echo(f"status: {len(latencies)} webhooks, p50 {percentile(latencies, 0.5):.1f} ms, "
                f"p95 {percentile(latencies, 0.95):.1f} ms; {read} of {count} messages READ")
    api.shutdown()



if __name__ == "__main__":
    main()
