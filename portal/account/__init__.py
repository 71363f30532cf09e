"""The account area: forgotten password, invitations, profile, password and two-step sign-in."""
from . import notices  # noqa: F401  (connects the owner's failed-sign-in e-mail to the auth signal)
