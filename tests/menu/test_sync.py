"""Menu sync as a job: success, partial failure, retries, platform reports (Careem, Delivery Hero), imports."""
import copy
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.integrations.outbound import send_call
from portal.menu import sync
from portal.models import IntegrationConfig, Product
from portal.simulator import catalog as simulated
from portal.tenancy import tenant
from tests.integration_fixtures import load_payload
from tests.menu.conftest import rows, work

HX = {"HX-Request": "true"}


@pytest.fixture
def nashmi(kitchen, make_integration, platforms, add_group, app):
    """Alpha's Nashmi (generic) integration on the simulator, every product mapped, the burger with a group."""
    from portal.models import MenuMapping
    integration_id = make_integration(kitchen.alpha, "NASHMI", base_url=platforms.url("NASHMI"))
    with app.app_context(), tenant(kitchen.alpha.id):
        for product in db.session.scalars(db.select(Product)):
            db.session.add(MenuMapping(company_id=kitchen.alpha.id, integration_config_id=integration_id,
                                       platform="NASHMI", local_product_id=product.local_product_id,
                                       platform_product_id=f"n-{product.local_product_id}", product_name=product.name))
        db.session.commit()
    add_group(kitchen.alpha, kitchen.products["P001"], "Size", 1, 1, [("Regular", "0"), ("Large", "4")])
    return integration_id


def start(auth, integration_id, mode="full"):
    return auth.post(f"/menu/sync/{integration_id}", {"mode": mode}, page="/menu/sync", headers=HX)


def run_row(owner_conninfo):
    return rows(owner_conninfo, "SELECT status, total_items, processed_items, sent_items, skipped_items, failed_items, "
                                "warning_count, platform_request_id FROM menu_sync_runs ORDER BY created_at DESC")[0]


