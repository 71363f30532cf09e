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
def simulate_command(company_name, portal_url, rate, count, duration, serve, host, port, platforms, cancel_share,
                     fail_rate, wait_seconds, linger, seed):
    """Play the delivery platforms: send signed orders to the portal and answer its calls.

    With no --count and no --duration it runs until stopped (Ctrl+C). `--count 1 --no-serve` sends
    one order and exits.
    """
    from ..extensions import db
    from .recorder import Journal, create_app
    from .sender import Sender, Simulation
    from .targets import TargetError, load_targets

    try:
        targets, notes = load_targets(company_name, platforms)
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
        app = create_app(journal, fail_rate=fail_rate, rng=random.Random(rng.random()))
        try:
            server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        except OSError as error:
            raise click.ClickException(f"Cannot listen on {host}:{port}: {error}") from error
        threading.Thread(target=server.serve_forever, name="simulator-endpoints", daemon=True).start()
        click.echo(f"Platform endpoints on http://{host}:{server.server_port}/<platform>/… — calls and "
                   f"webhooks at http://{host}:{server.server_port}/")

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
