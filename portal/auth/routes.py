"""Sign in (password, then the authenticator code when turned on), sign out, and the English/Arabic switch."""
import time

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db
from ..web import safe_next
from . import two_factor, view_as
from .forms import LanguageForm, LoginForm, TwoFactorForm
from .services import authenticate, record_sign_in, second_step, user_for_key
from .sessions import revoke_current, start_session

bp = Blueprint("auth", __name__)

PENDING_KEY = "two_factor_pending"  # a correct password waiting for its code: {"key", "next", "at"}
PENDING_SECONDS = 5 * 60
# What an admin whose company requires two-step sign-in may open before setting it up.
SETUP_ENDPOINTS = {"account.two_factor", "auth.logout", "auth.language", "static"}


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
    if two_factor.is_enabled(result.user):
        _fresh_session(result.user)
        session[PENDING_KEY] = {"key": result.user.get_id(), "next": form.next.data or "", "at": int(time.time())}
        return redirect(url_for("auth.two_factor_step"))
    return _signed_in(result.user, form.next.data)


@bp.route("/login/two-step", methods=["GET", "POST"])
def two_factor_step():
    """The second step: a code from the authenticator app, or a recovery code."""
    pending = session.get(PENDING_KEY)
    fresh = isinstance(pending, dict) and time.time() - pending.get("at", 0) <= PENDING_SECONDS
    user = user_for_key(pending.get("key")) if fresh else None
    if user is None or not two_factor.is_enabled(user):
        session.pop(PENDING_KEY, None)
        flash(_("Sign in again: the code was not entered in time."), "info")
        return redirect(url_for("auth.login"))
    form = TwoFactorForm()
    status = 200
    if form.validate_on_submit():
        result = second_step(user, form.code.data)
        if result.user:
            response = _signed_in(user, pending.get("next"))  # a fresh session: flash after it
            if result.used_recovery_code:
                flash(_("You signed in with a recovery code; %(left)d are left. Make new ones on Your account.",
                        left=two_factor.recovery_codes_left(user)), "warning")
            return response
        form.code.errors.append(result.error)
        status = 429 if result.retry_after else 422
    elif form.is_submitted():
        status = 422
    return render_template("auth/two_factor.html", form=form), status


@bp.before_app_request
def ask_admins_for_two_step_sign_in():
    """When the company requires it, an admin without two-step sign-in sets it up before anything else."""
    if (request.endpoint in SETUP_ENDPOINTS or request.blueprint in ("webhooks", "chat")
            or not current_user.is_authenticated):
        return None
    if two_factor.required_for(current_user) and not two_factor.is_enabled(current_user):
        target = url_for("account.two_factor")
        if request.headers.get("HX-Request"):
            return "", 204, {"HX-Redirect": target}
        return redirect(target)
    return None


bp.before_app_request(view_as.refuse_changes)


def _fresh_session(user):
    """A new session at sign-in: nothing from before survives (fixation); the language carries over."""
    # The account's saved language wins (shared kitchen tablets); else the choice made before sign-in.
    locale = user.locale or session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def _signed_in(user, next_url):
    _fresh_session(user)
    login_user(user)
    start_session(user)
    session.permanent = True
    record_sign_in(user)
    return redirect(safe_next(next_url, url_for("dashboard.index")))


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
