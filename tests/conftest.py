"""Test fixtures: a real PostgreSQL database per test session, clean tables per test.

The server is DATABASE_URL's (CI: PostgreSQL 15 on 127.0.0.1:5432) or, when it is unset, the
embedded one under instance/. A fresh database `portal_test_<pid>` is created and migrated as the
owner; the app connects as portal_app, so every test goes through row-level security.
"""
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db, limiter

pytest_plugins = ["tests.integration_fixtures"]  # make_integration, webhooks: shared by every area

ROOT = Path(__file__).resolve().parent.parent
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _server_url():
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return url
    from portal.embedded_db import owner_url
    return owner_url(ROOT / "instance")


def libpq_conninfo(url):
    """A psycopg conninfo for a SQLAlchemy-style URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url_for(server_url, name):
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def create_database(server_url, name):
    with psycopg.connect(libpq_conninfo(server_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(server_url, name):
    with psycopg.connect(libpq_conninfo(server_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_app(database_url, **overrides):
    settings = {"DATABASE_URL": database_url, "APP_DATABASE_URL": None, **overrides}
    return create_app(type("SessionTestConfig", (TestConfig,), settings))


@pytest.fixture(scope="session")
def server_url():
    return _server_url()


@pytest.fixture(scope="session")
def database_url(server_url):
    """A migrated database for this test session, dropped at the end."""
    name = f"portal_test_{os.getpid()}"
    create_database(server_url, name)
    url = database_url_for(server_url, name)
    app = make_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield url
    drop_database(server_url, name)


@pytest.fixture(scope="session")
def app(database_url):
    application = make_app(database_url)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def owner_conninfo(database_url):
    """The owner's connection string (bypasses nothing the tests check: used to arrange and clean)."""
    return libpq_conninfo(database_url)


@pytest.fixture(autouse=True)
def clean_tables(request, owner_conninfo):
    """Every test starts from empty tables and a fresh rate limiter."""
    yield
    if "no_clean" in request.keywords:
        return
    with psycopg.connect(owner_conninfo, autocommit=True) as connection:
        tables = [row[0] for row in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")]
        # DELETE from the tables a test wrote to, with foreign-key and audit triggers off for the owner's
        # session (replica role): every row goes, so nothing dangles. TRUNCATE … CASCADE made new files
        # for all sixty-odd tables after every test, ~250 ms each time: a third of the suite.
        used = [row[0] for row in connection.execute(" UNION ALL ".join(
            f"(SELECT '{table}' FROM \"{table}\" LIMIT 1)" for table in tables))] if tables else []
        if used:
            with connection.transaction():
                connection.execute("SET LOCAL session_replication_role = replica")
                for table in used:
                    connection.execute(f'DELETE FROM "{table}"')


@pytest.fixture(autouse=True, scope="session")
def allow_test_email_domain():
    """The factories' addresses end in .test, which email_validator refuses outside a test environment."""
    import email_validator
    email_validator.TEST_ENVIRONMENT = True
    yield
    email_validator.TEST_ENVIRONMENT = False


@pytest.fixture(autouse=True)
def reset_rate_limits(app):
    with app.app_context():
        limiter.reset()
    yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@dataclass
class CompanyFixture:
    """A company with one user of each company role; the password of each is PASSWORD."""

    id: uuid.UUID
    name: str
    users: dict = field(default_factory=dict)  # role name -> (user id, e-mail)

    def email(self, role):
        return self.users[role][1]

    def user_id(self, role):
        return self.users[role][0]


PASSWORD = "correct horse battery"


@pytest.fixture
def make_company(app):
    """Create companies through the same services the app uses."""
    from portal.admin.services import create_company
    from portal.tenancy import tenant
    from portal.users.services import create_user

    def make(name="Alpha Kitchen", slug=None, timezone="Asia/Riyadh", currency="SAR", super_admin=False):
        slug = slug or re.sub(r"[^a-z]+", "-", name.lower()).strip("-")
        with app.app_context():
            company = create_company(name=name, admin_email=f"admin@{slug}.test", admin_password=PASSWORD,
                                     timezone=timezone, currency=currency)
            fixture = CompanyFixture(company.id, name)
            with tenant(company.id):
                from portal.models import User
                admin = db.session.scalar(db.select(User).where(User.email == f"admin@{slug}.test"))
                fixture.users["COMPANY_ADMIN"] = (admin.id, admin.email)
                roles = ["MANAGER", "USER"] + (["SUPER_ADMIN"] if super_admin else [])
                for role in roles:
                    user = create_user(None, email=f"{role.lower()}@{slug}.test", first_name=role.title(),
                                       last_name="Tester", role=role, password=PASSWORD, company_id=company.id)
                    fixture.users[role] = (user.id, user.email)
        return fixture

    return make


@pytest.fixture
def two_companies(make_company):
    return make_company("Alpha Kitchen"), make_company("Beta Grill", currency="KWD", timezone="Asia/Kuwait")


def owner_rows(conninfo, sql, *params):
    """Rows of `sql` as the owner (sees every company): for arranging and checking, never for the app's reads."""
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchall()


def owner_execute(conninfo, sql, *params):
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(sql, params)


def csrf_token(client, path="/login"):
    """The CSRF token the page at `path` carries (as a browser would read it)."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_META.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class Auth:
    """Sign a test client in and out, with real CSRF tokens."""

    def __init__(self, client):
        self.client = client

    def login(self, email, password=PASSWORD, follow_redirects=False):
        token = csrf_token(self.client, "/login")
        return self.client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                                follow_redirects=follow_redirects)

    def post(self, path, data=None, page="/", **kwargs):
        """POST with the CSRF token of a page the signed-in user can open."""
        data = dict(data or {})
        data.setdefault("csrf_token", csrf_token(self.client, page))
        return self.client.post(path, data=data, **kwargs)

    def logout(self):
        return self.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)

