"""The loyalty pages as people use them: forms with their messages, search, the customer's page, the order panel."""
import csv
import io
import re
from decimal import Decimal

import pytest

from tests.conftest import csrf_token
from tests.loyalty.helpers import TIERS, add_order, deliver, make_program, member, owner_rows

PROGRAM_FORM = {"name": "Kabsa Rewards", "program_type": "TIER_BASED", "points_per_currency_unit": "1",
                "point_value": "0.05", "min_redemption_points": "100", "max_redemption_percentage": "50",
                "expiration_days": "365", "tier_bonus_multiplier": "1", "referral_bonus": "25", "activate": "y"}


def _programs(conninfo):
    return owner_rows(conninfo, "SELECT name, program_type::text, points_per_currency_unit, is_active "
                                "FROM loyalty_programs ORDER BY created_at")


def test_manager_sets_up_a_program_and_sees_what_customers_get(client, auth, shop, owner_conninfo):
    auth.login(shop.company.email("MANAGER"))
    page = client.get("/loyalty/").get_data(as_text=True)
    assert "No loyalty program is running" in page
    assert client.get("/loyalty/program/new").status_code == 200

    response = auth.post("/loyalty/program", PROGRAM_FORM, page="/loyalty/program/new")

    assert response.status_code == 302
    assert _programs(owner_conninfo) == [("Kabsa Rewards", "TIER_BASED", Decimal("1.0000"), True)]
    page = client.get("/loyalty/").get_data(as_text=True)
    assert "Customers earn 1 point for every SAR" in page and "worth SAR" in page
    assert "Points expire 365 days after they are earned" in page
    assert "gets 25 points when the new customer" in page


@pytest.mark.parametrize("field, value, message", [
    ("points_per_currency_unit", "-1", "Number must be between 0 and 1000"),
    ("points_per_currency_unit", "abc", "Enter a number"),
    ("points_per_currency_unit", "1.23456", "at most 4 decimal places"),
    ("max_redemption_percentage", "150", "between 1 and 100"),
    ("point_value", "0", "between 0.0001 and 1000"),
    ("min_redemption_points", "-10", "between 0 and 1000000"),
    ("min_redemption_points", "10.5", "whole number"),
    ("expiration_days", "0", "between 1 and 3650"),
    ("tier_bonus_multiplier", "9", "between 0 and 5"),
    ("referral_bonus", "-1", "between 0 and 100000"),
    ("name", "", "This field is required"),
])
def test_bad_rules_are_refused_next_to_the_field_and_change_nothing(client, auth, shop, owner_conninfo, field, value,
                                                                    message):
    auth.login(shop.company.email("MANAGER"))
    response = auth.post("/loyalty/program", {**PROGRAM_FORM, field: value}, page="/loyalty/program/new")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    block = re.search(rf'<div class="field has-error">\s*<label for="{field}".*?</div>', page, re.S)
    assert block and message in block.group(0), page[:0]
    assert f'value="{value}"' in block.group(0) or field == "name"  # what was typed is kept
    assert _programs(owner_conninfo) == []


def test_arabic_digits_are_read_in_numbers(client, auth, shop, owner_conninfo):
    auth.login(shop.company.email("MANAGER"))
    form = {**PROGRAM_FORM, "points_per_currency_unit": "٢٫٥", "min_redemption_points": "١٠٠"}
    assert auth.post("/loyalty/program", form, page="/loyalty/program/new").status_code == 302
    assert _programs(owner_conninfo)[0][2] == Decimal("2.5000")


