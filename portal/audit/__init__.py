"""The company's audit log (COMPANY_ADMIN): who changed what, from the database's own trail."""
