"""The scheduled loyalty work: expire old points and move members between tiers as windows slide.

`sweep` runs hourly in the worker (portal/tasks.py); it finds the companies with something to do
through the narrow scheduler role and queues one job per company, which runs in that company's
tenant like any request.
"""
from datetime import datetime, timezone

from ..extensions import db
from ..queue import defer
from ..tenancy import companies_with_loyalty_work, tenant
from . import ledger, programs


def companies_to_sweep(now=None):
    """Companies with points past their expiry, or with tiers measured over a sliding window."""
    now = now or datetime.now(timezone.utc)
    company_ids = companies_with_loyalty_work(now)
    db.session.commit()
    return company_ids


def expire_company_points(company_id, now=None):
    """Expire one company's old points (FIFO) and re-tier its members; returns the points expired."""
    now = now or datetime.now(timezone.utc)
    with tenant(company_id):
        expired = ledger.expire_points(now=now)
        program = programs.active_program()
        if program is not None:
            programs.recompute_tiers(program, now=now)
        db.session.commit()
    return expired


def sweep(now=None):
    """Queue one expiry job per company that needs one; returns how many were queued."""
    now = now or datetime.now(timezone.utc)
    company_ids = companies_to_sweep(now)
    for company_id in company_ids:
        defer("expire_loyalty_points", company_id=company_id, until=now.isoformat())
    db.session.commit()
    return len(company_ids)
