"""Security headers on every answer: nosniff, frame and referrer rules, the strict CSP, HSTS only in production."""
from portal import CONTENT_SECURITY_POLICY


def test_every_answer_carries_the_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    policy = response.headers["Content-Security-Policy"]
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


def test_no_template_carries_what_the_policy_refuses():
    """Inline styles, inline scripts and on* handlers would be refused by the browser (no unsafe-inline)."""
    import re
    from pathlib import Path

    inline = re.compile(r'\sstyle="|<style|\son[a-z]+="|<script(?![^>]*\s(?:src=|type="application/json"))[^>]*>')
    found = [f"{path}: {match.group(0)}" for path in Path("templates").rglob("*.html")
             for match in inline.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


def test_bar_classes_step_by_five_and_stay_in_range():
    from portal.templating import pct_class
    assert [pct_class(v) for v in (-3, 0, 2.4, 2.5, 72, 99, 100, 250, None, "x")] == [
        "pct-0", "pct-0", "pct-0", "pct-5", "pct-70", "pct-100", "pct-100", "pct-100", "pct-0", "pct-0"]
