"""GET /orders/: filters, full-text search, keyset pages, htmx fragment, tenant isolation, index use."""
import base64
import html
import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

from portal.extensions import db
from portal.models import Company, DeliveryOrder
from portal.orders.queries import OrderFilters, filtered_orders, sorted_orders
from portal.tenancy import tenant
from tests.orders.helpers import bulk_orders, insert_order, insert_orders

ROW = re.compile(r'id="order-row-([0-9a-f-]{36})"')
RIYADH = ZoneInfo("Asia/Riyadh")


def listed(client, query="", **kwargs):
    """(status, page text, order ids shown) of the orders list with this query string."""
    response = client.get("/orders/" + (f"?{query}" if query else ""), **kwargs)
    text = response.get_data(as_text=True)
    return response.status_code, text, ROW.findall(text)


def test_every_role_sees_the_list_with_its_columns(app, auth, client, kitchen):
    company, integration = kitchen
    order_id = insert_order(app, company, integration, order_number="T00091", short_code="42",
                            status="IN_PREPARATION", last_push_status="SUCCEEDED", total_amount=Decimal("42.50"))
    for role in ("USER", "MANAGER", "COMPANY_ADMIN"):
        auth.login(company.email(role))
        status, page, ids = listed(client)
        assert status == 200 and ids == [str(order_id)]
        auth.logout()
    row = page.split(f'id="order-row-{order_id}"')[1].split("</tr>")[0]
    assert "Talabat" in row and "#T00091" in row and ">42<" in row
    assert "Noura" in row and "Al-Harbi" not in row  # first name only
    assert "Preparing" in row and "Sent" in row
    assert '<td class="num">3</td>' in row  # 2 kabsa + 1 laban
    assert "SAR\u00a042.50" in row
    assert f'href="/orders/{order_id}"' in row


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get("/orders/").status_code == 302


def test_test_orders_appear_only_when_asked_for_and_are_labelled(app, auth, client, kitchen):
    company, integration = kitchen
    real = insert_order(app, company, integration, order_number="REAL1")
    test = insert_order(app, company, integration, order_number="TEST1", is_test=True)
    auth.login(company.email("USER"))
    _, page, ids = listed(client)
    assert ids == [str(real)] and "TEST1" not in page
    _, page, ids = listed(client, "test=1")
    assert set(ids) == {str(real), str(test)}
    test_row = page.split(f'id="order-row-{test}"')[1].split("</tr>")[0]
    real_row = page.split(f'id="order-row-{real}"')[1].split("</tr>")[0]
    assert "TEST" in test_row.replace("TEST1", "") and "test-badge" in test_row and "test-badge" not in real_row


def test_a_day_is_a_whole_day_in_the_company_time_zone(app, auth, client, kitchen):
    company, integration = kitchen

    def riyadh(*parts):
        return datetime(*parts, tzinfo=RIYADH).astimezone(timezone.utc)

    late_on_the_day = insert_order(app, company, integration, created_at=riyadh(2025, 3, 10, 23, 30))
    early_next_day = insert_order(app, company, integration, created_at=riyadh(2025, 3, 11, 0, 30))
    early_on_the_day = insert_order(app, company, integration, created_at=riyadh(2025, 3, 10, 0, 10))
    late_day_before = insert_order(app, company, integration, created_at=riyadh(2025, 3, 9, 23, 50))
    auth.login(company.email("USER"))
    _, _, ids = listed(client, "date_from=2025-03-10&date_to=2025-03-10")
    assert set(ids) == {str(late_on_the_day), str(early_on_the_day)}
    _, _, ids = listed(client, "date_from=2025-03-11")
    assert ids == [str(early_next_day)]
    _, _, ids = listed(client, "date_to=2025-03-09")
    assert ids == [str(late_day_before)]


