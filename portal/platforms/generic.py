"""The generic webhook format for DHUB, Nashmi, Top Delivery, Jood Delivery, Yallow and Tawasi.

None of these platforms publishes developer documentation, so they share one documented format
(docs/GENERIC_WEBHOOKS.md): an HMAC-SHA256 of `<timestamp>.<raw body>` in `X-Signature`, with the
Unix timestamp in `X-Timestamp` (±5 minutes), and an order/status JSON shape of our own.
"""
from ..models import DeliveryPlatform
from .base import Capabilities, PlatformAdapter

GENERIC_PLATFORMS = {
    DeliveryPlatform.DHUB: "DHUB",
    DeliveryPlatform.NASHMI: "Nashmi",
    DeliveryPlatform.TOP_DELIVERY: "Top Delivery",
    DeliveryPlatform.JOOD_DELIVERY: "Jood Delivery",
    DeliveryPlatform.YALLOW: "Yallow",
    DeliveryPlatform.TAWASI: "Tawasi",
}
REJECT_REASONS = (
    ("ITEM_UNAVAILABLE", "Item unavailable"),
    ("TOO_BUSY", "Too busy"),
    ("CLOSED", "Closed"),
    ("OUTSIDE_DELIVERY_AREA", "Outside delivery area"),
    ("TECHNICAL_PROBLEM", "Technical problem"),
    ("OTHER", "Other"),
)


class GenericAdapter(PlatformAdapter):
    capabilities = Capabilities(busy_mode=True, timed_pause=False, store_close=True, item_snooze=True,
                                prep_time_change=False, mark_prepared=True, picked_up=True,
                                max_items_per_availability_call=100)
    reject_reasons = REJECT_REASONS
    cancel_reasons = REJECT_REASONS
    credential_fields = (
        ("api_key", "API key", True),
        ("api_secret", "API secret", True),
        ("store_id", "Store id", True),
        ("merchant_id", "Merchant id", False),
    )

    def __init__(self, platform, display_name):
        self.platform = platform
        self.display_name = display_name
