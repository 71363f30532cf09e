"""Delivery Hero's POS plugin API: Talabat and HungerStation (same middleware, same order format).

Inbound: the middleware POSTs the order to `{pluginUrl}/order/{remoteId}` with
`Authorization: Bearer <JWT>` (HS512/HS256, claim service=middleware) signed with the plugin secret,
and PUTs status changes to `.../remoteId/{remoteId}/remoteOrder/{remoteOrderId}/posOrderStatus`.
Money arrives as decimal strings; timestamps as ISO-8601 UTC with milliseconds.
"""
from ..models import DeliveryPlatform
from .base import Capabilities, PlatformAdapter

REJECT_REASONS = tuple((code, code.replace("_", " ").capitalize()) for code in (
    "ADDRESS_INCOMPLETE_MISSTATED", "BAD_WEATHER", "BLACKLISTED", "CARD_READER_NOT_AVAILABLE", "CLOSED",
    "CONTENT_WRONG_MISLEADING", "FOOD_QUALITY_SPILLAGE", "FRAUD_PRANK", "ITEM_UNAVAILABLE", "LATE_DELIVERY",
    "MENU_ACCOUNT_SETTINGS", "MOV_NOT_REACHED", "NO_COURIER", "NO_PICKER", "NO_RESPONSE",
    "OUTSIDE_DELIVERY_AREA", "TECHNICAL_PROBLEM", "TEST_ORDER", "TOO_BUSY", "UNABLE_TO_FIND", "UNABLE_TO_PAY",
    "UNPROFESSIONAL_BEHAVIOUR", "WILL_NOT_WORK_WITH_PLATFORM", "WRONG_ORDER_ITEMS_DELIVERED",
))
CLOSURE_REASONS = ("TOO_BUSY_KITCHEN", "TOO_BUSY_NO_DRIVERS", "UPDATES_IN_MENU", "TECHNICAL_PROBLEM", "CLOSED",
                   "BAD_WEATHER", "HOLIDAY_SPECIAL_DAY", "OTHER")


class DeliveryHeroAdapter(PlatformAdapter):
    """The Delivery Hero family's contract; subclasses only name the brand."""

    capabilities = Capabilities(busy_mode=False, timed_pause=True, store_close=True, item_snooze=True,
                                prep_time_change=True, mark_prepared=True, picked_up=True,
                                max_items_per_availability_call=100)
    reject_reasons = REJECT_REASONS
    cancel_reasons = REJECT_REASONS
    credential_fields = (
        ("merchant_id", "Chain code", True),
        ("store_id", "Vendor remote id", True),
        ("api_key", "Middleware username", True),
        ("api_secret", "Middleware password", False),
    )


class TalabatAdapter(DeliveryHeroAdapter):
    platform = DeliveryPlatform.TALABAT
    display_name = "Talabat"


class HungerStationAdapter(DeliveryHeroAdapter):
    platform = DeliveryPlatform.HUNGERSTATION
    display_name = "HungerStation"
