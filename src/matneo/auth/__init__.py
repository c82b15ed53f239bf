"""Users, roles, passwords and the audit log."""
