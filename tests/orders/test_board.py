"""The live board: lanes, cheap unchanged polls, actions from the board, tenant isolation."""
import psycopg
import pytest

from tests.orders.helpers import add_order


def _version(page):
    return page.split('id="board-state"')[1].split('data-version="')[1].split('"')[0]


def _settle(owner_conninfo):
    """Date every order's last change a minute back, as if the board had been open for a while.

    (A poll also redraws the lanes of orders changed in the 10 s before the version it shows.)
    """
    with psycopg.connect(owner_conninfo) as connection:
        connection.execute("SET session_replication_role = replica")  # keep set_updated_at out of it
        connection.execute("UPDATE delivery_orders SET updated_at = updated_at - interval '1 minute'")


def _swapped(answer):
    """The ids of the regions an update answer swaps out of band."""
    import re
    return set(re.findall(r'id="([\w-]+)"[^>]*hx-swap-oob="true"', answer))


def test_board_shows_open_orders_in_their_lanes(app, auth, client, careem_kitchen):
    company, integration = careem_kitchen
    add_order(app, company, integration, status="PENDING", order_number="NEW1")
    add_order(app, company, integration, status="IN_PREPARATION", order_number="PREP1")
    add_order(app, company, integration, status="DELIVERED", order_number="DONE1")
    add_order(app, company, integration, status="PENDING", order_number="TEST1", is_test=True)
    auth.login(company.email("USER"))
    page = client.get("/board").get_data(as_text=True)
    new_lane = page.split('class="lane lane-new"')[1].split("</section>")[0]
    preparing = page.split('class="lane lane-preparing"')[1].split("</section>")[0]
    assert "#NEW1" in new_lane and "#PREP1" in preparing
    assert "#DONE1" in page.split('id="lane-done"')[1]
    assert "TEST1" not in page  # test orders never reach the kitchen
    assert "No onions" in page and "Extra sauce" in page and "Noura" in page and "Al-Harbi" not in page


def test_cards_isolate_notes_and_draw_icons_without_an_emoji_font(app, auth, client, careem_kitchen):
    from datetime import datetime, timedelta, timezone
    company, integration = careem_kitchen
    add_order(app, company, integration, status="PENDING", order_number="NEW1",
              accept_by=datetime.now(timezone.utc) + timedelta(minutes=5), delivery_notes="Ring twice")
    auth.login(company.email("USER"))
    auth.post("/language", {"locale": "ar", "next": "/board"}, page="/board")

    card = client.get("/board").get_data(as_text=True).split('class="lane lane-new"')[1].split("</section>")[0]

    # An English note keeps its quotes in order on an RTL page: quotes and text in one isolate.
    assert '<bdi class="note" dir="auto">“No onions”</bdi>' in card
    assert 'dir="auto">Ring twice' in card
    assert 'class="icon icon-timer"' in card and "\u23f1" not in card


def test_a_search_without_matches_says_so_in_the_lanes(app, auth, client, careem_kitchen):
    company, integration = careem_kitchen
    add_order(app, company, integration, status="PENDING", order_number="NEW1")
    auth.login(company.email("USER"))

    new_lane = client.get("/board?q=zzzz").get_data(as_text=True).split('class="lane lane-new"')[1]

    assert "No orders match “zzzz”." in new_lane.split("</section>")[0]
    assert "No new orders" not in new_lane.split("</section>")[0]


def test_an_unchanged_board_answers_204_with_no_body(app, auth, client, careem_kitchen):
    company, integration = careem_kitchen
    add_order(app, company, integration)
    auth.login(company.email("USER"))
    version = _version(client.get("/board").get_data(as_text=True))
    unchanged = client.get(f"/board/lanes?since={version}", headers={"HX-Request": "true"})
    assert unchanged.status_code == 204 and unchanged.data == b""
    add_order(app, company, integration, order_number="LATE1")
    changed = client.get(f"/board/lanes?since={version}", headers={"HX-Request": "true"})
    assert changed.status_code == 200 and "#LATE1" in changed.get_data(as_text=True)
    assert _version(changed.get_data(as_text=True)) != version


