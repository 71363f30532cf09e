"""seed-demo points the demo integrations at the simulator, without overriding a base URL someone set."""
import psycopg

from portal.demo import SAMPLE_COMPANY_ID, SIMULATOR_PORT


def _rows(conninfo, sql, params=()):
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql, params).fetchall()


def _execute(conninfo, sql, params=()):
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(sql, params)


def test_demo_integrations_call_the_simulator(app, runner, owner_conninfo):
    with app.app_context():
        assert runner.invoke(args=["seed-demo"]).exit_code == 0
    urls = dict(_rows(owner_conninfo, "SELECT platform, base_url FROM integration_configs WHERE company_id = %s",
                      (SAMPLE_COMPANY_ID,)))
    assert urls == {"TALABAT": f"http://127.0.0.1:{SIMULATOR_PORT}/talabat",
                    "CAREEM": f"http://127.0.0.1:{SIMULATOR_PORT}/careem"}

    _execute(owner_conninfo, "UPDATE integration_configs SET base_url = 'https://middleware.example/plugin' "
                          "WHERE platform = 'TALABAT' AND company_id = %s", (SAMPLE_COMPANY_ID,))
    _execute(owner_conninfo, "UPDATE integration_configs SET base_url = NULL WHERE platform = 'CAREEM'")
    with app.app_context():
        assert runner.invoke(args=["seed-demo"]).exit_code == 0
    urls = dict(_rows(owner_conninfo, "SELECT platform, base_url FROM integration_configs WHERE company_id = %s",
                      (SAMPLE_COMPANY_ID,)))
    assert urls == {"TALABAT": "https://middleware.example/plugin",
                    "CAREEM": f"http://127.0.0.1:{SIMULATOR_PORT}/careem"}
