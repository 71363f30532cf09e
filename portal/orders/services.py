"""What staff do to an order: accept, reject, start, ready, picked up, delivered, cancel.

One function, `perform`, owns every staff action: it locks the order row (two people pressing at
once apply one change), asks the lifecycle whether staff may make the move (from this state, for
who delivers the order), stamps and records it, queues the pushes to the platform in the same
transaction (one per step the platform has a call for, in order), and writes the audit log.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, text

from ..extensions import db
from ..i18n import STATUS_LABELS
from ..integrations.outbound import queue_status_pushes
from ..models import AuditLog, DeliveryOrder, IntegrationConfig, OrderStatus, OrderStatusHistory
from ..platforms import adapter_for
from .lifecycle import (RIDER_REPORTS, TERMINAL, TransitionRefused, apply_status, lock_order, skips_steps,
                        staff_can_move, steps_between)


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
ACTION_TO = {action.target: action for action in ACTIONS.values()}
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


def rider_collects(order):
    """True when the platform's rider collects the order (its pick-up and delivery are the platform's)."""
    return adapter_for(order.platform).rider_collects(order)


def available_actions(order):
    """The actions staff may take on this order now, next step first."""
    rider = rider_collects(order)
    names = [name for name, action in ACTIONS.items() if staff_can_move(order.status, action.target, rider)]
    following = NEXT_ACTION.get(order.status)
    return sorted(names, key=lambda name: (name != following, list(ACTIONS).index(name)))


def next_action(order):
    """The next step of the normal path, when staff may take it (the big button on a card), or None."""
    name = NEXT_ACTION.get(order.status)
    if name is None or not staff_can_move(order.status, ACTIONS[name].target, rider_collects(order)):
        return None
    return name


def _status_label(status):
    return str(STATUS_LABELS.get(status.value, status.value)).lower()


def skip_confirmation(order, action_name):
    """The question to confirm an action that skips steps ("… skips Picked up …"), or None."""
    target = ACTIONS[action_name].target
    if not skips_steps(order.status, target):
        return None
    skipped = ", ".join(str(ACTION_TO[status].label) for status in steps_between(order.status, target)[:-1])
    return _("Mark order #%(number)s %(status)s? This skips %(skipped)s; the platform is told every step in order.",
             number=order.order_number, status=_status_label(target), skipped=skipped)


def refusal(order, action, rider):
    """Why staff may not take `action` on the order now, in words for the person who tried."""
    platform = adapter_for(order.platform).display_name
    if order.status in TERMINAL or order.status == action.target:
        return _l("This order is already %(status)s; it cannot be changed that way.",
                  status=_status_label(order.status))
    if order.status == OrderStatus.PENDING:
        return _l("Accept or reject a new order first.")
    if rider and action.target in RIDER_REPORTS:
        return _l("A %(platform)s rider collects this order: %(platform)s reports when it is picked up and "
                  "delivered.", platform=platform)
    if rider and order.status == OrderStatus.OUT_FOR_DELIVERY:
        return _l("This order is with the %(platform)s rider; it can no longer be cancelled here.", platform=platform)
    return _l("An order that is %(status)s cannot be changed with “%(action)s”.",
              status=_status_label(order.status), action=action.label)


def done_message(order, action_name, reason=None):
    """What staff read after an action, as a sentence: "Order #T0912 rejected: Too busy."."""
    number = order.order_number
    label = str(dict(reasons_for(order, action_name)).get(reason, reason)) if reason else ""
    if action_name == "accept":
        return _("Order #%(number)s accepted.", number=number)
    if action_name == "reject":
        return _("Order #%(number)s rejected: %(reason)s.", number=number, reason=label)
    if action_name == "start":
        return _("Order #%(number)s is being prepared.", number=number)
    if action_name == "ready":
        return _("Order #%(number)s is ready.", number=number)
    if action_name == "picked_up":
        return _("Order #%(number)s was picked up.", number=number)
    if action_name == "deliver":
        return _("Order #%(number)s was delivered.", number=number)
    return _("Order #%(number)s cancelled: %(reason)s.", number=number, reason=label)


def reasons_for(order, action_name):
    """(code, label) reasons the order's platform accepts for a reject or cancel."""
    adapter = adapter_for(order.platform)
    return adapter.reject_reasons if action_name == "reject" else adapter.cancel_reasons


