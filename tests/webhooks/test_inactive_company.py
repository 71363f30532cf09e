"""A suspended company's webhooks are answered 503 with Retry-After (the platform retries later) and a
deleted company's 410; the payload is kept, nothing becomes an order, and reactivating lets the retry in."""
import psycopg
import pytest

from tests.integration_fixtures import load_payload
from tests.webhooks.conftest import rows


def _set(owner_conninfo, company, column_sql):
    with psycopg.connect(owner_conninfo, autocommit=True) as connection:
        connection.execute(f"UPDATE companies SET {column_sql} WHERE id = %s", (company.id,))


def _send(webhooks, integration_id):
    return webhooks.send("TALABAT", integration_id, load_payload("talabat-order-example.json"),
                         path="order/vendor-1")


@pytest.mark.parametrize(("change", "status"), [("is_active = false", 503), ("deleted_at = now()", 410)])
def test_no_order_while_the_company_is_off_but_the_payload_is_kept(webhooks, make_integration, two_companies,
                                                                  owner_conninfo, change, status):
    alpha, beta = two_companies
    integration_id = make_integration(alpha, "TALABAT")
    beta_integration = make_integration(beta, "TALABAT")
    _set(owner_conninfo, alpha, change)
    response = _send(webhooks, integration_id)
    assert response.status_code == status
    if status == 503:
        assert int(response.headers["Retry-After"]) > 0
    assert rows(owner_conninfo, "SELECT count(*) FROM delivery_orders") == [(0,)]
    (log,) = rows(owner_conninfo, "SELECT company_id, outcome, status_code, payload IS NOT NULL FROM webhook_logs")
    assert log == (alpha.id, "IGNORED", status, True)
    assert _send(webhooks, beta_integration).status_code == 200  # another company is untouched
    assert rows(owner_conninfo, "SELECT company_id FROM delivery_orders") == [(beta.id,)]


def test_the_platforms_retry_after_reactivation_becomes_an_order(webhooks, make_integration, two_companies,
                                                                 owner_conninfo):
    alpha, _ = two_companies
    integration_id = make_integration(alpha, "TALABAT")
    _set(owner_conninfo, alpha, "is_active = false")
    assert _send(webhooks, integration_id).status_code == 503
    _set(owner_conninfo, alpha, "is_active = true")
    assert _send(webhooks, integration_id).status_code == 200
    assert rows(owner_conninfo, "SELECT company_id, status FROM delivery_orders") == [(alpha.id, "PENDING")]
