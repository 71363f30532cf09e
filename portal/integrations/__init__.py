"""The company's delivery-platform connections: credentials, webhook address and secret, health (COMPANY_ADMIN)."""
