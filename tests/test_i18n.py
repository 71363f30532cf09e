"""The English/Arabic switch: compiled catalogs, RTL layout, the remembered choice, money, safe redirects."""
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from portal.config import Config
from portal.i18n import money
from tests.conftest import Auth, csrf_token

DASHBOARD_AR = "لوحة التحكم"  # "Dashboard", the first link of every role's navigation
SIGN_IN_AR = "تسجيل الدخول"  # "Sign in"


def html_tag(page):
    """The opening <html …> tag of a page."""
    match = re.search(r"<html[^>]*>", page)
    assert match, "no <html> tag"
    return match.group(0)


def switch_language(auth, locale, next_path="/", page="/"):
    return auth.post("/language", {"locale": locale, "next": next_path}, page=page)


def stored_locale(owner_conninfo, user_id):
    """users.locale as the database has it (read as the owner, outside the app)."""
    with psycopg.connect(owner_conninfo) as connection:
        return connection.execute("SELECT locale FROM users WHERE id = %s", (user_id,)).fetchone()[0]


def redirected_off_site(response):
    """True when the redirect could send a browser to another host (browsers read "\\" as "/")."""
    location = response.headers["Location"]
    normalised = location.replace("\\", "/")
    return "\\" in location or normalised.startswith("//") or urlsplit(normalised).netloc not in ("", "localhost")


def test_arabic_catalog_is_found_where_flask_babel_looks(app):
    from flask_babel import get_babel

    with app.app_context():
        directories = get_babel().translation_directories
    assert any((Path(d) / "ar" / "LC_MESSAGES" / "messages.mo").is_file() for d in directories), directories
    assert Config.BABEL_DEFAULT_LOCALE == "en"


def test_committed_arabic_catalog_is_complete_and_compiled():
    """Every entry of the .po is translated, and the committed .mo says the same (no stale compile)."""
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    folder = Path(__file__).resolve().parent.parent / "translations" / "ar" / "LC_MESSAGES"
    def plain(value):
        """Plural entries: read_po gives tuples, read_mo lists (unhashable); compare them as tuples."""
        return tuple(value) if isinstance(value, (list, tuple)) else value

    with open(folder / "messages.po", "rb") as handle:
        po = {plain(m.id): plain(m.string) for m in read_po(handle) if m.id and not m.fuzzy}
    with open(folder / "messages.mo", "rb") as handle:
        mo = {plain(m.id): plain(m.string) for m in read_mo(handle) if m.id}
    assert [message for message, text in po.items() if not all(text if isinstance(text, tuple) else [text])] == []
    assert mo == po, "translations/ar is not compiled: run scripts/update_translations.sh"


def test_switching_to_arabic_and_back(client, auth, make_company):
    company = make_company()
    assert auth.login(company.email("USER")).status_code == 302

    page = client.get("/").get_data(as_text=True)
    assert 'dir="ltr"' in html_tag(page) and 'lang="en"' in html_tag(page)
    assert ">Dashboard</a>" in page

    response = switch_language(auth, "ar")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/"

    page = client.get("/").get_data(as_text=True)
    assert 'dir="rtl"' in html_tag(page)
    assert 'lang="ar"' in html_tag(page)
    assert f">{DASHBOARD_AR}</a>" in page
    assert "موظف" in page  # the role label of a USER in the top bar
    assert ">Dashboard</a>" not in page

    switch_language(auth, "en")
    page = client.get("/").get_data(as_text=True)
    assert 'dir="ltr"' in html_tag(page) and 'lang="en"' in html_tag(page)
    assert ">Dashboard</a>" in page
    assert DASHBOARD_AR not in page


@pytest.mark.parametrize("path, arabic", [("/", "طلبات اليوم"), ("/users/", "دعوة مستخدم"),
                                          ("/users/new", "ما صلاحيات كل دور؟"), ("/audit/", "سجل التدقيق")])
def test_company_admin_pages_render_in_arabic(client, auth, make_company, path, arabic):
    company = make_company()
    auth.login(company.email("COMPANY_ADMIN"))
    switch_language(auth, "ar")
    response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'dir="rtl"' in html_tag(page)
    assert arabic in page
    assert "%(" not in page  # every placeholder was filled


