"""Evidence service: build (from the published snapshot and the triage records) and verify
evidence packs.

The CLI, the ``evidence_pack`` DAG and the web app call :func:`build` (the week's top-ranked
signal when no signal or category is given), :func:`verify` and :func:`packs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.alerts import signal_store
from pipeline.config import Settings
from pipeline.errors import NotFound
from pipeline.evidence.pack import (
    check_request,
    load_bundle,
    manifest_digest,
    pack_id,
    verify_evidence_pack,
    write_pack,
)
from pipeline.services import triage
from pipeline.storage.session import reader


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
) -> BuiltPack:
    """Write (or find, when the same pack exists) a deterministic, versioned pack: a signal
    (default: the top-ranked signal of ``week``, or of the latest week with signals) with
    every case linked to it from its onset to the week, or a category over a date range."""
    top = None
    state = triage.state(settings, as_of=date(1970, 1, 1))  # follow-up status is not exported
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
    with its manifest hash and whether it verifies: what a recall officer's page lists."""
    folder = settings.evidence_dir
    if not folder.exists():
        return []
    prefix = f"evidence-{signal_id}-" if signal_id else "evidence-"
    out = []
    for path in sorted(folder.glob(f"{prefix}*.zip")):
        problems = verify_evidence_pack(path)
        out.append(
            {
                "pack_id": pack_id(path),
                "path": path,
                "size_bytes": path.stat().st_size,
                "manifest_sha256": None if problems else manifest_digest(path),
                "verified": not problems,
                "problems": problems,
            }
        )
    return out
