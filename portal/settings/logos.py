"""The signed-in company's logo URL for the header and the ticket (None without a logo)."""
from flask import g, has_request_context, url_for
from sqlalchemy import select

from ..extensions import db
from ..models import CompanyLogo


def company_logo_url():
    """The logo's URL with its version (so a new logo is fetched at once), or None; one small query a page."""
    company = g.get("company") if has_request_context() else None
    if company is None:
        return None
    if "logo_url" not in g:
        updated = db.session.scalar(select(CompanyLogo.updated_at).where(CompanyLogo.company_id == company.id))
        g.logo_url = (url_for("settings.logo", company_id=company.id, v=int(updated.timestamp()))
                      if updated else None)
    return g.logo_url
