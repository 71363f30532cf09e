"""The Integrations pages: who may open them, the nine platform cards, health and today's orders."""
import re
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from portal.platforms import all_adapters

CARD = re.compile(r'<article class="card platform-card[^"]*" id="platform-([a-z_]+)"')


def card_html(page, slug):
    start = page.index(f'id="platform-{slug}"')
    return page[start:page.index("</article>", start)]


# --- who may open what -----------------------------------------------------------------------------

PATHS = ["/integrations/", "/integrations/talabat/", "/integrations/careem/", "/integrations/nashmi/"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("role, status", [("COMPANY_ADMIN", 200), ("SUPER_ADMIN", 200), ("MANAGER", 403),
                                          ("USER", 403)])
def test_pages_are_for_company_admins(client, auth, make_company, path, role, status):
    company = make_company(super_admin=True)
    assert auth.login(company.email(role)).status_code == 302
    assert client.get(path).status_code == status


@pytest.mark.parametrize("path", ["/integrations/talabat/", "/integrations/talabat/enable",
                                  "/integrations/talabat/disable", "/integrations/talabat/webhook-secret",
                                  "/integrations/talabat/test"])
@pytest.mark.parametrize("role", ["MANAGER", "USER"])
def test_changes_below_company_admin_are_refused(auth, company, owner_conninfo, path, role):
    assert auth.login(company.email(role)).status_code == 302
    response = auth.post(path, {"api_key": "k", "merchant_id": "m", "store_id": "s", "commission_rate": "1"})
    assert response.status_code == 403
    with psycopg.connect(owner_conninfo) as connection:
        assert connection.execute("SELECT count(*) FROM integration_configs").fetchone()[0] == 0


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/integrations/talabat/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", ["/integrations/uber/", "/integrations/TALABAT/", "/integrations/Talabat/"])
def test_unknown_or_upper_case_platforms_are_not_found(admin, client, path):
    assert client.get(path).status_code == 404


def test_navigation_links_integrations_for_admins_only(client, auth, company):
    auth.login(company.email("COMPANY_ADMIN"))
    assert 'href="/integrations/"' in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(company.email("MANAGER"))
    assert 'href="/integrations/"' not in client.get("/").get_data(as_text=True)


# --- the index -------------------------------------------------------------------------------------

def test_index_shows_nine_platforms_in_adapter_order_inviting_setup(admin, client):
    page = client.get("/integrations/").get_data(as_text=True)

    assert CARD.findall(page) == [adapter.platform.value.lower() for adapter in all_adapters()]
    assert page.count(">Set up</a>") == 9
    assert page.count("Not connected") == 9
    assert "Connect the delivery platforms you sell on" in page
    assert 'class="platform-mark platform-talabat"' in page


def insert_integration(conninfo, company_id, platform, **columns):
    values = {"platform": platform, "company_id": company_id, **columns}
    names = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    with psycopg.connect(conninfo, autocommit=True) as connection:
        return connection.execute(f"INSERT INTO integration_configs ({names}) VALUES ({marks}) RETURNING id",
                                  list(values.values())).fetchone()[0]


def insert_order(conninfo, company_id, integration_id, platform, number, created_at, is_test=False):
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO delivery_orders (platform, platform_order_id, order_number, total_amount, order_items,"
            " company_id, integration_config_id, created_at, is_test) VALUES (%s, %s, %s, 10, '[]', %s, %s, %s, %s)",
            (platform, f"po-{number}", f"N-{number}", company_id, integration_id, created_at, is_test))


def test_index_cards_show_state_health_sync_orders_and_commission(admin, client, company, owner_conninfo):
    now = datetime.now(timezone.utc)
    talabat = insert_integration(owner_conninfo, company.id, "TALABAT", is_enabled=True, api_key="t", merchant_id="m",
                                 store_id="s", commission_rate="17.50", last_success_at=now,
                                 last_error_at=now - timedelta(hours=1), last_error="old trouble",
                                 last_sync_at=now, sync_status="completed")
    careem = insert_integration(owner_conninfo, company.id, "CAREEM", is_enabled=False, api_key="k",
                                last_success_at=now - timedelta(hours=2), last_error_at=now - timedelta(minutes=5),
                                last_error="Could not connect to api.example: Connection refused.")
    insert_integration(owner_conninfo, company.id, "NASHMI")
    for number in range(3):
        insert_order(owner_conninfo, company.id, talabat, "TALABAT", f"t{number}", now)
    insert_order(owner_conninfo, company.id, talabat, "TALABAT", "test", now, is_test=True)
    insert_order(owner_conninfo, company.id, talabat, "TALABAT", "old", now - timedelta(days=2))
    insert_order(owner_conninfo, company.id, careem, "CAREEM", "c1", now)

    page = client.get("/integrations/").get_data(as_text=True)

    card = card_html(page, "talabat")
    assert "Connected" in card and ">On<" in card and ">OK<" in card
    assert "old trouble" not in card
    assert '<dd class="fact-number">3</dd>' in card  # not the test order, not the one from two days ago
    assert "17.50 %" in card and "Synced" in card and ">Manage</a>" in card

    card = card_html(page, "careem")
    assert "Setup incomplete" in card and ">Off<" in card
    assert "Failing" in card and "Connection refused" in card
    assert '<dd class="fact-number">1</dd>' in card

    card = card_html(page, "nashmi")
    assert "No traffic yet" in card and "Not synced yet" in card
    assert '<dd class="fact-number">0</dd>' in card

    assert ">Set up</a>" in card_html(page, "dhub")
    assert "3 of 9 delivery platforms set up, 1 receiving orders." in page


def test_orders_today_counts_from_midnight_in_the_company_time_zone(app, company, owner_conninfo):
    from portal.extensions import db
    from portal.integrations.services import orders_today_by_platform
    from portal.models import Company, DeliveryPlatform
    from portal.tenancy import tenant

    integration = insert_integration(owner_conninfo, company.id, "TALABAT")
    # 00:30 in Riyadh (UTC+3) is 21:30 UTC the day before.
    now = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
    for number, hour in (("after", 21), ("before", 20)):
        insert_order(owner_conninfo, company.id, integration, "TALABAT", number,
                     datetime(2026, 3, 9, hour, 30, tzinfo=timezone.utc))
    with app.app_context(), tenant(company.id):
        counts = orders_today_by_platform(db.session.get(Company, company.id), now=now)
    assert counts == {DeliveryPlatform.TALABAT: 1}


def test_the_form_of_each_platform_asks_for_its_own_credentials(admin, client):
    for adapter in all_adapters():
        page = client.get(f"/integrations/{adapter.platform.value.lower()}/").get_data(as_text=True)
        for name, label, _required in adapter.credential_fields:
            assert f'name="{name}"' in page
            assert f'>{label}</label>' in page
        assert "Generate webhook secret" in page
