"""Webhook authentication of the three families: DH JWT bearer, Careem static key, generic HMAC."""
import hashlib
import hmac
import json
import warnings
from datetime import timedelta

import jwt
import pytest
from werkzeug.datastructures import Headers

from portal.platforms import adapter_for, all_adapters
from portal.platforms.base import SignatureError

from .conftest import LONG_SECRET, NOW

BODY = json.dumps({"event": "order.created", "note": "طلب"}, ensure_ascii=False).encode("utf-8")
GENERIC = ["dhub", "nashmi", "top_delivery", "jood_delivery", "yallow", "tawasi"]


def rejected(adapter, headers, body=BODY, secret=LONG_SECRET, now=NOW):
    """The SignatureError reason for a request that must be refused."""
    with pytest.raises(SignatureError) as error:
        adapter.verify(headers, body, secret, now=now)
    assert error.value.status_code == 401
    return error.value.message


# ------------------------------------------------------------------------- all nine


@pytest.mark.parametrize("adapter", all_adapters(), ids=lambda a: a.platform.value)
def test_sign_then_verify_round_trip(adapter):
    headers = adapter.sign(BODY, LONG_SECRET, now=NOW)
    adapter.verify(headers, BODY, LONG_SECRET, now=NOW)
    adapter.verify(Headers(list(headers.items())), BODY, LONG_SECRET, now=NOW + timedelta(seconds=10))
    adapter.verify({key.upper(): value for key, value in headers.items()}, BODY, LONG_SECRET, now=NOW)
    adapter.verify({key.lower(): value for key, value in headers.items()}, BODY, LONG_SECRET, now=NOW)


@pytest.mark.parametrize("adapter", all_adapters(), ids=lambda a: a.platform.value)
def test_wrong_secret_missing_headers_and_no_secret(adapter):
    headers = adapter.sign(BODY, LONG_SECRET, now=NOW)
    assert "mismatch" in rejected(adapter, headers, secret=LONG_SECRET + "-other")
    assert "missing" in rejected(adapter, {})
    assert "missing" in rejected(adapter, None)
    assert rejected(adapter, headers, secret="") == "no webhook secret configured"
    assert rejected(adapter, headers, secret=None) == "no webhook secret configured"
    with pytest.raises(ValueError):
        adapter.sign(BODY, "")


# ------------------------------------------------------------------------- Delivery Hero (JWT)


@pytest.fixture(params=["talabat", "hungerstation"])
def dh(request):
    return adapter_for(request.param)


def bearer(claims, key=LONG_SECRET, algorithm="HS512"):
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm=algorithm)}"}


def claims(**overrides):
    issued = int(NOW.timestamp())
    return {"service": "middleware", "iat": issued, "exp": issued + 300, **overrides}


