"""GET /orders/<id> and /orders/<id>/ticket: every figure, the timeline, the payload, actions, isolation."""
import html
import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from portal.extensions import db
from portal.models import OrderStatusHistory, PlatformCall
from portal.tenancy import tenant
from tests.conftest import csrf_token
from tests.orders.helpers import insert_order

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
PLACED = datetime(2025, 3, 10, 18, 0, tzinfo=timezone.utc)  # 21:00 in Riyadh
ITEMS = [
    {"name": "Chicken Kabsa", "name_ar": "كبسة دجاج", "quantity": 2, "unit_price": "31.00", "line_total": "62.00",
     "notes": "No onions please",
     "modifiers": [{"name": "Large", "price": "4.00", "quantity": 1,
                    "children": [{"name": "Extra rice", "price": "1.50", "quantity": 2, "children": []}]}]},
    {"name": "Mint Lemonade", "name_ar": "ليمون بالنعناع", "quantity": 1, "unit_price": "38.00",
     "line_total": "38.00", "modifiers": []},
]


def full_order(app, company, integration, **values):
    """An order with every money figure different, so each can be found on the page."""
    figures = dict(
        order_number="T00912", short_code="42", status="PENDING", order_type="DELIVERY",
        subtotal=Decimal("100.00"), platform_discount=Decimal("5.00"), vendor_discount=Decimal("7.00"),
        third_party_discount=Decimal("3.00"), discount_amount=Decimal("15.00"), delivery_fee=Decimal("9.00"),
        service_fee=Decimal("2.25"), tax_amount=Decimal("13.50"), tip_amount=Decimal("4.75"),
        total_amount=Decimal("114.50"), commission_rate=Decimal("18.00"), commission_amount=Decimal("20.61"),
        collect_from_customer=Decimal("114.50"), payment_method="CASH",
        customer_name="Noura Al-Harbi", customer_phone="+966551234567", customer_email="noura@example.com",
        delivery_address="Building 12, King Fahd Road\nAl Olaya, Riyadh", delivery_notes="Ring twice, baby sleeping",
        order_items=ITEMS, created_at=PLACED, placed_at=PLACED, accept_by=PLACED + timedelta(minutes=10),
        expected_at=PLACED + timedelta(minutes=45), scheduled_delivery_at=PLACED + timedelta(hours=2),
        platform_data={"code": "T00912", "customer": {"firstName": "نورة", "lastName": "Al-Harbi"},
                       "price": {"grandTotal": "114.50"}})
    figures.update(values)
    return insert_order(app, company, integration, **figures)


def page_of(client, path):
    response = client.get(path)
    return response.status_code, response.get_data(as_text=True)


def test_the_detail_page_shows_every_money_figure(app, auth, client, kitchen):
    company, integration = kitchen
    order_id = full_order(app, company, integration)
    auth.login(company.email("USER"))
    status, page = page_of(client, f"/orders/{order_id}")
    assert status == 200
    money = page.split("<h2>Money</h2>")[1].split("</section>")[0]
    for label, amount in (("Subtotal", "100.00"), ("Paid by the platform", "5.00"),
                          ("Paid by the restaurant", "7.00"), ("Paid by a third party", "3.00"),
                          ("Delivery fee", "9.00"), ("Service fee", "2.25"), ("Tax", "13.50"), ("Tip", "4.75"),
                          ("Total", "114.50"), ("Commission", "20.61"), ("After commission", "93.89"),
                          ("Cash to collect", "114.50")):
        row = money.split(label, 1)[1].split("</tr>")[0] if label != "Cash to collect" else money.split(label, 1)[1]
        assert f"SAR\u00a0{amount}" in row, label
    assert "(18%)" in money and "Cash" in money and "Payer not given" not in money


def test_a_discount_without_a_payer_is_shown_as_such(app, auth, client, kitchen):
    company, integration = kitchen
    order_id = full_order(app, company, integration, platform_discount=0, vendor_discount=0,
                          third_party_discount=0, discount_amount=Decimal("10.00"))
    auth.login(company.email("USER"))
    money = page_of(client, f"/orders/{order_id}")[1].split("<h2>Money</h2>")[1]
    assert "SAR\u00a010.00" in money.split("Payer not given")[1].split("</tr>")[0]


