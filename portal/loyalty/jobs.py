"""The scheduled loyalty work: expire old points and move members between tiers as windows slide.

`sweep` runs hourly in the worker (portal/jobs.py); it finds the companies with something to do
through the audited cross-tenant path and queues one job per company, which runs in that
company's tenant like any request.
"""
from datetime import datetime, timezone

from sqlalchemy import text

from ..extensions import db
from ..tenancy import cross_tenant, tenant
from . import services

_DUE = text("""
SELECT company_id FROM loyalty_transactions WHERE remaining_points > 0 AND expires_at <= :now
UNION
SELECT t.company_id FROM loyalty_tiers t
JOIN loyalty_programs p ON p.company_id = t.company_id AND p.id = t.loyalty_program_id
WHERE p.is_active AND t.window_days IS NOT NULL
""")


def companies_to_sweep(now=None):
    """Companies with points past their expiry, or with tiers measured over a sliding window."""
    now = now or datetime.now(timezone.utc)
    with cross_tenant("loyalty expiry and tier sweep") as session:
        company_ids = [row[0] for row in session.execute(_DUE, {"now": now})]
    db.session.commit()
    return company_ids


def expire_company_points(company_id, now=None):
    """Expire one company's old points (FIFO) and re-tier its members; returns the points expired."""
    now = now or datetime.now(timezone.utc)
    with tenant(company_id):
        expired = services.expire_points(now=now)
        program = services.active_program()
        if program is not None:
            services.recompute_tiers(program, now=now)
        db.session.commit()
    return expired


def sweep(now=None):
    """Queue one expiry job per company that needs one; returns how many were queued."""
    from ..jobs import QUEUE_SCHEDULED, defer

    now = now or datetime.now(timezone.utc)
    company_ids = companies_to_sweep(now)
    for company_id in company_ids:
        defer("expire_loyalty_points", QUEUE_SCHEDULED, company_id=company_id, until=now.isoformat())
    db.session.commit()
    return len(company_ids)
