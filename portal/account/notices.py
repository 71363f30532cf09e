"""E-mails about the account's own security, sent to its owner."""
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from ..auth.throttle import sign_in_blocked
from ..extensions import db
from ..mail.services import send_mail
from ..models import User
from ..tenancy import tenant


@sign_in_blocked.connect
def tell_the_owner_about_failed_sign_ins(app, account, address, **_extra):
    """Once per incident: someone keeps getting the password wrong; the caller's commit sends it."""
    with tenant(account.company_id):
        user = db.session.get(User, account.id)
        if user is None:
            return
        with force_locale(user.locale or user.company.default_language):
            link = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("account.forgot_password")
            send_mail(user.email, _("Failed sign-ins to your account"),
                      _("Someone has entered a wrong password for %(email)s several times (last from address "
                        "%(address)s), so sign-ins from there are paused for a while. Devices you have signed in "
                        "from before are not affected.\n\nIf it was you, wait a few minutes or choose a new "
                        "password here:\n\n%(link)s\n\nIf it was not you, your account is safe as long as your "
                        "password is not used elsewhere; choosing a new one is still a good idea.",
                        email=user.email, address=address or "?", link=link),
                      link=link, kind="security")
