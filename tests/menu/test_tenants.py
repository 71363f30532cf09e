"""Company A never sees, changes or infers company B's menu: every route, and the jobs."""
import uuid

import pytest

from portal.extensions import db
from portal.menu import sync
from portal.models import MenuSyncRun, ModifierGroup, PlatformProduct
from portal.tenancy import tenant
from tests.menu.conftest import rows, work


@pytest.fixture
def beta_rows(app, kitchen, add_group):
    """Beta's group, option, platform product and sync run (ids Alpha's users will try)."""
    group_id = add_group(kitchen.beta, kitchen.beta_products["B001"], "Spice", 0, 1, [("Hot", "0.100")])
    with app.app_context(), tenant(kitchen.beta.id):
        option_id = db.session.scalar(db.select(ModifierGroup).where(ModifierGroup.id == group_id)).id
        platform_product = PlatformProduct(company_id=kitchen.beta.id, integration_config_id=kitchen.beta_integration,
                                           platform="TALABAT", platform_product_id="beta-x", name="Beta thing",
                                           source="ORDER")
        run = MenuSyncRun(company_id=kitchen.beta.id, integration_config_id=kitchen.beta_integration,
                          platform="TALABAT", report=[])
        db.session.add_all([platform_product, run])
        db.session.commit()
        from portal.models import ModifierOption
        option_id = db.session.scalar(db.select(ModifierOption.id).where(ModifierOption.group_id == group_id))
        return {"product": kitchen.beta_products["B001"], "group": group_id, "option": option_id,
                "platform_product": platform_product.id, "run": run.id, "integration": kitchen.beta_integration}


def beta_urls(ids, kitchen):
    alpha_integration = kitchen.integrations["TALABAT"]
    alpha_product = kitchen.products["P001"]
    return {
        "get": [f"/menu/products/{ids['product']}", f"/menu/sync/runs/{ids['run']}",
                f"/menu/products/{ids['product']}/availability"],
        "post": [f"/menu/products/{ids['product']}", f"/menu/products/{ids['product']}/delete",
                 f"/menu/products/{ids['product']}/restore", f"/menu/products/{ids['product']}/groups",
                 f"/menu/products/{ids['product']}/hours", f"/menu/groups/{ids['group']}",
                 f"/menu/groups/{ids['group']}/delete", f"/menu/groups/{ids['group']}/options",
                 f"/menu/options/{ids['option']}/delete",
                 f"/menu/mappings/{ids['product']}/{alpha_integration}",
                 f"/menu/mappings/{alpha_product}/{ids['integration']}",
                 f"/menu/mappings/{ids['product']}/{ids['integration']}/unmap",
                 f"/menu/platform-products/{ids['platform_product']}/accept",
                 f"/menu/platform-products/{ids['platform_product']}/dismiss",
                 f"/menu/products/{ids['product']}/sold-out", f"/menu/products/{ids['product']}/back-on",
                 f"/menu/sync/{ids['integration']}", f"/menu/import-platform/{ids['integration']}",
                 f"/menu/sync/runs/{ids['run']}/stop"],
    }


def snapshot(owner_conninfo, company_id):
    tables = ("products", "menu_mappings", "modifier_groups", "modifier_options", "menu_sold_out",
              "menu_sync_runs", "platform_products", "platform_calls")
    return {table: rows(owner_conninfo, f"SELECT * FROM {table} WHERE company_id = %s ORDER BY id", (company_id,))
            for table in tables}


def test_every_menu_route_answers_404_for_another_company_s_ids(client, auth, kitchen, beta_rows, owner_conninfo):
    before = snapshot(owner_conninfo, kitchen.beta.id)
    auth.login(kitchen.alpha.email("COMPANY_ADMIN"))
    urls = beta_urls(beta_rows, kitchen)
    for url in urls["get"]:
        assert client.get(url).status_code == 404, url
    for url in urls["post"]:
        response = auth.post(url, {"name": "Hacked", "price": "1", "until": "INDEFINITE", "mode": "full",
                                   "product_id": str(kitchen.products["P001"]), "platform_product_id": "x",
                                   "local_product_id": "B001"}, page="/menu/")
        assert response.status_code == 404, url
    assert snapshot(owner_conninfo, kitchen.beta.id) == before