def test_sign_in_page_in_arabic_before_signing_in(client):
    page = client.get("/login").get_data(as_text=True)
    assert "<h1>Sign in</h1>" in page and 'dir="ltr"' in html_tag(page)

    response = client.post("/language", data={"locale": "ar", "next": "/login",
                                              "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"

    page = client.get("/login").get_data(as_text=True)
    assert f"<h1>{SIGN_IN_AR}</h1>" in page
    assert 'dir="rtl"' in html_tag(page) and 'lang="ar"' in html_tag(page)
    assert "البريد الإلكتروني" in page and "كلمة المرور" in page  # the form's labels (lazy strings)


def test_language_chosen_before_sign_in_survives_sign_in(client, auth, make_company):
    company = make_company()
    client.post("/language", data={"locale": "ar", "csrf_token": csrf_token(client, "/login")})
    assert auth.login(company.email("MANAGER")).status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert 'dir="rtl"' in html_tag(page) and DASHBOARD_AR in page


def test_choice_is_remembered_on_the_user(app, client, auth, make_company, owner_conninfo):
    company = make_company()
    email, user_id = company.email("MANAGER"), company.user_id("MANAGER")
    assert stored_locale(owner_conninfo, user_id) is None

    auth.login(email)
    switch_language(auth, "ar")
    assert stored_locale(owner_conninfo, user_id) == "ar"

    other_browser = app.test_client()
    other = Auth(other_browser)
    assert 'lang="en"' in html_tag(other_browser.get("/login").get_data(as_text=True))  # nothing chosen yet
    assert other.login(email).status_code == 302
    page = other_browser.get("/").get_data(as_text=True)
    assert 'dir="rtl"' in html_tag(page) and 'lang="ar"' in html_tag(page)
    assert DASHBOARD_AR in page

    # A colleague on the same company is unaffected.
    colleague_browser = app.test_client()
    Auth(colleague_browser).login(company.email("USER"))
    assert 'dir="ltr"' in html_tag(colleague_browser.get("/").get_data(as_text=True))


def test_sign_out_keeps_the_language(client, auth, make_company):
    company = make_company()
    auth.login(company.email("USER"))
    switch_language(auth, "ar")
    auth.logout()
    page = client.get("/login").get_data(as_text=True)
    assert f"<h1>{SIGN_IN_AR}</h1>" in page


@pytest.mark.parametrize("language", ["en", "ar"])
def test_money_uses_the_currency_precision(app, language):
    with app.test_request_context("/", headers={"Accept-Language": language}):
        kwd = money(Decimal("12.5"), "KWD")
        sar = money(Decimal("12.5"), "SAR")
        aed = money("7", "AED")
        bhd = money(Decimal("0.1234"), "BHD")
        none = money(None, "KWD")
    assert re.search(r"12\.500(?!\d)", kwd), kwd
    assert re.search(r"12\.50(?!\d)", sar), sar
    assert re.search(r"7\.00(?!\d)", aed), aed
    assert re.search(r"0\.123(?!\d)", bhd), bhd
    assert none == "—"


def test_money_in_arabic_page_is_arabic(app):
    with app.test_request_context("/", headers={"Accept-Language": "ar"}):
        from flask_babel import get_locale
        assert str(get_locale()) == "ar"
        kwd = money(Decimal("3"), "KWD")
    assert "3.000" in kwd and "KWD" not in kwd  # the Arabic currency sign, not the ISO code
    with app.test_request_context("/"):
        assert money(Decimal("3"), "KWD") == "KWD\u00a03.000"  # a code is kept apart from the digits
        assert money(Decimal("-1234.5"), "SAR") == "-SAR\u00a01,234.50"


@pytest.mark.parametrize("locale", ["fr", "", "ar-SA", "../../etc", "x" * 300])
def test_unsupported_locale_changes_nothing(client, auth, make_company, owner_conninfo, locale):
    company = make_company()
    auth.login(company.email("USER"))
    response = switch_language(auth, locale)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert 'dir="ltr"' in html_tag(page.get_data(as_text=True))
    assert stored_locale(owner_conninfo, company.user_id("USER")) is None


def test_unsupported_locale_signed_out(client):
    response = client.post("/language", data={"locale": "fr", "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302
    assert 'lang="en"' in html_tag(client.get("/login").get_data(as_text=True))


def test_language_switch_needs_csrf(client):
    response = client.post("/language", data={"locale": "ar"})
    assert response.status_code == 400
    assert 'lang="en"' in html_tag(client.get("/login").get_data(as_text=True))


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/",
                                    "\\\\evil.example/", "https:evil.example", "javascript:alert(1)",
                                    " https://evil.example/"])
def test_language_switch_does_not_follow_next_off_site(client, auth, make_company, target):
    company = make_company()
    auth.login(company.email("USER"))
    response = switch_language(auth, "ar", next_path=target)
    assert response.status_code == 302
    assert not redirected_off_site(response), response.headers["Location"]
    # Only "/\\evil.example/" gets through _safe_next, and Werkzeug sends it as the local path "/%5Cevil…".
    assert urlsplit(response.headers["Location"]).path in ("/", "/%5Cevil.example/")
    assert 'dir="rtl"' in html_tag(client.get("/").get_data(as_text=True))  # the switch itself happened


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/"])
def test_sign_in_does_not_follow_next_off_site(client, make_company, target):
    company = make_company()
    token = csrf_token(client, "/login?next=" + target)
    response = client.post("/login", data={"email": company.email("USER"), "password": "correct horse battery",
                                           "csrf_token": token, "next": target})
    assert response.status_code == 302
    assert not redirected_off_site(response), response.headers["Location"]
    # Only "/\\evil.example/" gets through _safe_next, and Werkzeug sends it as the local path "/%5Cevil…".
    assert urlsplit(response.headers["Location"]).path in ("/", "/%5Cevil.example/")


def test_language_switch_follows_a_same_site_next(client, auth, make_company):
    company = make_company()
    auth.login(company.email("COMPANY_ADMIN"))
    response = switch_language(auth, "ar", next_path="/users/?role=USER")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/users/?role=USER")
