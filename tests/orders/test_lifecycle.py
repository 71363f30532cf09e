"""Staff moves that make sense: from the order's state, for who delivers it, every platform step pushed in order."""
import re

import psycopg
import pytest

from portal.extensions import db
from portal.models import User
from portal.orders.services import perform
from portal.queue import run_worker
from portal.tenancy import tenant
from tests.orders.helpers import add_order
from tests.webhooks.test_retries import platform_server  # noqa: F401  (fixture)

RESTAURANT_DELIVERS = {"platform_data": {"delivery": {"riderPickupTime": None}}}  # Talabat, vendor delivery
RIDER_COLLECTS = {"platform_data": {"delivery": {"riderPickupTime": "2025-03-10T18:30:00.000Z"}}}


def _rows(conninfo, sql, params=()):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchall()


def _offered(client, order_id):
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    return page, re.findall(rf'action="/orders/{order_id}/actions/(\w+)"', page)


def _form(page, order_id, action):
    return page.split(f'action="/orders/{order_id}/actions/{action}"')[1].split(">")[0]


@pytest.mark.parametrize("status, values, offered", [
    ("PENDING", {}, ["accept", "reject"]),
    ("ACCEPTED", {}, ["start", "ready", "cancel"]),
    ("IN_PREPARATION", {}, ["ready", "cancel"]),
    ("READY_FOR_PICKUP", RESTAURANT_DELIVERS, ["picked_up", "deliver", "cancel"]),
    ("READY_FOR_PICKUP", {"order_type": "PICKUP"}, ["picked_up", "deliver", "cancel"]),
    ("READY_FOR_PICKUP", RIDER_COLLECTS, ["cancel"]),
    ("OUT_FOR_DELIVERY", RESTAURANT_DELIVERS, ["deliver", "cancel"]),
    ("OUT_FOR_DELIVERY", RIDER_COLLECTS, []),
])
def test_the_order_page_offers_only_the_moves_that_make_sense(app, auth, client, kitchen_with_api, status, values,
                                                               offered):
    company, integration_id = kitchen_with_api
    order_id = add_order(app, company, integration_id, status=status, **values)
    auth.login(company.email("USER"))
    assert _offered(client, order_id)[1] == offered


def test_moves_that_skip_steps_ask_for_confirmation(app, auth, client, kitchen_with_api):
    company, integration_id = kitchen_with_api
    ready = add_order(app, company, integration_id, status="READY_FOR_PICKUP", order_number="R1", **RESTAURANT_DELIVERS)
    accepted = add_order(app, company, integration_id, status="ACCEPTED", order_number="A1")
    auth.login(company.email("USER"))
    page, _ = _offered(client, ready)
    assert 'data-confirm="Mark order #R1 delivered? This skips Picked up;' in _form(page, ready, "deliver")
    assert "data-confirm" not in _form(page, ready, "picked_up")
    page, _ = _offered(client, accepted)
    assert "This skips Start preparing;" in _form(page, accepted, "ready")
    assert "data-confirm" not in _form(page, accepted, "start")


@pytest.mark.parametrize("status, action, values, message", [
    ("PENDING", "deliver", {}, "Accept or reject a new order first."),
    ("PENDING", "cancel", {}, "Accept or reject a new order first."),
    ("READY_FOR_PICKUP", "deliver", RIDER_COLLECTS,
     "A Talabat rider collects this order: Talabat reports when it is picked up and delivered."),
    ("READY_FOR_PICKUP", "picked_up", {},
     "A Talabat rider collects this order: Talabat reports when it is picked up and delivered."),
    ("OUT_FOR_DELIVERY", "cancel", RIDER_COLLECTS,
     "This order is with the Talabat rider; it can no longer be cancelled here."),
    ("ACCEPTED", "reject", {}, "An order that is accepted cannot be changed with “Reject”."),
    ("DELIVERED", "cancel", {}, "This order is already delivered; it cannot be changed that way."),
])
def test_the_server_refuses_a_move_staff_may_not_make_and_says_why(app, auth, client, kitchen_with_api, owner_conninfo,
                                                                    status, action, values, message):
    company, integration_id = kitchen_with_api
    order_id = add_order(app, company, integration_id, status=status, **values)
    auth.login(company.email("USER"))
    response = auth.post(f"/orders/{order_id}/actions/{action}", {"reason": "ITEM_UNAVAILABLE",
                                                                   "next": f"/orders/{order_id}"},
                         page=f"/orders/{order_id}", follow_redirects=True)
    assert message in response.get_data(as_text=True).replace("&#34;", '"').replace("&#39;", "'")
    assert _rows(owner_conninfo, "SELECT status FROM delivery_orders") == [(status,)]
    assert _rows(owner_conninfo, "SELECT count(*) FROM order_status_history") == [(0,)]
    assert _rows(owner_conninfo, "SELECT count(*) FROM platform_calls") == [(0,)]


