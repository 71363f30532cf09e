"""The account area: forgotten password, invitations, profile, password and two-step sign-in."""
