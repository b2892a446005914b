"""Documents from confirmed alerts: refusal rules, contents, escaping, no identifiers."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from evidence_helpers import (
    HOSTILE_ALERT,
    add_hostile_alert,
    identifier_needles,
    output_blobs,
    scan,
)

from pipeline.escaping import md_escape
from pipeline.notices.render import KINDS, NoticeRefused
from pipeline.services.notices import render as write_notices
from pipeline.storage.session import writer
from pipeline.triage.store import record_decision, record_followup_result


@pytest.fixture(scope="module")
def network(small_network, tmp_path_factory):
    from network_fixture import copy_network

    settings = copy_network(small_network, tmp_path_factory.mktemp("notices") / "home")
    add_hostile_alert(settings)
    return settings


def _decide(settings, decision: str, **kwargs) -> dict:  # type: ignore[no-untyped-def]
    with writer(settings) as con:
        return record_decision(
            con, HOSTILE_ALERT, decision, "li.analyst", f"decided {decision}", **kwargs
        )


def test_documents_are_refused_unless_the_current_decision_is_confirm(network) -> None:
    with pytest.raises(NoticeRefused, match="not triaged"):
        write_notices(network, HOSTILE_ALERT)
    _decide(network, "watch")
    with pytest.raises(NoticeRefused, match="current decision is watch"):
        write_notices(network, HOSTILE_ALERT)
    _decide(network, "confirm")
    _decide(network, "dismiss")  # a later decision withdraws the confirmation
    with pytest.raises(NoticeRefused, match="current decision is dismiss"):
        write_notices(network, HOSTILE_ALERT)
    assert not (network.reports_dir / "notices" / HOSTILE_ALERT).exists()


def test_confirmed_alert_gives_every_document_escaped_and_de_identified(network) -> None:
    out = _decide(network, "follow-up", cases=["GZ001/HOSTILE2"])
    with writer(network) as con:
        record_followup_result(
            con,
            out["followup_ids"][0],
            reached=True,
            actor="wang",
            conclusion="<b>lid</b> latch =1+1 broke",
            product_role="caused",
            brand="厨乐宝",
            model="RC-9",
            batch="B2026",
        )
    _decide(network, "confirm")
    paths = write_notices(network, HOSTILE_ALERT)
    assert sorted(p.name for p in paths) == sorted(
        f"{k}.{lang}.{fmt}" for k in KINDS for lang in ("zh", "en") for fmt in ("html", "md")
    )

    texts = {p.name: p.read_text(encoding="utf-8") for p in paths}
    for name, text in texts.items():
        assert "<script" not in text and "<img" not in text and "<b>" not in text, name
        if name.endswith(".html"):
            tags = _Tags()
            tags.feed(text)
            assert not {"script", "img", "b"} & tags.names, name
            assert "&lt;b&gt;厨乐宝&lt;/b&gt;" in text or name.startswith("safety-warning"), name
        else:
            assert "&lt;b&gt;" in text, name

    referral = texts["recall-referral.en.md"]
    assert "3 cases: 3 admitted or transferred, 0 death(s)" in referral
    assert "34 years" in referral and "2026-11-18" in referral  # ages and dates of admissions
    assert "RC-9" in referral and "caused" in referral  # follow-up result
    assert "Evidence pack not built yet" in referral
    risk = texts["risk-notice.en.html"]
    assert "Suggested risk level" in risk and "Recommended measures" in risk
    assert "12315" in texts["safety-warning.zh.html"]

    needles = identifier_needles(network)
    assert scan(output_blobs(paths), needles) == []


def test_referral_cites_the_evidence_pack_and_its_manifest_hash(network) -> None:
    from pipeline.evidence.pack import manifest_digest
    from pipeline.services import evidence

    _decide(network, "confirm")
    pack = evidence.build(network, alert_id=HOSTILE_ALERT).path
    paths = write_notices(network, HOSTILE_ALERT, kinds=("recall-referral",), langs=("zh",))
    text = next(p for p in paths if p.suffix == ".html").read_text(encoding="utf-8")
    assert pack.name in text and manifest_digest(pack) in text


def test_cli_refuses_with_exit_2_and_lists_paths_when_confirmed(network) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    env = {"SENTINEL_HOME": str(network.home)}
    runner = CliRunner()
    _decide(network, "watch")
    refused = runner.invoke(app, ["notice", "render", "--alert", HOSTILE_ALERT], env=env)
    assert refused.exit_code == 2 and "not confirmed" in refused.stderr
    _decide(network, "confirm")
    done = runner.invoke(
        app,
        ["notice", "render", "--alert", HOSTILE_ALERT, "--kind", "safety-warning", "--lang", "en"],
        env=env,
    )
    assert done.exit_code == 0, done.output
    assert done.stdout.split() == [
        str(network.reports_dir / "notices" / HOSTILE_ALERT / f"safety-warning.en.{f}")
        for f in ("html", "md")
    ]
    bad = runner.invoke(
        app, ["notice", "render", "--alert", HOSTILE_ALERT, "--kind", "memo"], env=env
    )
    assert bad.exit_code == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        (
            "[click](http://x) *bold* `code` a|b",
            "\\[click\\](http://x) \\*bold\\* \\`code\\` a\\|b",
        ),
        ("# heading", "\\# heading"),
        ("- item", "\\- item"),
        ("1. first", "1\\. first"),
        ("line one\n# line two", "line one # line two"),
        ("2026-11-18 a-b", "2026-11-18 a-b"),
        (None, ""),
    ],
)
def test_markdown_escaping(text, expected) -> None:
    assert md_escape(text) == expected


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:  # type: ignore[no-untyped-def]
        self.names.add(tag)
