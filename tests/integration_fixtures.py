"""Fixtures for platform traffic: enabled integrations with known secrets, and signed webhooks."""
import json
from pathlib import Path

import pytest

from portal.crypto import encrypt_secret
from portal.extensions import db
from portal.models import IntegrationConfig
from portal.platforms import adapter_for
from portal.tenancy import tenant

PAYLOADS = Path(__file__).resolve().parent / "fixtures" / "payloads"
CREDENTIALS = {
    "TALABAT": {"api_key": "dh-user", "merchant_id": "chain-1", "store_id": "vendor-1"},
    "HUNGERSTATION": {"api_key": "dh-user", "merchant_id": "chain-1", "store_id": "vendor-1"},
    "CAREEM": {"api_key": "client", "api_secret": "client-secret", "merchant_id": "brand", "store_id": "branch"},
}
GENERIC_CREDENTIALS = {"api_key": "key", "api_secret": "secret", "store_id": "store-1"}


def load_payload(name):
    return json.loads((PAYLOADS / name).read_text())


@pytest.fixture
def make_integration(app):
    """An enabled integration of `platform` for a company, with webhook secret `secret`."""
    def make(company, platform, secret="webhook-secret-123", enabled=True, **overrides):
        with app.app_context(), tenant(company.id):
            values = {**CREDENTIALS.get(platform, GENERIC_CREDENTIALS), **overrides}
            for field in ("api_key", "api_secret"):
                if values.get(field):
                    values[field] = encrypt_secret(company.id, values[field])
            integration = IntegrationConfig(company_id=company.id, platform=platform, is_enabled=enabled,
                                            webhook_secret=encrypt_secret(company.id, secret),
                                            commission_rate=overrides.pop("commission_rate", 20), **{
                                                key: value for key, value in values.items()
                                                if key != "commission_rate"})
            db.session.add(integration)
            db.session.commit()
            return integration.id
    return make


class WebhookSender:
    """Posts bodies to the receiver, signed the way the platform signs them."""

    def __init__(self, client):
        self.client = client

    def send(self, platform, integration_id, body, secret="webhook-secret-123", path="", sign=True,
             headers=None, method="POST"):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        signed = adapter_for(platform).sign(raw, secret) if sign else {}
        url = f"/webhooks/{platform.lower()}/{integration_id}" + (f"/{path}" if path else "")
        return self.client.open(url, method=method, data=raw,
                                headers={"Content-Type": "application/json", **signed, **(headers or {})})


@pytest.fixture
def webhooks(client):
    return WebhookSender(client)
