"""The menu in a real browser: edit a mapping cell inline, 86 an item everywhere, sync and watch the progress."""
import threading

import psycopg
import pytest
from werkzeug.serving import make_server

from portal.demo import SAMPLE_COMPANY_ID
from portal.extensions import db
from portal.queue import run_worker
from portal.models import IntegrationConfig
from portal.simulator.recorder import Journal, create_app as create_simulator
from portal.simulator.sender import Sender, Simulation
from portal.simulator.targets import load_targets
from portal.tenancy import tenant

pytestmark = pytest.mark.e2e


@pytest.fixture
def simulator(app, demo, live_server):
    """The platforms' side on a free port, the demo integrations pointed at it; reports go to the live server."""
    journal = Journal()
    server = make_server("127.0.0.1", 0, create_simulator(journal), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with app.app_context(), tenant(SAMPLE_COMPANY_ID):
        for integration in db.session.scalars(db.select(IntegrationConfig)):
            integration.base_url = f"http://127.0.0.1:{server.server_port}/{integration.platform.value.lower()}"
        db.session.commit()
    with app.app_context():
        targets, _ = load_targets("Sample Restaurant")
    simulation = Simulation(targets, Sender(live_server, journal=journal), rate=1, count=0, catalog_after=(0, 0),
                            echo=lambda line: None)
    journal.listeners.append(simulation.on_platform_call)
    yield simulation, journal
    server.shutdown()


def owner(owner_conninfo, sql, params=()):
    with psycopg.connect(owner_conninfo) as connection:
        return connection.execute(sql, params).fetchall()


def test_edit_a_cell_86_an_item_and_sync_with_progress(app, page, sign_in, demo, simulator, artifacts_dir,
                                                       owner_conninfo):
    simulation, journal = simulator
    sign_in(demo["email"], demo["password"])

    # The catalog, with its modifiers.
    page.goto("/menu/")
    page.get_by_role("link", name="Classic Beef Burger").wait_for()
    page.screenshot(path=str(artifacts_dir / "menu-catalog.png"), full_page=True)
    page.get_by_role("link", name="Classic Beef Burger").click()
    page.get_by_text("Choices (modifier groups)").wait_for()
    page.screenshot(path=str(artifacts_dir / "menu-product.png"), full_page=True)

    # 1. Edit a mapping cell inline: a bad price is refused in place and kept; a good one saves.
    page.goto("/menu/mappings?q=Classic")
    careem = owner(owner_conninfo, "SELECT id FROM integration_configs WHERE company_id = %s AND platform = 'CAREEM'",
                   (SAMPLE_COMPANY_ID,))[0][0]
    product = owner(owner_conninfo, "SELECT id FROM products WHERE company_id = %s AND local_product_id = 'P001'",
                    (SAMPLE_COMPANY_ID,))[0][0]
    price = page.locator(f"#price-{product}-{careem}")
    price.fill("abc")
    price.press("Tab")
    cell = page.locator(f"#cell-{product}-{careem}")
    cell.get_by_text("is not an amount").wait_for()
    assert price.input_value() == "abc"
    page.screenshot(path=str(artifacts_dir / "menu-mapping-error.png"), full_page=True)
    price.fill("31.50")
    price.press("Tab")
    cell.get_by_text("Saved").wait_for()
    (saved_price, overridden), = owner(owner_conninfo, "SELECT product_price, price_overridden FROM menu_mappings "
                                                       "WHERE company_id = %s AND local_product_id = 'P001' AND "
                                                       "platform = 'CAREEM'", (SAMPLE_COMPANY_ID,))
    assert str(saved_price) == "31.500" and overridden
    page.goto("/menu/mappings")
    page.get_by_text("platform products are not mapped yet").wait_for()
    page.screenshot(path=str(artifacts_dir / "menu-mapping.png"), full_page=False)

    # 2. 86 Kunafa on every platform; each platform's answer appears by itself.
    page.goto("/menu/availability?q=Kunafa")
    row = page.locator(".avail-row", has_text="Kunafa")
    row.get_by_role("button", name="86 until end of day").click()
    row = page.locator(".avail-row", has_text="Kunafa")
    row.get_by_text("is sold out on every platform until").wait_for()
    run_worker(app, concurrency=1, wait=False)
    page.locator(".avail-row", has_text="Kunafa").get_by_text("Sold out · Done").first.wait_for()
    assert page.locator(".avail-row", has_text="Kunafa").get_by_text("Sold out · Done").count() == 2
    assert {(call["platform"], call["method"]) for call in journal.calls} >= {("careem", "PATCH"), ("talabat", "PUT")}
    page.screenshot(path=str(artifacts_dir / "menu-86.png"), full_page=True)

    # Staff can bring it back from the order board.
    page.goto("/board")
    page.locator("#board-86 > summary").click()
    panel = page.locator("#board-86-results")
    panel.get_by_text("Kunafa").wait_for()
    page.screenshot(path=str(artifacts_dir / "menu-board-86.png"))
    panel.locator(".board-86-item", has_text="Kunafa").get_by_role("button", name="Back on").click()
    page.get_by_text("is available again on every platform").wait_for()
    assert owner(owner_conninfo, "SELECT count(*) FROM menu_sold_out WHERE ended_at IS NULL") == [(0,)]

    # 3. Sync Careem and watch the progress until Careem's report arrives.
    page.goto("/menu/sync")
    card = page.locator(".sync-card", has_text="Careem")
    card.locator("select[name=mode]").select_option("full")
    card.get_by_role("button", name="Sync menu").click()
    card.locator("progress").wait_for()
    card.get_by_text("Waiting for the worker").wait_for()
    page.screenshot(path=str(artifacts_dir / "menu-sync-queued.png"), full_page=True)
    run_worker(app, concurrency=1, wait=False)
    card.get_by_text("Waiting for the platform's report").wait_for()
    simulation.send_due()          # Careem imports the catalog and sends CATALOG_REQUEST_STATUS_UPDATED
    card.get_by_text("Completed").first.wait_for()
    assert card.locator("progress").get_attribute("value") == "100"
    # The page refreshes itself once the run is over: the card's last sync and the runs table.
    page.locator("#sync-main table .run-completed").wait_for()
    card = page.locator(".sync-card", has_text="Careem")
    assert "Never" not in card.locator(".facts").inner_text()
    page.screenshot(path=str(artifacts_dir / "menu-sync-done.png"), full_page=True)
    card.get_by_role("link", name="Full report").click()
    page.get_by_text("What failed and why").wait_for()
    page.screenshot(path=str(artifacts_dir / "menu-sync-report.png"), full_page=True)
    assert owner(owner_conninfo, "SELECT status FROM menu_sync_runs") == [("COMPLETED",)]


def test_csv_import_preview_in_the_browser(page, sign_in, demo, artifacts_dir, tmp_path, owner_conninfo):
    sign_in(demo["email"], demo["password"])
    upload = tmp_path / "menu.csv"
    upload.write_text("local_product_id,name,name_ar,category,price\nP100,Mutabbal,متبل,Appetizers,13.00\n"
                      "P001,Classic Beef Burger,برجر لحم كلاسيك,Burgers,29.00\nP101,,,Misc,abc\n", encoding="utf-8")
    page.goto("/menu/import")
    page.set_input_files("input[type=file]", str(upload))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_text("Nothing has been saved yet.").wait_for()
    page.screenshot(path=str(artifacts_dir / "menu-import-preview.png"), full_page=True)
    assert owner(owner_conninfo, "SELECT count(*) FROM products WHERE local_product_id = 'P100'") == [(0,)]
    page.get_by_role("button", name="Import 2 products").click()
    page.get_by_text("Imported: 1 new, 1 changed").wait_for()
    assert owner(owner_conninfo, "SELECT name_ar FROM products WHERE local_product_id = 'P100'") == [("متبل",)]
