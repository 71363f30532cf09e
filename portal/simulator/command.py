"""`flask --app wsgi simulate`: serve the platforms' endpoints and send orders to the portal."""
import json
import os
import random
import signal
import threading
import warnings

import click
from werkzeug.serving import WSGIRequestHandler, make_server

from .orders import ALL_PLATFORMS

DEFAULT_PORT = int(os.environ.get("SIMULATOR_PORT", "5001"))


@click.command("simulate")
@click.option("--company", "company_name", default="Sample Restaurant", show_default=True,
              help="Company (exact name) whose enabled integrations receive the orders.")
@click.option("--portal-url", default="http://127.0.0.1:5000", show_default=True,
              help="Where the portal listens; webhooks go to <portal-url>/webhooks/<platform>/<integration id>.")
@click.option("--rate", default=2.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Orders per minute (on average).")
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many orders.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Stop after this many seconds.")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Serve the platforms' endpoints the portal calls (and the page showing both directions).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the endpoints listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int,
              help="Port of the endpoints (env SIMULATOR_PORT); the demo integrations' base URLs use it.")
@click.option("--platform", "platforms", multiple=True, type=click.Choice([p.lower() for p in ALL_PLATFORMS]),
              help="Only these platforms (repeatable); default: every enabled integration.")
@click.option("--cancel-share", default=0.1, show_default=True, type=click.FloatRange(0, 1),
              help="Share of orders the platform cancels a little later.")
@click.option("--fail-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of the portal's calls answered 503 (to watch its retries).")
@click.option("--wait", "wait_seconds", default=300.0, show_default=True, type=click.FloatRange(min=0),
              help="How long to wait for the portal's /healthz before giving up.")
@click.option("--linger", default=5.0, show_default=True, type=click.FloatRange(min=0),
              help="With --serve: seconds to keep answering the portal's calls after the last order.")
@click.option("--seed", type=int, help="Random seed, for a reproducible run.")
@click.option("--whatsapp/--no-whatsapp", default=True, show_default=True,
              help="With --serve: play Meta for the company's WhatsApp connection (sends, then status webhooks).")
@click.option("--whatsapp-fail-rate", default=0.05, show_default=True, type=click.FloatRange(0, 1),
              help="Share of WhatsApp messages whose last status is failed (131026, 131047 or 130429).")
@click.option("--whatsapp-error-rate", default=0.05, show_default=True, type=click.FloatRange(0, 1),
              help="Share of WhatsApp sends answered 400 with code 130429 (rate limit: the worker retries).")
@click.option("--whatsapp-disorder-rate", default=0.2, show_default=True, type=click.FloatRange(0, 1),
              help="Share of WhatsApp messages whose statuses arrive out of order (delivered before sent, "
                   "read without delivered).")
