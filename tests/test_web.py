"""The web helpers every area shares: safe "next" addresses and Vary on every answer."""
import pytest

from portal.web import safe_next


@pytest.mark.parametrize("target, expected", [
    ("/orders/?q=1", "/orders/?q=1"),
    ("/board", "/board"),
    ("", "/default"),
    (None, "/default"),
    ("//evil.test/x", "/default"),
    ("https://evil.test/", "/default"),
    ("/\\evil.test", "/default"),      # browsers read a backslash as a slash: //evil.test
    ("\\\\evil.test", "/default"),
    ("javascript:alert(1)", "/default"),
    ("orders", "/default"),
])
def test_only_paths_on_this_site_are_followed(target, expected):
    assert safe_next(target, "/default") == expected


def test_a_form_next_with_a_backslash_goes_back_to_the_board_not_away(client, auth, make_company, make_integration):
    company = make_company("Kabsa House")
    integration = make_integration(company, "CAREEM")
    auth.login(company.email("USER"))
    response = auth.post(f"/board/integrations/{integration}/pause", {"minutes": "resume", "next": "/\\evil.test"},
                         page="/board")
    assert response.status_code == 302 and response.headers["Location"] == "/board"


def test_every_answer_varies_on_hx_request(client):
    assert "HX-Request" in client.get("/login").headers.get("Vary", "")
    assert "HX-Request" in client.get("/login", headers={"HX-Request": "true"}).headers.get("Vary", "")
