"""Company A never sees, changes or infers company B's customers, points, programs or tiers."""
import pytest

from portal.extensions import db
from portal.loyalty.balance_check import check_balances
from portal.loyalty.ledger import expire_points, find_member_by_phone, lock_member
from portal.loyalty.programs import active_program, recompute_tiers
from portal.models import CustomerLoyalty
from portal.tenancy import tenant
from tests.conftest import csrf_token
from tests.loyalty.helpers import TIERS, add_order, deliver, make_program, owner_rows

SAME_PHONE = "+966551234567"


@pytest.fixture
def both(app, shop, other_shop):
    """Both companies run a program, and the same phone is a member of each (two separate customers)."""
    make_program(app, shop.company, tiers=TIERS)
    make_program(app, other_shop.company, tiers=[("Diamond", 0, "1")], point_value="0.005")
    deliver(app, shop.company, add_order(app, shop.company, shop.integration, phone=SAME_PHONE, total="100",
                                         name="Alpha's customer"))
    deliver(app, other_shop.company, add_order(app, other_shop.company, other_shop.integration, phone=SAME_PHONE,
                                               total="777", name="Beta's customer", currency="KWD"))
    b = {name: owner_rows(_conninfo(app), f"SELECT id FROM {table} WHERE company_id = %s",
                          (other_shop.company.id,))[0][0]
         for name, table in (("member", "customer_loyalty"), ("program", "loyalty_programs"),
                             ("tier", "loyalty_tiers"), ("order", "delivery_orders"))}
    return shop, other_shop, b


def _conninfo(app):
    from tests.conftest import libpq_conninfo
    return libpq_conninfo(app.config["OWNER_DATABASE_URL"])


def _snapshot(conninfo):
    return owner_rows(conninfo, "SELECT (SELECT count(*) FROM loyalty_transactions), "
                                "(SELECT sum(current_points) FROM customer_loyalty), "
                                "(SELECT count(*) FROM loyalty_tiers), (SELECT count(*) FROM loyalty_programs), "
                                "(SELECT string_agg(name || is_active::text, ',' ORDER BY name) FROM loyalty_programs)")


def test_the_same_phone_is_two_customers_with_their_own_points(app, both, owner_conninfo):
    shop, other, _ = both
    assert owner_rows(owner_conninfo, "SELECT company_id, current_points FROM customer_loyalty ORDER BY current_points"
                      ) == [(shop.company.id, 100), (other.company.id, 777)]
    with app.app_context(), tenant(shop.company.id):
        assert find_member_by_phone(SAME_PHONE).current_points == 100
        assert check_balances().members == 1


def test_pages_show_only_the_companys_own_customers(client, auth, both):
    shop, _, b = both
    auth.login(shop.company.email("MANAGER"))
    listing = client.get("/loyalty/customers").get_data(as_text=True)
    assert "Alpha&#39;s customer" in listing and "Beta" not in listing
    assert "Beta" not in client.get(f"/loyalty/customers?q={SAME_PHONE}").get_data(as_text=True)
    export = client.get("/loyalty/customers/export.csv").get_data(as_text=True)
    assert "Alpha's customer" in export and "Beta" not in export and "777" not in export
    dashboard = client.get("/loyalty/").get_data(as_text=True)
    assert "Diamond" not in dashboard and ">1<" in dashboard  # one member


@pytest.mark.parametrize("path", ["/loyalty/customers/{member}", "/loyalty/program/{program}/edit",
                                  "/loyalty/program/{program}/tiers/new", "/loyalty/tiers/{tier}/edit",
                                  "/loyalty/orders/{order}/panel", "/orders/{order}"])
def test_another_companys_ids_in_the_address_are_not_found(client, auth, both, path):
    shop, _, b = both
    auth.login(shop.company.email("MANAGER"))
    assert client.get(path.format(**b), headers={"HX-Request": "true"}).status_code == 404


@pytest.mark.parametrize("path, data", [
    ("/loyalty/customers/{member}/adjust", {"points": "1000", "reason": "steal"}),
    ("/loyalty/customers/{member}/referrer", {"referred_by": SAME_PHONE}),
    ("/loyalty/program/{program}", {"name": "Hijacked", "program_type": "POINTS_BASED", "points_per_currency_unit": "9",
                                    "point_value": "1", "max_redemption_percentage": "100",
                                    "tier_bonus_multiplier": "1"}),
    ("/loyalty/program/{program}/activate", {}),
    ("/loyalty/program/{program}/deactivate", {}),
    ("/loyalty/program/{program}/tiers", {"name": "Mine", "min_points": "5", "earn_multiplier": "2"}),
    ("/loyalty/tiers/{tier}", {"name": "Mine", "min_points": "5", "earn_multiplier": "2"}),
    ("/loyalty/tiers/{tier}/delete", {}),
    ("/loyalty/orders/{order}/redeem", {"member_id": "{member}", "points": "100"}),
    ("/loyalty/orders/{order}/refund", {"reason": "free points"}),
    ("/loyalty/orders/{order}/award", {}),
])
def test_another_companys_rows_cannot_be_changed(client, auth, both, owner_conninfo, path, data):
    shop, _, b = both
    auth.login(shop.company.email("MANAGER"))
    before = _snapshot(owner_conninfo)
    token = csrf_token(client, "/loyalty/")
    response = client.post(path.format(**b), data={**{key: value.format(**b) for key, value in data.items()},
                                                   "csrf_token": token})
    assert response.status_code == 404
    assert _snapshot(owner_conninfo) == before


def test_redeeming_on_own_order_for_another_companys_member_is_not_found(client, auth, app, both, owner_conninfo):
    shop, _, b = both
    own_order = add_order(app, shop.company, shop.integration, total="500", status="ACCEPTED")
    auth.login(shop.company.email("USER"))
    before = _snapshot(owner_conninfo)
    token = csrf_token(client, f"/orders/{own_order}")
    response = client.post(f"/loyalty/orders/{own_order}/redeem",
                           data={"member_id": b["member"], "points": "100", "csrf_token": token})
    assert response.status_code == 404
    assert _snapshot(owner_conninfo) == before


def test_services_under_one_tenant_never_touch_the_other(app, both, owner_conninfo):
    shop, other, b = both
    with app.app_context(), tenant(shop.company.id):
        assert db.session.get(CustomerLoyalty, b["member"]) is None
        assert lock_member(b["member"]) is None
        assert expire_points() == 0
        assert recompute_tiers(active_program()) == 0
        db.session.commit()
    assert owner_rows(owner_conninfo, "SELECT current_points FROM customer_loyalty WHERE id = %s", (b["member"],)) \
        == [(777,)]
