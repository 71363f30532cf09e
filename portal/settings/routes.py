"""/settings: the company's details and logo, opening hours and holidays, alerts (company admins)."""
from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import roles_required
from ..auth.forms import EmptyForm
from ..extensions import db
from ..lookups import get_or_404
from ..models import CompanyLogo, HolidayClosure, UserRole
from .forms import AlertsForm, CompanyForm, HolidayForm, HoursForm
from .hours import HoursError, format_shifts, load_holidays, load_week
from .services import COMPANY_FIELDS, MAX_LOGO_BYTES, SettingsError, add_holiday, delete_holiday, \
    update_alerts, update_company, save_week

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _company_page(form, status=200):
    logo = db.session.get(CompanyLogo, g.company.id)
    return render_template("settings/index.html", form=form, has_logo=logo is not None), status


@bp.get("/")
@roles_required(UserRole.COMPANY_ADMIN)
def index():
    """The company's details, tax, language, preparation time and logo."""
    return _company_page(CompanyForm(obj=g.company))


@bp.post("/")
@roles_required(UserRole.COMPANY_ADMIN)
def update():
    """Save the company's details; a refused value changes nothing and is shown next to its field."""
    form = CompanyForm()
    if not form.validate():
        return _company_page(form, 422)
    upload = form.logo.data
    logo_data = None
    if upload and getattr(upload, "filename", ""):
        logo_data = upload.read(MAX_LOGO_BYTES + 1)
    try:
        update_company(g.company, {field: form[field].data for field in COMPANY_FIELDS}, current_user,
                       logo_data=logo_data, remove_logo=form.remove_logo.data)
    except SettingsError as error:
        db.session.rollback()
        form.logo.errors = [str(error)]
        return _company_page(form, 422)
    flash(_("Settings saved."), "success")
    return redirect(url_for("settings.index"))


@bp.get("/logo/<company_id>")
@roles_required(UserRole.USER)
def logo(company_id):
    """The company's logo; another company's id is a 404 (RLS hides its row, and the id is checked)."""
    if str(company_id) != str(g.company.id):
        abort(404)
    row = get_or_404(CompanyLogo, company_id)
    response = make_response(row.data)
    response.headers["Content-Type"] = row.content_type
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Disposition"] = "inline"
    return response


def _hours_page(form, holiday_form, status=200):
    return render_template("settings/hours.html", form=form, holiday_form=holiday_form,
                           holidays=load_holidays(g.company.id), delete_form=EmptyForm()), status


@bp.get("/hours")
@roles_required(UserRole.COMPANY_ADMIN)
def hours():
    """Opening hours per weekday and holiday closures."""
    form = HoursForm()
    for day, shifts in load_week(g.company.id).items():
        form[f"day_{day}"].data = format_shifts(shifts)
    return _hours_page(form, HolidayForm())


@bp.post("/hours")
@roles_required(UserRole.COMPANY_ADMIN)
def update_hours():
    """Replace the week's shifts; unreadable or overlapping shifts change nothing."""
    form = HoursForm()
    if not form.validate():
        return _hours_page(form, HolidayForm(formdata=None), 422)
    try:
        save_week(g.company, {day: form[f"day_{day}"].data for day in range(7)}, current_user)
    except HoursError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _hours_page(form, HolidayForm(formdata=None), 422)
    flash(_("Opening hours saved."), "success")
    return redirect(url_for("settings.hours"))


@bp.post("/holidays")
@roles_required(UserRole.COMPANY_ADMIN)
def create_holiday():
    """Add a holiday closure."""
    form = HolidayForm()
    hours_form = HoursForm(formdata=None)
    for day, shifts in load_week(g.company.id).items():
        hours_form[f"day_{day}"].data = format_shifts(shifts)
    if not form.validate():
        return _hours_page(hours_form, form, 422)
    try:
        add_holiday(g.company, form.starts_on.data, form.ends_on.data, form.note.data, current_user)
    except HoursError as error:
        db.session.rollback()
        form.ends_on.errors = [str(error)]
        return _hours_page(hours_form, form, 422)
    flash(_("Closure added."), "success")
    return redirect(url_for("settings.hours"))


@bp.post("/holidays/<holiday_id>/delete")
@roles_required(UserRole.COMPANY_ADMIN)
def delete(holiday_id):
    """Remove a holiday closure."""
    holiday = get_or_404(HolidayClosure, holiday_id)
    if not EmptyForm().validate():
        abort(400)
    delete_holiday(g.company, holiday, current_user)
    flash(_("Closure removed."), "success")
    return redirect(url_for("settings.hours"))


@bp.get("/alerts")
@roles_required(UserRole.COMPANY_ADMIN)
def alerts():
    """When to e-mail the managers about waiting orders and silent integrations."""
    company = g.company
    form = AlertsForm(data={"pending_enabled": company.alert_pending_enabled,
                            "pending_minutes": company.alert_pending_minutes,
                            "integration_enabled": company.alert_integration_enabled,
                            "integration_minutes": company.alert_integration_minutes})
    return render_template("settings/alerts.html", form=form)


@bp.post("/alerts")
@roles_required(UserRole.COMPANY_ADMIN)
def update_alerts_view():
    """Save the alert settings."""
    form = AlertsForm()
    if not form.validate():
        return render_template("settings/alerts.html", form=form), 422
    update_alerts(g.company, {"alert_pending_enabled": form.pending_enabled.data,
                              "alert_pending_minutes": form.pending_minutes.data,
                              "alert_integration_enabled": form.integration_enabled.data,
                              "alert_integration_minutes": form.integration_minutes.data}, current_user)
    flash(_("Alert settings saved."), "success")
    return redirect(url_for("settings.alerts"))