def test_preview_summarises_the_rules_being_typed(client, auth, shop):
    auth.login(shop.company.email("MANAGER"))
    token = csrf_token(client, "/loyalty/program/new")
    answer = client.post("/loyalty/program/preview", data={**PROGRAM_FORM, "program_type": "CASHBACK",
                                                           "csrf_token": token}, headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert "5% of every delivered order back as credit" in answer.get_data(as_text=True)
    answer = client.post("/loyalty/program/preview", data={**PROGRAM_FORM, "point_value": "x", "csrf_token": token},
                         headers={"HX-Request": "true"})
    assert "Fill in valid rules" in answer.get_data(as_text=True)


def test_a_second_active_program_replaces_the_first(client, auth, app, shop, owner_conninfo):
    make_program(app, shop.company, tiers=TIERS)
    auth.login(shop.company.email("MANAGER"))
    response = auth.post("/loyalty/program", {**PROGRAM_FORM, "name": "Ramadan"}, page="/loyalty/program/new")
    assert response.status_code == 302
    assert [(name, active) for name, _, _, active in _programs(owner_conninfo)] == [("Rewards", False),
                                                                                  ("Ramadan", True)]


def test_every_program_stays_listed_with_its_state(client, auth, app, shop):
    make_program(app, shop.company, tiers=TIERS)
    auth.login(shop.company.email("MANAGER"))
    auth.post("/loyalty/program", {**PROGRAM_FORM, "name": "Ramadan", "activate": ""}, page="/loyalty/program/new")

    page = client.get("/loyalty/").get_data(as_text=True)

    programs = page[page.index('id="programs"'):]
    assert "Rewards" in programs and "Ramadan" in programs
    assert "Paused" in programs and "Make active" in programs


def test_program_names_are_unique_per_company_ignoring_case(client, auth, app, shop, other_shop, owner_conninfo):
    make_program(app, shop.company)
    make_program(app, other_shop.company, name="Ramadan")  # another company's name is no obstacle
    auth.login(shop.company.email("MANAGER"))

    response = auth.post("/loyalty/program", {**PROGRAM_FORM, "name": " rewards "}, page="/loyalty/program/new")

    assert response.status_code == 422
    assert "Another program of yours has this name." in response.get_data(as_text=True)
    assert auth.post("/loyalty/program", {**PROGRAM_FORM, "name": "Ramadan"},
                     page="/loyalty/program/new").status_code == 302
    assert sorted(name for name, *_ in _programs(owner_conninfo)) == ["Ramadan", "Ramadan", "Rewards"]


def test_tiers_are_added_edited_and_removed_from_their_pages(client, auth, app, shop, owner_conninfo):
    program_id = make_program(app, shop.company, program_type="TIER_BASED")
    auth.login(shop.company.email("MANAGER"))
    new = f"/loyalty/program/{program_id}/tiers/new"
    tier = {"name": "Gold", "name_ar": "ذهبي", "min_points": "2000", "min_spend": "0", "window_days": "",
            "earn_multiplier": "1.5", "perks": "Free delivery on Fridays", "perks_ar": "توصيل مجاني"}
    assert auth.post(f"/loyalty/program/{program_id}/tiers", tier, page=new).status_code == 302
    refused = auth.post(f"/loyalty/program/{program_id}/tiers", {**tier, "name": "gold"}, page=new)
    assert refused.status_code == 422 and "Another tier of this program has this name." in refused.get_data(as_text=True)
    refused = auth.post(f"/loyalty/program/{program_id}/tiers", {**tier, "name": "Max", "earn_multiplier": "50"},
                        page=new)
    assert refused.status_code == 422
    (tier_id,), = owner_rows(owner_conninfo, "SELECT id FROM loyalty_tiers")
    assert auth.post(f"/loyalty/tiers/{tier_id}", {**tier, "min_points": "1500"}, page=new).status_code == 302
    assert owner_rows(owner_conninfo, "SELECT name, name_ar, min_points, earn_multiplier FROM loyalty_tiers") == [
        ("Gold", "ذهبي", 1500, Decimal("1.50"))]
    page = client.get("/loyalty/").get_data(as_text=True)
    assert "Free delivery on Fridays" in page and "Gold 1.5×" in page
    assert auth.post(f"/loyalty/tiers/{tier_id}/delete", page=new).status_code == 302
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM loyalty_tiers") == [(0,)]
    # Program and tier changes are in the audit log.
    operations = {row[0] for row in owner_rows(owner_conninfo, "SELECT table_name FROM audit_logs")}
    assert {"loyalty_programs", "loyalty_tiers"} <= operations


@pytest.fixture
def members(app, shop, make_integration):
    """Three customers; Noura ordered on Talabat and Careem with her phone written differently."""
    make_program(app, shop.company, tiers=TIERS, program_type="TIER_BASED")
    careem = make_integration(shop.company, "CAREEM", base_url="http://127.0.0.1:9/careem")
    deliver(app, shop.company, add_order(app, shop.company, shop.integration, phone="+966551234567", total="120",
                                         name="Noura Al-Harbi"))
    deliver(app, shop.company, add_order(app, shop.company, careem, phone="0551234567", total="80",
                                         name="Noura Al-Harbi"))
    deliver(app, shop.company, add_order(app, shop.company, shop.integration, phone="+966509998877", total="40",
                                         name="Fahad Al-Qahtani"))
    deliver(app, shop.company, add_order(app, shop.company, shop.integration, phone="+966561112233", total="15",
                                         name="=HYPERLINK(\"x\")"))
    return shop


@pytest.mark.parametrize("query", ["+966 55 123 4567", "0551234567", "966551234567", "٠٥٥١٢٣٤٥٦٧", "55123", "noura",
                                   "AL-HARBI"])
def test_customer_search_by_any_phone_format_or_name(client, auth, members, query):
    auth.login(members.company.email("MANAGER"))
    page = client.get("/loyalty/customers", query_string={"q": query}).get_data(as_text=True)
    assert "Noura Al-Harbi" in page and "Fahad" not in page
    assert "1 customer" in page


def test_customer_search_as_you_type_returns_the_results_only(client, auth, members):
    auth.login(members.company.email("MANAGER"))
    response = client.get("/loyalty/customers?q=fahad", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="customer-results"') and "Fahad Al-Qahtani" in body
    assert response.headers["HX-Push-Url"] == "/loyalty/customers?q=fahad"
    nothing = client.get("/loyalty/customers?q=zzz").get_data(as_text=True)
    assert "No customer matches" in nothing


def test_customer_page_shows_balance_tier_progress_orders_on_every_platform_and_ledger(client, auth, members,
                                                                                      owner_conninfo):
    auth.login(members.company.email("MANAGER"))
    (member_id,), = owner_rows(owner_conninfo, "SELECT id FROM customer_loyalty WHERE customer_phone = '+966551234567'")
    page = client.get(f"/loyalty/customers/{member_id}").get_data(as_text=True)
    assert re.search(r'id="member-points" dir="ltr">200<', page)
    assert "300 more points" in page and 'aria-valuenow="40"' in page  # 200 of Silver's 500
    assert "Talabat" in page and "Careem" in page
    assert page.count("Earned") >= 2


def test_export_lists_the_filtered_customers_safely(client, auth, members):
    auth.login(members.company.email("MANAGER"))
    response = client.get("/loyalty/customers/export.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["phone", "name", "email", "tier", "points"]
    by_phone = {row[0]: row for row in rows[1:]}
    assert set(by_phone) == {"+966551234567", "+966509998877", "+966561112233"}
    assert by_phone["+966551234567"][4:6] == ["200", "10.000"]
    assert by_phone["+966561112233"][1].startswith("'=")  # never a formula in a spreadsheet
    only = client.get("/loyalty/customers/export.csv?q=fahad").get_data(as_text=True)
    assert "+966509998877" in only and "+966551234567" not in only


def test_adjustment_from_the_customer_page(client, auth, members, owner_conninfo):
    auth.login(members.company.email("MANAGER"))
    (member_id,), = owner_rows(owner_conninfo, "SELECT id FROM customer_loyalty WHERE customer_phone = '+966551234567'")
    path = f"/loyalty/customers/{member_id}"
    refused = auth.post(f"{path}/adjust", {"points": "-500", "reason": "mistake"}, page=path)
    assert refused.status_code == 422 and "only 200 points to remove" in refused.get_data(as_text=True)
    refused = auth.post(f"{path}/adjust", {"points": "20", "reason": ""}, page=path)
    assert refused.status_code == 422 and "Say why" in refused.get_data(as_text=True)
    assert auth.post(f"{path}/adjust", {"points": "-50", "reason": "Duplicate order"}, page=path).status_code == 302
    assert member(owner_conninfo)[0] == 150
    assert "Duplicate order" in client.get(path).get_data(as_text=True)
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM audit_logs WHERE operation = 'LOYALTY_ADJUST'") == [(1,)]


def test_order_page_panel_redeems_for_staff(client, auth, members, app, owner_conninfo):
    open_order = add_order(members.app if hasattr(members, "app") else app, members.company, members.integration,
                           phone="0551234567", total="100", status="ACCEPTED")
    auth.login(members.company.email("USER"))
    page = client.get(f"/orders/{open_order}").get_data(as_text=True)
    assert 'id="loyalty-panel"' in page and "Noura Al-Harbi" in page
    assert "Earns about 150 points when delivered" not in page  # Bronze: 1×
    assert "Earns about 100 points when delivered" in page
    assert 'max="200"' in page  # 200 points = SAR 10, under half the order

    token = csrf_token(client, f"/orders/{open_order}")
    (member_id,), = owner_rows(owner_conninfo, "SELECT id FROM customer_loyalty WHERE customer_phone = '+966551234567'")
    refused = client.post(f"/loyalty/orders/{open_order}/redeem", data={"member_id": member_id, "points": "50",
                                                                       "csrf_token": token},
                          headers={"HX-Request": "true"})
    assert refused.status_code == 200 and "Redeem at least 100 points." in refused.get_data(as_text=True)
    answer = client.post(f"/loyalty/orders/{open_order}/redeem", data={"member_id": member_id, "points": "150",
                                                                      "csrf_token": token},
                         headers={"HX-Request": "true"})
    body = answer.get_data(as_text=True)
    assert body.lstrip().startswith('<section class="card loyalty-panel" id="loyalty-panel"')
    assert "Redeemed 150 points: take SAR" in body and "7.50" in body
    assert member(owner_conninfo)[0] == 50
    # Without htmx: Post/Redirect/Get to the order page.
    again = client.post(f"/loyalty/orders/{open_order}/redeem", data={"member_id": member_id, "points": "100",
                                                                     "csrf_token": token})
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/orders/{open_order}#loyalty-panel")
    assert member(owner_conninfo)[0] == 50


def test_panel_says_why_an_order_without_phone_earns_nothing_and_looks_up_by_phone(client, auth, members, app):
    order_id = add_order(app, members.company, members.integration, phone=None, total="60", status="ACCEPTED")
    auth.login(members.company.email("USER"))
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "The platform sent no phone number for this customer, so no points can be earned." in page
    found = client.get(f"/loyalty/orders/{order_id}/panel?loyalty_phone=٠٥٠٩٩٩٨٨٧٧", headers={"HX-Request": "true"})
    assert "Fahad Al-Qahtani" in found.get_data(as_text=True)
    missing = client.get(f"/loyalty/orders/{order_id}/panel?loyalty_phone=0500000001",
                         headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "No member has this phone number." in missing
    without_js = client.get(f"/orders/{order_id}?loyalty_phone=0509998877").get_data(as_text=True)
    assert "Fahad Al-Qahtani" in without_js


def test_manager_refund_from_the_panel(client, auth, members, app, owner_conninfo):
    (order_id,), = owner_rows(owner_conninfo, "SELECT id FROM delivery_orders WHERE total_amount = 40")
    auth.login(members.company.email("USER"))
    assert "Take points back" not in client.get(f"/orders/{order_id}").get_data(as_text=True)
    token = csrf_token(client, f"/orders/{order_id}")
    assert client.post(f"/loyalty/orders/{order_id}/refund", data={"reason": "x", "csrf_token": token}).status_code \
        == 403
    auth.logout()
    auth.login(members.company.email("MANAGER"))
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Take points back" in page
    answer = auth.post(f"/loyalty/orders/{order_id}/refund", {"reason": "Cold food"}, page=f"/orders/{order_id}",
                       headers={"HX-Request": "true"})
    assert "were taken back" in answer.get_data(as_text=True)
    assert member(owner_conninfo, "+966509998877")[:4] == (0, 0, 0, 0)


@pytest.mark.parametrize("path", ["/loyalty/", "/loyalty/customers", "/loyalty/customers/export.csv",
                                  "/loyalty/program/new", "/loyalty/customers/new"])
def test_staff_cannot_open_the_loyalty_admin(client, auth, shop, path):
    auth.login(shop.company.email("USER"))
    assert client.get(path).status_code == 403


def test_loyalty_is_in_the_main_navigation_for_managers_only(client, auth, shop):
    auth.login(shop.company.email("MANAGER"))
    assert ">Loyalty</a>" in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(shop.company.email("USER"))
    assert ">Loyalty</a>" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/loyalty/customers?page=-3&tier=drop&sort=evil", "/loyalty/customers?q=%25_%5C",
                                  "/loyalty/customers?q=+++", "/loyalty/customers/not-a-uuid",
                                  "/loyalty/customers/00000000-0000-0000-0000-000000000000",
                                  "/loyalty/program/nope/edit", "/loyalty/tiers/1/edit"])
def test_odd_addresses_never_fail(client, auth, members, path):
    auth.login(members.company.email("MANAGER"))
    assert client.get(path).status_code in (200, 404)


def test_dashboard_counts_members_liability_and_tiers(client, auth, members):
    auth.login(members.company.email("MANAGER"))
    page = client.get("/loyalty/").get_data(as_text=True)
    stats = dict(re.findall(r'<span class="stat-label">([^<]+)</span><span class="stat-value"[^>]*>([^<]+)<', page))
    assert stats["Members"] == "3" and stats["Ordered in the last 30 days"] == "3"
    assert stats["Points outstanding"] == "255"
    assert "12.75" in stats["Worth (what you owe customers)"]  # 255 × SAR 0.05
    assert 'id="earn-redeem-data"' in page and "Bronze" in page
