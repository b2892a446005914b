"""Alembic environment: the engine comes from ``pipeline.appdb.db.make_engine`` so SQLite gets
the same pragmas as at run time; SQLite alters tables in batch mode."""

from __future__ import annotations

from alembic import context

from pipeline.appdb.db import make_engine
from pipeline.appdb.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "migrations_config() sets the URL"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                transaction_per_migration=True,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():  # pragma: no cover - SQL scripts are not part of the workflow
    raise SystemExit("offline migrations are not supported; run `sentinel appdb upgrade`")
run_migrations_online()