def perform(order_id, action_name, user, reason=None, preparation_minutes=None):
    """Apply a staff action to an order and queue the push to its platform; returns the order."""
    action = ACTIONS.get(action_name)
    if action is None:
        raise ActionRefused(_l("Unknown action."))
    order = lock_order(order_id)
    if order is None:
        raise LookupError("no such order")
    rider = rider_collects(order)
    if not staff_can_move(order.status, action.target, rider):
        raise ActionRefused(refusal(order, action, rider))
    if action.needs_reason:
        codes = {code for code, _ in reasons_for(order, action_name)}
        if reason not in codes:
            raise ActionRefused(_l("Choose a reason to reject order #%(number)s.", number=order.order_number)
                                if action_name == "reject" else
                                _l("Choose a reason to cancel order #%(number)s.", number=order.order_number))
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
    queue_status_pushes(order, integration, steps_between(previous, action.target), reason=reason,
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
NEW_CARDS = 12   # the New lane shows the newest this many; "n more" links to the rest
OPEN = tuple(status for _, _, statuses in LANES[:4] for status in statuses)
DONE = LANES[4][2]
LANE_OF = {status: key for key, _, statuses in LANES for status in statuses}
# A transaction that commits a moment after a poll may carry an updated_at from before it: every
# poll looks this far back, so such a change is seen by the next poll rather than never.
LATE_COMMIT = timedelta(seconds=10)
# Beyond these, naming the changed lanes costs more than redrawing them all.
REDRAW_AFTER = timedelta(minutes=15)
MAX_CHANGED = 200


def board_rows(company_id, day_start, platform=None, search=None, lanes=None):
    """(id, status, updated_at) of the board's orders by lane, for all lanes or only those in `lanes`.

    Open orders oldest first, and the newest orders finished since `day_start`; test orders never.
    Only the keys of the cards are read: cards come from the cache (cards.py) while an order is unchanged.
    """
    lanes = set(LANE_OF.values()) if lanes is None else set(lanes)
    columns = (DeliveryOrder.id, DeliveryOrder.status, DeliveryOrder.updated_at)
    base = select(*columns).where(DeliveryOrder.company_id == company_id, DeliveryOrder.is_test.is_(False))
    if platform:
        base = base.where(DeliveryOrder.platform == platform)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        base = base.where(or_(DeliveryOrder.order_number.ilike(pattern), DeliveryOrder.short_code.ilike(pattern),
                              DeliveryOrder.customer_name.ilike(pattern)))
    rows = {key: [] for key in lanes}
    open_statuses = [status for status in OPEN if LANE_OF[status] in lanes]
    if open_statuses:
        for row in db.session.execute(base.where(DeliveryOrder.status.in_(open_statuses))
                                      .order_by(DeliveryOrder.created_at)):
            rows[LANE_OF[row.status]].append(row)
    if "new" in rows:
        rows["new"].reverse()  # newest first: what just came in is what staff look for
    if "done" in lanes:
        rows["done"] = db.session.execute(
            base.where(DeliveryOrder.status.in_(DONE), DeliveryOrder.updated_at >= day_start)
            .order_by(DeliveryOrder.updated_at.desc()).limit(DONE_CARDS)).all()
    return rows


# The bound is a sub-select of the materialized CTE, so it reaches the index scan as a plain parameter:
# written as an expression (`latest.at - interval`), RLS keeps it out of the index condition, because
# timestamp arithmetic is not LEAKPROOF, and every poll read all of the company's orders.
_BOARD_VERSION = text("""
    WITH latest AS MATERIALIZED (
      SELECT greatest((SELECT max(updated_at) FROM delivery_orders WHERE company_id = :company),
                      (SELECT max(updated_at) FROM integration_configs WHERE company_id = :company)) AS at)
    SELECT coalesce(extract(epoch FROM (SELECT at FROM latest)), 0),
           (SELECT count(*) FROM (SELECT FROM delivery_orders
                                  WHERE company_id = :company
                                    AND updated_at > (SELECT at - make_interval(secs => :late) FROM latest)
                                  LIMIT 1000) recent)""")


def board_version(company_id):
    """Changes whenever an order or an integration of the company changes: the board's poll key.

    The newest change, and how many orders changed shortly before it (so a late commit with an
    older timestamp still changes the key). Index probes on idx_orders_company_updated only.
    """
    latest, recent = db.session.execute(_BOARD_VERSION, {"company": company_id,
                                                         "late": LATE_COMMIT.total_seconds()}).one()
    return f"{latest:.6f}-{recent}"


def lanes_changed_since(company_id, version):
    """The lanes whose cards may differ from a board showing `version`, or None when unknown (redraw all).

    A card changes lane with its status, so both the lane it is in now and the one it left count.
    """
    try:
        since = datetime.fromtimestamp(float(version.split("-")[0]), timezone.utc) - LATE_COMMIT
    except (AttributeError, ValueError, OverflowError, OSError):
        return None
    if since < datetime.now(timezone.utc) - REDRAW_AFTER:
        return None  # a board that was asleep (a tablet in standby) is redrawn
    changed = db.session.execute(
        select(DeliveryOrder.id, DeliveryOrder.status)
        .where(DeliveryOrder.company_id == company_id, DeliveryOrder.updated_at > since)
        .limit(MAX_CHANGED + 1)).all()
    if len(changed) > MAX_CHANGED:
        return None
    if not changed:
        return set()
    previous = db.session.scalars(
        select(OrderStatusHistory.from_status).distinct()
        .where(OrderStatusHistory.company_id == company_id,
               OrderStatusHistory.order_id.in_([row.id for row in changed]),
               OrderStatusHistory.created_at > since, OrderStatusHistory.from_status.is_not(None))).all()
    return {LANE_OF[status] for status in [row.status for row in changed] + list(previous)}
