"""Failed sign-ins slow an attacker down, then stop them, without locking the real user out.

Counts live in the database (sign_in_throttle, reached only as portal_login), so every web process
sees the same numbers. Each failure counts under three keys:

- pair (this account from this address): tight — after PAIR_FAILURES the address waits one minute,
  doubling with each further failure up to a quarter of an hour;
- account (from anywhere): loose — after ACCOUNT_FAILURES an hour, addresses the account has never
  signed in from wait a quarter of an hour;
- address (any account from this address): after ADDRESS_FAILURES an hour, the address waits.

An address the account has signed in from before (the "known" key, kept for KNOWN_DAYS) answers only
to the pair limit: an attacker elsewhere cannot lock the owner out of their own device, and a
password reset from a new device makes it known. A blocked attempt is refused before the password is
checked, so it reveals nothing. The first time an incident blocks anyone, the account's owner is
e-mailed once. Keys are HMACs of the e-mail and address, so the table holds neither.
"""
import hashlib
import hmac
import math

from flask import current_app
from flask.signals import Namespace
from sqlalchemy import text

from ..extensions import db
from ..tenancy import sign_in_scope

PAIR, ACCOUNT, ADDRESS, KNOWN = "pair", "account", "address", "known"
WINDOW_MINUTES = 60      # a key with no failure for this long starts again from zero
LONGEST_BLOCK_MINUTES = 15
KNOWN_DAYS = 90

# Sent once per incident with (app, account=<sign-in row>, address=...); the account area e-mails the
# owner. A signal because auth cannot import the mail area, whose pages need auth.
sign_in_blocked = Namespace().signal("sign-in-blocked")


def _key(kind, email, address=None):
    secret = current_app.config["SECRET_KEY"].encode()
    subject = f"{kind}\0{(email or '').strip().lower()}\0{address or ''}"
    return hmac.new(secret, subject.encode(), hashlib.sha256).hexdigest()


def _limits():
    config = current_app.config
    return {PAIR: config["SIGN_IN_PAIR_FAILURES"], ACCOUNT: config["SIGN_IN_ACCOUNT_FAILURES"],
            ADDRESS: config["SIGN_IN_ADDRESS_FAILURES"]}


def _keys(email, address):
    return {PAIR: _key(PAIR, email, address), ACCOUNT: _key(ACCOUNT, email), ADDRESS: _key(ADDRESS, None, address)}


def _is_known(session, email, address):
    return session.execute(
        text("SELECT 1 FROM sign_in_throttle WHERE key = :key"
             " AND succeeded_at > now() - make_interval(days => :days)"),
        {"key": _key(KNOWN, email, address), "days": KNOWN_DAYS},
    ).first() is not None


def wait_seconds(email, address):
    """How long this address must wait before trying `email` again; 0 when it may try now."""
    keys = _keys(email, address)
    with sign_in_scope() as session:
        if _is_known(session, email, address):
            applicable = [keys[PAIR]]
        else:
            applicable = list(keys.values())
        seconds = session.execute(
            text("SELECT EXTRACT(EPOCH FROM max(blocked_until) - now()) FROM sign_in_throttle"
                 " WHERE key = ANY(:keys) AND blocked_until > now()"),
            {"keys": applicable},
        ).scalar()
    return math.ceil(seconds) if seconds else 0


def _block_minutes(kind, over_limit):
    if kind == PAIR:
        return min(2 ** over_limit, LONGEST_BLOCK_MINUTES)
    return LONGEST_BLOCK_MINUTES


def record_failure(email, address):
    """Count a failed sign-in; True when this failure starts an incident the owner should hear about.

    The caller commits (the counts and the owner's e-mail land together).
    """
    limits = _limits()
    blocked = False
    with sign_in_scope() as session:
        for kind, key in _keys(email, address).items():
            failures = session.execute(
                text("INSERT INTO sign_in_throttle AS t (key, failures, last_failed_at) VALUES (:key, 1, now())"
                     " ON CONFLICT (key) DO UPDATE SET"
                     "  failures = CASE WHEN t.last_failed_at < now() - make_interval(mins => :window)"
                     "             THEN 1 ELSE t.failures + 1 END,"
                     "  notified_at = CASE WHEN t.last_failed_at < now() - make_interval(mins => :window)"
                     "                THEN NULL ELSE t.notified_at END,"
                     "  last_failed_at = now()"
                     " RETURNING failures"),
                {"key": key, "window": WINDOW_MINUTES},
            ).scalar_one()
            if failures >= limits[kind]:
                blocked = True
                session.execute(
                    text("UPDATE sign_in_throttle SET blocked_until = now() + make_interval(mins => :minutes)"
                         " WHERE key = :key"),
                    {"key": key, "minutes": _block_minutes(kind, failures - limits[kind])},
                )
        if not blocked:
            return False
        # Once per incident, however many processes see the block at the same moment.
        return session.execute(
            text("UPDATE sign_in_throttle SET notified_at = now() WHERE key = :key AND notified_at IS NULL"
                 " RETURNING 1"),
            {"key": _key(ACCOUNT, email)},
        ).first() is not None


def record_success(email, address):
    """A correct password: this address's count for the account restarts, and the address is known."""
    with sign_in_scope() as session:
        session.execute(text("DELETE FROM sign_in_throttle WHERE key = :key"), {"key": _key(PAIR, email, address)})
        session.execute(
            text("INSERT INTO sign_in_throttle (key, succeeded_at) VALUES (:key, now())"
                 " ON CONFLICT (key) DO UPDATE SET succeeded_at = now()"),
            {"key": _key(KNOWN, email, address)},
        )


def prune():
    """Forget keys with nothing left to remember: no recent failure, and no recent sign-in (commits)."""
    with sign_in_scope() as session:
        removed = session.execute(
            text("DELETE FROM sign_in_throttle"
                 " WHERE last_failed_at < now() - make_interval(mins => :window)"
                 "   AND (blocked_until IS NULL OR blocked_until < now())"
                 "   AND (succeeded_at IS NULL OR succeeded_at < now() - make_interval(days => :days))"),
            {"window": WINDOW_MINUTES, "days": KNOWN_DAYS},
        ).rowcount
    db.session.commit()
    return removed
