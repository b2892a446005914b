"""Evidence service: build (from the published snapshot) and verify evidence packs.

The CLI and the ``evidence_pack`` DAG both call :func:`build` (the week's top alert when no
alert or category is given) and :func:`verify`.
"""

from __future__ import annotations

import logging
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from glob import escape as glob_escape
from pathlib import Path

import pandas as pd

from pipeline.appdb import workspace
from pipeline.appdb.audit import Actor
from pipeline.appdb.db import AppDB
from pipeline.config import Settings
from pipeline.errors import NotFound, SentinelError
from pipeline.evidence.pack import (
    check_request,
    default_pack_path,
    load_bundle,
    manifest_digest,
    top_alert,
    verify_evidence_pack,
    write_pack,
)
from pipeline.storage.session import Snapshots, open_reader, reader
from pipeline.triage.store import current_decisions

log = logging.getLogger("sentinel.evidence")
STUCK_AFTER = timedelta(minutes=30)  # a request "building" this long lost its builder


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


# ---- the recall officers' page: confirmed alerts, their packs, requests built in the
# background from the published snapshot (never the warehouse writer) ----------------------

PACK_NAME_RE = re.compile(r"^evidence-[A-Za-z0-9_.~\-]+\.zip$")


@dataclass(frozen=True)
class PackFile:
    name: str
    size_bytes: int
    modified: datetime
    manifest_sha256: str | None
    problems: tuple[str, ...]  # empty: every file matches the manifest

    @property
    def verified(self) -> bool:
        return not self.problems


def _pack_file(path: Path) -> PackFile:
    stat = path.stat()
    problems = tuple(verify_evidence_pack(path))
    try:
        digest = manifest_digest(path) if not problems else None
    except (OSError, KeyError, zipfile.BadZipFile):
        digest = None
    return PackFile(
        path.name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC), digest, problems
    )


def packs_of(settings: Settings, alert_id: str) -> list[PackFile]:
    """Every pack on disk for an alert (one per week it was built for), checked against its
    manifest, newest first."""
    folder = settings.evidence_dir
    if not folder.is_dir():
        return []
    found = [
        p
        for p in folder.glob(f"evidence-{glob_escape(alert_id)}-*.zip")
        if PACK_NAME_RE.match(p.name)
    ]
    return [_pack_file(p) for p in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)]


def pack_path(settings: Settings, name: str) -> Path:
    """The pack file ``name`` inside the evidence folder (NotFound for anything else)."""
    folder = settings.evidence_dir.resolve()
    if not PACK_NAME_RE.match(name or ""):
        raise NotFound(f"no evidence pack {name[:80]!r}")
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        raise NotFound(f"no evidence pack {name[:80]!r}")
    return path


def confirmed_alerts(settings: Settings, *, snapshots: Snapshots | None = None) -> list[dict]:
    """Alerts whose current triage decision is ``confirm`` (latest week each), with the
    decision, for the recall officers."""
    with open_reader(settings, snapshots) as con:
        decisions = current_decisions(con)
        confirmed = decisions[decisions["decision"] == "confirm"]
        out = []
        for row in confirmed.to_dict("records"):
            alerts = con.execute(
                "SELECT week, alert_type, subject, category, status, observed, n_hospitals, "
                "n_severe, n_died, rank FROM alerts WHERE alert_id = ? ORDER BY week DESC",
                [row["alert_id"]],
            ).df()
            if alerts.empty:
                continue
            latest = alerts.iloc[0].to_dict()
            out.append(
                {
                    "alert_id": row["alert_id"],
                    "decision_week": row["week"],
                    "decided_by": row["actor"],
                    "decided_at": row["recorded_at"],
                    "reason": row["reason"],
                    "weeks": list(alerts["week"]),
                    **{k: (None if pd.isna(v) else v) for k, v in latest.items()},
                }
            )
    return out


def request_pack(
    settings: Settings,
    db: AppDB,
    actor: Actor,
    alert_id: str,
    week: str,
    *,
    snapshots: Snapshots | None = None,
) -> tuple[workspace.EvidenceRequestView, bool]:
    """Record a request for the pack of (alert, week), which must exist in the published
    snapshot; an open request for the same pack is returned instead of a second one."""
    with open_reader(settings, snapshots) as con:
        found = con.execute(
            "SELECT 1 FROM alerts WHERE alert_id = ? AND week = ?", [alert_id, week]
        ).fetchall()
    if not found:
        raise NotFound(
            f"alert {alert_id} not found in week {week}",
            detail_zh=f"第 {week} 周没有信号 {alert_id}",
        )
    with db.transaction() as session:
        return workspace.request_pack(session, actor, alert_id, week)


def requests(db: AppDB) -> list[workspace.EvidenceRequestView]:
    with db.transaction() as session:
        return workspace.evidence_requests(session)


def build_requested(settings: Settings, db: AppDB, max_packs: int = 10) -> list[int]:
    """Build pending requests (oldest first, at most ``max_packs``) from the published
    snapshot; each is marked built (with its file and manifest hash) or failed (with the
    reason). Never opens the warehouse for writing. Returns the ids handled."""
    handled: list[int] = []
    with db.transaction() as session:  # a builder that died left them "building"
        workspace.requeue_stuck(session, datetime.now(UTC).replace(tzinfo=None) - STUCK_AFTER)
    for _ in range(max_packs):
        with db.transaction() as session:
            claimed = workspace.claim_request(session)
        if claimed is None:
            break
        try:
            pack = build(settings, alert_id=claimed.alert_id, week=claimed.week)
        except SentinelError as exc:
            result = {"error": exc.user_message("en")}
        except Exception as exc:  # recorded for the requester; the builder goes on
            log.exception("evidence request %s failed", claimed.id)
            result = {"error": f"internal error ({type(exc).__name__})"}
        else:
            result = {
                "pack_name": pack.path.name,
                "manifest_sha256": pack.manifest_sha256,
                "size_bytes": pack.size_bytes,
            }
        with db.transaction() as session:
            workspace.finish_request(session, claimed.id, **result)
        handled.append(claimed.id)
    return handled


def record_download(db: AppDB, actor: Actor, path: Path) -> None:
    """Who took which pack, with the manifest hash they received (audited)."""
    from pipeline.appdb import audit

    with db.transaction() as session:
        audit.append(
            session,
            actor,
            "evidence.download",
            "evidence_pack",
            path.name,
            {"manifest_sha256": manifest_digest(path), "size_bytes": path.stat().st_size},
        )