def test_dates_the_wrong_way_round_are_swapped_and_bad_dates_ignored(app, auth, client, kitchen):
    company, integration = kitchen
    order = insert_order(app, company, integration, created_at=datetime(2025, 3, 10, 12, tzinfo=timezone.utc))
    auth.login(company.email("USER"))
    status, page, ids = listed(client, "date_from=2025-03-12&date_to=2025-03-09")
    assert status == 200 and ids == [str(order)] and "swapped" in page
    status, page, ids = listed(client, "date_from=10%2F03%2F2025&date_to=2025-13-40")
    assert status == 200 and ids == [str(order)]
    assert "is not a date (10/03/2025)" in html.unescape(page) and "2025-13-40" in page
    for far_off in ("9999-12-31", "0001-01-01"):
        status, page, ids = listed(client, f"date_from={far_off}&date_to={far_off}")
        assert status == 200 and ids == [str(order)] and "is not a date" in page


def test_platform_and_status_filters(app, auth, client, kitchen, make_integration):
    company, talabat = kitchen
    careem = make_integration(company, "CAREEM")
    pending = insert_order(app, company, talabat, status="PENDING")
    delivered = insert_order(app, company, talabat, status="DELIVERED")
    careem_cancelled = insert_order(app, company, careem, status="CANCELLED")
    auth.login(company.email("USER"))
    _, _, ids = listed(client, "platform=CAREEM")
    assert ids == [str(careem_cancelled)]
    _, _, ids = listed(client, "status=DELIVERED")
    assert ids == [str(delivered)]
    _, _, ids = listed(client, "status=PENDING&status=CANCELLED")
    assert set(ids) == {str(pending), str(careem_cancelled)}
    _, _, ids = listed(client, "platform=TALABAT&status=CANCELLED")
    assert ids == []
    # Unknown values are ignored rather than refused.
    status, _, ids = listed(client, "platform=UBER&status=EATEN")
    assert status == 200 and len(ids) == 3


def test_search_by_customer_name_and_order_number(app, auth, client, kitchen):
    company, integration = kitchen
    noura = insert_order(app, company, integration, customer_name="Noura Al-Harbi", order_number="T00912",
                         customer_phone="+966551111111")
    fahad = insert_order(app, company, integration, customer_name="Fahad Al-Qahtani", order_number="T00120",
                         customer_phone="+966552222222")
    arabic = insert_order(app, company, integration, customer_name="أحمد الشمري", order_number="C77",
                          customer_phone="+966553333333")
    auth.login(company.email("USER"))
    assert listed(client, "q=noura")[2] == [str(noura)]
    assert listed(client, "q=Al-Qahtani")[2] == [str(fahad)]
    assert listed(client, "q=أحمد")[2] == [str(arabic)]
    assert listed(client, "q=T00912")[2] == [str(noura)]
    assert listed(client, "q=T009")[2] == [str(noura)]          # a partial order number
    assert set(listed(client, "q=T00")[2]) == {str(noura), str(fahad)}
    assert listed(client, "q=Fah")[2] == [str(fahad)]            # names as they are typed, too
    status, page, ids = listed(client, "q=%22nobody+here%22")
    assert status == 200 and ids == [] and "No orders match" in page


@pytest.mark.parametrize("typed", ["0551234567", "+966551234567", "966551234567", "+966 55 123 4567",
                                   "٠٥٥١٢٣٤٥٦٧"])
def test_search_by_phone_however_it_is_typed(app, auth, client, kitchen, typed):
    company, integration = kitchen
    wanted = insert_order(app, company, integration, customer_phone="+966551234567")
    insert_order(app, company, integration, customer_phone="+966559999999", customer_name="Other Person")
    auth.login(company.email("USER"))
    assert listed(client, "q=" + typed.replace("+", "%2B").replace(" ", "+"))[2] == [str(wanted)]


def test_a_partial_phone_number_finds_its_customers(app, auth, client, kitchen):
    company, integration = kitchen
    wanted = insert_order(app, company, integration, customer_phone="+966551234567")
    insert_order(app, company, integration, customer_phone="+966561234567", customer_name="Other Person")
    auth.login(company.email("USER"))
    assert listed(client, "q=05512")[2] == [str(wanted)]


def test_search_text_is_never_an_error(app, auth, client, kitchen):
    company, integration = kitchen
    insert_order(app, company, integration)
    auth.login(company.email("USER"))
    for query in ("'", "a & b | !c", "(((", ":*", "\\", "-", '"', "a:* <-> b", "x" * 500, "%00"):
        status, _, _ = listed(client, "q=" + query.replace("&", "%26").replace("|", "%7C"))
        assert status == 200, query


