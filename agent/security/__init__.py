"""Security building blocks: users and roles, TLS material, credentials and the audit log."""
