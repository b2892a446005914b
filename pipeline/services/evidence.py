"""Evidence service: build (from the published snapshot) and verify evidence packs.

The CLI and the ``evidence_pack`` DAG both call :func:`build` (the week's top alert when no
alert or category is given) and :func:`verify`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import NotFound
from pipeline.evidence.pack import (
    check_request,
    default_pack_path,
    load_bundle,
    manifest_digest,
    top_alert,
    verify_evidence_pack,
    write_pack,
)
from pipeline.storage.session import reader


@dataclass(frozen=True)
class BuiltPack:
    path: Path
    manifest_sha256: str
    size_bytes: int
    top_alert: dict | None  # the alert picked when none was asked for


def build(
    settings: Settings,
    *,
    alert_id: str | None = None,
    week: str | None = None,
    category: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    out: Path | None = None,
) -> BuiltPack:
    """Write a deterministic pack: an alert (default: the top-ranked alert of ``week``, or of
    the latest week with alerts), or a category over a visit-date range."""
    top = None
    with reader(settings) as con:
        if not (alert_id or category or date_from or date_to):
            top = top_alert(con, week)
            if top is None:
                raise NotFound(
                    f"no ranked alerts in {f'week {week}' if week else 'the warehouse'}: "
                    "give --alert or --category (or run `sentinel detect`)"
                )
            alert_id, week = top["alert_id"], top["week"]
        check_request(alert_id, week, category, date_from, date_to)
        bundle = load_bundle(
            con,
            alert_id=alert_id,
            week=week,
            category=category,
            date_from=date_from,
            date_to=date_to,
        )
    path = write_pack(
        bundle, Path(out) if out else default_pack_path(settings.evidence_dir, bundle)
    )
    return BuiltPack(path, manifest_digest(path), path.stat().st_size, top)


def verify(path: Path) -> list[str]:
    """Problems found in a pack (empty: every file matches its manifest)."""
    if not path.exists():
        raise NotFound(f"no such file: {path}")
    return verify_evidence_pack(path)
