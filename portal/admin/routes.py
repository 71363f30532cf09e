"""Companies (SUPER_ADMIN): every tenant, search and status, add one, and one company's page
(edit, suspend or reactivate, delete with a typed confirmation). Every read and change is audited."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import view_as
from ..auth.decorators import roles_required
from ..extensions import db
from ..models import UserRole
from .forms import CompanyDetailsForm, CompanyForm, DeleteCompanyForm
from .services import (STATUSES, CompanyError, create_company, get_company, list_companies, record_view_as,
                       set_suspended, soft_delete, update_company_details)

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/companies")
@roles_required(UserRole.SUPER_ADMIN)
def companies():
    """Every company on the platform (an audited cross-tenant read)."""
    return _list_page(CompanyForm())


def _list_page(form, status_code=200):
    search = (request.args.get("q") or "").strip()[:100]
    status = request.args.get("status") if request.args.get("status") in STATUSES else ""
    rows = list_companies(current_user.id, search=search, status=status)
    return render_template("admin/companies.html", rows=rows, form=form, search=search, status=status,
                           statuses=STATUSES), status_code


@bp.post("/companies")
@roles_required(UserRole.SUPER_ADMIN)
def create_company_post():
    """Create a company with its first admin."""
    form = CompanyForm()
    if form.validate_on_submit():
        try:
            company = create_company(
                name=form.name.data, name_ar=form.name_ar.data, timezone=form.timezone.data,
                currency=form.currency.data, country_code=form.country_code.data,
                admin_email=form.admin_email.data,
                admin_first_name=form.admin_first_name.data, admin_last_name=form.admin_last_name.data,
                actor_id=current_user.id)
        except CompanyError as error:
            form.admin_email.errors.append(str(error))
        else:
            flash(_("Created %(name)s. Its admin %(email)s was e-mailed an invitation to choose a password.",
                    name=company.name, email=company.email), "success")
            return redirect(url_for("admin.companies"))
    return _list_page(form, 422)


def _company_page(company_id, details_form=None, delete_form=None, status_code=200):
    row = get_company(company_id, current_user.id)
    if row is None:
        abort(404)
    company = row[0]
    details_form = details_form or CompanyDetailsForm(obj=company)
    return render_template("admin/company.html", row=row, company=company, details_form=details_form,
                           delete_form=delete_form or DeleteCompanyForm(),
                           own_company=company.id == current_user.company_id), status_code


@bp.get("/companies/<uuid:company_id>")
@roles_required(UserRole.SUPER_ADMIN)
def company(company_id):
    """One company: its figures, details, suspension and deletion."""
    return _company_page(company_id)


@bp.post("/companies/<uuid:company_id>")
@roles_required(UserRole.SUPER_ADMIN)
def update_company(company_id):
    form = CompanyDetailsForm()
    if form.validate_on_submit():
        try:
            update_company_details(company_id, current_user, name=form.name.data, name_ar=form.name_ar.data,
                                   email=form.email.data, subscription_status=form.subscription_status.data)
        except CompanyError as error:
            form.name.errors.append(str(error))
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin.company", company_id=company_id))
    return _company_page(company_id, details_form=form, status_code=422)


@bp.post("/companies/<uuid:company_id>/suspend")
@roles_required(UserRole.SUPER_ADMIN)
def suspend_company(company_id):
    return _set_suspended(company_id, True, _("Suspended. Its people cannot sign in; platforms are told to retry "
                                              "their webhooks later. Nothing was deleted."))


@bp.post("/companies/<uuid:company_id>/reactivate")
@roles_required(UserRole.SUPER_ADMIN)
def reactivate_company(company_id):
    return _set_suspended(company_id, False, _("Reactivated. Its people can sign in again."))


def _set_suspended(company_id, suspended, message):
    try:  # the app-wide CSRF check has already guarded this POST
        set_suspended(company_id, current_user, suspended)
    except CompanyError as error:
        flash(str(error), "error")
    else:
        flash(message, "success")
    return redirect(url_for("admin.company", company_id=company_id))


@bp.post("/companies/<uuid:company_id>/delete")
@roles_required(UserRole.SUPER_ADMIN)
def delete_company(company_id):
    form = DeleteCompanyForm()
    if form.validate_on_submit():
        try:
            soft_delete(company_id, current_user, form.confirm_name.data)
        except CompanyError as error:
            form.confirm_name.errors.append(str(error))
        else:
            flash(_("Deleted. Its data is kept; its webhooks are answered 410."), "success")
            return redirect(url_for("admin.companies"))
    db.session.rollback()
    return _company_page(company_id, delete_form=form, status_code=422)


@bp.post("/companies/<uuid:company_id>/view-as")
@roles_required(UserRole.SUPER_ADMIN)
def view_as_company(company_id):
    """See the company's pages as its admin would, read-only, for VIEW_AS_MINUTES; audited in its log."""
    previous = view_as.stop()
    if previous is not None and previous != company_id:
        record_view_as(previous, current_user, started=False)
    try:
        viewed_id, name, name_ar = record_view_as(company_id, current_user, started=True)
    except CompanyError as error:
        flash(str(error), "error")
        return redirect(url_for("admin.company", company_id=company_id))
    view_as.start(viewed_id, name, name_ar)
    flash(_("You are viewing %(name)s read-only. Nothing you do here changes it.", name=name), "info")
    return redirect(url_for("dashboard.index"))


@bp.post("/view-as/stop")
@roles_required(UserRole.SUPER_ADMIN)
def stop_view_as():
    """Back to one's own company; the end is audited in the viewed company's log."""
    company_id = view_as.stop()
    if company_id is None:
        return redirect(url_for("admin.companies"))
    try:
        record_view_as(company_id, current_user, started=False)
    except CompanyError:
        return redirect(url_for("admin.companies"))
    flash(_("You stopped viewing that company."), "info")
    return redirect(url_for("admin.company", company_id=company_id))
