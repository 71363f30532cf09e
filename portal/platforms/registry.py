"""Which adapter serves which platform of the seed's delivery_platform enum."""
from ..models import DeliveryPlatform
from .careem import CareemAdapter
from .delivery_hero import HungerStationAdapter, TalabatAdapter
from .generic import GENERIC_PLATFORMS, GenericAdapter

_ADAPTERS = {
    DeliveryPlatform.TALABAT: TalabatAdapter(),
    DeliveryPlatform.HUNGERSTATION: HungerStationAdapter(),
    DeliveryPlatform.CAREEM: CareemAdapter(),
    **{platform: GenericAdapter(platform, name, colour) for platform, (name, colour) in GENERIC_PLATFORMS.items()},
}


def adapter_for(platform):
    """The adapter of a platform, given as the enum, its value, or its lower-case URL name."""
    if isinstance(platform, str):
        try:
            platform = DeliveryPlatform(platform.upper())
        except ValueError:
            raise LookupError(f"Unknown platform: {platform}") from None
    return _ADAPTERS[platform]


def all_adapters():
    """Every adapter, in the enum's order."""
    return [_ADAPTERS[platform] for platform in DeliveryPlatform]
