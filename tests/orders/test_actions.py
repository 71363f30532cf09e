"""The order lifecycle as staff drive it: every (state, action) pair, concurrency, pushes, audit."""
import threading

import psycopg
import pytest

from portal.extensions import db
from portal.models import DeliveryOrder, OrderStatus, User
from portal.orders.lifecycle import can_move, staff_can_move, steps_between
from portal.orders.services import ACTIONS, ActionRefused, perform
from portal.tenancy import tenant
from tests.orders.helpers import add_order

REASONS = {"reject": "ITEM_UNAVAILABLE", "cancel": "ITEM_UNAVAILABLE"}


def _rows(conninfo, sql, params=()):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchall()


# Who delivers: a Talabat rider (no riderPickupTime means the restaurant delivers), or the customer collects.
DELIVERY = {"rider": {}, "restaurant": {"platform_data": {"delivery": {"riderPickupTime": None}}},
            "pickup": {"order_type": "PICKUP"}}


@pytest.mark.parametrize("delivery", list(DELIVERY))
@pytest.mark.parametrize("status", [status.value for status in OrderStatus])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_state_and_action(app, kitchen_with_api, owner_conninfo, status, action, delivery):
    company, integration_id = kitchen_with_api
    order_id = add_order(app, company, integration_id, status=status, **DELIVERY[delivery])
    allowed = staff_can_move(OrderStatus(status), ACTIONS[action].target, rider_collects=delivery == "rider")
    with app.app_context(), tenant(company.id):
        user = db.session.get(User, company.user_id("USER"))
        if allowed:
            perform(order_id, action, user, reason=REASONS.get(action), preparation_minutes=20)
        else:
            with pytest.raises(ActionRefused):
                perform(order_id, action, user, reason=REASONS.get(action), preparation_minutes=20)
            db.session.rollback()
    (final, history, calls, audits), = _rows(owner_conninfo, """
        SELECT o.status, (SELECT count(*) FROM order_status_history h WHERE h.order_id = o.id),
               (SELECT count(*) FROM platform_calls c WHERE c.order_id = o.id),
               (SELECT count(*) FROM audit_logs a WHERE a.record_id = o.id)
        FROM delivery_orders o WHERE o.id = %s""", (order_id,))
    if allowed:
        assert final == ACTIONS[action].target.value
        assert history == 1 and audits == 1
        # some steps have no platform call (e.g. "start preparing"); a skip pushes each step it passes
        assert calls <= len(steps_between(OrderStatus(status), ACTIONS[action].target))
    else:
        assert (final, history, calls, audits) == (status, 0, 0, 0)


def test_staff_moves_make_sense_for_the_state_and_who_delivers():
    new, ready, on_the_way = OrderStatus.PENDING, OrderStatus.READY_FOR_PICKUP, OrderStatus.OUT_FOR_DELIVERY
    assert not staff_can_move(new, OrderStatus.DELIVERED, rider_collects=False)   # a new order is accepted first
    assert not staff_can_move(new, OrderStatus.CANCELLED, rider_collects=False)   # …or rejected
    assert staff_can_move(ready, OrderStatus.DELIVERED, rider_collects=False)
    assert not staff_can_move(ready, OrderStatus.DELIVERED, rider_collects=True)  # the platform reports it
    assert not staff_can_move(ready, OrderStatus.OUT_FOR_DELIVERY, rider_collects=True)
    assert not staff_can_move(on_the_way, OrderStatus.CANCELLED, rider_collects=True)
    assert staff_can_move(on_the_way, OrderStatus.CANCELLED, rider_collects=False)
    assert steps_between(OrderStatus.ACCEPTED, OrderStatus.DELIVERED) == [
        OrderStatus.IN_PREPARATION, ready, on_the_way, OrderStatus.DELIVERED]
    assert steps_between(OrderStatus.ACCEPTED, OrderStatus.CANCELLED) == [OrderStatus.CANCELLED]


def test_never_backwards_and_nothing_after_the_end():
    assert not can_move(OrderStatus.READY_FOR_PICKUP, OrderStatus.ACCEPTED)
    assert not can_move(OrderStatus.DELIVERED, OrderStatus.CANCELLED)
    assert not can_move(OrderStatus.ACCEPTED, OrderStatus.REJECTED)  # accepted orders are cancelled, not rejected
    assert can_move(OrderStatus.PENDING, OrderStatus.READY_FOR_PICKUP)  # platforms may skip steps


def test_accept_records_time_preparation_and_queues_the_push(app, kitchen_with_api, owner_conninfo):
    company, integration_id = kitchen_with_api
    order_id = add_order(app, company, integration_id)
    with app.app_context(), tenant(company.id):
        perform(order_id, "accept", db.session.get(User, company.user_id("USER")), preparation_minutes=25)
    (accepted_at, minutes, push), = _rows(owner_conninfo, "SELECT accepted_at, preparation_minutes, "
                                                           "last_push_status FROM delivery_orders")
    assert accepted_at is not None and minutes == 25 and push == "QUEUED"
    (action, url, job), = _rows(owner_conninfo, "SELECT c.action, c.url, (SELECT task_name FROM procrastinate_jobs) "
                                               "FROM platform_calls c")
    assert action == "STATUS_ACCEPTED" and url.startswith("http://127.0.0.1:9/talabat") and job == "send_platform_call"


@pytest.mark.parametrize("reason", [None, "", "I_DONT_LIKE_IT", "item_unavailable"])
def test_reject_needs_a_reason_from_the_platforms_list(app, kitchen_with_api, reason):
    company, integration_id = kitchen_with_api
    order_id = add_order(app, company, integration_id)
    with app.app_context(), tenant(company.id):
        with pytest.raises(ActionRefused):
            perform(order_id, "reject", db.session.get(User, company.user_id("USER")), reason=reason)
        db.session.rollback()
        assert db.session.get(DeliveryOrder, order_id).status == OrderStatus.PENDING


@pytest.mark.parametrize("minutes", ["0", "abc", "999", "-5"])
def test_accept_refuses_a_bad_preparation_time(app, kitchen_with_api, minutes):
    company, integration_id = kitchen_with_api
    order_id = add_order(app, company, integration_id)
    with app.app_context(), tenant(company.id), pytest.raises(ActionRefused):
        perform(order_id, "accept", db.session.get(User, company.user_id("USER")), preparation_minutes=minutes)


def test_two_people_accepting_at_once_apply_one_change(app, kitchen_with_api, owner_conninfo):
    company, integration_id = kitchen_with_api
    order_id = add_order(app, company, integration_id)
    barrier = threading.Barrier(4)
    outcomes = []

    def accept(role):
        with app.app_context(), tenant(company.id):
            user = db.session.get(User, company.user_id(role))
            db.session.commit()
            barrier.wait()
            try:
                perform(order_id, "accept", user, preparation_minutes=15)
                outcomes.append("accepted")
            except ActionRefused:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=accept, args=(role,)) for role in ("USER", "MANAGER", "COMPANY_ADMIN", "USER")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "refused", "refused", "refused"]
    assert _rows(owner_conninfo, "SELECT count(*) FROM order_status_history WHERE to_status = 'ACCEPTED'") == [(1,)]
    assert _rows(owner_conninfo, "SELECT count(*) FROM platform_calls") == [(1,)]
