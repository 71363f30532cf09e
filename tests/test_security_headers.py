"""Security headers on every answer: nosniff, frame and referrer rules, the strict CSP, HSTS only in production."""
from portal import CONTENT_SECURITY_POLICY


def test_every_answer_carries_the_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    policy = response.headers["Content-Security-Policy-Report-Only"]
    assert policy == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_only_in_production(app, client):
    before = app.config.get("ENV_NAME")
    app.config["ENV_NAME"] = "production"
    try:
        response = client.get("/login")
    finally:
        app.config["ENV_NAME"] = before
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
