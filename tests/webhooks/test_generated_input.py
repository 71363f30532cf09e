"""Generated input against the receiver and the filters: never a 5xx, every webhook stored, and every
webhook answered 2xx is an order in the database (nothing acknowledged is lost)."""
import itertools
import json
from urllib.parse import quote_from_bytes

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.webhooks.test_poison_bodies import generic_order
from tests.webhooks.conftest import rows

SETTINGS = settings(max_examples=80, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_serial = itertools.count()

# Text as platforms should not send it: controls, NUL, lone surrogates, right-to-left, very long.
nasty_text = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=30),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "\u202e", "  ", ""]),
    st.integers(150, 3000).map(lambda n: "n" * n),
)
nasty_number = st.one_of(
    st.integers(-(10 ** 40), 10 ** 40), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1e400", "1e999999", "9" * 40, "-0", "0.0001", "NaN", "1_000", " 12.5 ", "1e-400"]),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
nasty_value = st.one_of(nasty_text, nasty_number, st.none(), st.booleans(), st.just([]), st.just({}))


@st.composite
def order_bodies(draw):
    """A generic order.created body with some fields replaced by nasty values, as bytes."""
    serial = next(_serial)
    body = generic_order(id=f"fuzz-{serial}")
    body["event_id"] = f"evt-{serial}"
    order = body["order"]
    fields = [("customer", "name"), ("customer", "email"), ("customer", "phone"), ("delivery", "address"),
              ("delivery", "notes"), ("totals", "total"), ("totals", "subtotal"), ("totals", "delivery_fee"),
              ("items", "quantity"), ("items", "unit_price"), ("items", "name"), (None, "number"),
              (None, "short_code"), (None, "id")]
    for section, key in draw(st.lists(st.sampled_from(fields), max_size=4, unique=True)):
        value = draw(nasty_value)
        if section is None:
            order[key] = value
        elif section == "items":
            order["items"][0][key] = value
        else:
            order[section][key] = value
    raw = json.dumps(body, allow_nan=True).encode()
    depth = draw(st.sampled_from([0] * 8 + [70, 3000]))
    if depth:
        raw = b'{"event": "order.created", "nested": ' + b"[" * depth + b"]" * depth + b"}"
    if draw(st.integers(0, 9)) == 0:  # now and then: bytes that are not UTF-8 at all
        raw = raw[:10] + b"\xff\xc3" + raw[10:]
    return raw


def test_generated_webhooks_are_stored_answered_and_never_lost(webhooks, make_integration, alpha, owner_conninfo):
    integration_id = make_integration(alpha, "NASHMI")

    @SETTINGS
    @given(raw=order_bodies(), signed=st.sampled_from([True, True, True, False]))
    def check(raw, signed):
        (before,), = rows(owner_conninfo, "SELECT count(*) FROM webhook_logs")
        response = webhooks.send("NASHMI", integration_id, raw, sign=signed)
        assert response.status_code < 500, (raw[:300], response.get_data(as_text=True))
        event(f"answered {response.status_code}")
        (log_count,), = rows(owner_conninfo, "SELECT count(*) FROM webhook_logs")
        assert log_count == before + 1  # stored, whatever it was
        (outcome, order_id, status_code), = rows(
            owner_conninfo, "SELECT outcome, order_id, status_code FROM webhook_logs ORDER BY created_at DESC LIMIT 1")
        assert outcome != "RECEIVED" and status_code == response.status_code
        if response.status_code < 300:
            assert outcome in ("PROCESSED", "DUPLICATE") and order_id is not None
            assert rows(owner_conninfo, "SELECT count(*) FROM delivery_orders WHERE id = %s", (order_id,)) == [(1,)]
        else:
            assert outcome in ("INVALID", "UNAUTHORIZED"), outcome

    check()


filter_values = st.one_of(nasty_text, nasty_number.map(str),
                          st.binary(max_size=20).map(lambda raw: raw.decode("latin-1")))


def test_generated_filters_never_give_5xx(app, auth, client, alpha):
    """Every GET page without path parts, with generated values for the parameters the portal reads."""
    from tests.test_query_params import get_urls, query_parameter_names

    pages = [url for url in get_urls(app) if "/webhooks/nashmi/" not in url and "/x" not in url]
    names = query_parameter_names()
    auth.login(alpha.email("COMPANY_ADMIN"))

    @SETTINGS
    @given(path=st.sampled_from(pages),
           query=st.dictionaries(st.sampled_from(names), filter_values, min_size=1, max_size=5))
    def check(path, query):
        # As a client sends it: bytes, percent-encoded (a lone surrogate becomes invalid UTF-8).
        encoded = "&".join(f"{name}={quote_from_bytes(value.encode('utf-8', 'surrogatepass'))}"
                           for name, value in query.items())
        response = client.get(f"{path}?{encoded}")
        response.get_data()  # a streamed export fails while it is read
        assert response.status_code < 500, (path, query)

    check()
