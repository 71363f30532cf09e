"""What can send a customer a WhatsApp message, and the message statuses in the order they rank."""
from enum import StrEnum

from ..models import OrderStatus, WhatsappMessageStatus as Status


class NotificationEvent(StrEnum):
    ORDER_ACCEPTED = "ORDER_ACCEPTED"  # with the ETA
    ORDER_READY = "ORDER_READY"  # ready for pickup
    ORDER_OUT_FOR_DELIVERY = "ORDER_OUT_FOR_DELIVERY"
    ORDER_DELIVERED = "ORDER_DELIVERED"
    POINTS_EARNED = "POINTS_EARNED"
    POINTS_EXPIRING = "POINTS_EXPIRING"


# The order status each order event follows.
ORDER_EVENTS = {
    OrderStatus.ACCEPTED: NotificationEvent.ORDER_ACCEPTED,
    OrderStatus.READY_FOR_PICKUP: NotificationEvent.ORDER_READY,
    OrderStatus.OUT_FOR_DELIVERY: NotificationEvent.ORDER_OUT_FOR_DELIVERY,
    OrderStatus.DELIVERED: NotificationEvent.ORDER_DELIVERED,
}

# Statuses only move forward: sent < delivered < read; failed is final; skipped was never sent.
RANK = {Status.PENDING: 0, Status.SENT: 1, Status.DELIVERED: 2, Status.READ: 3}
FINAL = (Status.FAILED, Status.SKIPPED)
