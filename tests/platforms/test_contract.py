"""The adapter contract of base.py: every adapter takes the arguments base.py names, and carries the
platform facts the rest of the portal asks it for (no area keeps its own list of platforms)."""
import inspect
import re
from datetime import timedelta

import pytest

from portal.models import DeliveryPlatform
from portal.platforms import adapter_for, all_adapters
from portal.platforms.base import PlatformAdapter

CONTRACT = [name for name, _ in inspect.getmembers(PlatformAdapter, inspect.isfunction) if not name.startswith("_")]
ADAPTER_CLASSES = sorted({type(adapter) for adapter in all_adapters()}, key=lambda cls: cls.__name__)


def _parameters(function):
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize("cls", ADAPTER_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("method", CONTRACT)
def test_each_method_takes_the_arguments_base_names(cls, method):
    assert _parameters(getattr(cls, method)) == _parameters(getattr(PlatformAdapter, method))


@pytest.mark.parametrize("platform", list(DeliveryPlatform), ids=lambda platform: platform.value)
def test_every_platform_states_its_facts(platform):
    adapter = adapter_for(platform)
    assert adapter.platform is platform
    assert adapter.display_name
    assert adapter.family in ("delivery_hero", "careem", "generic")
    assert re.fullmatch(r"#[0-9a-f]{6}", adapter.brand_colour)
    assert adapter.webhook_user_agent
    assert adapter.menu_sync_min_interval is None or isinstance(adapter.menu_sync_min_interval, timedelta)


def test_the_facts_the_areas_used_to_keep_themselves():
    talabat, hungerstation, careem, nashmi = (adapter_for(name) for name in ("talabat", "hungerstation", "careem",
                                                                             "nashmi"))
    assert [a.display_name for a in (talabat, hungerstation, careem, nashmi)] == [
        "Talabat", "HungerStation", "Careem", "Nashmi"]
    assert [a.uses_plugin_url for a in (talabat, hungerstation, careem, nashmi)] == [True, True, False, False]
    assert [a.pause_reason for a in (talabat, hungerstation, careem, nashmi)] == [
        "TOO_BUSY_KITCHEN", "TOO_BUSY_KITCHEN", None, None]
    assert careem.menu_sync_min_interval == timedelta(minutes=2) and talabat.menu_sync_min_interval is None
    assert (talabat.webhook_user_agent, careem.webhook_user_agent, adapter_for("TOP_DELIVERY").webhook_user_agent) == (
        "DH-Integration-Middleware", "Careem-POS-Webhooks", "Top_Delivery-Webhooks")
