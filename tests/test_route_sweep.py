"""Sweeps over app.url_map, so a route added later is covered without anyone remembering.

1. Every route that names an object by id answers company A's admin 404 (or 403) for company B's
   real ids, on GET and on POST with a valid CSRF token, and changes none of B's rows.
2. Every POST route refuses a request without a CSRF token (400) and changes nothing.

A new id argument must be added to ID_TABLES (the test fails until it is): that is the reminder.
"""
import uuid

import psycopg
import pytest

from tests.conftest import csrf_token
from tests.tenant_rows import TENANT_TABLES, fill_every_table

# Which table an id argument names (the first row of company B in it is used).
ID_TABLES = {
    "order_id": "delivery_orders", "product_id": "products", "integration_id": "integration_configs",
    "member_id": "customer_loyalty", "program_id": "loyalty_programs", "tier_id": "loyalty_tiers",
    "group_id": "modifier_groups", "option_id": "modifier_options", "platform_product_id": "platform_products",
    "run_id": "menu_sync_runs", "log_id": "webhook_logs", "holiday_id": "holiday_closures", "user_id": "users", "company_id": "companies",
    "connection_id": "whatsapp_connections", "message_id": "whatsapp_messages", "template_id": "whatsapp_templates",
    "session_id": "ai_chatbot_sessions",
}
# Arguments that are not ids of a company's rows, with the value a sweep request uses.
PLAIN_ARGUMENTS = {"platform": "DHUB", "action": "accept", "name": "orders", "filename": "css/portal.css",
                   "token": "not-a-real-link",  # account links: a wrong token is a 404 for everyone
                   "public_id": "not-a-real-chat"}  # the web chat: an unknown chat is a 404 for everyone
# Authenticated by the platforms' signatures, not by a session: their own tests cover them.
EXEMPT_ENDPOINTS = {"webhooks.receive", "whatsapp_webhooks.receive", "whatsapp_webhooks.verify", "static"}
# Audit rows and sign-in records are written by the sweep's own sign-in and reads.
UNCHANGING_TABLES = [table for table in TENANT_TABLES if table not in {"audit_logs", "user_sessions", "users"}]


def _first_id(conninfo, table, company_id):
    column = "id"
    with psycopg.connect(conninfo) as connection:
        where = "id = %s" if table == "companies" else "company_id = %s"
        row = connection.execute(f"SELECT {column} FROM {table} WHERE {where} LIMIT 1", (company_id,)).fetchone()
    return row[0] if row else uuid.uuid4()


def fingerprint(conninfo, company_id):
    """A digest of every row company `company_id` owns, table by table (as the owner sees them)."""
    with psycopg.connect(conninfo) as connection:
        return {table: connection.execute(
            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
            " WHERE company_id = %s", (company_id,)).fetchone()[0] for table in UNCHANGING_TABLES}


def sweep_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXEMPT_ENDPOINTS:
            continue
        yield rule


def rule_url(app, rule, ids):
    values = {}
    for argument in rule.arguments:
        if argument in ids:
            values[argument] = ids[argument]
        elif argument in PLAIN_ARGUMENTS:
            values[argument] = PLAIN_ARGUMENTS[argument]
        else:
            pytest.fail(f"{rule.rule}: add its argument {argument!r} to ID_TABLES or PLAIN_ARGUMENTS")
    with app.test_request_context():
        from flask import url_for
        return url_for(rule.endpoint, **values)


@pytest.fixture
def filled(two_companies, owner_conninfo):
    alpha, beta = two_companies
    fill_every_table(owner_conninfo, alpha.id, "alpha")
    fill_every_table(owner_conninfo, beta.id, "beta")
    return alpha, beta


def ids_of(conninfo, company_id):
    return {argument: str(_first_id(conninfo, table, company_id)) for argument, table in ID_TABLES.items()}


def test_another_companys_ids_are_not_found_anywhere(app, auth, client, filled, owner_conninfo):
    alpha, beta = filled
    beta_ids = ids_of(owner_conninfo, beta.id)
    auth.login(alpha.email("COMPANY_ADMIN"))
    token = csrf_token(client, "/")
    before = fingerprint(owner_conninfo, beta.id)
    checked = []
    for rule in sweep_routes(app):
        if not set(rule.arguments) & set(ID_TABLES):
            continue
        url = rule_url(app, rule, beta_ids)
        for method in sorted(rule.methods & {"GET", "POST"}):
            data = {"csrf_token": token} if method == "POST" else None
            response = client.open(url, method=method, data=data)
            assert response.status_code in (403, 404), f"{method} {rule.rule}: {response.status_code}"
            checked.append(f"{method} {rule.rule}")
    assert fingerprint(owner_conninfo, beta.id) == before
    assert len(checked) > 40  # the sweep really went over the object routes


def test_no_post_is_accepted_without_a_csrf_token(app, auth, client, filled, owner_conninfo):
    alpha, _ = filled
    alpha_ids = ids_of(owner_conninfo, alpha.id)
    auth.login(alpha.email("COMPANY_ADMIN"))
    before = fingerprint(owner_conninfo, alpha.id)
    checked = []
    for rule in sweep_routes(app):
        if "POST" not in rule.methods:
            continue
        response = client.post(rule_url(app, rule, alpha_ids), data={"confirm": "yes"})
        assert response.status_code == 400, f"POST {rule.rule} without a CSRF token: {response.status_code}"
        checked.append(rule.rule)
    assert fingerprint(owner_conninfo, alpha.id) == before
    assert len(checked) > 50
