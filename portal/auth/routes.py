"""Sign in, sign out, and the English/Arabic switch."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db
from ..web import safe_next
from .forms import LanguageForm, LoginForm
from .services import authenticate, record_sign_in
from .sessions import revoke_current, start_session

bp = Blueprint("auth", __name__)


@bp.get("/login")
def login():
    """The sign-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm(next=request.args.get("next", ""), email=request.args.get("email", "")[:255])
    return render_template("auth/login.html", form=form)


@bp.post("/login")
def login_post():
    """Check the credentials (unless failures paused this address: auth/throttle.py); on success a fresh session."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 200
    result = authenticate(form.email.data, form.password.data)
    if result.retry_after:
        form.password.errors.append(result.error)
        return render_template("auth/login.html", form=form), 429, {"Retry-After": str(result.retry_after)}
    if result.error:
        form.password.errors.append(result.error)
        return render_template("auth/login.html", form=form), 200
    # The account's saved language wins (shared kitchen tablets); else the choice made before sign-in.
    locale = result.user.locale or session.get("locale")
    session.clear()  # a new session at sign-in: nothing from before survives (fixation)
    if locale:
        session["locale"] = locale
    login_user(result.user)
    start_session(result.user)
    session.permanent = True
    record_sign_in(result.user)
    return redirect(safe_next(form.next.data, url_for("dashboard.index")))


@bp.post("/logout")
@login_required
def logout():
    """Sign out and forget the session (the app-wide CSRF check guards this POST like every other)."""
    locale = session.get("locale")
    revoke_current()
    db.session.commit()
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """Switch between English and Arabic; remembered on the account when signed in."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            db.session.commit()
    return redirect(safe_next(form.next.data, url_for("dashboard.index")))