def test_amount_filters_and_bad_amounts(app, auth, client, kitchen):
    company, integration = kitchen
    small = insert_order(app, company, integration, total_amount=Decimal("12.00"))
    middle = insert_order(app, company, integration, total_amount=Decimal("42.50"))
    large = insert_order(app, company, integration, total_amount=Decimal("150.00"))
    auth.login(company.email("USER"))
    assert set(listed(client, "min_total=40&max_total=42.5")[2]) == {str(middle)}
    assert set(listed(client, "min_total=40")[2]) == {str(middle), str(large)}
    assert set(listed(client, "max_total=%D9%A4%D9%A0")[2]) == {str(small)}  # ٤٠, Arabic-Indic digits
    status, page, ids = listed(client, "min_total=100&max_total=40")
    assert ids == [str(middle)] and "swapped" in page
    for bad in ("abc", "NaN", "Infinity", "-5", "1e999", "12,5", "9999999999"):
        status, page, ids = listed(client, f"min_total={bad}")
        assert status == 200 and len(ids) == 3, bad
        assert "was ignored" in page and "Lowest total" in html.unescape(page)


def test_sorting_by_total(app, auth, client, kitchen):
    company, integration = kitchen
    ids = insert_orders(app, company, integration, [{"total_amount": Decimal(total)} for total in ("30", "10", "20")])
    auth.login(company.email("USER"))
    assert listed(client, "sort=total_high")[2] == [str(ids[0]), str(ids[2]), str(ids[1])]
    assert listed(client, "sort=total_low")[2] == [str(ids[1]), str(ids[2]), str(ids[0])]


def _link(page, rel):
    match = re.search(rf'href="([^"]+)" rel="{rel}"', page)
    return html.unescape(match.group(1)) if match else None


