"""Account rules: forgotten passwords and invitations by e-mail (links from auth.tokens)."""
from flask import current_app, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..auth import throttle, two_factor
from ..auth.passwords import check_password, hash_password
from ..auth.sessions import current_session_id, end_all_sessions
from ..auth.tokens import INVITE, RESET, consume, issue
from ..extensions import db
from ..mail.services import send_mail
from ..models import AuditLog, User, UserSession
from ..tenancy import sign_in_lookup, tenant
from ..web import client_address


def _link(endpoint, token):
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return base + url_for(endpoint, token=token)


def request_password_reset(email):
    """E-mail a reset link when `email` is an account that may sign in; say nothing either way.

    The caller shows the same answer whatever happened, so the page never tells who has an account.
    """
    account = sign_in_lookup(email.strip().lower())
    if account is None or not account.is_active or account.deleted_at is not None:
        return False
    with tenant(account.company_id):
        user = db.session.get(User, account.id)
        if user is None or not user.company.is_active or user.company.deleted_at is not None:
            return False
        with force_locale(user.locale or user.company.default_language):
            link = _link("account.reset_password", issue(user, RESET))
            send_mail(user.email, _("Reset your password"),
                      _("Someone (hopefully you) asked to reset the password of %(email)s. Open this link within "
                        "%(minutes)d minutes to choose a new one:\n\n%(link)s\n\nIf it was not you, ignore this "
                        "message: your password stays as it is.", email=user.email, link=link,
                        minutes=current_app.config["RESET_LINK_MINUTES"]),
                      link=link, kind="reset")
        db.session.commit()
    return True


def send_invitation(user, actor):
    """E-mail `user` a link to choose their password and join; earlier invitations stop working.

    The caller commits (with the user row, when it is new).
    """
    with force_locale(user.locale or user.company.default_language):
        link = _link("account.accept_invitation", issue(user, INVITE, created_by=actor.id if actor else None))
        company = user.company.display_name(str(get_locale()))
        send_mail(user.email, _("You are invited to %(company)s", company=company),
                  _("%(inviter)s invited you to the %(company)s merchant portal. Open this link within %(days)d "
                    "days to choose your password:\n\n%(link)s", inviter=actor.full_name if actor else company,
                    company=company, link=link, days=current_app.config["INVITATION_LINK_DAYS"]),
                  link=link, kind="invitation")
    db.session.add(AuditLog(table_name="users", operation="INVITED", record_id=user.id,
                            user_id=actor.id if actor else None, company_id=user.company_id,
                            ip_address=client_address(), new_values={"email": user.email}))


def set_password_from_link(open_link, password):
    """Use the link once: the new password, every open session ended, audited. False if already used."""
    if not consume(open_link):
        db.session.rollback()
        return False
    user = open_link.user
    user.password = hash_password(password)
    end_all_sessions(user)
    throttle.record_success(user.email, client_address())  # this device may sign in now, even mid-incident
    accepted = open_link.token.purpose == INVITE
    db.session.add(AuditLog(table_name="users", operation="INVITATION_ACCEPTED" if accepted else "PASSWORD_RESET",
                            record_id=user.id, user_id=user.id, company_id=user.company_id,
                            ip_address=client_address()))
    db.session.commit()
    return True


def update_profile(user, first_name, last_name, locale):
    """Names and language; the users trigger audits the change."""
    user.first_name, user.last_name, user.locale = first_name, last_name, locale
    db.session.commit()


def check_current_password(user, password):
    """None when `password` is the user's; else the message. Wrong ones count like failed sign-ins, so an
    open session cannot be used to guess it (commits the count)."""
    address = client_address()
    if throttle.wait_seconds(user.email, address):
        return _("Too many wrong passwords. Wait a few minutes and try again.")
    if check_password(password, user.password):
        return None
    if throttle.record_failure(user.email, address):
        throttle.sign_in_blocked.send(current_app._get_current_object(), account=user, address=address)
    db.session.commit()
    return _("Your current password is not correct.")


def change_password(user, current_password, new_password):
    """None when changed (every other session ended, audited); else the message for the current-password field."""
    error = check_current_password(user, current_password)
    if error:
        return error
    user.password = hash_password(new_password)
    end_all_sessions(user, except_id=current_session_id())
    db.session.add(AuditLog(table_name="users", operation="PASSWORD_CHANGED", record_id=user.id, user_id=user.id,
                            company_id=user.company_id, ip_address=client_address()))
    db.session.commit()
    return None


def turn_off_two_factor(user, password):
    """None when turned off; else why not (the company requires it, or the password is wrong)."""
    if two_factor.required_for(user):
        return _("Your company requires two-step sign-in for admins, so it stays on.")
    error = check_current_password(user, password)
    if error:
        return error
    two_factor.disable(user)
    return None


def end_other_sessions(user):
    """Sign out every other browser of this person; returns how many were open."""
    ended = end_all_sessions(user, except_id=current_session_id())
    db.session.commit()
    return ended


def open_sessions(user, limit=20):
    """The person's signed-in browsers still within the session lifetime, this one first, then newest."""
    since = func.now() - current_app.permanent_session_lifetime
    this = current_session_id()
    return db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.created_at > since)
        .order_by((UserSession.id == this).desc(), UserSession.created_at.desc())
        .limit(limit)
    ).all()


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser", "Samsung Internet"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def browser_label(user_agent):
    """"Chrome on Android" from a User-Agent header: enough for a person to recognise their own devices."""
    agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in agent), None)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or _("Unknown browser")
