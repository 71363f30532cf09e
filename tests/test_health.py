"""GET /healthz answers 200 when the app and its database are up."""


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_unreachable_database(database_url):
    from sqlalchemy.engine import make_url

    from tests.conftest import make_app

    broken = make_url(database_url).set(database="no_such_database_here").render_as_string(hide_password=False)
    response = make_app(broken).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