def test_dh_signs_an_hs512_token_with_the_middleware_claim(dh):
    token = dh.sign(BODY, LONG_SECRET, now=NOW)["Authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token)["alg"] == "HS512"
    decoded = jwt.decode(token, LONG_SECRET, algorithms=["HS512"], options={"verify_exp": False})
    assert decoded == claims()


def test_dh_accepts_hs256(dh):
    dh.verify(bearer(claims(), algorithm="HS256"), BODY, LONG_SECRET, now=NOW)


def test_dh_expiry_with_a_30_second_leeway(dh):
    headers = dh.sign(BODY, LONG_SECRET, now=NOW)
    dh.verify(headers, BODY, LONG_SECRET, now=NOW + timedelta(seconds=329))
    assert rejected(dh, headers, now=NOW + timedelta(seconds=331)) == "token expired"


@pytest.mark.parametrize("headers, reason", [
    ({"Authorization": ""}, "missing Authorization header"),
    ({"Authorization": "Bearer"}, "Authorization is not a Bearer token"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "Authorization is not a Bearer token"),
    ({"Authorization": "Bearer not.a.jwt"}, "malformed token"),
    (bearer(claims(service="backoffice")), "token service claim is not middleware"),
    (bearer({k: v for k, v in claims().items() if k != "service"}), "token service claim is not middleware"),
    (bearer({k: v for k, v in claims().items() if k != "exp"}), "token has no exp claim"),
    (bearer(claims(exp="tomorrow")), "token exp is not a number"),
    (bearer(claims(iat=int(NOW.timestamp()) + 3600, exp=int(NOW.timestamp()) + 3900)), "token issued in the future"),
    (bearer(claims(nbf=int(NOW.timestamp()) + 600)), "token not yet valid"),
    (bearer(claims(), algorithm="HS384"), "token algorithm not allowed"),
])
def test_dh_refuses(dh, headers, reason):
    assert rejected(dh, headers) == reason


def test_dh_refuses_an_unsigned_alg_none_token(dh):
    token = jwt.encode(claims(), None, algorithm="none")
    assert rejected(dh, {"Authorization": f"Bearer {token}"}) == "token algorithm not allowed"
    # A forged header claiming HS512 on the unsigned token fails on the signature instead.
    header, payload, _ = dh.sign(BODY, LONG_SECRET, now=NOW)["Authorization"].removeprefix("Bearer ").split(".")
    assert rejected(dh, {"Authorization": f"Bearer {header}.{token.split('.')[1]}."}) == "signature mismatch"


def test_dh_refuses_a_token_signed_with_another_secret(dh):
    assert rejected(dh, bearer(claims(), key="another-" + "y" * 64)) == "signature mismatch"


def test_dh_token_does_not_cover_the_body(dh):
    """DH's JWT authenticates the middleware, not the body: a changed body still verifies (TLS protects it)."""
    headers = dh.sign(BODY, LONG_SECRET, now=NOW)
    dh.verify(headers, BODY + b" tampered", LONG_SECRET, now=NOW)


def test_dh_short_secret_still_verifies(dh):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # PyJWT warns about short HMAC keys; DH chooses the secret, not us
        headers = dh.sign(BODY, "short", now=NOW)
        dh.verify(headers, BODY, "short", now=NOW)


# ------------------------------------------------------------------------- Careem (static key)


def test_careem_key_header():
    careem = adapter_for("careem")
    assert careem.sign(BODY, "a12345f-1337-4bff-8e6b-6b38a221322f") == {
        "x-careem-api-key": "a12345f-1337-4bff-8e6b-6b38a221322f"}
    careem.verify(Headers([("X-Careem-Api-Key", "key-1")]), BODY, "key-1")
    assert rejected(careem, {"x-careem-api-key": "key-2"}, secret="key-1") == "API key mismatch"
    assert rejected(careem, {"x-careem-api-key": "key-1x"}, secret="key-1") == "API key mismatch"
    assert rejected(careem, {"x-careem-api-key": "ключ"}, secret="key-1") == "API key mismatch"
    assert rejected(careem, {"Authorization": "key-1"}, secret="key-1") == "missing x-careem-api-key header"
    # A static key does not cover the body either.
    careem.verify({"x-careem-api-key": "key-1"}, BODY + b"tampered", "key-1")


# ------------------------------------------------------------------------- generic (HMAC of timestamp.body)


@pytest.fixture(params=GENERIC)
def generic(request):
    return adapter_for(request.param)


def hmac_headers(body=BODY, secret=LONG_SECRET, at=NOW, prefix="sha256="):
    stamp = str(int(at.timestamp()))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Timestamp": stamp, "X-Signature": prefix + digest}


def test_generic_signature_is_the_documented_hmac(generic):
    assert generic.sign(BODY, LONG_SECRET, now=NOW) == hmac_headers()


def test_generic_accepts_without_prefix_and_in_upper_case(generic):
    generic.verify(hmac_headers(prefix=""), BODY, LONG_SECRET, now=NOW)
    headers = hmac_headers()
    headers["X-Signature"] = "SHA256=" + headers["X-Signature"][7:].upper()
    generic.verify(headers, BODY, LONG_SECRET, now=NOW)


def test_generic_tolerance_is_300_seconds_both_ways(generic):
    for offset in (-300, 300):
        generic.verify(hmac_headers(at=NOW + timedelta(seconds=offset)), BODY, LONG_SECRET, now=NOW)
    for offset in (-301, 301, -86400):
        assert rejected(generic, hmac_headers(at=NOW + timedelta(seconds=offset))) == "timestamp outside tolerance"


def test_generic_refuses_a_tampered_body_or_timestamp(generic):
    assert rejected(generic, hmac_headers(), body=BODY + b" ") == "signature mismatch"
    headers = hmac_headers()
    headers["X-Timestamp"] = str(int(headers["X-Timestamp"]) + 1)
    assert rejected(generic, headers) == "signature mismatch"


@pytest.mark.parametrize("headers, reason", [
    ({"X-Signature": "sha256=00"}, "missing X-Timestamp header"),
    ({"X-Timestamp": "1746088200"}, "missing X-Signature header"),
    ({"X-Timestamp": "2025-05-01T08:30:00Z", "X-Signature": "sha256=00"}, "X-Timestamp is not Unix seconds"),
    ({"X-Timestamp": "²", "X-Signature": "sha256=00"}, "X-Timestamp is not Unix seconds"),
    ({"X-Timestamp": "-1746088200", "X-Signature": "sha256=00"}, "X-Timestamp is not Unix seconds"),
    ({"X-Timestamp": "1746088200", "X-Signature": "sha256=zz"}, "signature mismatch"),
    ({"X-Timestamp": "1746088200", "X-Signature": "sha256=ß∂"}, "signature mismatch"),
])
def test_generic_refuses(generic, headers, reason):
    assert rejected(generic, headers) == reason
