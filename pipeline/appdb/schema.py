"""Alembic migrations of the application database, run from Python (no alembic.ini).

``upgrade(url)`` brings a database to the newest revision (creating it if empty);
``status(url)`` says where it is. New tables or columns: a new file in ``migrations/versions``
(``sentinel appdb revision`` is not provided on purpose: write the migration by hand, or run
``alembic revision --autogenerate`` with ``migrations_config(url)``; see docs/web.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from pipeline.appdb.db import make_engine
from pipeline.appdb.errors import SchemaNotCurrent

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def migrations_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(migrations_config("sqlite://")).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None  # None: an empty database
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def status(url: str) -> SchemaStatus:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    return SchemaStatus(current=current, head=head_revision())


def upgrade(url: str, revision: str = "head") -> SchemaStatus:
    """Apply every pending migration (one transaction each); idempotent."""
    command.upgrade(migrations_config(url), revision)
    return status(url)


def require_current(url: str) -> None:
    """Refuse to serve from a database older (or newer) than this code."""
    state = status(url)
    if not state.up_to_date:
        raise SchemaNotCurrent(current=state.current or "(empty)", head=state.head)
