"""Every GET page survives what a browser bar can send: NUL and control characters in any filter, and
page numbers far beyond any database integer (portal/web.py cleans them once, for every route)."""
import re
import uuid
from pathlib import Path

import pytest

from portal.web import MAX_PAGE, clean_arg, page_number

ROOT = Path(__file__).resolve().parent.parent
HUGE = "9" * 30


def query_parameter_names():
    """Every name a route reads from request.args (read from the source, so new filters are covered)."""
    names = {"page", "per_page", "q"}
    for path in (ROOT / "portal").rglob("*.py"):
        names |= set(re.findall(r"""(?:request\.)?args\.get\(\s*["']([a-z_]+)["']""", path.read_text()))
    return sorted(names)


def get_urls(app):
    """Every GET route of the app, with made-up values for its path parts."""
    values = {"int": 1, "uuid": uuid.uuid4()}
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        arguments = {}
        for name in rule.arguments:
            converter = type(rule._converters[name]).__name__.lower()
            arguments[name] = values.get(converter.removesuffix("converter"), "x" if name != "platform" else "nashmi")
        if rule.defaults:
            arguments = {key: value for key, value in arguments.items() if key not in rule.defaults}
        with app.test_request_context():
            from flask import url_for
            urls.append(url_for(rule.endpoint, **arguments))
    return sorted(set(urls))


def test_every_query_parameter_name_is_found():
    names = query_parameter_names()
    assert {"q", "category", "event", "table", "tier", "page"} <= set(names)


@pytest.mark.parametrize("role", ["COMPANY_ADMIN", "SUPER_ADMIN"])
def test_no_get_route_answers_5xx_to_nul_control_characters_or_huge_pages(app, auth, client, make_company, role):
    company = make_company("Alpha Kitchen", super_admin=True)
    assert auth.login(company.email(role)).status_code == 302
    dirty = {name: "a\x00b\x01c\x7f" for name in query_parameter_names()}
    queries = [dirty | {"page": HUGE, "per_page": HUGE}, {"page": "-" + HUGE}, {"page": "1e999"},
               {"q": "\x00", "page": str(2 ** 63)}, {"format": "csv", "q": "\x00"}]
    failures = []
    for url in get_urls(app):
        for query in queries:
            response = client.get(url, query_string=query)
            response.get_data()  # a streamed export fails while it is read
            if response.status_code >= 500:
                failures.append((url, query, response.status_code))
    assert failures == []


def test_the_loyalty_export_is_whole_with_a_nul_in_the_search(app, auth, client, make_company):
    company = make_company("Alpha Kitchen")
    auth.login(company.email("COMPANY_ADMIN"))
    urls = [url for url in get_urls(app) if "export" in url and "loyalty" in url]
    assert urls
    for url in urls:
        response = client.get(url, query_string={"q": "\x00", "tier": "\x00"})
        assert response.status_code == 200 and response.get_data()


def test_clean_arg_and_page_number():
    assert clean_arg("a\x00b\x1fc\x7fd\u200b") == "abcd\u200b"
    assert clean_arg("tab\tkept? no") == "tabkept? no"
    assert [page_number({"page": value}) for value in ("3", HUGE, "-5", "x", "", "1e9", " 7 ")] == [
        3, MAX_PAGE, 1, 1, 1, 1, 7]
    assert page_number({}) == 1


def test_a_nul_typed_into_a_form_is_dropped_not_a_500(app, auth, client, make_company, owner_conninfo):
    import psycopg
    company = make_company("Kabsa House")
    auth.login(company.email("MANAGER"))
    response = auth.post("/menu/products/", {"local_product_id": "P900", "name": "Kunafa\x00 Nabulsi",
                                             "price": "18", "description": "Warm\x00\nwith cream"},
                         page="/menu/products/new")
    assert response.status_code == 302
    with psycopg.connect(owner_conninfo) as connection:
        assert connection.execute("SELECT name, description FROM products WHERE local_product_id = 'P900'"
                                  ).fetchall() == [("Kunafa Nabulsi", "Warm\nwith cream")]
