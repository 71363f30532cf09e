"""Operator pages (SUPER_ADMIN): every company, through the audited cross-tenant path."""
