"""Operator commands: seed-demo (idempotent), create-company, create-user."""
import psycopg
import pytest
from psycopg import sql

from portal.demo import DEMO_PASSWORD, SAMPLE_COMPANY_ID, SECOND_COMPANY_ID
from tests.conftest import PASSWORD, csrf_token

DEMO_ADMIN = "admin@sample-restaurant.com"


def table_counts(conninfo):
    """Rows in every table of the schema, counted as the owner (row-level security does not hide any)."""
    with psycopg.connect(conninfo) as connection:
        tables = [row[0] for row in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            " ORDER BY tablename")]
        return {table: connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
                .fetchone()[0] for table in tables}


def owner_rows(conninfo, query, *params):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(query, params).fetchall()


def sign_in(client, email, password):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def invoke(runner, *args):
    """Run a command as `flask --app wsgi …` does: in a fresh application context of its own."""
    with runner.app.app_context():
        return runner.invoke(args=list(args))


# --- seed-demo --------------------------------------------------------------------------------------

@pytest.fixture
def seeded(runner):
    result = invoke(runner, "seed-demo")
    assert result.exit_code == 0, result.output
    return result


def test_seed_demo_twice_leaves_the_same_rows(runner, seeded, owner_conninfo):
    first = table_counts(owner_conninfo)
    assert first["companies"] == 2
    assert first["users"] == 6
    assert first["delivery_orders"] > 0 and first["order_status_history"] > 0
    assert first["products"] > 0 and first["menu_mappings"] > 0 and first["integration_configs"] > 0

    again = invoke(runner, "seed-demo")

    assert again.exit_code == 0, again.output
    assert table_counts(owner_conninfo) == first
    assert again.output == seeded.output


def test_seed_demo_reports_orders_and_the_demo_login(seeded, owner_conninfo):
    for company_id, name in ((SAMPLE_COMPANY_ID, "Sample Restaurant"), (SECOND_COMPANY_ID, "Gulf Grill Kuwait")):
        orders = owner_rows(owner_conninfo, "SELECT count(*) FROM delivery_orders WHERE company_id = %s",
                            company_id)[0][0]
        assert f"{name}: {orders} orders" in seeded.output
    assert f"{DEMO_ADMIN} / {DEMO_PASSWORD}" in seeded.output


def test_demo_admin_signs_in_and_sees_sample_restaurant(client, seeded):
    response = sign_in(client, DEMO_ADMIN, DEMO_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"

    page = client.get("/").get_data(as_text=True)
    assert "Sample Restaurant" in page
    assert "Gulf Grill Kuwait" not in page


def test_each_demo_company_sees_only_its_own_orders(app, seeded, owner_conninfo):
    from portal.extensions import db
    from portal.models import DeliveryOrder
    from portal.tenancy import tenant

    expected = dict(owner_rows(owner_conninfo,
                               "SELECT company_id, count(*) FROM delivery_orders GROUP BY company_id"))
    assert set(expected) == {SAMPLE_COMPANY_ID, SECOND_COMPANY_ID}

    with app.app_context():
        for company_id, count in expected.items():
            with tenant(company_id):
                seen = db.session.execute(
                    db.select(DeliveryOrder.company_id, db.func.count()).group_by(DeliveryOrder.company_id)).all()
                db.session.rollback()
            assert seen == [(company_id, count)]
        # No tenant: no orders at all.
        assert db.session.scalar(db.select(db.func.count()).select_from(DeliveryOrder)) == 0
        db.session.rollback()


def test_each_demo_admin_sees_their_own_orders_on_the_dashboard(app, seeded, owner_conninfo):
    latest = {}
    for company_id in (SAMPLE_COMPANY_ID, SECOND_COMPANY_ID):
        latest[company_id] = owner_rows(
            owner_conninfo, "SELECT order_number, currency FROM delivery_orders WHERE company_id = %s"
                            " ORDER BY created_at DESC LIMIT 1", company_id)[0]

    for email, own, other in (("admin@sample-restaurant.com", SAMPLE_COMPANY_ID, SECOND_COMPANY_ID),
                              ("admin@gulf-grill.com", SECOND_COMPANY_ID, SAMPLE_COMPANY_ID)):
        client = app.test_client()
        assert sign_in(client, email, DEMO_PASSWORD).status_code == 302
        page = client.get("/").get_data(as_text=True)
        own_number, own_currency = latest[own]
        assert f"#{own_number}" in page
        assert own_currency in page
        other_number, _ = latest[other]
        if other_number != own_number:
            assert f"#{other_number}" not in page


# --- create-company ---------------------------------------------------------------------------------

def test_create_company_then_its_admin_signs_in(runner, client, owner_conninfo):
    result = invoke(runner, "create-company", "--name", "Dune Diner", "--admin-email", "Owner@Dune-Diner.test",
                    "--admin-password", PASSWORD, "--timezone", "Asia/Dubai", "--currency", "aed",
                    "--country", "ae")

    assert result.exit_code == 0, result.output
    assert "Created company Dune Diner" in result.output
    company = owner_rows(owner_conninfo, "SELECT id, timezone, currency, country_code FROM companies"
                                         " WHERE name = 'Dune Diner'")
    assert len(company) == 1
    company_id, zone, currency, country = company[0]
    assert (zone, currency, country) == ("Asia/Dubai", "AED", "AE")
    assert str(company_id) in result.output
    admins = owner_rows(owner_conninfo, "SELECT email, role FROM users WHERE company_id = %s", company_id)
    assert admins == [("owner@dune-diner.test", "COMPANY_ADMIN")]

    assert sign_in(client, "owner@dune-diner.test", PASSWORD).status_code == 302
    assert "Dune Diner" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("changes, message", [
    ({"--admin-password": "short"}, "at least 8 characters"),
    ({"--timezone": "Mars/Olympus_Mons"}, "Unknown time zone"),
], ids=["short-password", "unknown-time-zone"])
def test_create_company_refuses_bad_input(runner, owner_conninfo, changes, message):
    options = {"--name": "Dune Diner", "--admin-email": "owner@dune-diner.test", "--admin-password": PASSWORD,
               **changes}
    args = [item for pair in options.items() for item in pair]

    result = invoke(runner, "create-company", *args)

    assert result.exit_code != 0
    assert message in result.output
    assert isinstance(result.exception, SystemExit)  # a clear error, not a crash
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM companies")[0][0] == 0
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM users")[0][0] == 0


def test_create_company_refuses_an_email_in_use(runner, make_company, owner_conninfo):
    existing = make_company("Alpha Kitchen")
    before = owner_rows(owner_conninfo, "SELECT (SELECT count(*) FROM companies), (SELECT count(*) FROM users)")[0]

    result = invoke(runner, "create-company", "--name", "Copycat", "--admin-email", existing.email("USER"),
                    "--admin-password", PASSWORD)

    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)  # a clear error, not a crash
    assert "already in use" in result.output
    assert owner_rows(owner_conninfo,
                      "SELECT (SELECT count(*) FROM companies), (SELECT count(*) FROM users)")[0] == before


