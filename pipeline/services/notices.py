"""Notices service: risk notice, consumer safety warning and recall referral of a confirmed
alert, from the published snapshot."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Settings
from pipeline.notices.render import (
    KINDS,
    LANGS,
    check_request,
    confirmed_bundle,
    pack_info,
    write_documents,
)
from pipeline.storage.session import reader


def render(
    settings: Settings,
    alert_id: str,
    kinds: tuple[str, ...] = KINDS,
    langs: tuple[str, ...] = LANGS,
    week: str | None = None,
) -> list[Path]:
    """Write the documents under reports/notices/<alert>/; NoticeRefused unless confirmed."""
    check_request(kinds, langs)
    with reader(settings) as con:
        bundle = confirmed_bundle(con, alert_id, week)
    out_dir = settings.reports_dir / "notices" / alert_id
    return write_documents(bundle, out_dir, kinds, langs, pack_info(settings.evidence_dir, bundle))
