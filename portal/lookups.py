"""Finding a row named in a URL: the tenant's own, or 404."""
import uuid

from flask import abort

from .extensions import db


def get_or_404(model, raw_id, hidden=None):
    """The `model` row with id `raw_id` visible to the current tenant, else 404.

    A malformed id, another company's id (RLS hides it) and a missing row all look the same.
    `hidden(row)` may hide more rows (e.g. soft-deleted ones).
    """
    try:
        row = db.session.get(model, uuid.UUID(str(raw_id)))
    except ValueError:
        abort(404)
    if row is None or (hidden is not None and hidden(row)):
        abort(404)
    return row


def company_named(name, command):
    """The id of the one company called `name`, for an operator command (an audited cross-tenant read).

    Raises click.ClickException when none or several have that name."""
    import click
    from sqlalchemy import select

    from .models import Company
    from .tenancy import cross_tenant

    with cross_tenant(f"{command} command for {name}") as session:
        company_ids = session.scalars(select(Company.id).where(Company.name == name)).all()
    db.session.commit()
    if len(company_ids) != 1:
        raise click.ClickException(f"No single company is named {name!r}.")
    return company_ids[0]
