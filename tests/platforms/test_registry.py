"""The registry names one adapter per platform, and every adapter fulfils the abstract contract."""
import pytest

from portal.models import DeliveryPlatform
from portal.platforms import adapter_for, all_adapters
from portal.platforms.base import PlatformAdapter
from portal.platforms.careem import CareemAdapter
from portal.platforms.delivery_hero import HungerStationAdapter, TalabatAdapter
from portal.platforms.generic import GenericAdapter


def test_lookup_by_url_name_value_or_enum():
    assert isinstance(adapter_for("talabat"), TalabatAdapter)
    assert adapter_for("TALABAT") is adapter_for("talabat") is adapter_for(DeliveryPlatform.TALABAT)
    assert isinstance(adapter_for("hungerstation"), HungerStationAdapter)
    assert isinstance(adapter_for("careem"), CareemAdapter)
    assert isinstance(adapter_for("top_delivery"), GenericAdapter)
    assert adapter_for("jood_delivery").display_name == "Jood Delivery"


@pytest.mark.parametrize("name", ["deliveroo", "", "talabat ", "TALABAT-KW"])
def test_unknown_platform_is_a_lookup_error(name):
    with pytest.raises(LookupError, match="Unknown platform"):
        adapter_for(name)


def test_all_nine_in_enum_order():
    adapters = all_adapters()
    assert [adapter.platform for adapter in adapters] == list(DeliveryPlatform)
    for adapter in adapters:
        assert isinstance(adapter, PlatformAdapter)
        assert adapter.display_name
        assert adapter.reject_reasons and adapter.cancel_reasons
        assert {field for field, _label, _required in adapter.credential_fields} >= {"api_key", "store_id"}


def test_the_contract_is_abstract():
    with pytest.raises(TypeError):
        PlatformAdapter()

    class Incomplete(PlatformAdapter):
        def verify(self, headers, raw_body, secret, now=None):
            """Only one of the methods."""

    with pytest.raises(TypeError, match="parse_webhook"):
        Incomplete()