def test_accepting_from_the_board_moves_the_card(app, auth, client, careem_kitchen, owner_conninfo):
    company, integration = careem_kitchen
    order_id = add_order(app, company, integration, order_number="MOVE1")
    auth.login(company.email("USER"))
    response = auth.post(f"/orders/{order_id}/actions/accept", {"preparation_minutes": "20"}, page="/board",
                         headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "#MOVE1" in page.split('class="lane lane-preparing"')[1].split("</section>")[0]
    with psycopg.connect(owner_conninfo) as connection:
        assert connection.execute("SELECT status FROM delivery_orders").fetchone() == ("ACCEPTED",)


def test_a_refused_action_says_why_and_changes_nothing(app, auth, client, careem_kitchen):
    company, integration = careem_kitchen
    order_id = add_order(app, company, integration, status="DELIVERED")
    auth.login(company.email("USER"))
    response = auth.post(f"/orders/{order_id}/actions/accept", page="/board", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "cannot be changed" in response.get_data(as_text=True)
    response = auth.post(f"/orders/{order_id}/actions/launch", page="/board")
    assert response.status_code == 404


def test_without_javascript_actions_redirect_back_with_a_message(app, auth, client, careem_kitchen, owner_conninfo):
    company, integration = careem_kitchen
    order_id = add_order(app, company, integration, order_number="REJ1")
    auth.login(company.email("USER"))
    response = auth.post(f"/orders/{order_id}/actions/reject", {"reason": "KITCHEN_TOO_BUSY_TO_PREPARE_ORDER"},
                         page="/board")
    assert response.status_code == 302 and response.headers["Location"].endswith("/board")
    page = client.get("/board").get_data(as_text=True)
    assert '<div class="flash flash-success">Order #REJ1 rejected: Kitchen too busy to prepare the order.</div>' \
        in page
    with psycopg.connect(owner_conninfo) as connection:
        assert connection.execute("SELECT status FROM delivery_orders").fetchone() == ("REJECTED",)


def test_the_board_reject_dialog_asks_for_a_reason_like_the_order_page(app, auth, client, careem_kitchen):
    company, integration = careem_kitchen
    add_order(app, company, integration)
    auth.login(company.email("USER"))
    page = client.get("/board").get_data(as_text=True)
    dialog = page.split('<dialog id="reject-dialog"')[1].split("</dialog>")[0]
    select = dialog.split('<select id="reject-reason"')[1].split("</select>")[0]
    assert 'required data-placeholder="Choose a reason…"' in select
    assert '<option value="" selected>Choose a reason…</option>' in select  # nothing chosen for the person


@pytest.mark.parametrize("reason", ["", "NOT_A_REASON"])
def test_rejecting_from_the_board_without_a_reason_says_so(app, auth, client, careem_kitchen, owner_conninfo, reason):
    company, integration = careem_kitchen
    order_id = add_order(app, company, integration, order_number="REJ2")
    auth.login(company.email("USER"))
    auth.post(f"/orders/{order_id}/actions/reject", {"reason": reason}, page="/board")
    page = client.get("/board").get_data(as_text=True)
    assert '<div class="flash flash-error">Choose a reason to reject order #REJ2.</div>' in page
    with psycopg.connect(owner_conninfo) as connection:
        assert connection.execute("SELECT status FROM delivery_orders").fetchone() == ("PENDING",)


def test_the_answer_to_each_action_is_a_sentence(app, auth, client, careem_kitchen):
    company, integration = careem_kitchen
    order_id = add_order(app, company, integration, order_number="S1")
    auth.login(company.email("USER"))
    answers = []
    for action in ("accept", "start", "ready"):
        auth.post(f"/orders/{order_id}/actions/{action}", page="/board")
        answers.append(client.get("/board").get_data(as_text=True).split('<div class="flash flash-')[1]
                       .split("</div>")[0])
    assert answers == ['success">Order #S1 accepted.', 'success">Order #S1 is being prepared.',
                       'success">Order #S1 is ready.']


def test_pause_a_platform_from_the_board(app, auth, client, careem_kitchen, owner_conninfo):
    company, integration = careem_kitchen
    auth.login(company.email("USER"))
    response = auth.post(f"/board/integrations/{integration}/pause", {"minutes": "30"}, page="/board",
                         headers={"HX-Request": "true"})
    assert "paused" in response.get_data(as_text=True)
    with psycopg.connect(owner_conninfo) as connection:
        assert connection.execute("SELECT paused_until > now() FROM integration_configs").fetchone() == (True,)
        assert connection.execute("SELECT action FROM platform_calls").fetchall() == [("STORE_PAUSE",)]
    bad = auth.post(f"/board/integrations/{integration}/pause", {"minutes": "7"}, page="/board",
                    headers={"HX-Request": "true"})
    assert "pause lengths" in bad.get_data(as_text=True)
    auth.post(f"/board/integrations/{integration}/pause", {"minutes": "resume"}, page="/board")
    with psycopg.connect(owner_conninfo) as connection:
        assert connection.execute("SELECT paused_until FROM integration_configs").fetchone() == (None,)


def test_staff_cannot_switch_auto_accept_but_managers_can(app, auth, client, careem_kitchen, owner_conninfo):
    company, integration = careem_kitchen
    auth.login(company.email("USER"))
    assert auth.post(f"/board/integrations/{integration}/auto-accept", {"enabled": "1"},
                     page="/board").status_code == 403
    auth.logout()
    auth.login(company.email("MANAGER"))
    auth.post(f"/board/integrations/{integration}/auto-accept", {"enabled": "1"}, page="/board")
    with psycopg.connect(owner_conninfo) as connection:
        assert connection.execute("SELECT auto_accept ->> 'enabled' FROM integration_configs").fetchone() == ("true",)


def test_the_board_never_shows_or_changes_another_companys_orders(app, auth, client, make_company,
                                                                   make_integration, owner_conninfo):
    alpha, beta = make_company("Alpha Kitchen"), make_company("Beta Grill")
    alpha_integration, beta_integration = make_integration(alpha, "CAREEM"), make_integration(beta, "CAREEM")
    add_order(app, alpha, alpha_integration, order_number="ALPHA1")
    beta_order = add_order(app, beta, beta_integration, order_number="BETA1")
    auth.login(alpha.email("COMPANY_ADMIN"))
    assert "BETA1" not in client.get("/board").get_data(as_text=True)
    assert "BETA1" not in client.get("/board/lanes?since=x&q=BETA").get_data(as_text=True)
    assert auth.post(f"/orders/{beta_order}/actions/accept", page="/board").status_code == 404
    assert auth.post(f"/board/integrations/{beta_integration}/pause", {"minutes": "30"},
                     page="/board").status_code == 404
    with psycopg.connect(owner_conninfo) as connection:
        assert connection.execute("SELECT status FROM delivery_orders WHERE order_number = 'BETA1'").fetchone() \
            == ("PENDING",)
    # Beta's changes do not wake Alpha's board.
    version = _version(client.get("/board").get_data(as_text=True))
    add_order(app, beta, beta_integration, order_number="BETA2")
    assert client.get(f"/board/lanes?since={version}").status_code == 204


def test_cached_cards_follow_the_order_and_the_language(app, auth, client, careem_kitchen):
    company, integration = careem_kitchen
    order_id = add_order(app, company, integration, order_number="CACHE1")
    auth.login(company.email("USER"))
    first = client.get("/board").get_data(as_text=True)
    assert "#CACHE1" in first.split('class="lane lane-new"')[1].split("</section>")[0]
    auth.post("/language", {"locale": "ar", "next": "/board"}, page="/board")
    arabic = client.get("/board").get_data(as_text=True)
    card = arabic.split(f'id="order-{order_id}"')[1].split("</article>")[0]
    assert "قبول" in card  # the same unchanged order, rendered again for the new language
    auth.post(f"/orders/{order_id}/actions/accept", {"preparation_minutes": "10"}, page="/board")
    moved = client.get("/board").get_data(as_text=True)
    assert "#CACHE1" in moved.split('class="lane lane-preparing"')[1].split("</section>")[0]


def test_a_poll_answers_only_the_lanes_that_changed(app, auth, client, careem_kitchen, owner_conninfo):
    company, integration = careem_kitchen
    add_order(app, company, integration, status="IN_PREPARATION", order_number="PREP1")
    _settle(owner_conninfo)
    auth.login(company.email("USER"))
    version = _version(client.get("/board").get_data(as_text=True))
    add_order(app, company, integration, order_number="LATE1")
    answer = client.get(f"/board/lanes?since={version}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert _swapped(answer) == {"board-state", "opening-state", "pause-banners", "platform-switches", "lane-new"}
    assert "#LATE1" in answer and "#PREP1" not in answer  # the unchanged lane is not sent again
    assert _version(answer) != version


def test_an_action_redraws_the_lane_a_card_left_and_the_one_it_joined(app, auth, client, careem_kitchen,
                                                                        owner_conninfo):
    company, integration = careem_kitchen
    order_id = add_order(app, company, integration, order_number="MOVE2")
    add_order(app, company, integration, status="OUT_FOR_DELIVERY", order_number="AWAY1")
    _settle(owner_conninfo)
    auth.login(company.email("USER"))
    version = _version(client.get("/board").get_data(as_text=True))
    answer = auth.post(f"/orders/{order_id}/actions/accept", {"preparation_minutes": "15", "since": version},
                       page="/board", headers={"HX-Request": "true"}).get_data(as_text=True)
    swapped = _swapped(answer)
    assert {"lane-new", "lane-preparing", "board-message"} <= swapped and "lane-on_the_way" not in swapped
    assert "#MOVE2" in answer.split('id="lane-preparing"')[1] and "#MOVE2" not in answer.split('id="lane-new"')[1].split("</section>")[0]
    assert "#AWAY1" not in answer


def test_an_unreadable_or_old_version_redraws_every_lane(app, auth, client, careem_kitchen):
    company, integration = careem_kitchen
    add_order(app, company, integration, order_number="ANY1")
    auth.login(company.email("USER"))
    lanes = {"lane-new", "lane-preparing", "lane-ready", "lane-on_the_way", "lane-done"}
    for since in ("garbage", "1e400-1", "-5", "100.0-3"):
        answer = client.get(f"/board/lanes?since={since}", headers={"HX-Request": "true"})
        assert answer.status_code == 200 and lanes <= _swapped(answer.get_data(as_text=True)), since


def test_pausing_from_the_board_redraws_the_platform_switches(app, auth, client, careem_kitchen):
    company, integration = careem_kitchen
    auth.login(company.email("USER"))
    answer = auth.post(f"/board/integrations/{integration}/pause", {"minutes": "30"}, page="/board",
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    switches = answer.split('id="platform-switches"')[1].split("</section>")[0]
    assert "Resume" in switches and "is paused" in answer.split('id="pause-banners"')[1]


def test_a_change_committed_late_with_an_older_timestamp_still_changes_the_version(app, auth, client, careem_kitchen,
                                                                                  owner_conninfo):
    company, integration = careem_kitchen
    add_order(app, company, integration, order_number="FIRST1")
    auth.login(company.email("USER"))
    version = _version(client.get("/board").get_data(as_text=True))
    # A transaction that began before the board's last poll commits after it: its now() is older.
    late = add_order(app, company, integration, order_number="LATE2")
    with psycopg.connect(owner_conninfo) as connection:
        connection.execute("SET session_replication_role = replica")
        connection.execute("UPDATE delivery_orders SET updated_at = (SELECT min(updated_at) FROM delivery_orders)"
                           " - interval '2 seconds' WHERE id = %s", (late,))
    answer = client.get(f"/board/lanes?since={version}", headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "#LATE2" in answer.get_data(as_text=True)
