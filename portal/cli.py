"""`flask --app wsgi …` commands for operators; they call the same services as the pages."""
import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from .extensions import db
from .simulator.command import simulate_command, simulate_whatsapp_inbound_command


def register(app):
    from .assistant.commands import assistant_group
    from .integrations.commands import integration_add_command, rotate_keys_command
    from .messaging.commands import whatsapp_connect_command

    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_company_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(integration_add_command)
    app.cli.add_command(rotate_keys_command)
    app.cli.add_command(whatsapp_connect_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(simulate_command)
    app.cli.add_command(simulate_whatsapp_inbound_command)
    app.cli.add_command(loyalty_check_command)
    app.cli.add_command(outbox_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(assistant_group)


@click.command("seed-demo")
def seed_demo_command():
    """Create the demo companies, users, integrations, menu, loyalty program and orders (idempotent)."""
    from .demo import DEMO_PASSWORD, seed_demo

    counts = seed_demo()
    for name, orders in counts.items():
        click.echo(f"{name}: {orders} orders")
    click.echo(f"Sign in at http://127.0.0.1:{current_app.config.get('PORT', 5000)}/ as "
               f"admin@sample-restaurant.com / {DEMO_PASSWORD}")


@click.command("create-company")
@click.option("--name", required=True, help="Company name.")
@click.option("--admin-email", required=True, help="E-mail of the first company admin.")
@click.option("--admin-password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--timezone", default="Asia/Riyadh", show_default=True)
@click.option("--currency", default="SAR", show_default=True)
@click.option("--country", "country_code", default="SA", show_default=True)
def create_company_command(name, admin_email, admin_password, timezone, currency, country_code):
    """Create a company with its first company admin."""
    from .admin.services import CompanyError, create_company

    if len(admin_password) < 8:
        raise click.ClickException("The password needs at least 8 characters.")
    try:
        company = create_company(name=name, admin_email=admin_email, admin_password=admin_password,
                                 timezone=timezone, currency=currency, country_code=country_code)
    except CompanyError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created company {company.name} ({company.id}).")


@click.command("create-user")
@click.option("--company", "company_name", required=True, help="Company name (exact).")
@click.option("--email", required=True)
@click.option("--first-name", required=True)
@click.option("--last-name", required=True)
@click.option("--role", type=click.Choice(["USER", "MANAGER", "COMPANY_ADMIN", "SUPER_ADMIN"]), default="USER",
              show_default=True)
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
def create_user_command(company_name, email, first_name, last_name, role, password):
    """Create a user in a company."""
    from .lookups import company_named
    from .tenancy import tenant
    from .users.services import UserRuleError, create_user

    company_id = company_named(company_name, "create-user")
    if len(password) < 8:
        raise click.ClickException("The password needs at least 8 characters.")
    with tenant(company_id):
        try:
            user = create_user(None, email=email, first_name=first_name, last_name=last_name, role=role,
                               password=password, company_id=company_id)
        except UserRuleError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Created {user.email} ({role}) in {company_name}.")  # inside: outside the tenant RLS hides it


@click.command("worker")
@click.option("--concurrency", default=4, show_default=True, help="Jobs run at once (threads).")
@click.option("--burst", is_flag=True, help="Run the jobs that are due, then stop.")
def worker_command(concurrency, burst):
    """Run background jobs: webhook retries and calls to the platforms."""
    from .queue import run_worker

    run_worker(current_app._get_current_object(), concurrency=concurrency, wait=not burst)


@click.command("loyalty-check")
def loyalty_check_command():
    """Check that every member's points, spend and order count equal the sums of their ledger."""
    from .loyalty.balance_check import check_balances
    from .models import Company
    from .tenancy import cross_tenant, tenant

    with cross_tenant("loyalty-check command") as session:
        companies = session.execute(select(Company.id, Company.name).order_by(Company.name)).all()
    db.session.commit()
    failed = False
    for company_id, name in companies:
        with tenant(company_id):
            result = check_balances()
            db.session.commit()
        if not result.members:
            continue
        click.echo(f"{name}: {result.members} members, "
                   + ("balances equal the ledger" if result.ok else f"{len(result.mismatches)} mismatches"))
        for mismatch in result.mismatches:
            failed = True
            click.echo(f"  {mismatch.phone} {mismatch.field}: stored {mismatch.stored}, ledger {mismatch.ledger}")
    if failed:
        raise click.ClickException("Some balances differ from the ledger.")


@click.command("outbox")
@with_appcontext
@click.option("--limit", default=10, show_default=True, help="How many of the newest messages.")
@click.option("--to", "to_address", default=None, help="Only messages to this address.")
def outbox_command(limit, to_address):
    """Print the newest e-mail of every company with its link (no SMTP on a developer's machine)."""
    from .models import OutboundEmail
    from .tenancy import cross_tenant

    query = select(OutboundEmail).order_by(OutboundEmail.created_at.desc()).limit(limit)
    if to_address:
        query = query.where(OutboundEmail.to_address == to_address.strip().lower())
    with cross_tenant("outbox command") as session:
        messages = [(m.created_at, m.to_address, m.subject, m.link) for m in session.scalars(query)]
    db.session.commit()
    if not messages:
        click.echo("The outbox is empty.")
    for created_at, to, subject, link in messages:
        click.echo(f"{created_at:%Y-%m-%d %H:%M} {to}: {subject}")
        if link:
            click.echo(f"  {link}")


@click.command("backup")
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="Dump file to write (default portal-YYYYmmdd-HHMMSS.dump).")
@with_appcontext
def backup_command(output):
    """Write a pg_dump -Fc of the whole database (as the owner)."""
    import subprocess

    from . import backup

    target = output or backup.default_backup_name()
    try:
        backup.backup(current_app.config["OWNER_DATABASE_URL"], target)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        raise click.ClickException(getattr(error, "stderr", None) or str(error)) from error
    click.echo(f"Backup written to {target}")


@click.command("restore")
@click.argument("dump_file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore_command(dump_file):
    """Replace the database's contents with a backup (pg_restore --clean --if-exists)."""
    import subprocess

    from . import backup

    db.session.remove()
    db.engine.dispose()
    try:
        backup.restore(current_app.config["OWNER_DATABASE_URL"], dump_file)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        raise click.ClickException(getattr(error, "stderr", None) or str(error)) from error
    click.echo(f"Restored {dump_file}")
