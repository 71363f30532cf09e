"""Account pages: forgotten password, reset and invitation links (signed out)."""
from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ..auth.sessions import revoke_current
from ..auth.tokens import INVITE, RESET, peek
from ..extensions import db, limiter
from .forms import ForgotPasswordForm, SetPasswordForm
from .services import request_password_reset, set_password_from_link

bp = Blueprint("account", __name__)


@bp.get("/forgot-password")
def forgot_password():
    """Ask for a reset link by e-mail."""
    return render_template("account/forgot_password.html", form=ForgotPasswordForm(), sent=False)


@bp.post("/forgot-password")
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password_post():
    """Send the link if the account exists; the answer is the same either way."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("account/forgot_password.html", form=form, sent=False), 422
    request_password_reset(form.email.data)
    return render_template("account/forgot_password.html", form=form, sent=True)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token):
    """Choose a new password from a reset link."""
    return _set_password(token, RESET)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    """Choose a password from an invitation link, and join the company."""
    return _set_password(token, INVITE)


def _set_password(token, purpose):
    if current_user.is_authenticated:  # the link is about its own account, not whoever is signed in here
        revoke_current()
        db.session.commit()
        logout_user()
        session.clear()
    open_link = peek(token, purpose)
    if open_link is None:
        return render_template("account/link_invalid.html", purpose=purpose), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        if set_password_from_link(open_link, form.password.data):
            flash(_("Your password is set. Sign in with it.") if purpose == RESET else
                  _("Welcome! Your password is set. Sign in with it."), "success")
            return redirect(url_for("auth.login", email=open_link.user.email))
        return render_template("account/link_invalid.html", purpose=purpose), 404
    status = 422 if form.is_submitted() else 200
    return render_template("account/set_password.html", form=form, purpose=purpose, user=open_link.user), status
