"""Company A's admin never sees or changes company B's connection to the same platform."""
import re

import pytest

from tests.conftest import PASSWORD
from tests.integrations.conftest import integration_row
from tests.integrations.test_forms import form, save

BETA = {"merchant_id": "BETA-CHAIN-9", "store_id": "BETA-VENDOR-9", "api_key": "beta-user-PLAIN",
        "api_secret": "beta-pass-PLAIN", "base_url": "https://beta-only.example.test", "commission_rate": "33.33"}


def test_a_company_admin_sees_only_their_own_connection(client, auth, two_companies, owner_conninfo, pages):
    alpha, beta = two_companies
    auth.login(beta.email("COMPANY_ADMIN"), PASSWORD)
    assert save(auth, "talabat", form("talabat", **BETA)).status_code == 302
    auth.post("/integrations/talabat/webhook-secret", page="/integrations/talabat/")
    beta_row = integration_row(owner_conninfo, beta.id, "talabat")
    auth.logout()
    pages.clear()

    auth.login(alpha.email("COMPANY_ADMIN"))
    page = client.get("/integrations/talabat/").get_data(as_text=True)
    index = client.get("/integrations/").get_data(as_text=True)

    assert "Not connected" in page and "•••• set" not in page
    assert re.search(r'<input [^>]*name="merchant_id" [^>]*value=""', page)
    assert index.count(">Set up</a>") == 9
    for value in ("BETA-CHAIN-9", "BETA-VENDOR-9", "beta-only.example.test", "33.33", str(beta_row["id"])):
        assert not [seen for seen in pages if value in seen], value


def test_posts_from_another_company_leave_its_row_alone(auth, two_companies, owner_conninfo):
    alpha, beta = two_companies
    auth.login(beta.email("COMPANY_ADMIN"))
    save(auth, "talabat", form("talabat", **BETA))
    before = integration_row(owner_conninfo, beta.id, "talabat")
    auth.logout()

    auth.login(alpha.email("COMPANY_ADMIN"))
    page = "/integrations/talabat/"
    auth.post("/integrations/talabat/disable", page=page)
    auth.post("/integrations/talabat/test", page=page)
    assert save(auth, "talabat", form("talabat", commission_rate="1", is_enabled=None)).status_code == 302
    auth.post("/integrations/talabat/webhook-secret", page=page)

    assert integration_row(owner_conninfo, beta.id, "talabat") == before
    mine = integration_row(owner_conninfo, alpha.id, "talabat")
    assert mine["id"] != before["id"] and mine["commission_rate"] == 1 and mine["webhook_secret"]


def test_a_secret_sealed_for_one_company_cannot_be_read_as_another(app, auth, two_companies, owner_conninfo):
    from portal.crypto import SecretError, decrypt_secret

    alpha, beta = two_companies
    auth.login(beta.email("COMPANY_ADMIN"))
    save(auth, "careem", form("careem"))
    token = integration_row(owner_conninfo, beta.id, "careem")["api_key"]
    with app.app_context(), pytest.raises(SecretError):
        decrypt_secret(alpha.id, token)