def test_the_detail_page_shows_the_order_the_customer_and_the_times(app, auth, client, kitchen):
    company, integration = kitchen
    order_id = full_order(app, company, integration)
    auth.login(company.email("USER"))
    page = page_of(client, f"/orders/{order_id}")[1]
    head = page.split('class="page-head order-head"')[1].split("</div>\n</div>")[0]
    assert "Talabat" in head and "#T00912" in head and ">42<" in head and "New" in head and "TEST" not in head
    times = page.split('class="facts order-times"')[1].split("</dl>")[0]
    for label, local in (("Placed", "10 Mar 2025, 21:00"), ("Accept by", "10 Mar 2025, 21:10"),
                         ("Scheduled for", "10 Mar 2025, 23:00"), ("Expected", "10 Mar 2025, 21:45")):
        assert local in times.split(label)[1].split("</div>")[0], label
    items = page.split('class="table order-items"')[1].split("</table>")[0]
    assert "Chicken Kabsa" in items and "2×" in items and "SAR\u00a031.00" in items and "SAR\u00a062.00" in items
    assert "Large" in items and '<span class="modifier-price">SAR\u00a04.00</span>' in items
    nested = items.split("Large")[1]
    assert '<ul class="modifiers">' in nested and "2× Extra rice" in nested and "SAR\u00a01.50" in nested
    assert '<bdi class="note" dir="auto">“No onions please”</bdi>' in items
    assert 'href="tel:+966551234567"' in page and "mailto:noura@example.com" in page
    assert "King Fahd Road" in page and '<bdi class="note order-notes" dir="auto">Ring twice, baby sleeping</bdi>' in page


def test_pickup_orders_say_so(app, auth, client, kitchen):
    company, integration = kitchen
    order_id = full_order(app, company, integration, order_type="PICKUP", delivery_address=None)
    auth.login(company.email("USER"))
    page = page_of(client, f"/orders/{order_id}")[1]
    assert "<h2>Pickup</h2>" in page and "collects this order" in page


def test_the_timeline_merges_status_changes_and_platform_calls_in_time_order(app, auth, client, kitchen):
    company, integration = kitchen
    order_id = full_order(app, company, integration)
    at = PLACED
    with app.app_context(), tenant(company.id):
        db.session.add_all([
            OrderStatusHistory(order_id=order_id, company_id=company.id, to_status="PENDING", source="PLATFORM",
                               reason="received from the platform", created_at=at),
            OrderStatusHistory(order_id=order_id, company_id=company.id, from_status="PENDING",
                               to_status="ACCEPTED", source="USER", user_id=company.user_id("USER"),
                               created_at=at + timedelta(minutes=2)),
            PlatformCall(integration_config_id=integration, order_id=order_id, company_id=company.id,
                         action="ORDER_ACCEPT", method="POST", url="http://127.0.0.1/a", status="FAILED",
                         attempts=2, max_attempts=5, response_status=503, error="platform busy",
                         created_at=at + timedelta(minutes=2, seconds=1)),
            PlatformCall(integration_config_id=integration, order_id=order_id, company_id=company.id,
                         action="ORDER_PICKED_UP", method="POST", url="http://127.0.0.1/b", status="DEAD",
                         attempts=5, max_attempts=5, error="gave up after 5 attempts",
                         created_at=at + timedelta(minutes=30)),
            OrderStatusHistory(order_id=order_id, company_id=company.id, from_status="ACCEPTED",
                               to_status="CANCELLED", source="SYSTEM", reason="ITEM_UNAVAILABLE",
                               created_at=at + timedelta(minutes=20)),
            PlatformCall(integration_config_id=integration, order_id=order_id, company_id=company.id,
                         action="ORDER_REJECT", method="POST", url="http://127.0.0.1/c", status="SUCCEEDED",
                         attempts=1, max_attempts=5, response_status=200, created_at=at + timedelta(minutes=21)),
        ])
        db.session.commit()
    auth.login(company.email("USER"))
    page = page_of(client, f"/orders/{order_id}")[1]
    timeline = page.split('class="table timeline"')[1].split("</table>")[0]
    rows = timeline.split("<tr class=")[1:]
    assert len(rows) == 6
    assert "Platform" in rows[0] and "received from the platform" in rows[0]
    assert "User Tester" in rows[1] and "Accepted" in rows[1] and "New" in rows[1]
    assert "ORDER_ACCEPT" in rows[2] and "Failed" in rows[2] and "HTTP 503" in rows[2] and "platform busy" in rows[2]
    assert "attempt 2 of 5" in rows[2]
    assert "System" in rows[3] and "Cancelled" in rows[3] and "Item unavailable" in rows[3]
    assert "ORDER_REJECT" in rows[4] and "Sent" in rows[4] and "HTTP 200" in rows[4]
    assert "ORDER_PICKED_UP" in rows[5] and "Gave up" in rows[5] and "attempt 5 of 5" in rows[5]
    assert "21:00" in rows[0] and "21:30" in rows[5]


