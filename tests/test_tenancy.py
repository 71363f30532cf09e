"""Row-level security as the runtime role portal_app: the tenancy invariant of docs/DESIGN.md."""
import random
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from portal import models
from portal.extensions import db
from portal.tenancy import cross_tenant, sign_in_lookup, tenant, use_company
from tests.conftest import make_app
from tests.tenant_rows import TENANT_TABLES, fill_every_table

SET_TENANT = "SELECT set_config('app.current_company_id', %s, true)"


@pytest.fixture
def app_conninfo(database_url):
    """portal_app's connection string, as the app derives it."""
    return make_url(database_url).set(drivername="postgresql", username="portal_app", password=None) \
        .render_as_string(hide_password=False)


@pytest.fixture
def filled(two_companies, owner_conninfo):
    alpha, beta = two_companies
    return (alpha, fill_every_table(owner_conninfo, alpha.id, "alpha"),
            beta, fill_every_table(owner_conninfo, beta.id, "beta"))


def test_runtime_connection_is_portal_app(app):
    with app.app_context():
        assert db.session.scalar(text("SELECT current_user")) == "portal_app"


def test_no_tenant_sees_no_rows_and_cannot_insert(filled, app_conninfo):
    alpha, _, _, _ = filled
    with psycopg.connect(app_conninfo) as connection:
        for table in TENANT_TABLES + ["companies"]:
            assert connection.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
            connection.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("INSERT INTO products (local_product_id, name, price, company_id) "
                               "VALUES ('NEW', 'New', 1, %s)", (alpha.id,))


def test_a_tenant_sees_only_its_own_rows_in_every_table(filled, app_conninfo):
    alpha, _, beta, _ = filled
    with psycopg.connect(app_conninfo) as connection:
        for company in (alpha, beta):
            connection.execute(SET_TENANT, (str(company.id),))
            for table in TENANT_TABLES:
                owners = {row[0] for row in connection.execute(f"SELECT company_id FROM {table}")}
                assert owners == {company.id}, table
            assert [row[0] for row in connection.execute("SELECT id FROM companies")] == [company.id]
            connection.commit()


def test_views_are_filtered_by_the_callers_tenant(filled, app_conninfo):
    alpha, _, _, _ = filled
    with psycopg.connect(app_conninfo) as connection:
        connection.execute(SET_TENANT, (str(alpha.id),))
        for view in ("v_order_analytics", "v_integration_health"):
            owners = {row[0] for row in connection.execute(f"SELECT company_id FROM {view}")}
            assert owners == {alpha.id}, view