def test_a_sync_to_a_generic_platform_completes_with_progress(app, client, auth, kitchen, nashmi, platforms,
                                                              owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    response = start(auth, nashmi)
    html = response.get_data(as_text=True)
    assert "Sync of Nashmi queued." in html and 'hx-trigger="every 1s"' in html and "<progress" in html
    (run_id,), = rows(owner_conninfo, "SELECT id FROM menu_sync_runs")
    work(app)
    assert run_row(owner_conninfo)[:7] == ("COMPLETED", 5, 5, 5, 0, 0, 0)
    finished = client.get(f"/menu/sync/runs/{run_id}", headers=HX)
    assert 'hx-trigger="every 1s"' not in finished.get_data(as_text=True)
    assert finished.headers["HX-Trigger"] == "menu-sync-finished"
    call, = [call for call in platforms.journal.calls if call["method"] == "PUT"]
    assert call["path"] == "/menu"
    burger = next(item for item in call["json"]["items"] if item["plu"] == "P001")
    assert burger["price"] == "28.00" and burger["modifier_groups"][0]["options"][1] == {
        "id": "n-P001-g0-o2", "name": "Large", "name_ar": None, "price": "4.00", "available": True}
    assert rows(owner_conninfo, "SELECT DISTINCT sync_status, last_sync_at IS NOT NULL, synced_hash IS NOT NULL "
                                "FROM menu_mappings WHERE integration_config_id = %s", (nashmi,)) == [
        ("completed", True, True)]
    assert rows(owner_conninfo, "SELECT sync_status, last_sync_at IS NOT NULL FROM integration_configs "
                                "WHERE id = %s", (nashmi,)) == [("completed", True)]


def test_a_diff_sync_sends_only_what_changed(app, client, auth, kitchen, nashmi, platforms, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    start(auth, nashmi)
    work(app)
    auth.post(f"/menu/products/{kitchen.products['P003']}",
              {"local_product_id": "P003", "name": "Lamb Mandi", "price": "60", "is_available": "y"},
              page=f"/menu/products/{kitchen.products['P003']}")
    start(auth, nashmi, "diff")
    work(app)
    assert run_row(owner_conninfo)[:6] == ("COMPLETED", 5, 5, 1, 4, 0)
    last = [call for call in platforms.journal.calls if call["method"] == "PUT"][-1]
    assert [item["plu"] for item in last["json"]["items"]] == ["P003"] and last["json"]["diff"] is True
    start(auth, nashmi, "diff")
    work(app)
    assert run_row(owner_conninfo)[:5] == ("COMPLETED", 5, 5, 0, 5)
    assert rows(owner_conninfo, "SELECT message FROM menu_sync_runs ORDER BY created_at DESC LIMIT 1") == [
        ("Nothing changed since the last sync.",)]


def test_items_a_platform_would_refuse_are_reported_and_the_rest_goes(app, client, auth, kitchen, nashmi, add_group,
                                                                      platforms, owner_conninfo):
    add_group(kitchen.alpha, kitchen.products["P004"], "Toppings", 3, 4, [("Nuts", "1"), ("Cream", "2")])
    auth.login(kitchen.alpha.email("MANAGER"))
    start(auth, nashmi)
    work(app)
    assert run_row(owner_conninfo)[:6] == ("PARTIAL", 5, 5, 4, 0, 1)
    (report,), = rows(owner_conninfo, "SELECT report FROM menu_sync_runs")
    assert [entry["local_product_id"] for entry in report] == ["P004", "P004"]
    assert "asks for at least 3 choices" in report[0]["problem"]
    assert rows(owner_conninfo, "SELECT sync_status, array_length(sync_errors, 1) FROM menu_mappings "
                                "WHERE integration_config_id = %s AND local_product_id = 'P004'", (nashmi,)) == [
        ("failed", 2)]
    (run_id,), = rows(owner_conninfo, "SELECT id FROM menu_sync_runs")
    page = client.get(f"/menu/sync/runs/{run_id}").get_data(as_text=True)
    assert "What failed and why" in page and "Kunafa" in page and "asks for at least 3 choices" in page


def test_a_platform_outage_is_retried_then_the_run_completes(app, auth, kitchen, nashmi, platforms, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    platforms.fail_next(1)
    start(auth, nashmi)
    work(app)
    status, *_ = run_row(owner_conninfo)
    (message, call_id, call_status), = rows(owner_conninfo, "SELECT r.message, c.id, c.status FROM menu_sync_runs r "
                                                            "JOIN platform_calls c ON c.id = r.platform_call_id")
    assert status == "SENDING" and call_status == "FAILED" and "Trying again: attempt 2 of" in message
    with app.app_context():
        send_call(call_id, kitchen.alpha.id)        # the retry job, without waiting for its backoff
    assert run_row(owner_conninfo)[0] == "COMPLETED"


def test_a_platform_that_keeps_refusing_fails_the_run_and_its_items(app, auth, kitchen, nashmi, platforms,
                                                                  owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    platforms.fail_next(100)
    start(auth, nashmi)
    work(app)
    (call_id,), = rows(owner_conninfo, "SELECT platform_call_id FROM menu_sync_runs")
    with app.app_context():
        for _ in range(app.config["PLATFORM_CALL_MAX_ATTEMPTS"]):
            send_call(call_id, kitchen.alpha.id)
    assert run_row(owner_conninfo)[0] == "FAILED"
    assert rows(owner_conninfo, "SELECT DISTINCT sync_status, synced_hash FROM menu_mappings "
                                "WHERE integration_config_id = %s", (nashmi,)) == [("failed", None)]
    assert rows(owner_conninfo, "SELECT sync_status FROM integration_configs WHERE id = %s", (nashmi,)) == [("failed",)]


def _careem_on_simulator(app, kitchen, platforms, point_at):
    point_at(kitchen.alpha, kitchen.integrations["CAREEM"], platforms.url("CAREEM"))
    with app.app_context(), tenant(kitchen.alpha.id):
        db.session.get(Product, kitchen.products["P005"]).name_ar = None      # a LOW warning from Careem
        db.session.get(Product, kitchen.products["P004"]).price = Decimal("0")  # refused (HIGH) by the simulator
        db.session.commit()


def test_careem_waits_for_catalog_request_status_updated_and_applies_warnings(
        app, client, auth, kitchen, platforms, point_at, webhooks, owner_conninfo):
    _careem_on_simulator(app, kitchen, platforms, point_at)
    careem = kitchen.integrations["CAREEM"]
    auth.login(kitchen.alpha.email("MANAGER"))
    start(auth, careem)
    work(app)
    status, *_, request_id = run_row(owner_conninfo)
    assert status == "WAITING" and request_id
    assert rows(owner_conninfo, "SELECT sync_status FROM integration_configs WHERE id = %s", (careem,)) == [
        ("in_progress",)]
    push = next(call for call in platforms.journal.calls if call["method"] == "PUT")
    report = simulated.callback("CAREEM", push, platforms.journal)
    assert webhooks.send("CAREEM", careem, report.body).status_code == 200
    status, total, processed, sent, skipped, failed, warnings, _ = run_row(owner_conninfo)
    assert (status, sent, failed, warnings) == ("PARTIAL", 5, 1, 1)
    mapped = dict((local_id, (state, errors)) for local_id, state, errors in rows(
        owner_conninfo, "SELECT local_product_id, sync_status, sync_errors FROM menu_mappings "
                        "WHERE integration_config_id = %s", (careem,)))
    assert mapped["P004"] == ("failed", ["HIGH: The item's price must be greater than 0."])
    assert mapped["P005"] == ("completed", ["LOW: The item has no Arabic name."])
    assert mapped["P001"] == ("completed", None)
    assert rows(owner_conninfo, "SELECT sync_status FROM integration_configs WHERE id = %s", (careem,)) == [
        ("completed",)]
    assert rows(owner_conninfo, "SELECT outcome FROM webhook_logs") == [("PROCESSED",)]


def test_the_documented_careem_example_is_matched_by_request_id(app, auth, kitchen, platforms, point_at, webhooks,
                                                                owner_conninfo):
    _careem_on_simulator(app, kitchen, platforms, point_at)
    careem = kitchen.integrations["CAREEM"]
    auth.login(kitchen.alpha.email("MANAGER"))
    start(auth, careem)
    work(app)
    *_, request_id = run_row(owner_conninfo)
    example = copy.deepcopy(load_payload("careem-catalog-status-updated-example.json"))
    example["details"]["request_id"] = int(request_id)
    example["details"]["warnings"][0]["entity_id"] = "CAR-P001"
    assert webhooks.send("CAREEM", careem, example).status_code == 200
    assert run_row(owner_conninfo)[0] == "COMPLETED"
    assert rows(owner_conninfo, "SELECT sync_errors FROM menu_mappings WHERE integration_config_id = %s "
                                "AND local_product_id = 'P001'", (careem,)) == [
        (["LOW: Mandatory option groups are ranked after optional groups. Please fix the sorting"],)]


@pytest.mark.parametrize("status, expected", [("done", "COMPLETED"), ("done_with_errors", "PARTIAL"),
                                              ("failed", "FAILED"), ("in_progress", "WAITING")])
def test_delivery_hero_catalog_import_callback(app, auth, kitchen, platforms, point_at, webhooks, owner_conninfo,
                                               status, expected):
    talabat = kitchen.integrations["TALABAT"]
    point_at(kitchen.alpha, talabat, platforms.url("TALABAT"))
    auth.login(kitchen.alpha.email("MANAGER"))
    start(auth, talabat)
    work(app)
    *_, import_id = run_row(owner_conninfo)
    assert run_row(owner_conninfo)[0] == "WAITING"
    body = {**load_payload("talabat-catalog-import-callback.reconstructed.json"), "catalogImportId": import_id,
            "status": status, "message": "2 products rejected"}
    secret = "webhook-secret-123" + "0" * 48
    with app.app_context(), tenant(kitchen.alpha.id):
        from portal.crypto import encrypt_secret
        db.session.get(IntegrationConfig, talabat).webhook_secret = encrypt_secret(kitchen.alpha.id, secret)
        db.session.commit()
    assert webhooks.send("TALABAT", talabat, body, secret=secret, path="catalog-import").status_code == 200
    assert run_row(owner_conninfo)[0] == expected
    (message,), = rows(owner_conninfo, "SELECT message FROM menu_sync_runs")
    if expected in ("PARTIAL", "FAILED"):
        assert "2 products rejected" in message


def test_careem_accepts_one_sync_every_two_minutes_and_one_run_at_a_time(app, client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    assert "queued" in start(auth, kitchen.integrations["CAREEM"]).get_data(as_text=True)
    again = start(auth, kitchen.integrations["CAREEM"]).get_data(as_text=True)
    assert "already running" in again
    with app.app_context(), tenant(kitchen.alpha.id):
        run = db.session.scalar(db.select(sync.MenuSyncRun))
        run.status = "COMPLETED"
        db.session.commit()
    assert "one menu sync every 2 minutes" in start(auth, kitchen.integrations["CAREEM"]).get_data(as_text=True)
    assert rows(owner_conninfo, "SELECT count(*) FROM menu_sync_runs") == [(1,)]


def test_delivery_hero_asking_for_the_menu_starts_a_sync(app, kitchen, webhooks, owner_conninfo):
    talabat = kitchen.integrations["TALABAT"]
    secret = "webhook-secret-123" + "0" * 48
    with app.app_context(), tenant(kitchen.alpha.id):
        from portal.crypto import encrypt_secret
        db.session.get(IntegrationConfig, talabat).webhook_secret = encrypt_secret(kitchen.alpha.id, secret)
        db.session.commit()
    # Delivery Hero documents this request as a GET without a body.
    assert webhooks.send("TALABAT", talabat, b"", secret=secret, path="menuimport/vendor-1",
                         method="GET").status_code == 200
    assert rows(owner_conninfo, "SELECT kind, mode, status FROM menu_sync_runs") == [("SYNC", "full", "QUEUED")]


def test_import_from_a_platform_maps_what_matches_and_suggests_the_rest(app, client, auth, kitchen, make_integration,
                                                                       platforms, owner_conninfo):
    dhub = make_integration(kitchen.alpha, "DHUB", base_url=platforms.url("DHUB"))
    auth.login(kitchen.alpha.email("MANAGER"))
    response = auth.post(f"/menu/import-platform/{dhub}", page="/menu/sync", headers=HX)
    assert "Import from DHUB queued." in response.get_data(as_text=True)
    work(app)
    (status, message), = rows(owner_conninfo, "SELECT status, message FROM menu_sync_runs")
    assert status == "COMPLETED" and "4 products read: 0 mapped" in message
    waiting = client.get("/menu/mappings/waiting").get_data(as_text=True)
    assert "Chicken Shawerma Wrap" in waiting and "→ <strong>Chicken Shawarma Wrap</strong>" in waiting
    # Where the platform knows our PLU (its menu came from us), the import maps directly.
    with app.app_context():
        platforms.journal.catalogs["DHUB"] = {"body": {"items": [
            {"id": "d-1", "plu": "P003", "name": "Mandi", "price": "59.00"}]}}
    auth.post(f"/menu/import-platform/{dhub}", page="/menu/sync")
    work(app)
    assert rows(owner_conninfo, "SELECT platform_product_id, product_price, price_overridden FROM menu_mappings "
                                "WHERE integration_config_id = %s", (dhub,)) == [("d-1", Decimal("59.000"), True)]


def test_platforms_that_cannot_hand_out_their_menu_say_so(client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    page = client.get("/menu/sync").get_data(as_text=True)
    assert "Import from platform: not available." in page and "has no call that returns a catalog" in page
    refused = auth.post(f"/menu/import-platform/{kitchen.integrations['CAREEM']}", page="/menu/sync", headers=HX)
    assert "cannot be imported from Careem" in refused.get_data(as_text=True)
    assert rows(owner_conninfo, "SELECT count(*) FROM menu_sync_runs") == [(0,)]


def test_stop_waiting_fails_the_run(app, auth, kitchen, platforms, point_at, owner_conninfo):
    point_at(kitchen.alpha, kitchen.integrations["CAREEM"], platforms.url("CAREEM"))
    auth.login(kitchen.alpha.email("MANAGER"))
    start(auth, kitchen.integrations["CAREEM"])
    work(app)
    (run_id,), = rows(owner_conninfo, "SELECT id FROM menu_sync_runs")
    assert auth.post(f"/menu/sync/runs/{run_id}/stop", page=f"/menu/sync/runs/{run_id}").status_code == 302
    assert run_row(owner_conninfo)[0] == "FAILED"
