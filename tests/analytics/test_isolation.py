"""Tenant isolation of every report, export and the rollup: another company's orders never show."""
from datetime import date
from decimal import Decimal

import pytest

from portal.analytics.forms import ReportRange
from portal.analytics.rollup import refresh_all
from portal.analytics.services import build_report, health_report, reconciliation
from portal.extensions import db
from portal.models import Company
from portal.tenancy import tenant
from tests.analytics.helpers import add_integration, add_order, item, utc

EXPORTS = ["orders_by_day", "revenue_by_day", "rates", "durations", "peak_hours", "top_items", "top_modifiers",
           "customers", "money", "webhooks", "api_times", "errors", "silence", "reconciliation"]
PAGES = ["/reports/", "/reports/money", "/reports/reconciliation", "/reports/health", "/reports/print?period=week&date=2025-03-07"]


@pytest.fixture(params=["live", "rolled up"])
def neighbours(request, app, riyadh, make_company):
    """Riyadh Kitchen's week, and a neighbour with one order of 7.77 on the same days."""
    other = make_company("Neighbour Diner")
    integration = add_integration(app, other.id, "TALABAT", "10")
    add_order(app, other.id, integration, utc("2025-03-02 12:00"), subtotal="7.77", commission_amount="0.77",
              accepted_after=7, phone="+966511111111", items=[item("Secret Soup", 1, "7.77")])
    if request.param == "rolled up":
        with app.app_context():
            assert set(refresh_all()) == {riyadh.company.id, other.id}
    return riyadh, other


@pytest.mark.parametrize("path", PAGES)
def test_every_page_shows_only_the_companys_own_orders(client, auth, neighbours, path):
    riyadh, other = neighbours
    auth.login(other.email("MANAGER"))
    page = client.get(path + ("&" if "?" in path else "?") + "from=2025-03-01&to=2025-03-07").get_data(as_text=True)
    for leak in ("189.75", "147.61", "Burger", "Garlic", "Shawarma", "R00"):
        assert leak not in page, (path, leak)
    if path in ("/reports/", "/reports/money"):
        assert "7.77" in page


@pytest.mark.parametrize("name", EXPORTS)
def test_every_export_holds_only_the_companys_own_rows(client, auth, neighbours, name):
    riyadh, other = neighbours
    auth.login(other.email("MANAGER"))
    text = client.get(f"/reports/export/{name}.csv?from=2025-03-01&to=2025-03-07").get_data(as_text=True)
    for leak in ("189.75", "58.75", "Burger", "Careem", "R00"):
        assert leak not in text, (name, leak)
    auth.logout()
    auth.login(riyadh.company.email("MANAGER"))
    own = client.get(f"/reports/export/{name}.csv?from=2025-03-01&to=2025-03-07").get_data(as_text=True)
    assert "7.77" not in own and "Secret Soup" not in own


def test_naming_another_company_in_the_services_still_reads_only_the_tenant(app, neighbours):
    riyadh, other = neighbours
    week = ReportRange(date(2025, 3, 1), date(2025, 3, 7), date.today())
    with app.test_request_context(), tenant(other.id):
        victim = Company(id=riyadh.company.id, name="Riyadh Kitchen", timezone="Asia/Riyadh", currency="SAR")
        report = build_report(victim, week)  # the other company's id, under this tenant
        assert not report.has_orders and report.current["revenue"] == Decimal(0)
        assert reconciliation(victim, week) == []
        health = health_report(victim, week)
        assert health.integrations == [] and health.webhooks == []
        db.session.rollback()
