"""Notices service: documents drafted from a confirmed signal and their approval.

The signal and its cases come from the published snapshot, the triage state and the notices
from the application database. Functions the CLI and the web app call:

* ``draft(settings, actor, signal_id, kind, week=None, override_reason=None, texts=None,
  submit=False)`` -> DraftedNotice (a recall referral first builds, or finds, the signal's
  evidence pack and cites it; ``texts``: the analyst's edited Markdown, the web form);
* ``preview(settings, actor, signal_id, kind, ...)``: the Markdown a draft starts from;
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
from pipeline.errors import EXIT_CODES, BadInput, SentinelError
from pipeline.evidence.bundle import load_signal_bundle
from pipeline.notices import markdown, workflow
from pipeline.notices.render import KINDS, LANGS, check_request, render_documents
from pipeline.notices.workflow import NoticeView
from pipeline.privacy import scrub_text
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


MAX_EDITED = 60_000  # characters of one language's edited Markdown


def _signal_and_state(
    settings: Settings, actor: Actor, signal_id: str, kind: str, week, reason, db
):  # type: ignore[no-untyped-def]
    """The signal and the triage state, after the drafting rules were checked (nothing built
    for a refused draft)."""
    with reader(settings) as con:
        from pipeline.alerts import signal_store

        signal = signal_store.load_signal(con, signal_id, week)

    def check(session):  # type: ignore[no-untyped-def]
        workflow.check_draft(session, actor, signal, kind, reason)
        return triage_store.load_state(session, as_of=date(1970, 1, 1))

    return signal, _run(settings, check, db=db)


def preview(
    settings: Settings,
    actor: Actor,
    signal_id: str,
    kind: str,
    *,
    week: str | None = None,
    override_reason: str | None = None,
    db: AppDB | None = None,
) -> dict[str, str]:
    """The Markdown a draft of ``kind`` would start from, per language ({lang: text}), after
    the drafting rules were checked; nothing is stored (the web form's prefilled text). Not
    for recall referrals (they build an evidence pack first)."""
    check_request((kind,), LANGS)
    if kind == "recall-referral":
        raise BadInput(
            "a recall referral is drafted with `sentinel notice draft` (it builds an evidence "
            "pack first)",
            detail_zh="缺陷产品召回线索移送请用 `sentinel notice draft` 起草（须先生成证据包）",
        )
    signal, state = _signal_and_state(settings, actor, signal_id, kind, week, override_reason, db)
    with reader(settings) as con:
        bundle = load_signal_bundle(con, signal_id, signal["week"], state)
    return {lang: text for lang, fmt, text in render_documents(bundle, kind, LANGS) if fmt == "md"}


def _edited(documents: list[tuple[str, str, str]], texts: dict[str, str]) -> list:
    """The generated documents with the analyst's Markdown in place of a changed one (its HTML
    rendered from it, raw HTML never passed through)."""
    out = []
    generated = {lang: text for lang, fmt, text in documents if fmt == "md"}
    for lang, fmt, text in documents:
        edit = texts.get(lang)
        if edit is None or edit.replace("\r\n", "\n").strip() == generated[lang].strip():
            out.append((lang, fmt, text))
            continue
        # What the analyst typed is scrubbed of identifiers like any free text.
        edit = (scrub_text(edit.replace("\r\n", "\n").strip()) or "") + "\n"
        if fmt == "md":
            out.append((lang, fmt, edit))
        else:
            out.append((lang, fmt, markdown.document_html(edit, lang)))
    return out


def _check_texts(texts: dict[str, str]) -> None:
    for lang, text in texts.items():
        if lang not in LANGS:
            raise BadInput(f"unknown language {lang!r} (zh or en)")
        if not text.strip():
            raise BadInput(
                f"the {lang} text of the document is empty",
                detail_zh=f"文件的{'中文' if lang == 'zh' else '英文'}文本不能为空",
            )
        if len(text) > MAX_EDITED:
            raise BadInput(
                f"the {lang} text is longer than {MAX_EDITED} characters",
                detail_zh=f"{'中文' if lang == 'zh' else '英文'}文本超过 {MAX_EDITED} 个字符",
            )


def draft(
    settings: Settings,
    actor: Actor,
    signal_id: str,
    kind: str,
    *,
    week: str | None = None,
    override_reason: str | None = None,
    texts: dict[str, str] | None = None,
    submit: bool = False,
    db: AppDB | None = None,
) -> DraftedNotice:
    """Draft a new version of a document from a confirmed signal (rules:
    :mod:`pipeline.notices.workflow`) and write its files. ``texts``: the analyst's edited
    Markdown per language (the web form; a language left out, or unchanged, keeps the generated
    text); ``submit``: submit it for approval in the same transaction. ``db``: the web app's
    open application database, else one is opened for this call."""
    check_request((kind,), LANGS)
    if texts:
        _check_texts(texts)
    signal, state = _signal_and_state(settings, actor, signal_id, kind, week, override_reason, db)
    pack = None
    if kind == "recall-referral":
        built = evidence.build(settings, signal_id=signal_id, week=signal["week"])
        pack = {"pack_id": built.pack_id, "manifest_sha256": built.manifest_sha256}
    with reader(settings) as con:
        bundle = load_signal_bundle(con, signal_id, signal["week"], state)
    documents = render_documents(bundle, kind, LANGS, pack)
    if texts:
        documents = _edited(documents, texts)

    def store(session):  # type: ignore[no-untyped-def]
        view = workflow.draft(
            session, actor, signal, kind, documents, override_reason=override_reason, pack=pack
        )
        if submit:
            workflow.submit(session, actor, view.notice_id)
            view = workflow.get(session, view.notice_id)
        return view

    view = _run(settings, store, db=db)
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
    "preview",
    "queue",
    "return_notice",
    "submit",
    "waiting",
]
