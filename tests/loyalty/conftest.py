"""Fixtures of the loyalty tests: a restaurant with a Talabat integration (and a second, for tenancy)."""
from types import SimpleNamespace

import pytest


@pytest.fixture
def shop(make_company, make_integration):
    """A Saudi restaurant with a Talabat integration whose calls go nowhere."""
    company = make_company("Kabsa House")
    return SimpleNamespace(company=company,
                           integration=make_integration(company, "TALABAT", base_url="http://127.0.0.1:9/talabat"))


@pytest.fixture
def other_shop(make_company, make_integration):
    """A Kuwaiti restaurant: another tenant."""
    company = make_company("Gulf Grill", currency="KWD", timezone="Asia/Kuwait")
    return SimpleNamespace(company=company,
                           integration=make_integration(company, "TALABAT", base_url="http://127.0.0.1:9/talabat"))
