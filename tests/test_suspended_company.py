"""A suspended (is_active=false) or deleted company: its users cannot sign in and open sessions end."""
import psycopg
import pytest


def _set(owner_conninfo, company, column_sql):
    with psycopg.connect(owner_conninfo, autocommit=True) as connection:
        connection.execute(f"UPDATE companies SET {column_sql} WHERE id = %s", (company.id,))


@pytest.mark.parametrize("change", ["is_active = false", "deleted_at = now()"])
def test_users_of_a_suspended_or_deleted_company_are_refused_and_signed_out(auth, client, two_companies,
                                                                           owner_conninfo, change):
    alpha, beta = two_companies
    auth.login(alpha.email("COMPANY_ADMIN"))
    assert client.get("/orders/").status_code == 200
    _set(owner_conninfo, alpha, change)
    assert client.get("/orders/").status_code in (302, 401)   # the open session is over
    auth.login(alpha.email("COMPANY_ADMIN"))
    assert client.get("/orders/").status_code in (302, 401)   # and signing in again is refused
    auth.login(beta.email("COMPANY_ADMIN"))
    assert client.get("/orders/").status_code == 200          # another company is untouched
