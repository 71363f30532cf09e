"""The company's users: COMPANY_ADMIN creates them, changes roles, deactivates."""
