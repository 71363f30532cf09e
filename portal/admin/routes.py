"""Companies (SUPER_ADMIN): the list of every tenant and a form to add one."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import roles_required
from ..models import UserRole
from .forms import CompanyForm
from .services import CompanyError, create_company, list_companies

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/companies")
@roles_required(UserRole.SUPER_ADMIN)
def companies():
    """Every company on the platform (an audited cross-tenant read)."""
    return render_template("admin/companies.html", rows=list_companies(current_user.id), form=CompanyForm())


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
    return render_template("admin/companies.html", rows=list_companies(current_user.id), form=form), 422
