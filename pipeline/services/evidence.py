"""Evidence service: build (from the published snapshot and the triage records) and verify
evidence packs.

The CLI, the ``evidence_pack`` DAG and the web app call :func:`build` (the week's top-ranked
signal when no signal or category is given), :func:`verify` and :func:`packs`.
"""

from __future__ import annotations

import logging
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from glob import escape as glob_escape
from pathlib import Path

from pipeline.alerts import signal_store
from pipeline.appdb import audit, workspace
from pipeline.appdb.audit import Actor
from pipeline.appdb.db import AppDB
from pipeline.config import Settings
from pipeline.errors import NotFound, SentinelError
from pipeline.evidence.pack import (
    check_request,
    load_bundle,
    manifest_digest,
    pack_id,
    verify_evidence_pack,
    write_pack,
)
from pipeline.reporting import explain
from pipeline.reporting.labels import Labels
from pipeline.services import triage
from pipeline.storage.session import Snapshots, open_reader, reader

log = logging.getLogger("sentinel.evidence")
STUCK_AFTER = timedelta(minutes=30)  # a request "building" this long lost its builder
PACK_NAME_RE = re.compile(r"^evidence-[A-Za-z0-9_.~\-]+\.zip$")


@dataclass(frozen=True)
class BuiltPack:
    path: Path
    pack_id: str  # the file name without .zip: evidence-<signal>-<week>-<digest12>
    manifest_sha256: str
    size_bytes: int
    top_signal: dict | None  # the signal picked when none was asked for


def build(
    settings: Settings,
    *,
    signal_id: str | None = None,
    week: str | None = None,
    category: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    out: Path | None = None,
    db: AppDB | None = None,
) -> BuiltPack:
    """Write (or find, when the same pack exists) a deterministic, versioned pack: a signal
    (default: the top-ranked signal of ``week``, or of the latest week with signals) with
    every case linked to it from its onset to the week, or a category over a date range."""
    top = None
    # follow-up status is not exported (as_of fixed); ``db``: the caller's open appdb, if any
    state = triage.state(settings, as_of=date(1970, 1, 1), db=db)
    with reader(settings) as con:
        if not (signal_id or category or date_from or date_to):
            top = signal_store.top_signal(con, week)
            if top is None:
                raise NotFound(
                    f"no ranked signals in {f'week {week}' if week else 'the warehouse'}: "
                    "give --signal or --category (or run `sentinel detect`)",
                    detail_zh=f"{f'{week} ' if week else '数据仓库中'}没有排序的信号："
                    "请指定 --signal 或 --category（或先运行 `sentinel detect`）",
                )
            signal_id, week = top["signal_id"], top["week"]
        check_request(signal_id, week, category, date_from, date_to)
        bundle = load_bundle(
            con,
            state,
            signal_id=signal_id,
            week=week,
            category=category,
            date_from=date_from,
            date_to=date_to,
        )
    path = write_pack(bundle, settings.evidence_dir, out)
    return BuiltPack(path, pack_id(path), manifest_digest(path), path.stat().st_size, top)


def resolve(settings: Settings, reference: str) -> Path:
    """A pack by path, or by pack id (``evidence-...-<digest>``) under the evidence folder."""
    path = Path(reference)
    if path.exists():
        return path
    candidate = settings.evidence_dir / (reference.removesuffix(".zip") + ".zip")
    if candidate.exists():
        return candidate
    raise NotFound(
        f"no evidence pack {reference} (neither a file nor a pack id under "
        f"{settings.evidence_dir})",
        detail_zh=f"找不到证据包 {reference}（既不是文件，也不是 {settings.evidence_dir} 下的证据包编号）",
    )


def verify(path: Path) -> list[str]:
    """Problems found in a pack (empty: every file matches its manifest and its name)."""
    if not path.exists():
        raise NotFound(f"no such file: {path}")
    return verify_evidence_pack(path)


