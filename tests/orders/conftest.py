"""Fixtures the order tests share: Kabsa House with one platform connection, as (company, integration id)."""
import pytest


@pytest.fixture
def kitchen(make_company, make_integration):
    """A company with a Talabat connection: (company, integration id)."""
    company = make_company("Kabsa House")
    return company, make_integration(company, "TALABAT")


@pytest.fixture
def kitchen_with_api(make_company, make_integration):
    """A company whose Talabat connection has an API address (nothing listens on port 9), so order
    moves queue their platform calls: (company, integration id)."""
    company = make_company("Kabsa House")
    return company, make_integration(company, "TALABAT", base_url="http://127.0.0.1:9/talabat")


@pytest.fixture
def careem_kitchen(make_company, make_integration):
    """A company with a Careem connection: (company, integration id)."""
    company = make_company("Kabsa House")
    return company, make_integration(company, "CAREEM")
