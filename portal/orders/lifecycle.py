"""The order lifecycle: which status may follow which, and what a change records.

Platform events and staff actions both go through `apply_status`, so every change gets its
timestamp, a status-history row, and the same rule that an order never moves backwards. Staff have
a narrower rule (`staff_can_move`): the moves that make sense from the order's state and for who
delivers it; only pickup orders and orders the restaurant delivers are marked delivered by staff.

One move leaves a terminal state: a platform may cancel an order after it was delivered (its way
of reporting a refund). Staff cannot; a manager records a refund on the order's loyalty panel.
Delivered orders earn loyalty points and cancelled ones give them back (`loyalty.ledger`).
"""
from datetime import datetime, timezone

from sqlalchemy import select

from ..extensions import db
from ..hooks import order_status_changed
from ..models import DeliveryOrder, OrderStatus, OrderStatusHistory

# Progress along the normal path; terminal states end it.
PROGRESS = {
    OrderStatus.PENDING: 0,
    OrderStatus.ACCEPTED: 1,
    OrderStatus.IN_PREPARATION: 2,
    OrderStatus.READY_FOR_PICKUP: 3,
    OrderStatus.OUT_FOR_DELIVERY: 4,
    OrderStatus.DELIVERED: 5,
}
TERMINAL = {OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REJECTED}
TIMESTAMP_OF = {
    OrderStatus.ACCEPTED: "accepted_at",
    OrderStatus.REJECTED: "rejected_at",
    OrderStatus.READY_FOR_PICKUP: "ready_at",
    OrderStatus.OUT_FOR_DELIVERY: "picked_up_at",
    OrderStatus.DELIVERED: "completed_at",
    OrderStatus.CANCELLED: "cancelled_at",
}


# What staff may do from each open state, the next step first. Platforms may skip further (can_move):
# staff accept or reject a new order before anything else, and never reject an accepted one.
STAFF_MOVES = {
    OrderStatus.PENDING: (OrderStatus.ACCEPTED, OrderStatus.REJECTED),
    OrderStatus.ACCEPTED: (OrderStatus.IN_PREPARATION, OrderStatus.READY_FOR_PICKUP, OrderStatus.CANCELLED),
    OrderStatus.IN_PREPARATION: (OrderStatus.READY_FOR_PICKUP, OrderStatus.CANCELLED),
    OrderStatus.READY_FOR_PICKUP: (OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED, OrderStatus.CANCELLED),
    OrderStatus.OUT_FOR_DELIVERY: (OrderStatus.DELIVERED, OrderStatus.CANCELLED),
}
# When the platform's rider collects an order, the platform reports these, not staff.
RIDER_REPORTS = {OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED}


class TransitionRefused(ValueError):
    """A status change the lifecycle does not allow; the message says why."""


def can_move(current, target, source=None):
    """True if an order in `current` may move to `target` (never backwards, nothing after the end,
    except a platform's cancellation or refund of a delivered order)."""
    if current == OrderStatus.DELIVERED and target == OrderStatus.CANCELLED and source == "PLATFORM":
        return True
    if current in TERMINAL or current == target:
        return False
    if target == OrderStatus.REJECTED:
        return current == OrderStatus.PENDING
    if target == OrderStatus.CANCELLED:
        return True
    return PROGRESS[target] > PROGRESS[current]


def steps_between(current, target):
    """The statuses an order passes moving from `current` to `target`, in order, `target` last.

    A move along the normal path that skips steps passes each skipped step; any other move is one step.
    """
    target = OrderStatus(target)
    if current not in PROGRESS or target not in PROGRESS:
        return [target]
    return [status for status, rank in PROGRESS.items() if PROGRESS[current] < rank <= PROGRESS[target]]


def skips_steps(current, target):
    """True when moving from `current` to `target` passes steps in between (staff confirm those)."""
    return len(steps_between(current, target)) > 1


def staff_can_move(current, target, rider_collects):
    """True if staff may move an order in `current` to `target`.

    `rider_collects`: the platform's rider collects the order, so its pick-up and delivery are the
    platform's to report, and staff cannot cancel it once it left the restaurant.
    """
    target = OrderStatus(target)
    if target not in STAFF_MOVES.get(current, ()):
        return False
    return not (rider_collects and (target in RIDER_REPORTS or current == OrderStatus.OUT_FOR_DELIVERY))


def lock_order(order_id):
    """The order, locked for this transaction and read again (two people pressing at once apply one change)."""
    return db.session.scalar(select(DeliveryOrder).where(DeliveryOrder.id == order_id).with_for_update()
                             .execution_options(populate_existing=True))


def apply_status(order, target, *, source="USER", user_id=None, reason=None, at=None):
    """Move a (locked) order to `target`, stamping the time and writing the history row.

    Raises TransitionRefused when the lifecycle does not allow the move.
    """
    target = OrderStatus(target)
    if not can_move(order.status, target, source=source):
        raise TransitionRefused(f"An order that is {order.status.value} cannot become {target.value}.")
    at = at or datetime.now(timezone.utc)
    previous = order.status
    order.status = target
    stamp = TIMESTAMP_OF.get(target)
    if stamp and getattr(order, stamp) is None:
        setattr(order, stamp, at)
    if target in (OrderStatus.READY_FOR_PICKUP, OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED) \
            and order.accepted_at is None:
        order.accepted_at = at  # a platform may skip steps we never saw
    db.session.add(OrderStatusHistory(order_id=order.id, company_id=order.company_id, from_status=previous,
                                      to_status=target, source=source, user_id=user_id, reason=reason))
    order_status_changed.send(order, previous=previous, target=target, source=source, user_id=user_id,
                              reason=reason)
    return previous