def test_delivered_from_ready_pushes_the_pick_up_the_platform_needs(app, kitchen_with_api, owner_conninfo):
    """Talabat needs "picked up" for a vendor-delivered order; "delivered" has no call, the push is not skipped."""
    company, integration_id = kitchen_with_api
    order_id = add_order(app, company, integration_id, status="READY_FOR_PICKUP", **RESTAURANT_DELIVERS)
    with app.app_context(), tenant(company.id):
        perform(order_id, "deliver", db.session.get(User, company.user_id("USER")))
    assert _rows(owner_conninfo, "SELECT action, status, request_body ->> 'status' FROM platform_calls") == [
        ("STATUS_OUT_FOR_DELIVERY", "QUEUED", "order_picked_up")]
    assert _rows(owner_conninfo, "SELECT status, last_push_status FROM delivery_orders") == [("DELIVERED", "QUEUED")]


def test_a_skip_pushes_every_step_in_order_one_after_the_other(app, make_company, make_integration, owner_conninfo,
                                                               platform_server):  # noqa: F811
    server, recorder = platform_server
    company = make_company("Nashmi Kitchen")
    integration_id = make_integration(company, "NASHMI", base_url=f"http://127.0.0.1:{server.server_port}")
    order_id = add_order(app, company, integration_id, status="ACCEPTED", order_type="PICKUP")
    with app.app_context(), tenant(company.id):
        perform(order_id, "ready", db.session.get(User, company.user_id("USER")))
    assert _rows(owner_conninfo, "SELECT action FROM platform_calls ORDER BY created_at") == [
        ("STATUS_IN_PREPARATION",), ("STATUS_READY_FOR_PICKUP",)]
    with app.app_context(), tenant(company.id):
        perform(order_id, "deliver", db.session.get(User, company.user_id("USER")))
    run_worker(app, concurrency=1, wait=False)
    assert [body["status"] for _method, _path, body, _headers in recorder.received] == [
        "preparing", "ready", "picked_up", "delivered"]
    assert _rows(owner_conninfo, "SELECT status, count(*) FROM platform_calls GROUP BY status") == [("SUCCEEDED", 4)]
    assert _rows(owner_conninfo, "SELECT last_push_status FROM delivery_orders") == [("SUCCEEDED",)]


def test_a_call_that_gives_up_lets_the_next_one_go(app, make_company, make_integration, owner_conninfo,
                                                   platform_server):  # noqa: F811
    server, recorder = platform_server
    recorder.answer = 503
    company = make_company("Nashmi Kitchen")
    integration_id = make_integration(company, "NASHMI", base_url=f"http://127.0.0.1:{server.server_port}")
    order_id = add_order(app, company, integration_id, status="ACCEPTED", order_type="PICKUP")
    app.config["PLATFORM_CALL_MAX_ATTEMPTS"], attempts = 1, app.config["PLATFORM_CALL_MAX_ATTEMPTS"]
    try:
        with app.app_context(), tenant(company.id):
            perform(order_id, "ready", db.session.get(User, company.user_id("USER")))
        run_worker(app, concurrency=1, wait=False)
    finally:
        app.config["PLATFORM_CALL_MAX_ATTEMPTS"] = attempts
    assert [body["status"] for _method, _path, body, _headers in recorder.received] == ["preparing", "ready"]
    assert _rows(owner_conninfo, "SELECT status FROM platform_calls ORDER BY created_at") == [("DEAD",), ("DEAD",)]


def test_the_board_offers_no_pick_up_for_a_rider_order(app, auth, client, kitchen_with_api):
    company, integration_id = kitchen_with_api
    rider = add_order(app, company, integration_id, status="READY_FOR_PICKUP", order_number="RIDER1", **RIDER_COLLECTS)
    own = add_order(app, company, integration_id, status="READY_FOR_PICKUP", order_number="OWN1", **RESTAURANT_DELIVERS)
    auth.login(company.email("USER"))
    page = client.get("/board").get_data(as_text=True)
    rider_card = page.split(f'id="order-{rider}"')[1].split("</article>")[0]
    own_card = page.split(f'id="order-{own}"')[1].split("</article>")[0]
    assert 'data-action="picked_up"' in own_card
    assert "data-action=" not in rider_card and "The Talabat rider collects it." in rider_card
