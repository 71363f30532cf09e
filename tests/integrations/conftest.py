"""Fixtures of the Integrations tests: a signed-in company admin, every page the test rendered, owner reads."""
import html
import re

import psycopg
import pytest
from flask import request_finished
from psycopg.rows import dict_row

ERRORS = re.compile(r'<ul class="errors" id="([\w-]+)-help"[^>]*>(.*?)</ul>', re.S)
ITEM = re.compile(r"<li>(.*?)</li>", re.S)
FLASH = re.compile(r'<div class="flash flash-(\w+)"[^>]*>(.*?)</div>', re.S)


def owner_rows(conninfo, sql, *params):
    """Rows read as the owner (row-level security hides nothing)."""
    with psycopg.connect(conninfo, row_factory=dict_row) as connection:
        return connection.execute(sql, params).fetchall()


def integration_row(conninfo, company_id, platform):
    rows = owner_rows(conninfo, "SELECT * FROM integration_configs WHERE company_id = %s AND platform = %s",
                      company_id, platform.upper())
    return rows[0] if rows else None


def field_errors(response):
    """{field id: [messages]} of the errors shown next to fields."""
    page = response.get_data(as_text=True)
    return {field: [html.unescape(item).strip() for item in ITEM.findall(block)]
            for field, block in ERRORS.findall(page)}


def flashes(response):
    return [(category, html.unescape(re.sub(r"<[^>]+>", "", text)).strip())
            for category, text in FLASH.findall(response.get_data(as_text=True))]


@pytest.fixture
def company(make_company):
    return make_company("Alpha Kitchen")


@pytest.fixture
def admin(auth, company):
    """The test client, signed in as the company's COMPANY_ADMIN."""
    assert auth.login(company.email("COMPANY_ADMIN")).status_code == 302
    return auth


@pytest.fixture
def pages(app):
    """The text of every response the app sends during the test (to search for leaked secrets)."""
    seen = []

    def record(sender, response, **extra):
        if not response.is_streamed:
            seen.append(response.get_data(as_text=True))

    request_finished.connect(record, app)
    yield seen
    request_finished.disconnect(record, app)
