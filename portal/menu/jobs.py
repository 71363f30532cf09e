"""The worker's side of availability: the minute tick over companies, and one company's tick."""
import logging

from ..extensions import db
from ..models import Company
from ..tenancy import companies_with_menu_work, tenant
from .availability import tick
from .services import utcnow

logger = logging.getLogger(__name__)


def availability_tick(company_id, now=None):
    """End this company's due 86s and apply its availability hours; commits; returns the results."""
    now = now or utcnow()
    with tenant(company_id):
        company = db.session.get(Company, company_id)
        if company is None:
            db.session.rollback()
            return []
        results = tick(company, now=now)
        db.session.commit()
        return results


def availability_minute(now=None):
    """Every company with menu work due, one transaction each (one company's failure stops no other)."""
    now = now or utcnow()
    company_ids = companies_with_menu_work(now)
    db.session.commit()
    done = 0
    for company_id in company_ids:
        try:
            availability_tick(company_id, now)
            done += 1
        except Exception:  # logged; the next minute tries again
            db.session.rollback()
            logger.exception("Availability tick failed for company %s", company_id)
    return done
