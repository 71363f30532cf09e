"""The daily rollup: re-aggregate only the days whose orders changed (marked by a trigger), per company.

`delivery_orders` carries a statement trigger (migration 0009) that marks the local day of every
changed order in `analytics_dirty_days`, in the writer's own transaction. The worker's periodic job
calls `refresh_all`, which rolls up each company's dirty days before its today, under that company's
tenant, with the same SQL the reports use for live days (`analytics_refresh_company`). Never a full
rebuild: a day is re-read only when one of its orders changed.
"""
from sqlalchemy import text

from ..extensions import db
from ..tenancy import companies_with_pending_rollup, tenant

BATCH_DAYS = 400  # days per transaction: a year of one company, or a burst of late changes


def refresh_company(company_id, batch_days=BATCH_DAYS):
    """Roll up the company's dirty days before its today; returns how many days were re-aggregated."""
    done = 0
    with tenant(company_id):
        while True:
            count = db.session.scalar(text("SELECT analytics_refresh_company(:company, :batch)"),
                                      {"company": company_id, "batch": batch_days})
            db.session.commit()
            done += count or 0
            if not count or count < batch_days:
                return done


def refresh_all():
    """Roll up every company's dirty days; returns {company id: days re-aggregated}."""
    company_ids = companies_with_pending_rollup()
    db.session.commit()
    return {company_id: refresh_company(company_id) for company_id in company_ids}


def pending_days(company_id):
    """The company's days still waiting for the rollup (today included: it is always read live)."""
    with tenant(company_id):
        days = db.session.scalars(text("SELECT day FROM analytics_dirty_days WHERE company_id = :company"
                                       " ORDER BY day"), {"company": company_id}).all()
        db.session.commit()
    return days
