"""Careem POS API v2 (docs.careemnow.com).

Inbound: `{"event_type": …, "details": {…}}` with the static header `x-careem-api-key` equal to the
integration's webhook secret (no HMAC). Money is JSON numbers in major units; order ids are integers.
"""
from ..models import DeliveryPlatform
from .base import Capabilities, PlatformAdapter

CANCEL_REASONS = (
    ("ITEM_PERMANENTLY_NOT_AVAILABLE", "Item permanently not available"),
    ("ITEM_TEMPORARILY_UNAVAILABLE", "Item temporarily unavailable"),
    ("KITCHEN_TOO_BUSY_TO_PREPARE_ORDER", "Kitchen too busy to prepare the order"),
    ("OUT_OF_KITCHEN_OPERATIONAL_HOURS", "Outside kitchen hours"),
    ("OUTLET_CLOSED", "Outlet closed"),
    ("PARTNER_POS_OUTAGE", "POS outage"),
    ("PARTNER_ORDER_TIMEOUT", "Order timed out"),
    ("OTHER", "Other"),
)


class CareemAdapter(PlatformAdapter):
    platform = DeliveryPlatform.CAREEM
    display_name = "Careem"
    capabilities = Capabilities(busy_mode=False, timed_pause=True, store_close=True, item_snooze=True,
                                prep_time_change=True, mark_prepared=True, picked_up=False,
                                max_items_per_availability_call=40)
    reject_reasons = CANCEL_REASONS
    cancel_reasons = CANCEL_REASONS
    credential_fields = (
        ("api_key", "Client id", True),
        ("api_secret", "Client secret", True),
        ("merchant_id", "Brand id", True),
        ("store_id", "Branch id", True),
    )