def test_the_raw_payload_is_pretty_json_in_a_collapsed_details(app, auth, client, kitchen):
    company, integration = kitchen
    order_id = full_order(app, company, integration)
    auth.login(company.email("USER"))
    page = page_of(client, f"/orders/{order_id}")[1]
    details = page.split('<details class="card">')[1].split("</details>")[0]
    assert "What the platform sent" in details
    payload = html.unescape(details.split('<pre class="code" dir="ltr">')[1].split("</pre>")[0])
    assert '  "customer": {\n    "firstName": "نورة",' in payload  # indented, Arabic kept as it is


def test_a_webhook_order_renders_from_the_real_payload(app, auth, client, kitchen, webhooks, owner_conninfo):
    company, integration = kitchen
    response = webhooks.send("TALABAT", integration, json.loads((PAYLOADS / "talabat-order-example.json").read_text()), path="order/vendor-1")
    assert response.status_code == 200
    auth.login(company.email("USER"))
    _, _, ids = _listed_ids(client)
    page = page_of(client, f"/orders/{ids[0]}")[1]
    assert "Double Cheese Burger" in page and "Please hurry" in page and "#n0s1-w0k1" in page
    assert "received from the platform" in page and "&#34;token&#34;" in page


def _listed_ids(client):
    page = client.get("/orders/").get_data(as_text=True)
    return None, page, re.findall(r'id="order-row-([0-9a-f-]{36})"', page)


