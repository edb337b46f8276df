"""The store: SQLAlchemy 2 tables, engines and sessions, Alembic migrations (SQLite and PostgreSQL)."""