# --- create-user ------------------------------------------------------------------------------------

def test_create_user_then_they_sign_in(runner, client, make_company, owner_conninfo):
    company = make_company("Alpha Kitchen")

    result = invoke(runner, "create-user", "--company", "Alpha Kitchen", "--email", "Cook@Alpha-Kitchen.test",
                    "--first-name", "Faisal", "--last-name", "Cook", "--role", "MANAGER", "--password", PASSWORD)

    assert result.exit_code == 0, result.output
    assert "Created cook@alpha-kitchen.test (MANAGER) in Alpha Kitchen." in result.output
    rows = owner_rows(owner_conninfo, "SELECT company_id, role, first_name FROM users"
                                      " WHERE email = 'cook@alpha-kitchen.test'")
    assert rows == [(company.id, "MANAGER", "Faisal")]
    assert sign_in(client, "cook@alpha-kitchen.test", PASSWORD).status_code == 302


def test_create_user_can_make_an_operator(runner, make_company, owner_conninfo):
    make_company("Alpha Kitchen")
    result = invoke(runner, "create-user", "--company", "Alpha Kitchen", "--email", "ops@alpha-kitchen.test",
                    "--first-name", "Omar", "--last-name", "Ops", "--role", "SUPER_ADMIN", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert owner_rows(owner_conninfo, "SELECT role FROM users WHERE email = 'ops@alpha-kitchen.test'") == \
        [("SUPER_ADMIN",)]


@pytest.mark.parametrize("case", ["unknown-company", "duplicate-email", "duplicate-in-other-company",
                                  "short-password", "bad-role"])
def test_create_user_refuses_bad_input(runner, make_company, owner_conninfo, case):
    alpha = make_company("Alpha Kitchen")
    beta = make_company("Beta Grill")
    options = {"--company": "Alpha Kitchen", "--email": "new@alpha-kitchen.test", "--first-name": "New",
               "--last-name": "Person", "--role": "USER", "--password": PASSWORD}
    expected = {
        "unknown-company": ({"--company": "No Such Kitchen"}, "No single company is named 'No Such Kitchen'"),
        "duplicate-email": ({"--email": alpha.email("MANAGER").upper()}, "already in use"),
        "duplicate-in-other-company": ({"--email": beta.email("USER")}, "already in use"),
        "short-password": ({"--password": "short"}, "at least 8 characters"),
        "bad-role": ({"--role": "OWNER"}, "Invalid value for '--role'"),
    }
    changes, message = expected[case]
    options.update(changes)
    before = owner_rows(owner_conninfo, "SELECT count(*) FROM users")[0][0]

    result = invoke(runner, "create-user", *[item for pair in options.items() for item in pair])

    assert result.exit_code != 0
    assert message in result.output
    assert isinstance(result.exception, SystemExit)  # a clear error, not a crash
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM users")[0][0] == before


def test_create_user_with_an_ambiguous_company_name_is_refused(runner, make_company, owner_conninfo):
    make_company("Alpha Kitchen", slug="alpha-one")
    make_company("Alpha Kitchen", slug="alpha-two")
    before = owner_rows(owner_conninfo, "SELECT count(*) FROM users")[0][0]

    result = invoke(runner, "create-user", "--company", "Alpha Kitchen", "--email", "new@alpha-one.test",
                    "--first-name", "New", "--last-name", "Person", "--password", PASSWORD)

    assert result.exit_code != 0
    assert "No single company is named 'Alpha Kitchen'" in result.output
    assert owner_rows(owner_conninfo, "SELECT count(*) FROM users")[0][0] == before