@click.option("--whatsapp-delay", default=2.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds between a WhatsApp message's status webhooks (on average).")
def simulate_command(company_name, portal_url, rate, count, duration, serve, host, port, platforms, cancel_share,
                     fail_rate, wait_seconds, linger, seed, whatsapp, whatsapp_fail_rate, whatsapp_error_rate,
                     whatsapp_disorder_rate, whatsapp_delay):
    """Play the delivery platforms: send signed orders to the portal and answer its calls.

    With no --count and no --duration it runs until stopped (Ctrl+C). `--count 1 --no-serve` sends
    one order and exits.
    """
    from ..extensions import db
    from .recorder import Journal, create_app
    from .meta import Meta
    from .sender import Sender, Simulation
    from .targets import TargetError, load_targets, load_whatsapp_lines

    try:
        targets, notes = load_targets(company_name, platforms)
        lines = load_whatsapp_lines(company_name) if serve and whatsapp else []
    except TargetError as error:
        raise click.ClickException(str(error)) from error
    finally:
        db.session.remove()   # the database is not needed any more: everything below is HTTP
    for note in notes:
        click.echo(f"Warning: {note}", err=True)
    if not targets:
        raise click.ClickException(f"{company_name} has no enabled integration to simulate "
                                   "(with a webhook secret and products).")

    rng = random.Random(seed)
    journal = Journal()
    sender = Sender(portal_url, journal=journal)
    simulation = Simulation(targets, sender, rate=rate, count=count, duration=duration, cancel_share=cancel_share,
                            wait_for_followups=serve, echo=click.echo, rng=rng)
    journal.listeners.append(simulation.on_platform_call)
    journal.listeners.append(lambda call: click.echo(_call_line(call)))

    server = None
    if serve:
        meta = Meta(lines, portal_url, journal=journal, later=simulation.later, rng=random.Random(rng.random()),
                    echo=click.echo, fail_rate=whatsapp_fail_rate, error_rate=whatsapp_error_rate,
                    disorder_rate=whatsapp_disorder_rate, delay=whatsapp_delay)
        app = create_app(journal, fail_rate=fail_rate, rng=random.Random(rng.random()), meta=meta)
        try:
            server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        except OSError as error:
            raise click.ClickException(f"Cannot listen on {host}:{port}: {error}") from error
        threading.Thread(target=server.serve_forever, name="simulator-endpoints", daemon=True).start()
        click.echo(f"Platform endpoints on http://{host}:{server.server_port}/<platform>/… — calls and "
                   f"webhooks at http://{host}:{server.server_port}/")
        for line in lines:
            click.echo(f"WhatsApp Cloud API for number {line.phone_number_id} on http://{host}:{server.server_port}"
                       f"/v23.0/{line.phone_number_id}/messages; customers write through POST "
                       f"http://{host}:{server.server_port}/whatsapp/inbound")

    names = ", ".join(f"{target.platform.lower()} ({len(target.menu)} products)" for target in targets)
    limit = (f"{count} order{'s' if count != 1 else ''}" if count is not None else "") + \
        (" or " if count is not None and duration else "") + (f"{duration:g} s" if duration else "")
    click.echo(f"Simulating {names} for {company_name}: {rate:g} orders/minute"
               f"{', until ' + limit if limit else ', until stopped (Ctrl+C)'}; sending to {portal_url}")

    previous = signal.signal(signal.SIGTERM, _interrupt)   # `make run` stops us with SIGTERM: exit cleanly
    try:
        with warnings.catch_warnings():
            # The demo's webhook secrets are shorter than PyJWT recommends for HS512; a platform would not
            # warn about it on every order (the portal's own log still does).
            warnings.filterwarnings("ignore", message=r"The HMAC key is \d+ bytes long")
            if not sender.wait_for_portal(timeout=wait_seconds, echo=click.echo, stop=simulation.stop_event):
                raise click.ClickException(f"The portal did not answer at {portal_url}/healthz.")
            simulation.run()
            if server is not None and linger and not simulation.stop_event.is_set():
                # The portal answers the last orders (accept, auto-accept) a moment later: be there for it.
                simulation.stop_event.wait(linger)
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        signal.signal(signal.SIGTERM, previous)
        simulation.stop()
        if server is not None:
            server.shutdown()
            server.server_close()
    answered = sum(1 for result in simulation.results if result.ok)
    click.echo(f"{simulation.placed} order{'s' if simulation.placed != 1 else ''} sent, {answered} accepted "
               f"by the portal; {len(journal.calls)} call{'s' if len(journal.calls) != 1 else ''} received.")
    if simulation.placed and answered < simulation.placed:
        raise SystemExit(1)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _call_line(call):
    """One console line per call the portal made to a platform."""
    body = json.dumps(call.get("json"), ensure_ascii=False) if call.get("json") is not None else ""
    if len(body) > 100:
        body = body[:99] + "…"
    return f"{call['time'][11:19]}  {call['platform']:<13} ← {call['method']} {call['path']} {body} → {call['status']}"


class _QuietHandler(WSGIRequestHandler):
    """The journal and `_call_line` report the calls; werkzeug's access log would say it twice."""

    def log_request(self, code="-", size="-"):
        pass


@click.command("simulate-whatsapp-inbound")
@click.option("--company", "company_name", default="Sample Restaurant", show_default=True,
              help="Company (exact name) whose WhatsApp number the customer writes to.")
@click.option("--from", "sender", required=True, help="The customer's number, e.g. +966512345678.")
@click.option("--text", required=True, help="What the customer writes (STOP, إيقاف and START change the opt-out).")
@click.option("--name", default="Customer", show_default=True, help="The customer's WhatsApp profile name.")
@click.option("--portal-url", default="http://127.0.0.1:5000", show_default=True,
              help="Where the portal listens; the webhook goes to <portal-url>/webhooks/whatsapp/<connection id>.")
def simulate_whatsapp_inbound_command(company_name, sender, text, name, portal_url):
    """Play a customer writing to the company's WhatsApp number: post Meta's signed messages[] webhook."""
    from ..extensions import db
    from .meta import Meta, digits
    from .targets import TargetError, load_whatsapp_lines

    try:
        lines = load_whatsapp_lines(company_name)
    except TargetError as error:
        raise click.ClickException(str(error)) from error
    finally:
        db.session.remove()
    if not lines:
        raise click.ClickException(f"{company_name} has no enabled WhatsApp connection (see whatsapp-connect).")
    if not 7 <= len(digits(sender)) <= 15:
        raise click.ClickException(f"{sender!r} is not a phone number: give it with the country code, +9665….")
    status, answer = Meta(lines, portal_url).inbound(sender, text, name=name)
    click.echo(f"POST {portal_url.rstrip('/')}/webhooks/whatsapp/{lines[0].connection_id} → "
               f"{status if status is not None else 'no answer'} {' '.join(answer.split())[:200]}")
    if status is None or status >= 300:
        raise SystemExit(1)
