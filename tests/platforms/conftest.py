"""Fixtures of the adapter tests: adapters are pure, so these tests need no app and no database.

The two autouse fixtures of tests/conftest.py that reach PostgreSQL are replaced here by no-ops;
a test in this folder that needs the database must ask for `app`/`client` explicitly (and then
clean up after itself).
"""
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
NOW = datetime(2025, 5, 1, 8, 30, tzinfo=timezone.utc)
LONG_SECRET = "s3cret-" + "x" * 64   # HS512 wants a key of at least 64 bytes


def load(name):
    """One example payload, decoded."""
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def clean_tables():
    """No tables to clean: adapters never touch the database."""
    yield


@pytest.fixture(autouse=True)
def reset_rate_limits():
    """No app, no rate limiter."""
    yield
