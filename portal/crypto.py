"""Platform credentials at rest: Fernet (MultiFernet, newest key first), bound to their company."""
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class SecretError(ValueError):
    """A stored secret could not be decrypted for this company."""


def _fernet():
    keys = [key.strip() for key in current_app.config["PORTAL_ENCRYPTION_KEYS"].split(",") if key.strip()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_secret(company_id, value):
    """Encrypt `value` for `company_id`; None stays None."""
    if value is None:
        return None
    sealed = json.dumps({"company_id": str(company_id), "value": value}).encode()
    return _fernet().encrypt(sealed).decode()


def decrypt_secret(company_id, token):
    """Decrypt a value sealed by encrypt_secret, refusing one sealed for another company."""
    if token is None:
        return None
    try:
        sealed = json.loads(_fernet().decrypt(token.encode()))
    except (InvalidToken, ValueError) as error:
        raise SecretError("The stored secret cannot be read with the configured keys.") from error
    if sealed.get("company_id") != str(company_id):
        raise SecretError("The stored secret belongs to another company.")
    return sealed["value"]


def rotate_secret(token):
    """Re-encrypt with the newest key (for `flask rotate-keys`)."""
    return None if token is None else _fernet().rotate(token.encode()).decode()
