"""Sending the platforms' webhooks to the portal, signed, at a pace; no database access here.

`Sender` signs one `Webhook` with the platform adapter's `sign` and hands it to a transport: any
function `(url, body, headers)` → status (or `(status, text)`), called with `method=` for methods
other than POST. `http_transport` uses requests; tests pass one around Flask's test client.

`Simulation` places orders for its targets at `rate` per minute until `count` orders or `duration`
seconds, has the platform cancel a share of them a little later, and reacts to the portal's calls
that the recorder sees (a Careem order marked ready is picked up by a captain, then delivered).
"""
import heapq
import itertools
import json
import random
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone

import requests

from ..platforms import adapter_for
from .catalog import callback as _catalog_callback
from .orders import CAREEM, DELIVERY_HERO, GENERIC, OrderFactory

HTTP_TIMEOUT = (3, 15)


def utcnow():
    return datetime.now(timezone.utc)


def http_transport(url, body, headers, method="POST"):
    """Send over HTTP; returns (status, text)."""
    response = requests.request(method, url, data=body, headers=headers, timeout=HTTP_TIMEOUT)
    return response.status_code, response.text


@dataclass
class SendResult:
    webhook: object
    url: str
    status: int | None
    answer: str = ""
    error: str | None = None

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300

    def answer_json(self):
        try:
            return json.loads(self.answer)
        except (TypeError, ValueError):
            return None


class Sender:
    """Signs and sends webhooks to `portal_url`; every attempt is also written to the journal."""

    def __init__(self, portal_url, transport=None, journal=None, clock=utcnow):
        self.portal_url = portal_url.rstrip("/")
        self.transport = transport or http_transport
        self.journal = journal
        self.clock = clock

    def url(self, target, webhook):
        url = f"{self.portal_url}/webhooks/{target.platform.lower()}/{target.integration_id}"
        return f"{url}/{webhook.path}" if webhook.path else url

    def headers(self, target, webhook, raw):
        adapter = adapter_for(target.platform)
        headers = {"Content-Type": "application/json", "User-Agent": f"{adapter.webhook_user_agent}/simulator"}
        headers.update(adapter.sign(raw, target.secret))
        return headers

    def send(self, target, webhook):
        raw = webhook.raw()
        url = self.url(target, webhook)
        try:
            headers = self.headers(target, webhook, raw)
            if webhook.method == "POST":
                answer = self.transport(url, raw, headers)
            else:
                answer = self.transport(url, raw, headers, method=webhook.method)
            status, text = answer if isinstance(answer, tuple) else (answer, "")
            result = SendResult(webhook, url, int(status), text or "")
        except Exception as error:  # the portal is down, a timeout…: reported, never fatal
            result = SendResult(webhook, url, None, error=f"{type(error).__name__}: {error}"[:300])
        if self.journal is not None:
            self.journal.record_sent({
                "time": self.clock().isoformat(timespec="milliseconds"), "platform": target.platform,
                "integration_id": str(target.integration_id), "event": webhook.event, "order_id": webhook.order_id,
                "summary": webhook.summary, "method": webhook.method,
                "path": url[len(self.portal_url):], "status": result.status, "answer": result.answer[:500],
                "error": result.error,
            })
        return result

    def wait_for_portal(self, timeout=300, interval=1.0, echo=print, stop=None):
        """Poll GET /healthz until it answers 200; False after `timeout` seconds (or when `stop` is set)."""
        deadline = time.monotonic() + timeout
        said = False
        while True:
            try:
                if requests.get(f"{self.portal_url}/healthz", timeout=HTTP_TIMEOUT).status_code == 200:
                    if said:
                        echo(f"The portal answers at {self.portal_url}.")
                    return True
            except requests.RequestException:
                pass
            if not said:
                echo(f"Waiting for the portal at {self.portal_url}/healthz …")
                said = True
            if time.monotonic() >= deadline or (stop is not None and stop.wait(interval)):
                return False
            if stop is None:
                time.sleep(interval)


