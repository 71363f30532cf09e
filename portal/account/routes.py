"""Account pages: your own profile, password and browsers; forgotten password, reset and invitation links."""
from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from ..auth import two_factor
from ..auth.sessions import current_session_id, revoke_current
from ..auth.tokens import INVITE, RESET, peek
from ..extensions import db, limiter
from .forms import (ChangePasswordForm, ConfirmCodeForm, CurrentPasswordForm, ForgotPasswordForm, ProfileForm,
                    SetPasswordForm)
from .services import (browser_label, change_password, check_current_password, end_other_sessions, open_sessions,
                       request_password_reset, set_password_from_link, turn_off_two_factor, update_profile)

bp = Blueprint("account", __name__)


def _account_page(profile_form=None, password_form=None, status=200):
    user = current_user._get_current_object()
    profile_form = profile_form or ProfileForm(obj=user, locale=user.locale or user.company.default_language)
    return render_template("account/profile.html", profile_form=profile_form,
                           password_form=password_form or ChangePasswordForm(),
                           sessions=open_sessions(user), this_session=current_session_id(),
                           browser_label=browser_label, two_factor_on=two_factor.is_enabled(user),
                           two_factor_required=two_factor.required_for(user),
                           recovery_codes_left=two_factor.recovery_codes_left(user),
                           codes_form=CurrentPasswordForm(prefix="codes"),
                           off_form=CurrentPasswordForm(prefix="off")), status


@bp.get("/account")
@login_required
def profile():
    """Your account: name, language, password, and where you are signed in."""
    return _account_page()


@bp.post("/account/profile")
@login_required
def update_profile_post():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _account_page(profile_form=form, status=422)
    update_profile(current_user, form.first_name.data, form.last_name.data, form.locale.data)
    session["locale"] = form.locale.data
    flash(_("Your profile is saved."), "success")
    return redirect(url_for("account.profile"))


@bp.post("/account/password")
@login_required
def change_password_post():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        error = change_password(current_user, form.current_password.data, form.password.data)
        if error is None:
            flash(_("Your password is changed. Every other browser is signed out."), "success")
            return redirect(url_for("account.profile"))
        form.current_password.errors.append(error)
    return _account_page(password_form=form, status=422)


@bp.post("/account/sessions/end")
@login_required
def end_sessions_post():
    ended = end_other_sessions(current_user)
    flash(_("Other browsers signed out: %(num)d.", num=ended) if ended else _("No other browser was signed in."),
          "success")
    return redirect(url_for("account.profile"))


@bp.route("/account/two-step", methods=["GET", "POST"], endpoint="two_factor")
@login_required
def set_up_two_factor():
    """Set up two-step sign-in: scan the QR code, then confirm with the first code; recovery codes follow."""
    user = current_user._get_current_object()
    if two_factor.is_enabled(user):
        return redirect(url_for("account.profile") + "#two-step")
    secret = two_factor.enrolment_secret(user)
    form = ConfirmCodeForm()
    status = 200
    if form.validate_on_submit():
        codes = two_factor.confirm_enrolment(user, form.code.data)
        if codes:
            return render_template("account/recovery_codes.html", codes=codes, first_time=True)
        form.code.errors.append(_("That code is not right. Check that your phone's clock is right, and type the "
                                  "newest code."))
        status = 422
    elif form.is_submitted():
        status = 422
    uri, qr_code = two_factor.provisioning(user, secret)
    return render_template("account/two_factor.html", form=form, secret=secret, uri=uri, qr_code=qr_code,
                           required=two_factor.required_for(user)), status


@bp.post("/account/two-step/recovery-codes")
@login_required
def new_recovery_codes():
    """Ten new recovery codes (the old ones stop working), after the password again."""
    form = CurrentPasswordForm(prefix="codes")
    if not two_factor.is_enabled(current_user):
        return redirect(url_for("account.two_factor"))
    error = check_current_password(current_user, form.current_password.data) if form.validate_on_submit() else \
        _("Type your current password.")
    if error:
        flash(error, "error")
        return redirect(url_for("account.profile") + "#two-step")
    return render_template("account/recovery_codes.html", codes=two_factor.new_recovery_codes(current_user),
                           first_time=False)


@bp.post("/account/two-step/off")
@login_required
def turn_off_two_factor_post():
    form = CurrentPasswordForm(prefix="off")
    error = turn_off_two_factor(current_user, form.current_password.data) if form.validate_on_submit() else \
        _("Type your current password.")
    if error:
        flash(error, "error")
    else:
        flash(_("Two-step sign-in is off. Your password alone signs you in."), "success")
    return redirect(url_for("account.profile") + "#two-step")


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
