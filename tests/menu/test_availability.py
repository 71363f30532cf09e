"""86 on every platform, coming back at the right local time, availability hours, platform limits."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from portal.extensions import db
from portal.menu import availability as avail
from portal.menu.jobs import availability_minute, availability_tick as _tick
from portal.menu.services import MenuError
from portal.models import Company, MenuMapping, Product
from portal.tenancy import companies_with_menu_work, tenant
from tests.menu.conftest import rows, work

UTC = timezone.utc
HX = {"HX-Request": "true"}
WEEKDAY_BREAKFAST = {"rules": [{"days": [0, 1, 2, 3, 4], "start": "06:00", "end": "11:00"}]}
LATE_NIGHT = {"rules": [{"days": [4], "start": "22:00", "end": "02:00"}]}   # Friday night into Saturday


def availability_tick(app, company_id, now):
    """The worker's tick for one company, in its own app context."""
    with app.app_context():
        return _tick(company_id, now=now)


# --------------------------------------------------------------------------- when an 86 ends

@pytest.mark.parametrize("zone, now, kind, at, expected", [
    # Riyadh is UTC+3 all year: 15:00 local → end of day is 04:00 local tomorrow = 01:00 UTC.
    ("Asia/Riyadh", datetime(2026, 3, 10, 12, 0, tzinfo=UTC), "END_OF_DAY", None, datetime(2026, 3, 11, 1, 0, tzinfo=UTC)),
    # After midnight but before 04:00 local, the day ends at 04:00 today.
    ("Asia/Riyadh", datetime(2026, 3, 10, 22, 30, tzinfo=UTC), "END_OF_DAY", None, datetime(2026, 3, 11, 1, 0, tzinfo=UTC)),
    ("Asia/Riyadh", datetime(2026, 3, 10, 12, 0, tzinfo=UTC), "UNTIL_TIME", "18:30", datetime(2026, 3, 10, 15, 30, tzinfo=UTC)),
    # A time already past today means tomorrow.
    ("Asia/Riyadh", datetime(2026, 3, 10, 12, 0, tzinfo=UTC), "UNTIL_TIME", "14:00", datetime(2026, 3, 11, 11, 0, tzinfo=UTC)),
    ("Asia/Dubai", datetime(2026, 3, 10, 12, 0, tzinfo=UTC), "UNTIL_TIME", "18:30", datetime(2026, 3, 10, 14, 30, tzinfo=UTC)),
    ("Asia/Kuwait", datetime(2026, 3, 10, 12, 0, tzinfo=UTC), "UNTIL_TIME", "٢٠:٠٠", datetime(2026, 3, 10, 17, 0, tzinfo=UTC)),
    # Berlin springs forward on 29 March 2026 (02:00 → 03:00): 04:00 local is 02:00 UTC that day…
    ("Europe/Berlin", datetime(2026, 3, 28, 22, 0, tzinfo=UTC), "END_OF_DAY", None, datetime(2026, 3, 29, 2, 0, tzinfo=UTC)),
    # …and 02:30 does not exist that night: it is read as just after the jump (03:30 local, 01:30 UTC).
    ("Europe/Berlin", datetime(2026, 3, 28, 22, 0, tzinfo=UTC), "UNTIL_TIME", "02:30", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    ("Asia/Riyadh", datetime(2026, 3, 10, 12, 0, tzinfo=UTC), "INDEFINITE", None, None),
])
def test_sold_out_until(zone, now, kind, at, expected):
    assert avail.sold_out_until(kind, at, zone, now) == expected


@pytest.mark.parametrize("kind, at", [("UNTIL_TIME", ""), ("UNTIL_TIME", "25:00"), ("UNTIL_TIME", "noon"),
                                      ("SOMETIME", None)])
def test_bad_until_is_refused(kind, at):
    with pytest.raises(MenuError):
        avail.sold_out_until(kind, at, "Asia/Riyadh", datetime(2026, 3, 10, 12, 0, tzinfo=UTC))


# --------------------------------------------------------------------------- schedules

@pytest.mark.parametrize("schedule, local, open_", [
    (None, datetime(2026, 3, 9, 3, 0), True),
    (WEEKDAY_BREAKFAST, datetime(2026, 3, 9, 6, 0), True),       # Monday 06:00: starts
    (WEEKDAY_BREAKFAST, datetime(2026, 3, 9, 10, 59), True),
    (WEEKDAY_BREAKFAST, datetime(2026, 3, 9, 11, 0), False),     # ends at 11:00
    (WEEKDAY_BREAKFAST, datetime(2026, 3, 14, 8, 0), False),     # Saturday
    (LATE_NIGHT, datetime(2026, 3, 13, 23, 0), True),            # Friday 23:00
    (LATE_NIGHT, datetime(2026, 3, 14, 1, 30), True),            # Saturday 01:30 belongs to Friday night
    (LATE_NIGHT, datetime(2026, 3, 14, 2, 0), False),
    (LATE_NIGHT, datetime(2026, 3, 13, 1, 30), False),           # Friday 01:30 belongs to Thursday
])
def test_schedule_open(schedule, local, open_):
    assert avail.schedule_open(schedule, local) is open_


def test_clean_schedule():
    assert avail.clean_schedule([(["0", "1"], "06:00", "11:00"), ([], "", "")]) == {
        "rules": [{"days": [0, 1], "start": "06:00", "end": "11:00"}]}
    assert avail.clean_schedule([([], "", "")]) is None
    for bad in ([([], "06:00", "11:00")], [(["0"], "06:00", "06:00")], [(["9"], "06:00", "07:00")],
                [(["x"], "06:00", "07:00")], [(["0"], "6", "07:00")]):
        with pytest.raises(MenuError):
            avail.clean_schedule(bad)


# --------------------------------------------------------------------------- the 86 itself

def _company(app, company_id):
    return db.session.get(Company, company_id)


def test_86_queues_one_call_per_platform_and_comes_back_by_itself(app, kitchen, owner_conninfo):
    alpha = kitchen.alpha
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)          # 15:00 in Riyadh
    with app.app_context(), tenant(alpha.id):
        product = db.session.get(Product, kitchen.products["P004"])
        window, results = avail.sell_out(_company(app, alpha.id), product, "UNTIL_TIME", "18:30", now=now)
        db.session.commit()
        assert window.until_at == datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
        assert {result.platform.value: result.available for result in results} == {"TALABAT": False, "CAREEM": False}
    calls = rows(owner_conninfo, "SELECT url, request_body FROM platform_calls ORDER BY url")
    assert [url for url, _ in calls] == ["http://127.0.0.1:9/careem/catalogs/branch/items",
                                         "http://127.0.0.1:9/talabat/v2/catalog/availability"]
    assert calls[0][1] == {"items": [{"id": "CAR-P004", "status": "inactive"}]}
    assert calls[1][1]["products"] == [{"remoteCode": "TAL-P004", "active": False}]
    # The exact-time job is queued for 18:30 local (besides the minute tick).
    assert rows(owner_conninfo, "SELECT task_name, scheduled_at FROM procrastinate_jobs "
                                "WHERE task_name = 'menu_availability_due'") == [
        ("menu_availability_due", datetime(2026, 3, 10, 15, 30, tzinfo=UTC))]

    # 18:29 local: still sold out. 18:31: back, and the platforms are told.
    assert availability_tick(app, alpha.id, datetime(2026, 3, 10, 15, 29, tzinfo=UTC)) == []
    results = availability_tick(app, alpha.id, datetime(2026, 3, 10, 15, 31, tzinfo=UTC))
    assert {(result.platform.value, result.available) for result in results} == {("TALABAT", True), ("CAREEM", True)}
    assert rows(owner_conninfo, "SELECT ended_at, end_reason FROM menu_sold_out") == [
        (datetime(2026, 3, 10, 15, 30, tzinfo=UTC), "EXPIRED")]
    assert rows(owner_conninfo, "SELECT source, available FROM menu_availability_pushes ORDER BY created_at, source")[-2:] \
        == [("BACK", True), ("BACK", True)]
    assert rows(owner_conninfo, "SELECT DISTINCT platform_available FROM menu_mappings WHERE local_product_id = 'P004' "
                                "AND company_id = %s", (alpha.id,)) == [(True,)]