def packs(settings: Settings, signal_id: str | None = None) -> list[dict]:
    """Every pack under the evidence folder (optionally of one signal), newest name last, each
    with its manifest hash, when it was written and whether it verifies: what the signal page,
    ``sentinel signals show`` and the recall officers' page list."""
    folder = settings.evidence_dir
    if not folder.is_dir():
        return []
    prefix = f"evidence-{glob_escape(signal_id)}-" if signal_id else "evidence-"
    out = []
    for path in sorted(folder.glob(f"{prefix}*.zip")):
        if not PACK_NAME_RE.match(path.name):
            continue
        stat = path.stat()
        problems = verify_evidence_pack(path)
        try:
            digest = None if problems else manifest_digest(path)
        except (OSError, KeyError, zipfile.BadZipFile):
            digest = None
        out.append(
            {
                "pack_id": pack_id(path),
                "name": path.name,
                "path": path,
                "size_bytes": stat.st_size,
                "modified": datetime.fromtimestamp(stat.st_mtime, UTC),
                "manifest_sha256": digest,
                "verified": not problems,
                "problems": problems,
            }
        )
    return out


# ---- the recall officers' page: confirmed signals, their packs, requests built in the
# background from the published snapshot (never the warehouse writer) ----------------------


def pack_path(settings: Settings, name: str) -> Path:
    """The pack file ``name`` inside the evidence folder (NotFound for anything else)."""
    folder = settings.evidence_dir.resolve()
    if not PACK_NAME_RE.match(name or ""):
        raise NotFound(f"no evidence pack {name[:80]!r}")
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        raise NotFound(f"no evidence pack {name[:80]!r}")
    return path


def confirmed_signals(
    settings: Settings,
    *,
    lang: str = "en",
    snapshots: Snapshots | None = None,
    db: AppDB | None = None,
) -> list[dict]:
    """Signals whose current decision (application database) is ``confirm``, each with its
    title, its latest stored week from the published snapshot and the weeks a pack can be
    built for (newest first)."""
    current = triage.state(settings, db=db).decisions
    if current.empty:
        return []
    confirmed = current[current["decision"] == "confirm"]
    out = []
    with open_reader(settings, snapshots) as con:
        labels = Labels(con)
        for row in confirmed.to_dict("records"):
            history = signal_store.history(con, row["signal_id"])
            if history.empty:  # decided on a signal the snapshot no longer holds
                continue
            latest = signal_store.load_signal(con, row["signal_id"])
            members = signal_store.members(con, row["signal_id"]).to_dict("records")
            out.append(
                {
                    **latest,
                    "title": explain.signal_title(latest, members, labels, lang),
                    "decision_week": row["week"],
                    "decided_by": row["actor"],
                    "decided_at": row["recorded_at"],
                    "reason": row["reason"],
                    "weeks": list(reversed(history["week"].tolist())),  # newest first
                }
            )
    return out


def request_pack(
    settings: Settings,
    db: AppDB,
    actor: Actor,
    signal_id: str,
    week: str,
    *,
    snapshots: Snapshots | None = None,
) -> tuple[workspace.EvidenceRequestView, bool]:
    """Record a request for the pack of (signal, week), which must exist in the published
    snapshot; an open request for the same pack is returned instead of a second one."""
    with open_reader(settings, snapshots) as con:
        signal_store.load_signal(con, signal_id, week)  # SignalNotFound (404) otherwise
    with db.transaction() as session:
        return workspace.request_pack(session, actor, signal_id, week)


def requests(db: AppDB) -> list[workspace.EvidenceRequestView]:
    with db.reading() as session:
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
            pack = build(settings, signal_id=claimed.signal_id, week=claimed.week, db=db)
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
    with db.transaction() as session:
        audit.append(
            session,
            actor,
            "evidence.download",
            "evidence_pack",
            path.name,
            {"manifest_sha256": manifest_digest(path), "size_bytes": path.stat().st_size},
        )
