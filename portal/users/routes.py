"""The Users page (COMPANY_ADMIN): list, invite, edit, reset links, deactivate."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import roles_required
from ..auth.forms import EmptyForm
from ..extensions import db
from ..lookups import get_or_404
from ..models import User, UserRole
from .forms import ROLE_CHOICES, UserForm
from ..auth.tokens import pending_invitations
from .services import (UserRuleError, invite_user, list_users, resend_invitation, send_reset_link, set_active,
                       update_user)

bp = Blueprint("users", __name__, url_prefix="/users")


def _get_user_or_404(user_id):
    """A user of the current company; anyone else's id, or a removed user, is simply not found."""
    return get_or_404(User, user_id, hidden=lambda user: user.deleted_at is not None)


@bp.get("/")
@roles_required(UserRole.COMPANY_ADMIN)
def index():
    """All users of the company, with search and a role filter."""
    search = request.args.get("q", "").strip()[:100]
    role = request.args.get("role", "")
    if role not in UserRole.__members__:
        role = ""
    page = db.paginate(list_users(search, role or None), per_page=20, error_out=False)
    invitations = pending_invitations([user.id for user in page.items])
    return render_template("users/index.html", page=page, search=search, role=role, invitations=invitations,
                           roles=ROLE_CHOICES, action_form=EmptyForm())


@bp.get("/new")
@roles_required(UserRole.COMPANY_ADMIN)
def new():
    """The form to invite a colleague."""
    return render_template("users/form.html", form=UserForm(), user=None)


@bp.post("/")
@roles_required(UserRole.COMPANY_ADMIN)
def create():
    """Invite the user, or show the form again with what was typed and why it was refused."""
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = invite_user(current_user, email=form.email.data, first_name=form.first_name.data,
                               last_name=form.last_name.data, role=form.role.data)
        except UserRuleError as error:
            getattr(form, error.field).errors.append(str(error))
        else:
            flash(_("Invitation sent to %(email)s. %(name)s chooses a password from the link.",
                    email=user.email, name=user.first_name), "success")
            return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=None), 422


@bp.get("/<user_id>/edit")
@roles_required(UserRole.COMPANY_ADMIN)
def edit(user_id):
    """The form to change a user's details or role."""
    user = _get_user_or_404(user_id)
    form = UserForm(obj=user)
    form.role.data = user.role.value  # obj wins over keyword data, and str(UserRole.X) is "UserRole.X"
    return render_template("users/form.html", form=form, user=user)


@bp.post("/<user_id>")
@roles_required(UserRole.COMPANY_ADMIN)
def update(user_id):
    """Save a user's details or role."""
    user = _get_user_or_404(user_id)
    form = UserForm()
    if form.validate_on_submit():
        try:
            update_user(current_user, user, email=form.email.data, first_name=form.first_name.data,
                        last_name=form.last_name.data, role=form.role.data)
        except UserRuleError as error:
            getattr(form, error.field).errors.append(str(error))
        else:
            flash(_("Saved changes to %(name)s.", name=user.full_name), "success")
            return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=user), 422


@bp.post("/<user_id>/reset-link")
@roles_required(UserRole.COMPANY_ADMIN)
def reset_link(user_id):
    """E-mail the user a link to choose a new password."""
    user = _get_user_or_404(user_id)
    try:
        send_reset_link(current_user, user)
    except UserRuleError as error:
        flash(str(error), "error")
    else:
        flash(_("A password-reset link is on its way to %(email)s.", email=user.email), "success")
    return redirect(url_for("users.index"))


@bp.post("/<user_id>/invitation")
@roles_required(UserRole.COMPANY_ADMIN)
def reinvite(user_id):
    """Send the invitation again, with a new link."""
    user = _get_user_or_404(user_id)
    try:
        resend_invitation(current_user, user)
    except UserRuleError as error:
        flash(str(error), "error")
    else:
        flash(_("Invitation sent again to %(email)s.", email=user.email), "success")
    return redirect(url_for("users.index"))


@bp.post("/<user_id>/deactivate")
@roles_required(UserRole.COMPANY_ADMIN)
def deactivate(user_id):
    """Stop a user from signing in."""
    return _set_active(user_id, False)


@bp.post("/<user_id>/activate")
@roles_required(UserRole.COMPANY_ADMIN)
def activate(user_id):
    """Let a deactivated user sign in again."""
    return _set_active(user_id, True)


def _set_active(user_id, active):
    user = _get_user_or_404(user_id)
    try:
        set_active(current_user, user, active)
    except UserRuleError as error:
        flash(str(error), "error")
    else:
        message = _("%(name)s can sign in again.") if active else _("%(name)s can no longer sign in.")
        flash(message % {"name": user.full_name}, "success")
    return redirect(url_for("users.index"))
