"""An admin sets opening hours with an overnight shift in the browser; bad input shows an error, changes nothing."""
import pytest

from portal.extensions import db
from portal.models import OpeningShift
from portal.tenancy import tenant

pytestmark = pytest.mark.e2e


def test_edit_hours_with_an_overnight_shift(app, page, sign_in, company_admin):
    company = company_admin.company
    sign_in(company_admin.email, company_admin.password)
    page.goto("/settings/")
    page.get_by_role("link", name="Opening hours").click()
    page.get_by_label("Friday").fill("12:00-15:00, 18:00-02:00")
    page.get_by_role("button", name="Save opening hours").click()
    page.get_by_text("Opening hours saved.").wait_for()
    page.reload()
    assert page.get_by_label("Friday").input_value() == "12:00-15:00, 18:00-02:00"

    page.get_by_label("Saturday").fill("20:00-20:00")
    page.get_by_role("button", name="Save opening hours").click()
    page.get_by_text("ends when it starts").wait_for()
    assert page.get_by_label("Saturday").input_value() == "20:00-20:00"  # what was typed is kept

    page.get_by_label("Saturday").fill("10:00-16:00, 15:00-17:00")
    page.get_by_role("button", name="Save opening hours").click()
    page.get_by_text("Shifts overlap on Saturday").wait_for()

    with app.app_context(), tenant(company.id):
        shifts = db.session.scalars(db.select(OpeningShift).order_by(OpeningShift.opens_at)).all()
        assert [(s.weekday, f"{s.opens_at:%H:%M}", f"{s.closes_at:%H:%M}") for s in shifts] == \
            [(4, "12:00", "15:00"), (4, "18:00", "02:00")]
