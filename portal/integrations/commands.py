"""`flask --app wsgi integration-add` and `rotate-keys`: operator commands over the Integrations services."""
import click

from ..extensions import db
from ..models import Company, DeliveryPlatform

PLATFORM_NAMES = [platform.value.lower() for platform in DeliveryPlatform]


@click.command("integration-add")
@click.option("--company", "company_name", required=True, help="Company name (exact).")
@click.option("--platform", type=click.Choice(PLATFORM_NAMES, case_sensitive=False), required=True)
@click.option("--webhook-secret", required=True, help="The secret the platform signs or sends its webhooks with.")
@click.option("--api-key", help="Credential: the platform's API key, client id or middleware username.")
@click.option("--api-secret", help="Credential: the platform's API secret, client secret or middleware password.")
@click.option("--merchant-id", help="The platform's merchant, brand or chain id.")
@click.option("--store-id", help="The platform's store, branch or vendor remote id.")
@click.option("--base-url", help="The platform's API address (http:// or https://).")
@click.option("--commission-rate", help="Percentage the platform keeps, 0 to 100.")
@click.option("--enable/--disable", "enabled", default=None,
              help="Turn the connection on or off (default: off when created, unchanged when updated).")
@click.option("--public-url", default="http://127.0.0.1:5000", show_default=True,
              help="The portal's public address, for the webhook URL printed at the end.")
def integration_add_command(company_name, platform, webhook_secret, api_key, api_secret, merchant_id, store_id,
                            base_url, commission_rate, enabled, public_url):
    """Create or update a company's connection to a delivery platform; print its id and webhook URL."""
    from ..lookups import company_named
    from ..tenancy import tenant
    from .services import IntegrationError, MissingCredentials, save_integration, webhook_url

    company_id = company_named(company_name, "integration-add")

    settings = {name: value for name, value in (("merchant_id", merchant_id), ("store_id", store_id),
                                                 ("base_url", base_url), ("commission_rate", commission_rate),
                                                 ("is_enabled", enabled)) if value is not None}
    new_secrets = {"webhook_secret": webhook_secret, "api_key": api_key, "api_secret": api_secret}
    with tenant(company_id):
        company = db.session.get(Company, company_id)
        try:
            integration = save_integration(company, platform, new_secrets=new_secrets, **settings)
        except MissingCredentials as error:
            raise click.ClickException(
                f"{platform} needs {', '.join(error.fields)} before it can be turned on.") from error
        except IntegrationError as error:
            raise click.ClickException(f"{error.field or 'integration'}: {error}") from error
        state = "on" if integration.is_enabled else "off"
        click.echo(f"Integration {integration.id} ({platform.lower()}, {state}) for {company_name}.")
        click.echo(f"Webhook URL: {webhook_url(integration, public_url=public_url)}")


@click.command("rotate-keys")
def rotate_keys_command():
    """Re-encrypt every stored platform credential, webhook secret and WhatsApp secret with the newest key."""
    from .services import rotate_stored_secrets

    rotated, unreadable = rotate_stored_secrets()
    click.echo(f"Re-encrypted {rotated} secret{'s' if rotated != 1 else ''} with the newest key.")
    for what, row_id, column in unreadable:
        click.echo(f"Could not read {column} of {what} {row_id} with the configured keys; left as is.", err=True)
    if unreadable:
        raise click.exceptions.Exit(1)
