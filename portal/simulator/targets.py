"""What the platforms know about a company, read from the portal's database (needs an app context).

The company is found by exact name through the audited cross-tenant path (like `flask create-user`);
everything else is read as that company's tenant: its enabled integrations, their webhook secrets
(decrypted), and the products mapped on each platform with the platform's price; and its WhatsApp
connection (token and app secret decrypted) for the number the simulator plays as Meta.
"""
from sqlalchemy import select

from ..crypto import decrypt_secret
from ..extensions import db
from ..models import Company, IntegrationConfig, MenuMapping, Product, WhatsappConnection
from ..tenancy import cross_tenant, tenant
from .model import MenuItem, Target


class TargetError(Exception):
    """The company or its integrations cannot be simulated; the message says why."""


def find_company(name):
    """(id, name, currency, country_code) of the one company called `name`."""
    with cross_tenant("simulator: find company") as session:
        rows = session.execute(select(Company.id, Company.name, Company.currency, Company.country_code)
                               .where(Company.name == name)).all()
    db.session.commit()
    if len(rows) != 1:
        raise TargetError(f"No single company is named {name!r}.")
    return rows[0]


def load_targets(company_name, platforms=None):
    """The company's enabled integrations as simulator targets; returns (targets, warnings)."""
    company = find_company(company_name)
    wanted = {platform.upper() for platform in platforms} if platforms else None
    targets, warnings = [], []
    with tenant(company.id):
        integrations = db.session.scalars(select(IntegrationConfig).where(IntegrationConfig.is_enabled)
                                          .order_by(IntegrationConfig.platform)).all()
        for integration in integrations:
            platform = integration.platform.value
            if wanted is not None and platform not in wanted:
                continue
            secret = decrypt_secret(company.id, integration.webhook_secret)
            if not secret:
                warnings.append(f"{platform}: no webhook secret is set; skipped.")
                continue
            menu = _mapped_menu(integration)
            if not menu:
                menu = _whole_menu()
                warnings.append(f"{platform}: no available mapped products; ordering from the whole menu.")
            if not menu:
                warnings.append(f"{platform}: the company has no products; skipped.")
                continue
            targets.append(Target(platform=platform, integration_id=str(integration.id), secret=secret, menu=menu,
                                  store_id=integration.store_id, merchant_id=integration.merchant_id,
                                  currency=company.currency, country_code=company.country_code or "SA",
                                  company_name=company.name))
        db.session.commit()
    missing = sorted(wanted - {target.platform for target in targets}) if wanted else []
    for platform in missing:
        if not any(warning.startswith(f"{platform}:") for warning in warnings):
            warnings.append(f"{platform}: {company.name} has no enabled integration for it.")
    return targets, warnings


def load_whatsapp_lines(company_name):
    """The company's enabled WhatsApp connection as the number Meta plays (simulator/meta.py): a list of 0 or 1."""
    from .meta import WhatsappLine

    company = find_company(company_name)
    with tenant(company.id):
        connection = db.session.scalar(select(WhatsappConnection).where(WhatsappConnection.is_enabled))
        lines = []
        if connection is not None:
            token = decrypt_secret(company.id, connection.access_token)
            app_secret = decrypt_secret(company.id, connection.app_secret)
            if token and app_secret:
                lines.append(WhatsappLine(phone_number_id=connection.phone_number_id,
                                          connection_id=str(connection.id), token=token, app_secret=app_secret,
                                          display_phone=connection.display_phone or "15550000000"))
        db.session.commit()
    return lines


def _mapped_menu(integration):
    rows = db.session.execute(
        select(MenuMapping.local_product_id, MenuMapping.platform_product_id, MenuMapping.product_name,
               MenuMapping.product_price, Product.name_ar, Product.category)
        .join(Product, (Product.company_id == MenuMapping.company_id)
              & (Product.local_product_id == MenuMapping.local_product_id))
        .where(MenuMapping.integration_config_id == integration.id, MenuMapping.is_available,
               Product.is_available, Product.deleted_at.is_(None))
        .order_by(MenuMapping.local_product_id)).all()
    return [MenuItem(local_product_id=row.local_product_id, name=row.product_name, price=row.product_price,
                     name_ar=row.name_ar, platform_product_id=row.platform_product_id, category=row.category)
            for row in rows]


def _whole_menu():
    rows = db.session.execute(
        select(Product.local_product_id, Product.name, Product.price, Product.name_ar, Product.category)
        .where(Product.is_available, Product.deleted_at.is_(None)).order_by(Product.sort_order)).all()
    return [MenuItem(local_product_id=row.local_product_id, name=row.name, price=row.price, name_ar=row.name_ar,
                     category=row.category) for row in rows]
