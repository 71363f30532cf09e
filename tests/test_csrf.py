"""One CSRF mechanism: the app-wide check refuses every form POST without a token (webhooks aside)."""
import uuid

# Platforms sign their webhooks instead; they cannot carry our token.
EXEMPT_PREFIXES = ("/webhooks/", "/health")


def _post_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.rule.startswith(EXEMPT_PREFIXES):
            values = {name: str(uuid.uuid4()) for name in rule.arguments}
            if "platform" in rule.arguments:
                values["platform"] = "careem"
            yield rule.rule, rule.build(values, append_unknown=False)[1]


def test_every_form_post_without_a_token_is_refused(app, client, auth, make_company):
    company = make_company("Kabsa House")
    auth.login(company.email("COMPANY_ADMIN"))
    refused = {}
    for rule, path in _post_routes(app):
        status = client.post(path, data={"next": "/"}).status_code
        if status != 400:
            refused[rule] = status
    assert not refused, f"POSTs that did not answer 400 without a CSRF token: {refused}"
