"""Password hashing with bcrypt (cost from BCRYPT_ROUNDS, at least 12 outside tests)."""
from functools import lru_cache

import bcrypt
from flask import current_app

# bcrypt reads only the first 72 bytes; bcrypt 5 raises on longer input instead of truncating.
MAX_BYTES = 72


def _secret(password):
    return password.encode()[:MAX_BYTES]


@lru_cache(maxsize=4)
def _dummy_hash(rounds):
    """Checked when the e-mail is unknown, so a miss takes as long as a wrong password (same cost)."""
    return bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds)).decode()


def hash_password(password):
    rounds = current_app.config["BCRYPT_ROUNDS"]
    return bcrypt.hashpw(_secret(password), bcrypt.gensalt(rounds)).decode()


def check_password(password, password_hash):
    password_hash = password_hash or _dummy_hash(current_app.config["BCRYPT_ROUNDS"])
    try:
        return bcrypt.checkpw(_secret(password), password_hash.encode())
    except ValueError:  # a malformed stored hash never signs anyone in
        return False