def test_writing_another_companys_rows_is_refused(filled, app_conninfo):
    alpha, alpha_ids, beta, beta_ids = filled
    with psycopg.connect(app_conninfo) as connection:
        connection.execute(SET_TENANT, (str(alpha.id),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("INSERT INTO products (local_product_id, name, price, company_id) "
                               "VALUES ('EVIL', 'Evil', 1, %s)", (beta.id,))
        connection.rollback()
        connection.execute(SET_TENANT, (str(alpha.id),))
        assert connection.execute("UPDATE products SET price = 0 WHERE id = %s", (beta_ids["product"],)).rowcount == 0
        assert connection.execute("DELETE FROM delivery_orders WHERE id = %s", (beta_ids["order"],)).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            # Moving one's own row to another company is a write of that company's row.
            connection.execute("UPDATE products SET company_id = %s WHERE id = %s", (beta.id, alpha_ids["product"]))
        connection.rollback()
    with psycopg.connect(app_conninfo) as connection:
        connection.execute(SET_TENANT, (str(beta.id),))
        assert connection.execute("SELECT price FROM products WHERE id = %s",
                                  (beta_ids["product"],)).fetchone()[0] == 10
        assert connection.execute("SELECT count(*) FROM delivery_orders").fetchone() == (1,)


def test_another_companys_row_cannot_be_referenced_or_detected(filled, app_conninfo):
    """Composite foreign keys: pointing at B's integration fails exactly like pointing at nothing."""
    alpha, _, _, beta_ids = filled
    errors = []
    for integration_id in (beta_ids["integration"], uuid.uuid4()):
        with psycopg.connect(app_conninfo) as connection:
            connection.execute(SET_TENANT, (str(alpha.id),))
            with pytest.raises(psycopg.errors.ForeignKeyViolation) as raised:
                connection.execute(
                    "INSERT INTO delivery_orders (platform, platform_order_id, order_number, total_amount, "
                    "order_items, company_id, integration_config_id) VALUES ('DHUB', 'x', 'x', 1, '[]', %s, %s)",
                    (alpha.id, integration_id))
            errors.append(raised.value.diag.message_primary)
    assert errors[0] == errors[1]


def test_a_reused_connection_forgets_the_tenant_after_commit(filled, app_conninfo):
    alpha, _, _, _ = filled
    with psycopg.connect(app_conninfo) as connection:
        connection.execute(SET_TENANT, (str(alpha.id),))
        assert connection.execute("SELECT count(*) FROM delivery_orders").fetchone() == (1,)
        connection.commit()
        assert connection.execute("SELECT count(*) FROM delivery_orders").fetchone() == (0,)
        assert connection.execute("SELECT current_setting('app.current_company_id', true)").fetchone()[0] == ""


def test_the_apps_pool_forgets_the_tenant_between_transactions(filled, database_url):
    alpha, _, _, _ = filled
    single = make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    with single.app_context():
        with tenant(alpha.id):
            assert db.session.scalar(select(db.func.count()).select_from(models.DeliveryOrder)) == 1
            db.session.commit()
        assert db.session.scalar(select(db.func.count()).select_from(models.DeliveryOrder)) == 0
        db.session.commit()
        db.engine.dispose()


def test_use_company_scopes_a_transaction_already_open(filled, app):
    alpha, _, beta, _ = filled
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(models.Product)) == 0
        use_company(beta.id)
        names = db.session.scalars(select(models.Product.name)).all()
        assert names == ["Product beta"]
        db.session.rollback()


def test_randomized_cross_tenant_probe_through_the_apps_engine(filled, database_url):
    """Threads alternate tenants over a small pool: not one foreign row in thousands of reads."""
    alpha, _, beta, _ = filled
    probe_models = [models.User, models.IntegrationConfig, models.Product, models.DeliveryOrder,
                    models.OrderStatusHistory, models.MenuMapping, models.WebhookLog, models.LoyaltyProgram,
                    models.LoyaltyTier, models.CustomerLoyalty, models.LoyaltyTransaction,
                    models.AiChatbotSession, models.ChatMessage, models.WhatsappTemplate, models.WhatsappMessage,
                    models.IntegrationAnalytics, models.PlatformCall]
    probe_app = make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 3, "max_overflow": 0})
    reads, foreign, failures = [], [], []

    def worker(seed):
        rng = random.Random(seed)
        try:
            for _ in range(300):
                expected = rng.choice([alpha.id, beta.id, None])
                model = rng.choice(probe_models)
                with probe_app.app_context(), tenant(expected):
                    # Deliberately no company filter: the database must do it.
                    owners = db.session.scalars(select(model.company_id)).all()
                    if rng.random() < 0.5:
                        db.session.commit()
                    else:
                        db.session.rollback()
                reads.append(1)
                foreign.extend(owner for owner in owners if owner != expected)
                if expected is not None and not owners:
                    failures.append(f"{model.__name__}: tenant {expected} saw nothing")
        except Exception as error:  # surfaced below, not swallowed
            failures.append(repr(error))

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with probe_app.app_context():
        db.engine.dispose()
    assert failures == []
    assert len(reads) >= 2000
    assert foreign == []


def test_sign_in_lookup_reads_only_what_sign_in_needs(filled, app):
    alpha, _, _, _ = filled
    with app.app_context():
        account = sign_in_lookup(alpha.email("COMPANY_ADMIN"))
        assert account.company_id == alpha.id
        assert set(account._fields) == {"id", "company_id", "password", "is_active", "deleted_at"}
        assert db.session.scalar(text("SELECT current_user")) == "portal_app"
        db.session.execute(text("SET LOCAL ROLE portal_login"))
        with pytest.raises(Exception, match="permission denied"):
            db.session.execute(text("SELECT first_name FROM users"))
        db.session.rollback()


def test_cross_tenant_access_is_explicit_and_audited(filled, app, owner_conninfo):
    alpha, _, beta, _ = filled
    with app.app_context():
        use_company(alpha.id)
        with cross_tenant("test: list every company") as session:
            seen = set(session.scalars(select(models.Company.id)))
        assert {alpha.id, beta.id} <= seen
        assert db.session.scalar(text("SELECT current_user")) == "portal_app"
        assert set(db.session.scalars(select(models.Company.id))) == {alpha.id}
        db.session.commit()
    with psycopg.connect(owner_conninfo) as connection:
        reasons = [row[0] for row in connection.execute(
            "SELECT new_values ->> 'reason' FROM audit_logs WHERE operation = 'CROSS_TENANT_ACCESS'")]
    assert "test: list every company" in reasons


def test_only_tenancy_py_writes_the_tenant_setting():
    package = Path(__file__).resolve().parent.parent / "portal"
    writers = [path.relative_to(package).as_posix() for path in package.rglob("*.py")
               if "set_config('app.current_company_id'" in path.read_text()]
    assert writers == ["tenancy.py"]