def test_a_second_86_changes_the_end_and_back_on_ends_it_now(app, kitchen, owner_conninfo):
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    with app.app_context(), tenant(kitchen.alpha.id):
        company = _company(app, kitchen.alpha.id)
        product = db.session.get(Product, kitchen.products["P001"])
        avail.sell_out(company, product, "END_OF_DAY", now=now)
        window, _ = avail.sell_out(company, product, "INDEFINITE", now=now + timedelta(minutes=1))
        db.session.commit()
        assert window.until_at is None
        avail.back_on(company, product, now=now + timedelta(minutes=2))
        db.session.commit()
    assert rows(owner_conninfo, "SELECT until_kind, end_reason FROM menu_sold_out") == [("INDEFINITE", "MANUAL")]
    assert rows(owner_conninfo, "SELECT count(*) FROM platform_calls") == [(6,)]   # 2 platforms × 86, 86, back


def test_staff_86_from_the_page_and_see_each_platform_answer(app, client, auth, kitchen, platforms, point_at,
                                                            owner_conninfo):
    for platform, integration_id in kitchen.integrations.items():
        point_at(kitchen.alpha, integration_id, platforms.url(platform))
    auth.login(kitchen.alpha.email("USER"))
    product_id = kitchen.products["P002"]
    response = auth.post(f"/menu/products/{product_id}/sold-out", {"until": "END_OF_DAY"},
                         page="/menu/availability", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "menu-availability-changed"
    assert "is sold out on every platform until" in html and "Sending…" in html and 'hx-trigger="every 2s"' in html
    work(app)
    row = client.get(f"/menu/products/{product_id}/availability").get_data(as_text=True)
    assert row.count("Sold out · Done") == 2 and 'hx-trigger="every 2s"' not in row
    assert {(call["platform"], call["method"]) for call in platforms.journal.calls} == {
        ("careem", "PATCH"), ("talabat", "PUT")}
    # Back on from the board's panel.
    back = auth.post(f"/menu/products/{product_id}/back-on", {"from": "board"}, page="/board", headers=HX)
    assert "is available again on every platform" in back.get_data(as_text=True)
    assert rows(owner_conninfo, "SELECT end_reason FROM menu_sold_out") == [("MANUAL",)]
    bad = auth.post(f"/menu/products/{product_id}/sold-out", {"until": "UNTIL_TIME", "until_time": "later"},
                    page="/menu/availability", headers=HX)
    assert "Enter a time as HH:MM" in bad.get_data(as_text=True)
    assert rows(owner_conninfo, "SELECT count(*) FROM menu_sold_out WHERE ended_at IS NULL") == [(0,)]


def test_a_platform_failure_is_shown_per_platform(app, client, auth, kitchen, point_at, owner_conninfo):
    point_at(kitchen.alpha, kitchen.integrations["CAREEM"], None)        # no base URL: the call cannot go
    auth.login(kitchen.alpha.email("USER"))
    html = auth.post(f"/menu/products/{kitchen.products['P003']}/sold-out", {"until": "INDEFINITE"},
                     page="/menu/availability", headers=HX).get_data(as_text=True)
    assert "No platform base URL is configured" in html and "Sold out · Failed" in html


def test_careem_gets_at_most_40_items_per_call(app, make_company, make_integration, add_products, owner_conninfo):
    company = make_company("Big Menu")
    careem, talabat = make_integration(company, "CAREEM"), make_integration(company, "TALABAT")
    menu = [(f"M{number:03d}", f"Breakfast {number}", None, "Breakfast", "10") for number in range(45)]
    add_products(company, {"CAREEM": careem, "TALABAT": talabat}, menu=menu)
    with app.app_context(), tenant(company.id):
        for mapping in db.session.scalars(db.select(MenuMapping)):
            mapping.availability_schedule = WEEKDAY_BREAKFAST
        db.session.commit()
    # Monday 14:00 in Riyadh: breakfast is over on both platforms.
    results = availability_tick(app, company.id, datetime(2026, 3, 9, 11, 0, tzinfo=UTC))
    assert sorted((result.platform.value, len(result.calls), result.available) for result in results) == [
        ("CAREEM", 2, False), ("TALABAT", 1, False)]
    sizes = sorted((url.split("/")[-1] if "catalogs" not in url else "careem",
                    len(body.get("items") or body.get("products"))) for url, body in rows(
        owner_conninfo, "SELECT url, request_body FROM platform_calls"))
    assert sorted(size for _, size in sizes) == [5, 40, 45]
    # The next minute changes nothing; Tuesday 06:00 brings breakfast back.
    assert availability_tick(app, company.id, datetime(2026, 3, 9, 11, 1, tzinfo=UTC)) == []
    back = availability_tick(app, company.id, datetime(2026, 3, 10, 3, 0, tzinfo=UTC))
    assert {(result.platform.value, result.available) for result in back} == {("CAREEM", True), ("TALABAT", True)}


def test_hours_are_saved_from_the_product_page(client, auth, kitchen, owner_conninfo):
    auth.login(kitchen.alpha.email("MANAGER"))
    product_id = kitchen.products["P005"]
    response = auth.post(f"/menu/products/{product_id}/hours", {"days-0": ["0", "1", "2", "3", "4"],
                                                                "start-0": "06:00", "end-0": "11:00"},
                         page=f"/menu/products/{product_id}", follow_redirects=True)
    assert "Hours saved: Mon, Tue, Wed, Thu, Fri 06:00–11:00." in response.get_data(as_text=True)
    assert rows(owner_conninfo, "SELECT DISTINCT availability_schedule FROM menu_mappings "
                                "WHERE local_product_id = 'P005' AND company_id = %s", (kitchen.alpha.id,)) == [
        (WEEKDAY_BREAKFAST,)]
    refused = auth.post(f"/menu/products/{product_id}/hours", {"days-0": [], "start-0": "06:00", "end-0": "11:00"},
                        page=f"/menu/products/{product_id}", follow_redirects=True)
    assert "Choose at least one day" in refused.get_data(as_text=True)
    auth.post(f"/menu/products/{product_id}/hours", {"always": "1"}, page=f"/menu/products/{product_id}")
    assert rows(owner_conninfo, "SELECT DISTINCT availability_schedule FROM menu_mappings "
                                "WHERE local_product_id = 'P005' AND company_id = %s", (kitchen.alpha.id,)) == [(None,)]


def test_the_minute_tick_finds_companies_through_the_scheduler_role_only(app, kitchen, owner_conninfo):
    now = datetime.now(UTC)
    with app.app_context(), tenant(kitchen.beta.id):
        beta = db.session.get(Company, kitchen.beta.id)
        product = db.session.get(Product, kitchen.beta_products["B001"])
        avail.sell_out(beta, product, "UNTIL_TIME", (now + timedelta(minutes=5)).astimezone(
            ZoneInfo("Asia/Kuwait")).strftime("%H:%M"), now=now)
        db.session.commit()
    later = now + timedelta(minutes=6)
    with app.app_context():
        assert companies_with_menu_work(now) == []
        assert companies_with_menu_work(later) == [kitchen.beta.id]
        db.session.commit()
        assert availability_minute(later) == 1
    assert rows(owner_conninfo, "SELECT end_reason FROM menu_sold_out") == [("EXPIRED",)]
    # Alpha's rows were never touched by Beta's tick.
    assert rows(owner_conninfo, "SELECT count(*) FROM menu_availability_pushes WHERE company_id = %s",
                (kitchen.alpha.id,)) == [(0,)]


def test_the_worker_runs_the_due_job(app, kitchen, owner_conninfo):
    past = datetime.now(UTC) - timedelta(hours=3)
    with app.app_context(), tenant(kitchen.alpha.id):
        product = db.session.get(Product, kitchen.products["P001"])
        avail.sell_out(_company(app, kitchen.alpha.id), product, "UNTIL_TIME",
                       (past + timedelta(hours=1)).astimezone(ZoneInfo("Asia/Riyadh")).strftime("%H:%M"), now=past)
        db.session.commit()
    work(app)    # the exact-time job is due: the 86 ends without anyone
    assert rows(owner_conninfo, "SELECT end_reason FROM menu_sold_out") == [("EXPIRED",)]


def _closed_now(zone):
    """Hours (every day) that begin two hours from now in this zone: the item is outside them now."""
    local = datetime.now(ZoneInfo(zone))
    start, end = local + timedelta(hours=2), local + timedelta(hours=3)
    return {"rules": [{"days": list(range(7)), "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}]}


def test_an_item_outside_its_hours_says_so_with_the_hours_not_available(app, client, auth, kitchen):
    product_id = kitchen.products["P002"]
    with app.app_context(), tenant(kitchen.alpha.id):
        company = db.session.get(Company, kitchen.alpha.id)
        product = db.session.get(Product, product_id)
        hours = _closed_now(company.timezone)
        mappings = db.session.scalars(db.select(MenuMapping).where(
            MenuMapping.local_product_id == product.local_product_id)).all()
        for mapping in mappings:
            mapping.availability_schedule = hours
        db.session.commit()
    auth.login(kitchen.alpha.email("USER"))

    row = client.get(f"/menu/products/{product_id}/availability").get_data(as_text=True)
    state = row[row.index('class="avail-state"'):row.index('class="avail-actions"')]

    assert "Outside its hours" in state and hours["rules"][0]["start"] in state
    assert "Available" not in state

    with app.app_context(), tenant(kitchen.alpha.id):  # hours on one platform only: available, hidden there
        mappings[0] = db.session.merge(mappings[0])
        mappings[0].availability_schedule = None
        db.session.commit()
        company, product = db.session.get(Company, kitchen.alpha.id), db.session.get(Product, product_id)
        state = avail.shown_states(company, [product])[product_id]
    assert state.kind == "AVAILABLE" and len(state.hidden_on) == len(mappings) - 1 >= 1
