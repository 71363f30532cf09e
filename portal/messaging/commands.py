"""`flask --app wsgi whatsapp-connect`: an operator command over the messaging services (like integration-add)."""
import click
from flask import current_app, url_for

from ..extensions import db


def webhook_url(connection, public_url):
    """The address Meta posts this connection's webhooks to, on the portal at `public_url`."""
    with current_app.test_request_context(base_url=public_url):
        return url_for("whatsapp_webhooks.receive", connection_id=str(connection.id), _external=True)


@click.command("whatsapp-connect")
@click.option("--company", "company_name", required=True, help="Company name (exact).")
@click.option("--phone-number-id", required=True, help="Meta's id of the business number (digits).")
@click.option("--token", help="The access token (a system user's); needed to create, kept when omitted.")
@click.option("--app-secret", help="The Meta app secret that signs webhooks; needed to create, kept when omitted.")
@click.option("--verify-token", help="The token Meta's verification GET carries; needed to create, kept when omitted.")
@click.option("--base-url", help="The Graph API address with its version (default https://graph.facebook.com/v23.0; "
                                 "kept when omitted on an update).")
@click.option("--display-phone", help="The number as customers see it, e.g. +966 50 123 4567 (kept when omitted).")
@click.option("--enable/--disable", "enabled", default=None,
              help="Turn sending and webhooks on or off (default: on when created, unchanged when updated).")
@click.option("--public-url", default="http://127.0.0.1:5000", show_default=True,
              help="The portal's public address, for the webhook URL printed at the end.")
def whatsapp_connect_command(company_name, phone_number_id, token, app_secret, verify_token, base_url, display_phone,
                             enabled, public_url):
    """Create or update a company's WhatsApp connection; print its id and webhook URL."""
    from ..lookups import company_named
    from ..tenancy import tenant
    from .services import WhatsappConnectionError, current_connection, save_connection

    company_id = company_named(company_name, "whatsapp-connect")

    with tenant(company_id):
        existing = current_connection()
        if existing is not None:  # what is not given is kept (save_connection would reset these)
            base_url = existing.base_url if base_url is None else base_url
            display_phone = existing.display_phone if display_phone is None else display_phone
            enabled = existing.is_enabled if enabled is None else enabled
        try:
            connection = save_connection(company_id, phone_number_id=phone_number_id, token=token,
                                         app_secret=app_secret, verify_token=verify_token, base_url=base_url,
                                         display_phone=display_phone, is_enabled=True if enabled is None else enabled)
        except WhatsappConnectionError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from error
        db.session.commit()
        state = "on" if connection.is_enabled else "off"
        click.echo(f"WhatsApp connection {connection.id} ({'updated' if existing else 'created'}, {state}) "
                   f"for {company_name}: number {connection.phone_number_id} via {connection.base_url}.")
        click.echo(f"Webhook URL: {webhook_url(connection, public_url)}")
