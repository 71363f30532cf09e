"""The hand-computed fixture of the report tests (README of tests/analytics: every number is derived there)."""
from datetime import date
from types import SimpleNamespace

import pytest

from portal.analytics.forms import ReportRange
from tests.analytics.helpers import add_integration, add_order, item, utc

A, B, C, D = "+966500000001", "+966500000002", "+966500000003", "+966500000004"


@pytest.fixture
def riyadh(app, make_company):
    """Sample orders of one week in Riyadh (UTC+3), SAR, on Talabat (18 %) and Careem (15 %).

    Current period 1–7 March 2025 (local), previous 22–28 February. Worked out by hand:
    orders 6, sold 4, accepted 5, rejected 1, cancelled 1; revenue 189.75, average 47.4375; gross
    185.00; restaurant discount 5.00, platform 3.00, third party 6.00; fees 9.00, tax 6.75, tips 3.00;
    commission 10.58 + 4.86 + 8.85 (15 % of 59.00, no amount stored) + 8.10 = 32.39; net 147.61.
    Accept seconds 30, 60, 90, 120, 300 (median 90, p95 264); ready 600, 900, 1200, 1500 (median
    1050, p95 1455). Customers A (ordered in January), B (new), C (ordered in February): 3, 2 returning.
    """
    company = make_company("Riyadh Kitchen")
    talabat = add_integration(app, company.id, "TALABAT", "18.00")
    careem = add_integration(app, company.id, "CAREEM", "15.00")
    o = lambda *args, **kwargs: add_order(app, company.id, *args, **kwargs)  # noqa: E731
    ids = {
        # 1 March 00:30 local (28 Feb 21:30 UTC): in the current period although its UTC date is February.
        "T1": o(talabat, utc("2025-02-28 21:30"), subtotal="50.00", vendor_discount="5.00", delivery_fee="7.00",
                tax_amount="6.75", total="58.75", commission_amount="10.58", commission_rate="18.00",
                accepted_after=60, ready_after=600, phone=A,
                items=[item("Burger", 2, "40.00", [("Cheese", "0")], name_ar="برجر"), item("Fries", 1, "10.00")]),
        # 3 March 23:59 local, Monday.
        "T2": o(talabat, utc("2025-03-03 20:59"), subtotal="30.00", platform_discount="3.00", total="27.00",
                commission_amount="4.86", accepted_after=120, ready_after=900, phone=B,
                items=[item("Shawarma", 3, "30.00", [("Garlic", "1.00")])]),
        # 4 March 00:00 local: accepted, then cancelled.
        "C1": o(careem, utc("2025-03-03 21:00"), status="CANCELLED", subtotal="40.00", commission_amount="6.00",
                accepted_after=30, phone=A, items=[item("Burger", 2, "40.00")]),
        "C2": o(careem, utc("2025-03-05 09:15"), status="REJECTED", subtotal="25.00", phone=D,
                items=[item("Fries", 1, "25.00")]),
        # No commission amount stored: the connection's 15 % of 59.00 = 8.85.
        "C3": o(careem, utc("2025-03-06 10:00"), subtotal="60.00", third_party_discount="6.00", service_fee="2.00",
                tip_amount="3.00", total="59.00", accepted_after=90, ready_after=1200, phone=C,
                items=[item("Burger", 1, "20.00"), item("Fries", 4, "40.00")]),
        # Items add up to 40.00, the platform says 45.00: the reconciliation lists it.
        "M1": o(talabat, utc("2025-03-06 12:00"), subtotal="45.00", total="45.00", commission_amount="8.10",
                accepted_after=300, ready_after=1500, phone=B, items=[item("Burger", 2, "40.00")]),
        "TEST": o(talabat, utc("2025-03-05 10:00"), subtotal="999.00", commission_amount="100.00", phone=D,
                  is_test=True, accepted_after=1, ready_after=2),
        # 8 March 00:00 local: after the range.
        "LATE": o(talabat, utc("2025-03-07 21:00"), subtotal="100.00", commission_amount="18.00", phone=D),
        # Previous period: 25 February, and 28 February 23:59 local.
        "P1": o(talabat, utc("2025-02-25 18:00"), subtotal="20.00", commission_amount="3.60", accepted_after=45,
                ready_after=500, phone=C, items=[item("Burger", 1, "20.00")]),
        "P2": o(talabat, utc("2025-02-28 20:59"), status="CANCELLED", subtotal="10.00", phone=D),
        # Before both periods: A's first order.
        "P0": o(talabat, utc("2025-01-10 12:00"), subtotal="20.00", commission_amount="3.60", phone=A),
    }
    return SimpleNamespace(company=company, talabat=talabat, careem=careem, ids=ids,
                           range=ReportRange(start=date(2025, 3, 1), end=date(2025, 3, 7), today=date.today()))


@pytest.fixture
def kuwait(app, make_company):
    """Two KWD orders either side of midnight in Kuwait (UTC+3), 3-decimal amounts.

    K1 1 March 23:59 local: 4.125 with no commission amount: 18 % of 4.125 = 0.7425 -> 0.743.
    K2 2 March 00:00 local: 2.005, commission 0.361. Both: revenue 6.130, commission 1.104,
    gross 5.755 (3.750 + 2.005), net 4.651.
    """
    company = make_company("Kuwait Grill", timezone="Asia/Kuwait", currency="KWD")
    talabat = add_integration(app, company.id, "TALABAT", "18.00")
    k1 = add_order(app, company.id, talabat, utc("2025-03-01 20:59"), subtotal="3.750", delivery_fee="0.375",
                   total="4.125", commission_rate="18.00", currency="KWD", phone="+96550000001",
                   items=[item("Machboos", 1, "3.750")])
    k2 = add_order(app, company.id, talabat, utc("2025-03-01 21:00"), subtotal="2.005", total="2.005",
                   commission_amount="0.361", currency="KWD", phone="+96550000002",
                   items=[item("Tea", 5, "2.005")])
    return SimpleNamespace(company=company, talabat=talabat, k1=k1, k2=k2)
