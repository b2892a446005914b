"""The application database: users, sign-in sessions, login attempts and the audit log.

SQLAlchemy 2 models (``models``) with Alembic migrations shipped in ``migrations/`` and run
programmatically (``schema.upgrade``). The default is a SQLite file under ``SENTINEL_HOME``;
``SENTINEL_APP_DB`` points at PostgreSQL. This package sits at the storage level: it may import
``pipeline.config`` and ``pipeline.reference``, never the services, CLI or web layers above it.
Analytical data (cases, signals) stays in the DuckDB warehouse; this database holds what people
do (who may sign in, what they decided, the tamper-evident record of it).
"""
