"""What the webhook tests share: a company to receive for, and reading rows as the tables' owner."""
import psycopg
import pytest


def rows(conninfo, sql, params=()):
    """Rows as the tables' owner sees them (outside the app and its row-level security)."""
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchall()


@pytest.fixture
def alpha(make_company):
    return make_company("Alpha Kitchen")