class Simulation:
    """Places orders at a pace and sends their follow-ups; `run()` returns when it is done or stopped."""

    def __init__(self, targets, sender, factory=None, rate=2.0, count=None, duration=None, cancel_share=0.1,
                 cancel_after=(20, 90), pickup_after=(20, 60), delivery_after=(120, 300), wait_for_followups=True,
                 echo=print, rng=None, clock=time.monotonic, now=utcnow, catalog_after=(2, 5), journal=None):
        if not targets:
            raise ValueError("nothing to simulate: no targets")
        if rate <= 0:
            raise ValueError("the rate must be positive (orders per minute)")
        self.targets = list(targets)
        self.sender = sender
        self.rng = rng or random.Random()
        self.factory = factory or OrderFactory(rng=self.rng)
        self.rate, self.count, self.duration = rate, count, duration
        self.cancel_share = cancel_share
        self.cancel_after, self.pickup_after, self.delivery_after = cancel_after, pickup_after, delivery_after
        self.catalog_after = catalog_after
        self.journal = journal if journal is not None else getattr(sender, "journal", None)
        self.wait_for_followups = wait_for_followups
        self.echo, self.clock, self.now = echo, clock, now
        self.stop_event = threading.Event()
        self.placed = 0
        self.results = []            # SendResult of every order placed (bounded below)
        self._queue = []             # (due, sequence, description, callable)
        self._sequence = itertools.count()
        self._lock = threading.Lock()
        self._orders = OrderedDict()   # (platform, order id or DH token) -> SimOrder, the last 1000

    # ------------------------------------------------------------------ orders and follow-ups

    def place_order(self, target=None):
        """Generate, send and remember one order; schedule its cancellation for a share of them."""
        target = target or self.rng.choice(self.targets)
        order = self.factory.order(target, self.now())
        result = self.sender.send(target, order.webhook)
        self.placed += 1
        self.results = (self.results + [result])[-1000:]
        self.echo(self._line(result, order.webhook.summary))
        if result.ok:
            self._remember(order)
            if self.rng.random() < self.cancel_share:
                self.later(self.rng.uniform(*self.cancel_after), f"cancel {order.platform_order_id}",
                           lambda: self._follow_up(order, self.factory.cancellation(order, self.now())))
        return order, result

    def later(self, seconds, description, action):
        """Run `action` after `seconds` (from any thread, e.g. the recorder's)."""
        with self._lock:
            heapq.heappush(self._queue, (self.clock() + seconds, next(self._sequence), description, action))

    def pending(self):
        with self._lock:
            return len(self._queue)

    def _follow_up(self, order, webhook):
        if webhook is None:
            return None
        result = self.sender.send(order.target, webhook)
        self.echo(self._line(result))
        return result

    def _remember(self, order):
        with self._lock:
            self._orders[(order.platform, order.platform_order_id)] = order
            if order.token:
                self._orders[(order.platform, order.token)] = order
            while len(self._orders) > 1000:
                self._orders.popitem(last=False)

    def _find(self, platform, key):
        with self._lock:
            return self._orders.get((platform, key))

    def on_platform_call(self, call):
        """A journal listener: the portal told a platform something; play the platform's next move."""
        if call.get("status", 500) >= 300:
            return
        platform = str(call.get("platform", "")).upper()
        segments = [segment for segment in str(call.get("path", "")).strip("/").split("/") if segment]
        body = call.get("json") if isinstance(call.get("json"), dict) else {}
        if platform in DELIVERY_HERO and segments[:2] == ["v2", "orders"] and segments[3:] == ["preparation-completed"]:
            order = self._find(platform, segments[2])
            if order is not None:   # the DH rider collects a prepared order
                self.later(self.rng.uniform(*self.pickup_after), f"pick up {order.platform_order_id}",
                           lambda: self._follow_up(order, self.factory.picked_up(order, self.now())))
        elif platform in CAREEM and call.get("method") == "PUT" and segments[:1] == ["orders"] and len(segments) == 2:
            order = self._find(platform, segments[1])
            if order is not None and body.get("state") == "ready" and order.webhook.body["details"].get(
                    "delivery_type") == "careem":
                self._captain_trip(order)
        elif platform in GENERIC:
            order = self._find(platform, segments[1]) if len(segments) > 1 else None
            status = str(body.get("status", "")).upper()
            if order is not None and status in ("READY", "READY_FOR_PICKUP", "PREPARED"):
                self._captain_trip(order)
        report = _catalog_callback(platform, call, self.journal) if self.journal is not None else None
        target = next((target for target in self.targets if target.platform == platform), None)
        if report is not None and target is not None:   # the platform imports the catalog, then reports
            self.later(self.rng.uniform(*self.catalog_after), f"catalog report {platform.lower()}",
                       lambda: self._report(target, report))

    def _report(self, target, webhook):
        result = self.sender.send(target, webhook)
        self.echo(self._line(result))
        return result

    def _captain_trip(self, order):
        pickup = self.rng.uniform(*self.pickup_after)
        self.later(pickup, f"pick up {order.platform_order_id}",
                   lambda: self._follow_up(order, self.factory.picked_up(order, self.now())))
        self.later(pickup + self.rng.uniform(*self.delivery_after), f"deliver {order.platform_order_id}",
                   lambda: self._follow_up(order, self.factory.delivered(order, self.now())))

    # ------------------------------------------------------------------ the loop

    def interval(self):
        """Seconds to the next order: `rate` per minute on average, never a metronome."""
        return 60.0 / self.rate * self.rng.uniform(0.6, 1.4)

    def stop(self):
        self.stop_event.set()

    def run(self):
        """Send until `count` orders or `duration` seconds (or stop()); returns the number of orders placed."""
        started = self.clock()
        deadline = started + self.duration if self.duration else None
        next_order = started
        while not self.stop_event.is_set():
            moment = self.clock()
            if deadline is not None and moment >= deadline:
                break
            orders_left = self.count is None or self.placed < self.count
            if orders_left and moment >= next_order:
                self.place_order()
                next_order = self.clock() + self.interval()
                continue
            if self.send_due(limit=1):
                continue
            if not orders_left and (not self.wait_for_followups or not self.pending()):
                break
            wake = [deadline] if deadline is not None else []
            if orders_left:
                wake.append(next_order)
            with self._lock:
                if self._queue:
                    wake.append(self._queue[0][0])
            timeout = max(0.0, min(wake) - self.clock()) if wake else 1.0
            self.stop_event.wait(min(timeout, 1.0))
        left = self.pending()
        if left:
            self.echo(f"Stopped with {left} follow-up event{'s' if left != 1 else ''} not sent.")
        return self.placed

    def send_due(self, limit=None):
        """Send the follow-ups whose time has come (at most `limit`); returns how many were sent."""
        done = 0
        while limit is None or done < limit:
            due = self._pop_due(self.clock())
            if due is None:
                break
            description, action = due
            try:
                action()
            except Exception as error:  # a follow-up's failure is reported, the run goes on
                self.echo(f"{description}: {type(error).__name__}: {error}")
            done += 1
        return done

    def _pop_due(self, moment):
        with self._lock:
            if self._queue and self._queue[0][0] <= moment:
                _, _, description, action = heapq.heappop(self._queue)
                return description, action
        return None

    def _line(self, result, summary=""):
        webhook = result.webhook
        answer = f"{result.status}" if result.status is not None else "no answer"
        detail = result.error or _short(result.answer)
        text = f"{self.now():%H:%M:%S}  {webhook.platform.lower():<13} {webhook.event:<16} {webhook.order_id:<12}"
        if summary:
            text += f"  {summary}"
        return f"{text}  → {answer} {detail}".rstrip()


def _short(answer, limit=100):
    answer = " ".join((answer or "").split())
    return answer if len(answer) <= limit else answer[:limit - 1] + "…"
