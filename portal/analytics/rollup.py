"""The daily rollup: re-aggregate only the days whose orders changed (marked by a trigger), per company.

`delivery_orders` carries a statement trigger (migration 0009) that marks the local day of every
changed order in `analytics_dirty_days`, in the writer's own transaction. The worker's periodic job
calls `refresh_all`, which rolls up each company's dirty days before its today, under that company's
tenant, with the same SQL the reports use for live days (`analytics_refresh_company`). Never a full
rebuild: a day is re-read only when one of its orders changed.
"""
import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..tenancy import companies_with_pending_rollup, tenant

BATCH_DAYS = 400  # days per transaction: a year of one company, or a burst of late changes
COMPANIES_PER_TRANSACTION = 50
_REFRESH = text("SELECT analytics_refresh_company(:company, :batch)")
logger = logging.getLogger(__name__)


def refresh_company(company_id, batch_days=BATCH_DAYS):
    """Roll up the company's dirty days before its today; returns how many days were re-aggregated."""
    done = 0
    with tenant(company_id):
        while True:
            count = db.session.scalar(_REFRESH, {"company": company_id, "batch": batch_days})
            db.session.commit()
            done += count or 0
            if not count or count < batch_days:
                return done


def refresh_all(companies_per_transaction=COMPANIES_PER_TRANSACTION):
    """Roll up every company's dirty days; returns {company id: days re-aggregated}.

    Companies are taken a few dozen per transaction, each under its own tenant (set again for each
    one), which saves two round trips per company; a failure falls back to one transaction each, so
    one company's problem never holds up the others.
    """
    company_ids = companies_with_pending_rollup()
    db.session.commit()
    done = {}
    for start in range(0, len(company_ids), companies_per_transaction):
        chunk = company_ids[start:start + companies_per_transaction]
        try:
            counts = {}
            for company_id in chunk:
                with tenant(company_id):
                    counts[company_id] = db.session.scalar(_REFRESH, {"company": company_id, "batch": BATCH_DAYS})
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            logger.exception("analytics rollup: a batch failed; rolling its companies up one by one")
            counts = {}
            for company_id in chunk:
                try:
                    counts[company_id] = refresh_company(company_id)
                except SQLAlchemyError:
                    db.session.rollback()
                    logger.exception("analytics rollup failed for company %s", company_id)
        for company_id, count in counts.items():
            if count == BATCH_DAYS:  # more than one batch waiting: finish this company on its own
                count += refresh_company(company_id)
            done[company_id] = count
    return done


def pending_days(company_id):
    """The company's days still waiting for the rollup (today included: it is always read live)."""
    with tenant(company_id):
        days = db.session.scalars(text("SELECT day FROM analytics_dirty_days WHERE company_id = :company"
                                       " ORDER BY day"), {"company": company_id}).all()
        db.session.commit()
    return days