@pytest.mark.parametrize("sort", ["newest", "oldest", "total_high", "total_low"])
def test_keyset_pages_walk_every_order_exactly_once(app, auth, client, kitchen, sort):
    company, integration = kitchen
    start = datetime(2025, 5, 1, 12, tzinfo=timezone.utc)
    # Ties on purpose: three orders share each time, seven share each total.
    rows = [{"created_at": start - timedelta(minutes=i // 3), "total_amount": Decimal(10 + i % 7)}
            for i in range(120)]
    ids = insert_orders(app, company, integration, rows)
    auth.login(company.email("USER"))
    seen, pages, urls = [], [], [f"/orders/?sort={sort}"]
    while urls[-1]:
        response = client.get(urls[-1])
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and len(pages) < 10
        pages.append(ROW.findall(page))
        seen.extend(pages[-1])
        urls.append(_link(page, "next"))
    assert [len(page) for page in pages] == [50, 50, 20]
    assert len(seen) == 120 and set(seen) == {str(order_id) for order_id in ids}

    key = {"newest": lambda i: (rows[i]["created_at"], ids[i]), "oldest": lambda i: (rows[i]["created_at"], ids[i]),
           "total_high": lambda i: (rows[i]["total_amount"], ids[i]),
           "total_low": lambda i: (rows[i]["total_amount"], ids[i])}[sort]
    expected = sorted(range(120), key=key, reverse=sort in ("newest", "total_high"))
    assert seen == [str(ids[i]) for i in expected]

    # From the last page, Previous walks back to the same pages, and "Back to first" is the first.
    last = client.get(urls[-2]).get_data(as_text=True)
    previous = client.get(_link(last, "prev")).get_data(as_text=True)
    assert ROW.findall(previous) == pages[1]
    first = client.get(_link(previous, "prev")).get_data(as_text=True)
    assert ROW.findall(first) == pages[0] and _link(first, "prev") is None
    assert "Back to first" in previous and "Back to first" not in first


def _cursor(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_filters_survive_the_next_page_and_a_bad_cursor_starts_over(app, auth, client, kitchen, make_integration):
    company, talabat = kitchen
    careem = make_integration(company, "CAREEM")
    insert_orders(app, company, talabat, [{"created_at": datetime.now(timezone.utc) - timedelta(minutes=i)}
                                          for i in range(60)])
    insert_orders(app, company, careem, [{} for _ in range(5)])
    auth.login(company.email("USER"))
    first = listed(client, "platform=TALABAT&q=noura")[1]
    second_url = _link(first, "next")
    assert "platform=TALABAT" in second_url and "q=noura" in second_url
    second = client.get(second_url).get_data(as_text=True)
    assert len(ROW.findall(second)) == 10
    for garbage in ("garbage", "eyJ4IjoxfQ", "W10", "WyJuZXdlc3QiLCJub3QgYSBkYXRlIiwieCJd", "%00" * 5,
                    _cursor(["newest", "2025-01-01T00:00:00+00:00", 5]), _cursor(["newest", 1, "x"]),
                    _cursor(["total_high", "NaN", str(uuid.uuid4())]), _cursor(["newest", "2025-01-01", "y"]),
                    _cursor({"a": 1}), "x" * 500):
        status, _, ids = listed(client, f"after={garbage}")
        assert status == 200 and len(ids) == 50
    # A cursor of another sort is not applied to this one.
    status, _, ids = listed(client, "sort=total_high&" + second_url.split("?")[1].split("&sort")[0])
    assert status == 200 and len(ids) == 50


def test_empty_and_no_match_states(app, auth, client, kitchen):
    company, integration = kitchen
    auth.login(company.email("USER"))
    page = listed(client)[1]
    assert "No orders yet" in page and "No orders match" not in page
    insert_order(app, company, integration)
    page = listed(client, "q=zzzz")[1]
    assert "No orders match" in page and "No orders yet" not in page


def test_the_search_box_works_without_and_with_htmx(app, auth, client, kitchen):
    company, integration = kitchen
    noura = insert_order(app, company, integration)
    auth.login(company.email("USER"))
    page_response = client.get("/orders/?q=noura")
    page = page_response.get_data(as_text=True)
    assert "<html" in page and 'name="q"' in page and 'value="noura"' in page
    assert 'hx-get="/orders/"' in page and 'hx-trigger="input changed delay:300ms, search"' in page
    assert 'hx-target="#order-results"' in page and "hx-indicator" in page
    assert "HX-Request" in page_response.headers.get("Vary", "")

    fragment_response = client.get("/orders/?q=noura", headers={"HX-Request": "true"})
    fragment = fragment_response.get_data(as_text=True)
    assert fragment.strip().startswith('<section id="order-results"') and "<html" not in fragment
    assert ROW.findall(fragment) == [str(noura)]
    assert "HX-Request" in fragment_response.headers.get("Vary", "")

    for header in ("HX-Boosted", "HX-History-Restore-Request"):
        response = client.get("/orders/?q=noura", headers={"HX-Request": "true", header: "true"})
        assert "<html" in response.get_data(as_text=True), header


def test_another_companys_orders_are_never_listed_or_found(app, auth, client, two_companies, make_integration):
    alpha, beta = two_companies
    alpha_integration, beta_integration = make_integration(alpha, "TALABAT"), make_integration(beta, "TALABAT")
    mine = insert_order(app, alpha, alpha_integration, customer_name="Noura Al-Harbi", order_number="A1")
    insert_order(app, beta, beta_integration, customer_name="Yousef Al-Enezi", order_number="B1",
                 customer_phone="+96550000000", currency="KWD", is_test=True)
    insert_order(app, beta, beta_integration, customer_name="Yousef Al-Enezi", order_number="B2")
    auth.login(alpha.email("COMPANY_ADMIN"))
    assert listed(client, "test=1")[2] == [str(mine)]
    for query in ("q=Yousef", "q=B1", "q=B", "q=%2B96550000000", "platform=TALABAT&test=1"):
        status, page, ids = listed(client, query)
        assert status == 200 and "#B" not in page and "Al-Enezi" not in page.split('id="order-results"')[1]
        assert ids in ([], [str(mine)])


# --- Index use -----------------------------------------------------------------------------------------

class Explain(Executable, ClauseElement):
    """EXPLAIN <statement>, compiled with the statement's own parameters."""

    inherit_cache = False

    def __init__(self, statement):
        self.statement = statement


@compiles(Explain, "postgresql")
def _compile_explain(element, compiler, **kw):
    return "EXPLAIN " + compiler.process(element.statement, **kw)


def _plans(app, company_id, cases):
    """{case: EXPLAIN text} of the list query (first page) for each OrderFilters, as portal_app under the tenant."""
    plans = {}
    with app.app_context(), tenant(company_id):
        company = db.session.get(Company, company_id)
        assert db.session.scalar(db.select(db.func.current_user())) == "portal_app"
        for name, filters in cases.items():
            statement = sorted_orders(filtered_orders(company, filters), filters.sort).limit(51)
            plans[name] = "\n".join(db.session.scalars(Explain(statement)).all())
            found = db.session.scalars(statement).all()
            assert found and all(order.company_id == company_id for order in found), name
    return plans


SEARCHES = {"search by name": OrderFilters(q="Customer1234"), "search by partial order number": OrderFilters(q="A0012"),
            "search by phone": OrderFilters(q="0500001234")}


def test_the_list_query_uses_the_indexes_not_a_sequential_scan(app, owner_conninfo, two_companies, make_integration):
    alpha, beta = two_companies
    bulk_orders(app, owner_conninfo, ((alpha, "A"), (beta, "B")), make_integration)
    today = datetime.now(RIYADH).date()
    plans = _plans(app, alpha.id, {
        "newest, no filter": OrderFilters(),
        "oldest": OrderFilters(sort="oldest"),
        "dates, platform, statuses, amount": OrderFilters(
            date_from=today - timedelta(days=7), date_to=today, platform="TALABAT",
            statuses=["DELIVERED", "CANCELLED"], amount_min=Decimal("20")),
        **SEARCHES,
    })
    for name, plan in plans.items():
        assert "Seq Scan on delivery_orders" not in plan, f"{name}:\n{plan}"
        assert re.search(r"Index Scan.* on delivery_orders|Bitmap Heap Scan on delivery_orders", plan), f"{name}:\n{plan}"
        if name not in SEARCHES:
            assert re.search(rf"Index Cond: \(\(?company_id = '{alpha.id}'::uuid", plan), f"{name}:\n{plan}"
    assert "created_at >=" in plans["dates, platform, statuses, amount"].split("Index Cond")[1]


def test_search_uses_the_gin_index_under_rls(app, owner_conninfo, two_companies, make_integration):
    """Under row-level security PostgreSQL only uses LEAKPROOF operators in index conditions.

    With btree_gin the index also holds the company, and it beats reading all of a company's orders
    only on a company with many orders (30,000 here), where it beats reading all of them.

    Migration 0005 marks `@@` (ts_match_vq) LEAKPROOF when it runs as a superuser, so the search goes
    through the GIN index as portal_app: idx_orders_company_search on (company_id, search_vector) where
    btree_gin exists (migration 0006), which answers the company condition inside the index too.
    """
    alpha, beta = two_companies
    bulk_orders(app, owner_conninfo, ((alpha, "A"), (beta, "B")), make_integration, count=30000)
    with psycopg.connect(owner_conninfo, autocommit=True) as connection:
        if not connection.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
            pytest.skip("migration 0005 needs a superuser owner to mark the operator LEAKPROOF")
        assert connection.execute("SELECT proleakproof FROM pg_proc WHERE proname = 'ts_match_vq'").fetchone() == (True,)
        has_btree_gin = connection.execute("SELECT count(*) FROM pg_extension WHERE extname = 'btree_gin'").fetchone()[0]
    # The exact phone alone: the planner's estimate for the list's added prefix terms is rough, and on
    # test-sized data it may rightly prefer reading the company's newest orders.
    with app.app_context(), tenant(alpha.id):
        statement = (db.select(DeliveryOrder).where(
            DeliveryOrder.company_id == alpha.id,
            DeliveryOrder.search_vector.op("@@")(db.func.to_tsquery("simple", "'+966500001234'"))))
        plan = "\n".join(db.session.scalars(Explain(statement)).all())
        assert [order.company_id for order in db.session.scalars(statement)] == [alpha.id]
    if has_btree_gin:
        index_scan = plan.split("Bitmap Index Scan on idx_orders_company_search")
        assert len(index_scan) == 2, plan
        assert f"company_id = '{alpha.id}'::uuid" in index_scan[1].split("->")[0], plan
    else:
        assert "Bitmap Index Scan on idx_orders_customer_search" in plan, plan
