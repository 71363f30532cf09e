"""The Settings pages: saving, refusing bad input without change, the audit, the logo, and tenants kept apart."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditLog, Company, CompanyLogo, HolidayClosure, OpeningShift
from portal.tenancy import tenant

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 32


def _form(**changes):
    data = {"name": "Alpha Kitchen", "name_ar": "مطبخ ألفا", "email": "hello@alpha.test", "phone": "+966500000001",
            "address": "King Fahd Road", "business_type": "restaurant", "timezone": "Asia/Riyadh", "currency": "SAR",
            "default_language": "en", "tax_rate": "15", "tax_number": "300012345600003",
            "preparation_minutes": "20"}
    data.update(changes)
    return data


def _company(app, company_id):
    with app.app_context(), tenant(company_id):
        return db.session.get(Company, company_id)


def test_company_settings_are_saved_and_audited(app, auth, client, two_companies):
    alpha, _ = two_companies
    auth.login(alpha.email("COMPANY_ADMIN"))
    response = auth.post("/settings/", _form(), page="/settings/")
    assert response.status_code == 302
    company = _company(app, alpha.id)
    assert (company.tax_number, str(company.tax_rate), company.preparation_minutes) == ("300012345600003", "15.00", 20)
    with app.app_context(), tenant(alpha.id):
        row = db.session.scalars(select(AuditLog).where(AuditLog.table_name == "companies",
                                                        AuditLog.operation == "UPDATE")
                                 .order_by(AuditLog.created_at.desc())).first()
        assert row.old_values["tax_number"] is None and row.new_values["tax_number"] == "300012345600003"
        assert str(row.user_id) == str(alpha.user_id("COMPANY_ADMIN"))


@pytest.mark.parametrize("changes, message", [
    ({"timezone": "Asia/Riyad"}, "is not a time zone"),
    ({"tax_rate": "100.5"}, "100"),
    ({"tax_rate": "-1"}, "0"),
    ({"preparation_minutes": "0"}, "180"),
    ({"preparation_minutes": "181"}, "180"),
    ({"default_language": "fr"}, "Not a valid choice"),
    ({"name": ""}, "required"),
])
def test_bad_values_are_refused_and_change_nothing(app, auth, client, two_companies, changes, message):
    alpha, _ = two_companies
    auth.login(alpha.email("COMPANY_ADMIN"))
    response = auth.post("/settings/", _form(**changes), page="/settings/")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    company = _company(app, alpha.id)
    assert company.tax_number is None and company.preparation_minutes == 15 and company.timezone == "Asia/Riyadh"


def test_logo_is_checked_by_its_bytes_and_served_only_to_its_company(app, auth, client, two_companies):
    import io
    alpha, beta = two_companies
    auth.login(alpha.email("COMPANY_ADMIN"))
    fake = auth.post("/settings/", {**_form(), "logo": (io.BytesIO(b"GIF89a not a png"), "logo.png")},
                     page="/settings/", content_type="multipart/form-data")
    assert fake.status_code == 422 and "PNG, JPEG or WebP" in fake.get_data(as_text=True)
    assert _company(app, alpha.id).tax_number is None  # nothing else saved either
    big = auth.post("/settings/", {**_form(), "logo": (io.BytesIO(PNG + b"\x00" * 600_000), "logo.png")},
                    page="/settings/", content_type="multipart/form-data")
    assert big.status_code == 422 and "512 KB" in big.get_data(as_text=True)
    good = auth.post("/settings/", {**_form(), "logo": (io.BytesIO(WEBP), "logo.txt")},
                     page="/settings/", content_type="multipart/form-data")
    assert good.status_code == 302
    served = client.get(f"/settings/logo/{alpha.id}")
    assert served.status_code == 200 and served.mimetype == "image/webp" and served.data == WEBP
    assert f"/settings/logo/{alpha.id}" in client.get("/board").get_data(as_text=True)
    with app.app_context(), tenant(alpha.id):
        audit = db.session.scalar(select(AuditLog).where(AuditLog.operation == "LOGO_UPDATE"))
        assert audit.new_values == {"content_type": "image/webp", "bytes": len(WEBP)}

    # Beta's staff cannot read Alpha's logo, whatever the URL.
    auth.logout()
    auth.login(beta.email("USER"))
    assert client.get(f"/settings/logo/{alpha.id}").status_code == 404
    assert client.get("/settings/logo/not-a-uuid").status_code == 404


def test_settings_are_for_company_admins_and_only_their_own_company(app, auth, client, two_companies):
    alpha, beta = two_companies
    auth.login(beta.email("MANAGER"))
    assert client.get("/settings/").status_code == 403
    assert client.get("/settings/hours").status_code == 403
    assert client.get("/settings/alerts").status_code == 403
    auth.logout()
    auth.login(beta.email("COMPANY_ADMIN"))
    page = client.get("/settings/").get_data(as_text=True)
    assert "Beta Grill" in page and "Alpha Kitchen" not in page
    auth.post("/settings/", _form(name="Beta Grill", tax_number="B-1"), page="/settings/")
    assert _company(app, alpha.id).tax_number is None
    assert _company(app, beta.id).tax_number == "B-1"


def test_hours_are_saved_validated_and_audited(app, auth, client, two_companies):
    alpha, beta = two_companies
    auth.login(alpha.email("COMPANY_ADMIN"))
    week = {f"day_{day}": "" for day in range(7)}
    saved = auth.post("/settings/hours", {**week, "day_4": "12:00-15:00, 18:00-02:00"}, page="/settings/hours")
    assert saved.status_code == 302
    assert "18:00-02:00" in client.get("/settings/hours").get_data(as_text=True)
    for bad, message in [("10:00-10:00", "ends when it starts"), ("09:00-15:00, 14:00-16:00", "overlap"),
                         ("noon-ish", "is not a shift")]:
        refused = auth.post("/settings/hours", {**week, "day_4": bad}, page="/settings/hours")
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    with app.app_context(), tenant(alpha.id):
        shifts = db.session.scalars(select(OpeningShift)).all()
        assert sorted((s.weekday, s.opens_at.hour, s.closes_at.hour) for s in shifts) == [(4, 12, 15), (4, 18, 2)]
        assert db.session.scalar(select(AuditLog).where(AuditLog.operation == "OPENING_HOURS_UPDATE")).new_values \
            == {"4": "12:00-15:00, 18:00-02:00"}
    with app.app_context(), tenant(beta.id):
        assert db.session.scalars(select(OpeningShift)).all() == []


def test_holidays_are_added_refused_and_kept_per_company(app, auth, client, two_companies):
    alpha, beta = two_companies
    auth.login(alpha.email("COMPANY_ADMIN"))
    refused = auth.post("/settings/holidays", {"starts_on": "2026-12-10", "ends_on": "2026-12-09", "note": "x"},
                        page="/settings/hours")
    assert refused.status_code == 422 and "cannot end before it starts" in refused.get_data(as_text=True)
    assert auth.post("/settings/holidays", {"starts_on": "2026-12-18", "ends_on": "2026-12-19",
                                            "note": "National Day"}, page="/settings/hours").status_code == 302
    with app.app_context(), tenant(alpha.id):
        holiday = db.session.scalar(select(HolidayClosure))
        assert (holiday.starts_on, holiday.note) == (date(2026, 12, 18), "National Day")
    auth.logout()
    auth.login(beta.email("COMPANY_ADMIN"))
    assert "National Day" not in client.get("/settings/hours").get_data(as_text=True)
    assert auth.post(f"/settings/holidays/{holiday.id}/delete", page="/settings/hours").status_code == 404
    with app.app_context(), tenant(alpha.id):
        assert db.session.scalar(select(HolidayClosure)) is not None


def test_board_shows_closed_outside_hours_and_nothing_without_hours(app, auth, client, two_companies):
    alpha, _ = two_companies
    auth.login(alpha.email("USER"))
    assert "Closed now" not in client.get("/board").get_data(as_text=True)
    with app.app_context(), tenant(alpha.id):
        # Open one minute a week, at a time that is not now: the board says closed and when it opens.
        from datetime import datetime, timedelta
        from zoneinfo import ZoneInfo
        later = datetime.now(ZoneInfo("Asia/Riyadh")) + timedelta(hours=3)
        db.session.add(OpeningShift(company_id=alpha.id, weekday=later.weekday(),
                                    opens_at=later.time().replace(second=0, microsecond=0),
                                    closes_at=(later + timedelta(minutes=1)).time().replace(second=0, microsecond=0)))
        db.session.commit()
    page = client.get("/board").get_data(as_text=True)
    assert "Closed now · opens" in page and later.strftime("%H:%M") in page
    assert "Closed now" in client.get("/board/opening").get_data(as_text=True)


def test_alert_settings_are_saved_and_refused(app, auth, client, two_companies):
    alpha, _ = two_companies
    auth.login(alpha.email("COMPANY_ADMIN"))
    assert auth.post("/settings/alerts", {"pending_enabled": "y", "pending_minutes": "7",
                                          "integration_minutes": "45"}, page="/settings/alerts").status_code == 302
    company = _company(app, alpha.id)
    assert (company.alert_pending_enabled, company.alert_pending_minutes, company.alert_integration_enabled,
            company.alert_integration_minutes) == (True, 7, False, 45)
    refused = auth.post("/settings/alerts", {"pending_minutes": "0", "integration_minutes": "45"},
                        page="/settings/alerts")
    assert refused.status_code == 422
    assert _company(app, alpha.id).alert_pending_enabled is True


def test_ticket_shows_the_tax_number_and_logo(app, auth, client, two_companies, make_integration):
    import io
    from tests.orders.helpers import add_order
    alpha, _ = two_companies
    order = add_order(app, alpha, make_integration(alpha, "TALABAT"))
    auth.login(alpha.email("COMPANY_ADMIN"))
    assert "300012345600003" not in client.get(f"/orders/{order}/ticket").get_data(as_text=True)
    auth.post("/settings/", {**_form(), "logo": (io.BytesIO(PNG), "logo.png")}, page="/settings/",
              content_type="multipart/form-data")
    ticket = client.get(f"/orders/{order}/ticket").get_data(as_text=True)
    assert "300012345600003" in ticket and f"/settings/logo/{alpha.id}" in ticket


def test_company_default_language_applies_to_users_without_their_own(app, auth, client, two_companies):
    alpha, _ = two_companies
    auth.login(alpha.email("COMPANY_ADMIN"))
    auth.post("/settings/", _form(default_language="ar"), page="/settings/")
    page = client.get("/settings/").get_data(as_text=True)
    assert 'dir="rtl"' in page and "إعدادات الشركة" in page
    with app.app_context(), tenant(alpha.id):
        assert db.session.get(CompanyLogo, alpha.id) is None


def test_the_assistant_can_be_turned_off_and_on(app, auth, client, two_companies):
    alpha, _ = two_companies
    auth.login(alpha.email("COMPANY_ADMIN"))
    page = client.get("/settings/").get_data(as_text=True)
    [box] = re.findall(r'<input[^>]*name="assistant_enabled"[^>]*>', page)
    assert " checked " in box  # on unless a company turns it off
    assert auth.post("/settings/", _form(), page="/settings/").status_code == 302  # the box left unticked
    assert _company(app, alpha.id).assistant_enabled is False
    assert auth.post("/settings/", _form(assistant_enabled="y"), page="/settings/").status_code == 302
    assert _company(app, alpha.id).assistant_enabled is True
