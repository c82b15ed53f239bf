"""Reference data: the organisation hierarchy, code lists and ambition targets."""
