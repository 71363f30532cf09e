"""The Webhook log page: the company's webhooks, filters, pretty payloads, tenant-safe, operators see all."""
import uuid

import psycopg
import pytest

from tests.integration_fixtures import load_payload


@pytest.fixture
def traffic(webhooks, make_integration, two_companies):
    """Alpha receives a Careem order and a bad signature; Beta receives a Talabat order."""
    alpha, beta = two_companies
    alpha_careem = make_integration(alpha, "CAREEM")
    beta_talabat = make_integration(beta, "TALABAT")
    webhooks.send("CAREEM", alpha_careem, load_payload("careem-order-created-example.json"))
    webhooks.send("CAREEM", alpha_careem, {"event_type": "ORDER_CREATED"}, secret="wrong")
    webhooks.send("TALABAT", beta_talabat, load_payload("talabat-order-example.json"), path="order/vendor-1")
    webhooks.send("CAREEM", uuid.uuid4(), {"nobody": "claims this"})
    return alpha, beta


def _log_ids(conninfo, company_id):
    with psycopg.connect(conninfo) as connection:
        return [row[0] for row in connection.execute(
            "SELECT id FROM webhook_logs WHERE company_id = %s ORDER BY created_at", (company_id,))]


def test_admin_sees_only_their_companys_webhooks(auth, client, traffic):
    alpha, _ = traffic
    auth.login(alpha.email("COMPANY_ADMIN"))
    page = client.get("/webhooks/log").get_data(as_text=True)
    assert page.count("ORDER_CREATED") >= 1
    assert "Unauthorized" in page and "Processed" in page
    assert "Talabat" not in page.split("<tbody>")[1]  # Beta's Talabat webhook is not listed


def test_filters_narrow_the_list(auth, client, traffic):
    alpha, _ = traffic
    auth.login(alpha.email("COMPANY_ADMIN"))
    only_bad = client.get("/webhooks/log?outcome=UNAUTHORIZED").get_data(as_text=True).split("<tbody>")[1]
    assert "Unauthorized" in only_bad and "Processed" not in only_bad
    none = client.get("/webhooks/log?platform=TALABAT").get_data(as_text=True)
    assert "No webhooks match these filters" in none and "No webhooks yet" not in none
    assert client.get("/webhooks/log?date_from=2000-01-01&date_to=2000-01-02").status_code == 200
    assert client.get("/webhooks/log?outcome=DROP%20TABLE&date_from=yesterday&page=-3").status_code == 200


def test_detail_shows_pretty_payload_and_redacted_headers(auth, client, traffic, owner_conninfo):
    alpha, _ = traffic
    auth.login(alpha.email("COMPANY_ADMIN"))
    processed, unauthorized = _log_ids(owner_conninfo, alpha.id)
    page = client.get(f"/webhooks/log/{processed}").get_data(as_text=True)
    assert '&#34;event_type&#34;: &#34;ORDER_CREATED&#34;' in page or '"event_type": "ORDER_CREATED"' in page
    assert "webhook-secret-123" not in page and "[redacted" in page
    assert "Replay" in page
    assert "Replay" not in client.get(f"/webhooks/log/{unauthorized}").get_data(as_text=True)


def test_another_companys_webhook_is_not_found(auth, client, traffic, owner_conninfo):
    alpha, beta = traffic
    auth.login(alpha.email("COMPANY_ADMIN"))
    (beta_log,) = _log_ids(owner_conninfo, beta.id)
    assert client.get(f"/webhooks/log/{beta_log}").status_code == 404
    assert auth.post(f"/webhooks/log/{beta_log}/replay", page="/webhooks/log").status_code == 404
    assert client.get("/webhooks/log/not-an-id").status_code == 404


def test_unauthenticated_webhooks_cannot_be_replayed(auth, client, traffic, owner_conninfo):
    alpha, _ = traffic
    auth.login(alpha.email("COMPANY_ADMIN"))
    _, unauthorized = _log_ids(owner_conninfo, alpha.id)
    page = f"/webhooks/log/{unauthorized}"
    response = auth.post(f"{page}/replay", page=page, follow_redirects=True)
    assert "never authenticated" in response.get_data(as_text=True)
    with psycopg.connect(owner_conninfo) as connection:
        assert connection.execute("SELECT count(*) FROM delivery_orders WHERE company_id = %s",
                                  (alpha.id,)).fetchone() == (1,)


@pytest.mark.parametrize("role", ["MANAGER", "USER"])
def test_log_is_for_company_admins(auth, client, traffic, role):
    alpha, _ = traffic
    auth.login(alpha.email(role))
    assert client.get("/webhooks/log").status_code == 403


def test_operators_see_every_company_including_unclaimed(auth, client, make_company, traffic, owner_conninfo):
    operator_company = make_company("Ops Co", super_admin=True)
    auth.login(operator_company.email("SUPER_ADMIN"))
    page = client.get("/webhooks/log?scope=all").get_data(as_text=True)
    assert "Alpha Kitchen" in page and "Beta Grill" in page and "(no company)" in page
    with psycopg.connect(owner_conninfo) as connection:
        reasons = [row[0] for row in connection.execute(
            "SELECT new_values ->> 'reason' FROM audit_logs WHERE operation = 'CROSS_TENANT_ACCESS'")]
    assert "webhook log, all companies" in reasons
