"""Two-step sign-in: a TOTP authenticator app (RFC 6238, pyotp) and ten single-use recovery codes.

The secret is Fernet-sealed for the company (portal/crypto.py) and redacted from the audit trail. A
code is accepted one step either side of now (clock drift) and never twice: the step it matched is
remembered, so a code seen over someone's shoulder is useless once used. Recovery codes are stored
as SHA-256 only and shown once, when made.
"""
import hashlib
import hmac
import secrets
import unicodedata
from datetime import datetime, timezone

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, func, select, update

from ..crypto import decrypt_secret, encrypt_secret
from ..extensions import db
from ..models import AuditLog, RecoveryCode, UserRole
from ..web import client_address

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
ROLES_THE_COMPANY_MAY_REQUIRE = (UserRole.COMPANY_ADMIN, UserRole.SUPER_ADMIN)


def is_enabled(user):
    return user.totp_enabled_at is not None


def required_for(user):
    """The company asks its admins for two-step sign-in, and this is an admin."""
    return bool(user.company.two_factor_required) and user.role in ROLES_THE_COMPANY_MAY_REQUIRE


def enrolment_secret(user):
    """The secret being set up (made on first call and kept until confirmed); None once enabled."""
    if is_enabled(user):
        return None
    if user.totp_secret is None:
        user.totp_secret = encrypt_secret(user.company_id, pyotp.random_base32())
        user.totp_last_step = None
        db.session.commit()
    return decrypt_secret(user.company_id, user.totp_secret)


def provisioning(user, secret):
    """The otpauth:// URI an authenticator app reads, and its QR code as a data: URI for an <img>."""
    issuer = current_app.config.get("MAIL_FROM_NAME") or "Merchant portal"
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
    return uri, segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _digits(code):
    """Digits only, Arabic-Indic ones read as 0-9 (phones type either); spaces and dashes dropped."""
    return "".join(str(unicodedata.digit(ch)) for ch in (code or "") if unicodedata.digit(ch, None) is not None)


def check_code(user, code, now=None):
    """True for a current, unused code; the step is remembered (the caller commits)."""
    digits = _digits(code)
    if len(digits) != 6 or user.totp_secret is None:
        return False
    totp = pyotp.TOTP(decrypt_secret(user.company_id, user.totp_secret))
    current = totp.timecode(now or datetime.now(timezone.utc))
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False  # already used (replayed)
            user.totp_last_step = step
            return True
    return False


def _audit(user, operation, actor=None):
    db.session.add(AuditLog(table_name="users", operation=operation, record_id=user.id,
                            user_id=(actor or user).id, company_id=user.company_id, ip_address=client_address()))


def confirm_enrolment(user, code):
    """Turn two-step sign-in on with the first code from the app; the new recovery codes, or None."""
    if is_enabled(user) or not check_code(user, code):
        db.session.rollback()
        return None
    user.totp_enabled_at = func.now()
    codes = _replace_recovery_codes(user)
    _audit(user, "TWO_FACTOR_ENABLED")
    db.session.commit()
    return codes


def _normalise_recovery_code(code):
    return "".join(ch for ch in (code or "").lower() if ch in _RECOVERY_ALPHABET)


def _hash(code):
    return hashlib.sha256(_normalise_recovery_code(code).encode()).hexdigest()


def _replace_recovery_codes(user):
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(company_id=user.company_id, user_id=user.id, code_hash=_hash(raw)))
    return codes


def new_recovery_codes(user):
    """Ten fresh codes; the old ones stop working. Commits."""
    codes = _replace_recovery_codes(user)
    _audit(user, "RECOVERY_CODES_RENEWED")
    db.session.commit()
    return codes


def use_recovery_code(user, code):
    """True when `code` is one of the user's unused recovery codes; it is spent at once (the caller commits)."""
    if len(_normalise_recovery_code(code)) != 10:
        return False
    spent = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code), RecoveryCode.used_at.is_(None))
        .values(used_at=func.now())
        .returning(RecoveryCode.id)
    ).first()
    if spent:
        _audit(user, "RECOVERY_CODE_USED")
    return spent is not None


def recovery_codes_left(user):
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


def disable(user, actor=None):
    """Back to password only: the secret and the recovery codes are forgotten. Commits."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    _audit(user, "TWO_FACTOR_DISABLED", actor)
    db.session.commit()
