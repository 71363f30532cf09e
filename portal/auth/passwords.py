"""Password hashing with bcrypt (cost from BCRYPT_ROUNDS, at least 12 outside tests)."""
import bcrypt
from flask import current_app

# Checked when the e-mail is unknown, so a miss takes as long as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(4)).decode()


def hash_password(password):
    rounds = current_app.config["BCRYPT_ROUNDS"]
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def check_password(password, password_hash):
    try:
        return bcrypt.checkpw(password.encode(), (password_hash or _DUMMY_HASH).encode())
    except ValueError:  # a malformed stored hash never signs anyone in
        return False
