"""Whatever a customer types into the web chat, or a poll's `after` holds, the chat never answers 500:
a message is kept as written (up to its limit) and answered, or refused with a reason and nothing kept."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from portal.extensions import limiter
from tests.assistant.test_pages import Widget, classifier, public_id  # noqa: F401  (classifier: a fixture)
from tests.conftest import owner_rows

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=2100) | st.sampled_from(
    ["وين طلبي", "1042 ٤٥٦٧", "\x00", "   ", "<script>alert(1)</script>", "%(number)s", "{{customer_name}}"])


@pytest.fixture
def chat(app, make_company, owner_conninfo):
    return public_id(owner_conninfo, make_company("Alpha Kitchen"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, after=st.text(max_size=40))
def test_any_message_or_poll_is_answered_or_refused(app, chat, owner_conninfo, text, after):
    limiter.reset()  # the rate limits have their own tests; here every example is one customer's first try
    widget = Widget(app.test_client(), chat)
    before = owner_rows(owner_conninfo, "SELECT count(*) FROM chat_messages")[0][0]
    answer = widget.say(text)
    assert answer.status_code in (200, 422), answer.status_code
    kept = owner_rows(owner_conninfo, "SELECT count(*) FROM chat_messages")[0][0] - before
    assert (kept >= 1) == (answer.status_code == 200)
    assert "<script>alert(1)</script>" not in answer.get_data(as_text=True)
    assert widget.poll(after).status_code in (200, 204)
