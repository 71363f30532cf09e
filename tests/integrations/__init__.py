"""Integrations area: pages, secrets, connection check, tenants, CLI commands."""
