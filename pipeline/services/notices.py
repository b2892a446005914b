"""Notices service: documents drafted from a confirmed signal and their approval.

The signal and its cases come from the published snapshot, the triage state and the notices
from the application database. Functions the CLI and the web app call:

* ``draft(settings, actor, signal_id, kind, week=None, override_reason=None)`` -> DraftedNotice
  (a recall referral first builds, or finds, the signal's evidence pack and cites it);
* ``submit(settings, actor, notice_id)``, ``approve(settings, actor, notice_id, comment=None)``,
  ``return_notice(settings, actor, notice_id, comment)`` -> NoticeView;
* ``queue(settings)``: submitted notices waiting for a supervisor; ``waiting(settings)``: the
  same with each one's documents and history (the web approval queue);
* ``list_notices(settings, signal_id=None, status=None)``, ``get(settings, notice_id)`` (the
  notice, its documents by (lang, fmt), its history).

Each version's documents are also written, once, to
``$SENTINEL_HOME/reports/notices/<signal>/<kind>-v<version>.<lang>.<html|md>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.appdb.audit import Actor
from pipeline.appdb.db import AppDB
from pipeline.config import Settings
from pipeline.errors import EXIT_CODES, SentinelError
from pipeline.evidence.bundle import load_signal_bundle
from pipeline.notices import workflow
from pipeline.notices.render import KINDS, LANGS, check_request, render_documents
from pipeline.notices.workflow import NoticeView
from pipeline.services import accounts, evidence
from pipeline.storage.session import reader
from pipeline.triage import store as triage_store


class DocumentExists(SentinelError, FileExistsError):
    kind = "exists"
    exit_code = EXIT_CODES["exists"]


@dataclass(frozen=True)
class DraftedNotice:
    notice: NoticeView
    paths: list[Path]


def _write_once(path: Path, text: str) -> None:
    """Frozen documents are never overwritten (the same text again is fine)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    try:
        with path.open("xb") as handle:
            handle.write(data)
    except FileExistsError:
        if path.read_bytes() != data:
            raise DocumentExists(
                f"{path} exists with other content; notice documents are never overwritten"
            ) from None


def document_paths(settings: Settings, view: NoticeView) -> dict[tuple[str, str], Path]:
    base = settings.reports_dir / "notices" / view.signal_id
    return {
        (lang, fmt): base / f"{view.kind}-v{view.version}.{lang}.{fmt}"
        for lang in LANGS
        for fmt in ("html", "md")
    }


def draft(
    settings: Settings,
    actor: Actor,
    signal_id: str,
    kind: str,
    *,
    week: str | None = None,
    override_reason: str | None = None,
) -> DraftedNotice:
    """Draft a new version of a document from a confirmed signal (rules:
    :mod:`pipeline.notices.workflow`) and write its files."""
    check_request((kind,), LANGS)
    db = accounts.open_appdb(settings)
    try:
        with reader(settings) as con:
            from pipeline.alerts import signal_store

            signal = signal_store.load_signal(con, signal_id, week)
        with db.transaction() as session:  # refuse early, before building anything
            workflow.check_draft(session, actor, signal, kind, override_reason)
            state = triage_store.load_state(session, as_of=date(1970, 1, 1))
        pack = None
        if kind == "recall-referral":
            built = evidence.build(settings, signal_id=signal_id, week=signal["week"])
            pack = {"pack_id": built.pack_id, "manifest_sha256": built.manifest_sha256}
        with reader(settings) as con:
            bundle = load_signal_bundle(con, signal_id, signal["week"], state)
        documents = render_documents(bundle, kind, LANGS, pack)
        with db.transaction() as session:
            view = workflow.draft(
                session,
                actor,
                signal,
                kind,
                documents,
                override_reason=override_reason,
                pack=pack,
            )
    finally:
        db.dispose()
    paths = document_paths(settings, view)
    for lang, fmt, text in documents:
        _write_once(paths[(lang, fmt)], text)
    return DraftedNotice(view, [paths[(lang, fmt)] for lang, fmt, _ in documents])


def _run(settings: Settings, step, *args, db: AppDB | None = None):  # type: ignore[no-untyped-def]
    """``step(session, *args)`` in one transaction, on ``db`` (the web app's open application
    database) or on one opened (and upgraded) for this call."""
    if db is not None:
        with db.transaction() as session:
            return step(session, *args)
    db = accounts.open_appdb(settings)
    try:
        with db.transaction() as session:
            return step(session, *args)
    finally:
        db.dispose()


def submit(
    settings: Settings, actor: Actor, notice_id: str, *, db: AppDB | None = None
) -> NoticeView:
    return _run(settings, workflow.submit, actor, notice_id, db=db)


def approve(
    settings: Settings,
    actor: Actor,
    notice_id: str,
    comment: str | None = None,
    *,
    db: AppDB | None = None,
) -> NoticeView:
    return _run(settings, workflow.approve, actor, notice_id, comment, db=db)


def return_notice(
    settings: Settings, actor: Actor, notice_id: str, comment: str, *, db: AppDB | None = None
) -> NoticeView:
    return _run(settings, workflow.return_, actor, notice_id, comment, db=db)


def queue(settings: Settings, *, db: AppDB | None = None) -> list[NoticeView]:
    """What a supervisor has to decide: submitted notices, newest first."""
    return _run(settings, workflow.list_notices, None, "submitted", db=db)


def list_notices(
    settings: Settings,
    signal_id: str | None = None,
    status: str | None = None,
    *,
    db: AppDB | None = None,
) -> list[NoticeView]:
    return _run(settings, workflow.list_notices, signal_id, status, db=db)


def get(settings: Settings, notice_id: str, *, db: AppDB | None = None) -> dict:
    """A notice, its documents ({(lang, fmt): text}) and its history (draft, submit, ...)."""
    return _run(settings, _read, notice_id, db=db)


def _read(session, notice_id: str) -> dict:  # type: ignore[no-untyped-def]
    return {
        "notice": workflow.get(session, notice_id),
        "documents": {(d.lang, d.fmt): d.body for d in workflow.documents_of(session, notice_id)},
        "history": workflow.history(session, notice_id),
    }


def waiting(settings: Settings, *, db: AppDB | None = None) -> list[dict]:
    """The supervisors' approval queue: every submitted notice (newest first) with its
    documents and history, as :func:`get` gives them."""

    def read(session):  # type: ignore[no-untyped-def]
        return [
            _read(session, view.notice_id)
            for view in workflow.list_notices(session, None, "submitted")
        ]

    return _run(settings, read, db=db)


__all__ = [
    "KINDS",
    "LANGS",
    "DraftedNotice",
    "approve",
    "document_paths",
    "draft",
    "get",
    "list_notices",
    "queue",
    "return_notice",
    "submit",
    "waiting",
]
