"""What staff do to an order: accept, reject, start, ready, picked up, delivered, cancel.

One function, `perform`, owns every staff action: it locks the order row (two people pressing at
once apply one change), asks the lifecycle whether the move is allowed, stamps and records it,
queues the push to the platform in the same transaction, and writes the audit log.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, text
from sqlalchemy.orm import defer

from ..extensions import db
from ..i18n import STATUS_LABELS
from ..integrations.outbound import queue_status_push
from ..models import AuditLog, DeliveryOrder, IntegrationConfig, OrderStatus
from ..platforms import adapter_for
from .lifecycle import TransitionRefused, apply_status, can_move


@dataclass(frozen=True)
class Action:
    name: str
    target: OrderStatus
    label: object
    needs_reason: bool = False
    needs_preparation_time: bool = False


ACTIONS = {action.name: action for action in (
    Action("accept", OrderStatus.ACCEPTED, _l("Accept"), needs_preparation_time=True),
    Action("reject", OrderStatus.REJECTED, _l("Reject"), needs_reason=True),
    Action("start", OrderStatus.IN_PREPARATION, _l("Start preparing")),
    Action("ready", OrderStatus.READY_FOR_PICKUP, _l("Ready")),
    Action("picked_up", OrderStatus.OUT_FOR_DELIVERY, _l("Picked up")),
    Action("deliver", OrderStatus.DELIVERED, _l("Delivered")),
    Action("cancel", OrderStatus.CANCELLED, _l("Cancel"), needs_reason=True),
)}
# The "next" step of the normal path, for the n key and the big button on a card.
NEXT_ACTION = {
    OrderStatus.PENDING: "accept",
    OrderStatus.ACCEPTED: "start",
    OrderStatus.IN_PREPARATION: "ready",
    OrderStatus.READY_FOR_PICKUP: "picked_up",
    OrderStatus.OUT_FOR_DELIVERY: "deliver",
}
DEFAULT_PREPARATION_MINUTES = 15


class ActionRefused(ValueError):
    """An action that cannot be done; the message is for the person who tried."""


def available_actions(order):
    """The actions the lifecycle allows for this order now, next step first."""
    names = [name for name, action in ACTIONS.items() if can_move(order.status, action.target)]
    following = NEXT_ACTION.get(order.status)
    return sorted(names, key=lambda name: (name != following, list(ACTIONS).index(name)))


def reasons_for(order, action_name):
    """(code, label) reasons the order's platform accepts for a reject or cancel."""
    adapter = adapter_for(order.platform)
    return adapter.reject_reasons if action_name == "reject" else adapter.cancel_reasons


def perform(order_id, action_name, user, reason=None, preparation_minutes=None):
    """Apply a staff action to an order and queue the push to its platform; returns the order."""
    action = ACTIONS.get(action_name)
    if action is None:
        raise ActionRefused(_l("Unknown action."))
    order = db.session.scalar(select(DeliveryOrder).where(DeliveryOrder.id == order_id).with_for_update())
    if order is None:
        raise LookupError("no such order")
    if not can_move(order.status, action.target):
        raise ActionRefused(_l("This order is already %(status)s; it cannot be changed that way.",
                               status=str(STATUS_LABELS.get(order.status.value, order.status.value)).lower()))
    if action.needs_reason:
        codes = {code for code, _ in reasons_for(order, action_name)}
        if reason not in codes:
            raise ActionRefused(_l("Choose a reason from the list."))
    if action.needs_preparation_time:
        try:
            preparation_minutes = int(preparation_minutes or DEFAULT_PREPARATION_MINUTES)
        except (TypeError, ValueError):
            raise ActionRefused(_l("Preparation time must be a number of minutes.")) from None
        if not 1 <= preparation_minutes <= 240:
            raise ActionRefused(_l("Preparation time must be between 1 and 240 minutes."))
        order.preparation_minutes = preparation_minutes
    previous = order.status
    try:
        apply_status(order, action.target, source="USER", user_id=user.id, reason=reason)
    except TransitionRefused as error:
        raise ActionRefused(str(error)) from error
    integration = db.session.get(IntegrationConfig, order.integration_config_id)
    queue_status_push(order, integration, action.target, reason=reason,
                      preparation_minutes=preparation_minutes, user_id=user.id)
    db.session.add(AuditLog(table_name="delivery_orders", operation=f"ORDER_{action_name.upper()}",
                            record_id=order.id, company_id=order.company_id, user_id=user.id,
                            old_values={"status": previous.value},
                            new_values={"status": action.target.value, "reason": reason,
                                        "preparation_minutes": preparation_minutes,
                                        "order_number": order.order_number}))
    db.session.commit()
    return order


# --- The live board -------------------------------------------------------------------------------

LANES = (
    ("new", _l("New"), (OrderStatus.PENDING,)),
    ("preparing", _l("Preparing"), (OrderStatus.ACCEPTED, OrderStatus.IN_PREPARATION)),
    ("ready", _l("Ready"), (OrderStatus.READY_FOR_PICKUP,)),
    ("on_the_way", _l("On the way"), (OrderStatus.OUT_FOR_DELIVERY,)),
    ("done", _l("Done today"), (OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REJECTED)),
)
DONE_CARDS = 40  # the newest finished orders; the Orders page has the rest
OPEN = tuple(status for _, _, statuses in LANES[:4] for status in statuses)
DONE = LANES[4][2]


def board_orders(company_id, day_start, platform=None, search=None):
    """Open orders, and those finished since `day_start`, grouped by lane (test orders never)."""
    # The raw platform payload is large and no card shows it.
    base = (select(DeliveryOrder).options(defer(DeliveryOrder.platform_data))
            .where(DeliveryOrder.company_id == company_id, DeliveryOrder.is_test.is_(False)))
    if platform:
        base = base.where(DeliveryOrder.platform == platform)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        base = base.where(or_(DeliveryOrder.order_number.ilike(pattern), DeliveryOrder.short_code.ilike(pattern),
                              DeliveryOrder.customer_name.ilike(pattern)))
    open_orders = db.session.scalars(base.where(DeliveryOrder.status.in_(OPEN))
                                     .order_by(DeliveryOrder.created_at)).all()
    done = db.session.scalars(base.where(DeliveryOrder.status.in_(DONE), DeliveryOrder.updated_at >= day_start)
                              .order_by(DeliveryOrder.updated_at.desc()).limit(DONE_CARDS)).all()
    lanes = {key: [] for key, _, _ in LANES}
    lane_of = {status: key for key, _, statuses in LANES for status in statuses}
    for order in open_orders:
        lanes[lane_of[order.status]].append(order)
    lanes["done"] = list(done)
    return lanes


_BOARD_VERSION = text(
    "SELECT coalesce(extract(epoch FROM greatest("
    " (SELECT max(updated_at) FROM delivery_orders WHERE company_id = :company),"
    " (SELECT max(updated_at) FROM integration_configs WHERE company_id = :company))), 0)")


def board_version(company_id):
    """Changes whenever an order or an integration of the company changes: the board's poll key.

    Two index probes (idx_orders_company_updated), so an unchanged poll costs almost nothing.
    """
    return f"{db.session.scalar(_BOARD_VERSION, {'company': company_id}):.6f}"
