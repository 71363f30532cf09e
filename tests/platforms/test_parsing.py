"""The strict readers every adapter shares: amounts, quantities, timestamps, headers."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from werkzeug.datastructures import Headers

from portal.platforms.base import PayloadError
from portal.platforms.parsing import (chunks, currency_quantum, header, identifier, iso_utc, money, quantity,
                                      timestamp)

SAR, KWD = currency_quantum("SAR"), currency_quantum("KWD")


@pytest.mark.parametrize("currency, places", [("SAR", 2), ("AED", 2), ("QAR", 2), ("KWD", 3), ("BHD", 3),
                                              ("OMR", 3), ("JOD", 3), ("kwd", 3)])
def test_currency_precision_comes_from_babel(currency, places):
    assert currency_quantum(currency) == Decimal(1).scaleb(-places)


@pytest.mark.parametrize("code", ["", "SA", "RIYAL", None, 682])
def test_currency_must_be_an_iso_code(code):
    with pytest.raises(ValueError):
        currency_quantum(code)


@pytest.mark.parametrize("raw, quantum, expected", [
    ("25.50", SAR, "25.50"), ("6", SAR, "6.00"), (6, SAR, "6.00"), (77.8, SAR, "77.80"), (0.1 + 0.2, SAR, "0.30"),
    (" 1.005 ", SAR, "1.01"), ("1.0005", KWD, "1.001"), ("2.5", KWD, "2.500"), (Decimal("3"), KWD, "3.000"),
    ("1e2", SAR, "100.00"), ("0", SAR, "0.00"),
])
def test_money(raw, quantum, expected):
    assert str(money(raw, "x", quantum)) == expected


@pytest.mark.parametrize("raw, message", [
    ("abc", "'abc' is not an amount"), ("12,50", "is not an amount"), ("NaN", "is not an amount"),
    ("Infinity", "is not an amount"), (float("inf"), "is not an amount"), ("-1", "must not be negative"),
    (True, "got a boolean"), ([1], "got an array"), ({"value": 1}, "got an object"),
])
def test_bad_money(raw, message):
    with pytest.raises(PayloadError, match=message):
        money(raw, "price.total", SAR)


def test_missing_money():
    assert money(None, "x", SAR) is None
    assert str(money("", "x", SAR, default=Decimal("0"))) == "0.00"
    with pytest.raises(PayloadError, match="x is missing"):
        money(None, "x", SAR, required=True)


@pytest.mark.parametrize("raw, expected", [(2, 2), ("2", 2), (" 3 ", 3), (2.0, 2), ("2.0", 2), (0, 0)])
def test_quantity(raw, expected):
    assert quantity(raw, "q") == expected


@pytest.mark.parametrize("raw, message", [(-1, "must not be negative"), ("-2", "must not be negative"),
                                          (1.5, "not a whole quantity"), ("x", "is not a quantity"),
                                          (True, "got a boolean"), (None, "q is missing"), ("nan", "not a quantity")])
def test_bad_quantity(raw, message):
    with pytest.raises(PayloadError, match=message):
        quantity(raw, "q")


@pytest.mark.parametrize("raw, expected", [
    ("2016-03-14T17:00:00.000Z", datetime(2016, 3, 14, 17, 0, tzinfo=timezone.utc)),
    ("2024-09-01T15:01:32.895Z", datetime(2024, 9, 1, 15, 1, 32, 895000, tzinfo=timezone.utc)),
    ("2019-02-20T16:40:42.703000Z", datetime(2019, 2, 20, 16, 40, 42, 703000, tzinfo=timezone.utc)),
    ("2025-05-01T12:00:00+03:00", datetime(2025, 5, 1, 9, 0, tzinfo=timezone.utc)),
    ("2025-05-01T09:00:00", datetime(2025, 5, 1, 9, 0, tzinfo=timezone.utc)),
    (None, None), ("", None),
])
def test_timestamps_are_utc(raw, expected):
    assert timestamp(raw, "t") == expected


@pytest.mark.parametrize("raw", ["yesterday", "14/03/2016", 1457974800, "2016-13-40T00:00:00Z"])
def test_bad_timestamps(raw):
    with pytest.raises(PayloadError, match="t: "):
        timestamp(raw, "t")


def test_iso_utc():
    moment = datetime(2025, 5, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=3)))
    assert iso_utc(moment) == "2025-05-01T09:00:00.123Z"
    assert iso_utc(moment, millis=False) == "2025-05-01T09:00:00Z"


def test_identifiers():
    assert identifier(62504546, "id") == "62504546"
    assert identifier(62504546.0, "id") == "62504546"
    assert identifier(" n0s1 ", "id") == "n0s1"
    for bad, message in ((None, "id is missing"), ("  ", "id is missing"), (False, "boolean"), (1.5, "number"),
                         ({"id": 1}, "object")):
        with pytest.raises(PayloadError, match=message):
            identifier(bad, "id")


def test_headers_are_case_insensitive_in_any_mapping():
    assert header(Headers([("X-Signature", "abc")]), "x-signature") == "abc"
    assert header({"x-signature": " abc "}, "X-Signature") == "abc"
    assert header({"X-SIGNATURE": "abc"}, "x-Signature") == "abc"
    assert header({"other": "1"}, "X-Signature") is None
    assert header(None, "X-Signature") is None


def test_chunks():
    assert chunks(list(range(95)), 40) == [list(range(40)), list(range(40, 80)), list(range(80, 95))]
    assert chunks([], 40) == []