def test_actions_of_a_new_order_post_to_the_board_action_with_csrf(app, auth, client, kitchen):
    company, integration = kitchen
    order_id = full_order(app, company, integration)
    auth.login(company.email("USER"))
    page = page_of(client, f"/orders/{order_id}")[1]
    actions = page.split('id="actions"')[1].split("</section>")[0]
    # A new order is accepted or rejected; nothing else makes sense yet.
    assert re.findall(rf'action="/orders/{order_id}/actions/(\w+)"', actions) == ["accept", "reject"]
    for action in ("accept", "reject"):
        form = actions.split(f'action="/orders/{order_id}/actions/{action}"')[1].split("</form>")[0]
        assert 'name="csrf_token"' in form and f'name="next" value="/orders/{order_id}"' in form, action
    accept = actions.split("/actions/accept")[1].split("</form>")[0]
    assert 'type="number"' in accept and 'name="preparation_minutes"' in accept and 'value="15"' in accept
    reject = actions.split("/actions/reject")[1].split("</form>")[0]
    assert '<select id="reason-reject" name="reason" required>' in reject and 'value="ITEM_UNAVAILABLE"' in reject
    assert actions.index("/actions/accept") < actions.index("/actions/reject")  # the next step comes first

    token = csrf_token(client, f"/orders/{order_id}")
    response = client.post(f"/orders/{order_id}/actions/accept",
                           data={"csrf_token": token, "preparation_minutes": "25", "next": f"/orders/{order_id}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/orders/{order_id}")
    page = page_of(client, f"/orders/{order_id}")[1]
    assert "Accepted" in page.split("<h1")[1].split("</h1>")[0]
    assert "User Tester" in page.split('class="table timeline"')[1] and "25 min" in page
    assert "/actions/accept" not in page and "/actions/start" in page


def test_finished_orders_have_no_actions(app, auth, client, kitchen):
    company, integration = kitchen
    order_id = full_order(app, company, integration, status="DELIVERED")
    auth.login(company.email("USER"))
    page = page_of(client, f"/orders/{order_id}")[1]
    assert 'id="actions"' not in page and "/actions/" not in page


def test_test_orders_are_labelled(app, auth, client, kitchen):
    company, integration = kitchen
    order_id = full_order(app, company, integration, is_test=True)
    auth.login(company.email("USER"))
    page = page_of(client, f"/orders/{order_id}")[1]
    assert "test-badge" in page.split("<h1")[1].split("</h1>")[0] and "must not be cooked" in page


# --- Kitchen ticket --------------------------------------------------------------------------------

def test_the_ticket_is_a_receipt_with_no_prices_but_the_total(app, auth, client, kitchen):
    company, integration = kitchen
    order_id = full_order(app, company, integration)
    auth.login(company.email("USER"))
    status, ticket = page_of(client, f"/orders/{order_id}/ticket")
    assert status == 200
    assert "css/ticket.css" in ticket and "<style" not in ticket and "onclick" not in ticket  # strict CSP
    sheet = client.get("/static/css/ticket.css").get_data(as_text=True)
    assert "@page { size: 80mm auto" in sheet and "@media print" in sheet
    assert "mainnav" not in ticket and "topbar" not in ticket and "portal.css" not in ticket
    assert '<div class="number">#T00912</div>' in ticket and '<div class="code"' in ticket
    assert "Talabat" in ticket and "Delivery" in ticket and "10 Mar 2025, 21:00" in ticket
    assert "Scheduled for 10 Mar, 23:00" in ticket
    assert "Chicken Kabsa" in ticket and "Large" in ticket and "2× Extra rice" in ticket
    assert "No onions please" in ticket and "Ring twice, baby sleeping" in ticket
    assert re.findall(r"SAR\u00a0[\d.,]+", ticket) == ["SAR\u00a0114.50"]  # the total, and no other price
    assert "data-auto-print" not in ticket and "TEST ORDER" not in ticket
    assert "<body data-auto-print>" in page_of(client, f"/orders/{order_id}/ticket?print=1")[1]  # js/ticket.js prints


def test_the_ticket_of_a_test_order_says_do_not_cook(app, auth, client, kitchen):
    company, integration = kitchen
    order_id = full_order(app, company, integration, is_test=True)
    auth.login(company.email("USER"))
    assert "TEST ORDER — DO NOT COOK" in page_of(client, f"/orders/{order_id}/ticket")[1]
    cancelled = full_order(app, company, integration, status="CANCELLED", order_number="C1",
                           platform_order_id="P-cancelled")
    assert "Cancelled — DO NOT COOK" in page_of(client, f"/orders/{cancelled}/ticket")[1]


def test_the_ticket_in_arabic_shows_the_arabic_item_names(app, auth, client, kitchen):
    company, integration = kitchen
    order_id = full_order(app, company, integration)
    auth.login(company.email("USER"))
    auth.post("/language", {"locale": "ar"})
    ticket = page_of(client, f"/orders/{order_id}/ticket")[1]
    assert 'dir="rtl"' in ticket and "كبسة دجاج" in ticket and "ليمون بالنعناع" in ticket
    assert "Chicken Kabsa" not in ticket
    assert "كبسة دجاج" in page_of(client, f"/orders/{order_id}")[1]


# --- Not found, and other companies ----------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["", "/ticket"])
def test_unknown_garbage_and_other_companies_ids_are_not_found(app, auth, client, two_companies, make_integration,
                                                               suffix):
    alpha, beta = two_companies
    mine = full_order(app, alpha, make_integration(alpha, "TALABAT"))
    theirs = full_order(app, beta, make_integration(beta, "TALABAT"), customer_name="Yousef Al-Enezi",
                        currency="KWD")
    auth.login(alpha.email("COMPANY_ADMIN"))
    assert client.get(f"/orders/{mine}{suffix}").status_code == 200
    for order_id in (theirs, uuid.uuid4(), "not-a-uuid", "1", "%00", str(theirs).upper()):
        response = client.get(f"/orders/{order_id}{suffix}")
        assert response.status_code == 404, order_id
        assert "Yousef" not in response.get_data(as_text=True)
