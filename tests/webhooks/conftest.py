"""Fixtures the webhook tests share."""
import pytest


@pytest.fixture
def alpha(make_company):
    """The company the webhooks are for."""
    return make_company("Alpha Kitchen")
