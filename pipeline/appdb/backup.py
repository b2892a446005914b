"""Online backup of the embedded SQLite application database (PostgreSQL: ``pg_dump``).

SQLite's backup API copies a consistent snapshot while the web app keeps running (WAL included);
the copy is written next to the target and renamed into place, so a failed backup leaves no
half-written file.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from pipeline.appdb.errors import InvalidInput


def backup_sqlite(url: str, target: Path) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise InvalidInput(
            None,
            "this backup is for the SQLite application database; back up PostgreSQL with "
            "pg_dump (docs/web.md)",
            "此备份命令仅用于 SQLite 应用数据库；PostgreSQL 请使用 pg_dump 备份（见 docs/web.md）",
        )
    target = target.resolve()
    if target.exists():
        raise InvalidInput(
            "target",
            "{value} exists; choose a new file",
            "{value} 已存在；请另选文件名",
            value=target,
        )
    source_path = Path(parsed.database)
    if not source_path.exists():
        raise InvalidInput(
            None, "no database at {value}", "{value} 处没有数据库", value=source_path
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(source_path)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    os.replace(partial, target)
    return target