def test_malformed_ids_are_404_not_500(client, auth, kitchen):
    auth.login(kitchen.alpha.email("MANAGER"))
    for url in ("/menu/products/not-a-uuid", "/menu/sync/runs/123", f"/menu/products/{uuid.uuid4()}"):
        assert client.get(url).status_code == 404
    assert auth.post("/menu/mappings/x/y", page="/menu/").status_code == 404


def test_lists_exports_and_searches_show_only_the_own_company(client, auth, kitchen, beta_rows):
    auth.login(kitchen.alpha.email("MANAGER"))
    for url in ("/menu/", "/menu/?q=B00", "/menu/mappings", "/menu/mappings?q=B00", "/menu/availability?q=B00",
                "/menu/board?q=B00", "/menu/sync", "/menu/export.csv", "/menu/mappings/waiting"):
        page = client.get(url).get_data(as_text=True)
        assert "Machboos" not in page and "مجبوس" not in page and "Beta thing" not in page, url


def test_bulk_actions_cannot_reach_another_company(client, auth, kitchen, beta_rows, owner_conninfo):
    before = snapshot(owner_conninfo, kitchen.beta.id)
    auth.login(kitchen.alpha.email("MANAGER"))
    for data in ({"action": "map", "platform": str(beta_rows["integration"]), "product_ids": [str(beta_rows["product"])]},
                 {"action": "price", "platforms": [str(kitchen.integrations["TALABAT"])], "percent": "10",
                  "product_ids": [str(beta_rows["product"])]},
                 {"action": "copy", "source": str(beta_rows["integration"]),
                  "target": str(kitchen.integrations["TALABAT"])}):
        page = auth.post("/menu/mappings/bulk", data, page="/menu/mappings", follow_redirects=True)
        assert page.status_code == 200 and ("no longer exist" in page.get_data(as_text=True)
                                            or "Choose the platforms again" in page.get_data(as_text=True))
    assert snapshot(owner_conninfo, kitchen.beta.id) == before


def test_a_sync_job_given_another_company_does_nothing(app, kitchen, beta_rows, owner_conninfo):
    before = snapshot(owner_conninfo, kitchen.beta.id)
    with app.app_context():
        # The job's arguments say Alpha, the run is Beta's: under Alpha's tenant the run does not exist.
        assert sync.run_sync(beta_rows["run"], kitchen.alpha.id) is None
        assert sync.run_import(beta_rows["run"], kitchen.alpha.id) is None
    assert snapshot(owner_conninfo, kitchen.beta.id) == before


def test_a_catalog_report_on_one_company_s_integration_never_touches_another_s_runs(app, kitchen, beta_rows,
                                                                                    webhooks, owner_conninfo):
    with app.app_context(), tenant(kitchen.beta.id):
        db.session.get(MenuSyncRun, beta_rows["run"]).status = "WAITING"
        db.session.get(MenuSyncRun, beta_rows["run"]).platform_request_id = "77"
        db.session.commit()
    body = {"event_id": "e-1", "event_type": "CATALOG_REQUEST_STATUS_UPDATED",
            "details": {"status": "COMPLETED", "request_id": 77, "warnings": []}, "occurred_at": "2026-03-01T10:00:00Z"}
    assert webhooks.send("CAREEM", kitchen.integrations["CAREEM"], body).status_code == 200
    assert rows(owner_conninfo, "SELECT status FROM menu_sync_runs WHERE id = %s", (beta_rows["run"],)) == [
        ("WAITING",)]


def test_the_worker_runs_each_company_s_jobs_under_its_own_tenant(app, client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    auth.post(f"/menu/products/{kitchen.products['P001']}/sold-out", {"until": "INDEFINITE"}, page="/menu/availability")
    auth.post(f"/menu/sync/{kitchen.integrations['TALABAT']}", {"mode": "full"}, page="/menu/sync")
    work(app)
    assert {company for company, in rows(owner_conninfo, "SELECT DISTINCT company_id FROM platform_calls")} == {
        kitchen.alpha.id}
    assert rows(owner_conninfo, "SELECT count(*) FROM menu_sync_runs WHERE company_id = %s", (kitchen.beta.id,)) == [
        (0,)]
