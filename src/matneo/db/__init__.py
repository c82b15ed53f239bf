"""The app store: organisations, users and the load ledger (SQLAlchemy 2, Alembic)."""
