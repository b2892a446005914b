"""Documents drafted from confirmed signals and their approval: refusal rules, the consumer
warning's conditions and wording, contents, escaping, no identifiers, frozen approvals."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd
import pytest
from evidence_helpers import (
    HOSTILE_SIGNAL,
    add_hostile_signal,
    identifier_needles,
    output_blobs,
    scan,
)
from triage_people import add_people_to_home

from pipeline.appdb.errors import NotPermitted
from pipeline.escaping import md_escape
from pipeline.evidence.bundle import Bundle
from pipeline.evidence.pack import manifest_digest, verify_evidence_pack
from pipeline.notices.render import NoticeRefused, recall_referral, risk_notice, safety_warning
from pipeline.notices.workflow import NoticeStateError
from pipeline.services import notices, triage


@pytest.fixture(scope="module")
def network(small_network, tmp_path_factory):
    from network_fixture import copy_network

    settings = copy_network(small_network, tmp_path_factory.mktemp("notices") / "home")
    add_hostile_signal(settings)
    return settings


@pytest.fixture(scope="module")
def people(network) -> dict:
    return add_people_to_home(network)


def _decide(network, people, decision: str) -> None:  # type: ignore[no-untyped-def]
    triage.decide(network, people["li.analyst"], HOSTILE_SIGNAL, decision, f"decided {decision}")


def test_documents_are_refused_unless_the_current_decision_is_confirm(network, people) -> None:
    li = people["li.analyst"]
    with pytest.raises(NoticeRefused, match="not triaged"):
        notices.draft(network, li, HOSTILE_SIGNAL, "risk-notice")
    _decide(network, people, "watch")
    with pytest.raises(NoticeRefused, match="current decision is watch"):
        notices.draft(network, li, HOSTILE_SIGNAL, "risk-notice")
    _decide(network, people, "confirm")
    _decide(network, people, "dismiss")  # a later decision withdraws the confirmation
    with pytest.raises(NoticeRefused, match="current decision is dismiss"):
        notices.draft(network, li, HOSTILE_SIGNAL, "risk-notice")
    with pytest.raises(NotPermitted):  # a coder may not draft
        notices.draft(network, people["chen.coder"], HOSTILE_SIGNAL, "risk-notice")
    assert not (network.reports_dir / "notices" / HOSTILE_SIGNAL).exists()
    assert notices.list_notices(network, HOSTILE_SIGNAL) == []


def test_a_warning_needs_finished_follow_up_or_an_override_and_speaks_to_consumers(
    network, people
) -> None:
    """Issue 15: the consumer safety warning named a brand while 0 of 2 follow-ups were done
    and pasted the machine pattern label as text for consumers."""
    li, wang = people["li.analyst"], people["wang.supervisor"]
    _decide(network, people, "confirm")
    ordered = triage.order_followups(
        network, li, HOSTILE_SIGNAL, ["GZ001/HOSTILE1", "GZ001/HOSTILE2"], "which cooker?"
    )
    with pytest.raises(NoticeRefused, match=r"0 of 2 follow-ups have a result"):
        notices.draft(network, li, HOSTILE_SIGNAL, "safety-warning")
    early = notices.draft(
        network,
        li,
        HOSTILE_SIGNAL,
        "safety-warning",
        override_reason="two children hurt this week; warn before the calls are done",
    )
    assert early.notice.override_reason.startswith("two children hurt")
    texts = {p.name: p.read_text(encoding="utf-8") for p in early.paths}
    for name, text in texts.items():
        # No brand before an investigation verified one (the cases name <b>厨乐宝</b>).
        assert "厨乐宝" not in text, name
    assert "no brand or model has been verified" in texts["safety-warning-v1.en.md"]
    for result in ordered:
        triage.record_result(
            network,
            wang,
            result.followup_id,
            reached=True,
            conclusion="lid latch broke",
            product_role="caused",
            brand="厨乐宝",
            model="RC-9",
        )
    done = notices.draft(network, li, HOSTILE_SIGNAL, "safety-warning")
    assert done.notice.version == 2 and done.notice.override_reason is None
    texts = {p.name: p.read_text(encoding="utf-8") for p in done.paths}
    en, zh = texts["safety-warning-v2.en.md"], texts["safety-warning-v2.zh.md"]
    assert "厨乐宝" in en and "RC-9" in en and "verified by follow-up" in en
    assert "What you should do" in en and "12315" in en and "您应该怎么做" in zh
    assert "burn" in en.lower() and "烧烫伤" in zh  # the hazard in words from the coded cases
    # Never a machine label: no hazard-pattern label, pattern id or detector term.
    labels = _pattern_labels(network)
    for text in texts.values():
        assert not any(label in text for label in labels)
        assert "pattern" not in text.lower() and "伤害模式" not in text
    assert "(s)" not in en


def _pattern_labels(network) -> list[str]:  # type: ignore[no-untyped-def]
    from pipeline.storage.warehouse import connect

    con = connect(network.warehouse_path, read_only=True)
    try:
        return [
            label
            for row in con.execute("SELECT label_en, label_zh FROM hazard_patterns").fetchall()
            for label in row
        ]
    finally:
        con.close()


def test_every_document_of_a_confirmed_signal_is_escaped_and_de_identified(network, people) -> None:
    li = people["li.analyst"]
    if _current(network) != "confirm":
        _decide(network, people, "confirm")
    paths = []
    for kind in ("risk-notice", "recall-referral"):
        paths += notices.draft(network, li, HOSTILE_SIGNAL, kind).paths
    texts = {p.name: p.read_text(encoding="utf-8") for p in paths}
    for name, text in texts.items():
        assert "<script" not in text and "<img" not in text and "<b>" not in text, name
        if name.endswith(".html"):
            tags = _Tags()
            tags.feed(text)
            assert not {"script", "img", "b"} & tags.names, name
            assert "&lt;b&gt;厨乐宝&lt;/b&gt;" in text, name
        else:
            assert "&lt;b&gt;" in text, name
    referral = next(
        t for n, t in texts.items() if n.startswith("recall-referral") and ".en.md" in n
    )
    assert "2026-W47 (2026-11-16) to 2026-W47 (2026-11-22): 3 cases, 3 admitted or " in referral
    assert "0 deaths" in referral and "death(s)" not in referral
    assert "34 years" in referral and "34.0" not in referral and "2026-11-18" in referral
    risk = next(t for n, t in texts.items() if n.startswith("risk-notice") and ".en.html" in n)
    assert "Suggested risk level" in risk and "Recommended measures" in risk
    needles = identifier_needles(network)
    assert scan(output_blobs(paths), needles) == []


def _current(network) -> str | None:  # type: ignore[no-untyped-def]
    decision = triage.state(network).decision(HOSTILE_SIGNAL)
    return decision["decision"] if decision else None


def test_a_referral_cites_its_pack_by_id_and_hash_and_the_pack_verifies_later(
    network, people
) -> None:
    li = people["li.analyst"]
    if _current(network) != "confirm":
        _decide(network, people, "confirm")
    drafted = notices.draft(network, li, HOSTILE_SIGNAL, "recall-referral")
    view = drafted.notice
    assert view.pack_id and view.pack_id.startswith(f"evidence-{HOSTILE_SIGNAL}-2026-W47-")
    pack = network.evidence_dir / f"{view.pack_id}.zip"
    assert manifest_digest(pack) == view.pack_sha256
    text = next(p for p in drafted.paths if p.suffix == ".html").read_text(encoding="utf-8")
    assert view.pack_id in text and view.pack_sha256 in text
    # New triage after the referral: a new pack version; the cited one is untouched.
    triage.order_followups(network, li, HOSTILE_SIGNAL, ["GZ001/HOSTILE3"], "third case")
    later = notices.draft(network, li, HOSTILE_SIGNAL, "recall-referral").notice
    assert later.pack_id != view.pack_id
    assert verify_evidence_pack(pack) == [] and manifest_digest(pack) == view.pack_sha256


def test_approval_is_by_another_supervisor_and_freezes_the_text(network, people) -> None:
    li, wang, zhao = people["li.analyst"], people["wang.supervisor"], people["zhao.supervisor"]
    if _current(network) != "confirm":
        _decide(network, people, "confirm")
    drafted = notices.draft(network, wang, HOSTILE_SIGNAL, "risk-notice").notice
    with pytest.raises(NoticeStateError, match="only a submitted notice"):
        notices.approve(network, zhao, drafted.notice_id)
    submitted = notices.submit(network, li, drafted.notice_id)
    assert submitted.status == "submitted"
    assert drafted.notice_id in [v.notice_id for v in notices.queue(network)]
    with pytest.raises(NotPermitted):  # the drafter does not approve their own text
        notices.approve(network, wang, drafted.notice_id)
    with pytest.raises(NotPermitted):  # an analyst does not approve
        notices.approve(network, li, drafted.notice_id)
    approved = notices.approve(network, zhao, drafted.notice_id, "ok to send")
    assert (approved.status, approved.decided_by) == ("approved", "zhao.supervisor")
    assert drafted.notice_id not in [v.notice_id for v in notices.queue(network)]
    with pytest.raises(NoticeStateError):
        notices.submit(network, li, drafted.notice_id)
    info = notices.get(network, drafted.notice_id)
    assert [s["action"] for s in info["history"]] == ["draft", "submit", "approve"]
    assert set(info["documents"]) == {(lang, f) for lang in ("zh", "en") for f in ("html", "md")}
    paths = notices.document_paths(network, approved)
    for (lang, fmt), body in info["documents"].items():
        assert paths[(lang, fmt)].read_text(encoding="utf-8") == body

    # Returned with a comment (required); then a new version is drafted.
    second = notices.draft(network, li, HOSTILE_SIGNAL, "risk-notice").notice
    notices.submit(network, li, second.notice_id)
    with pytest.raises(ValueError, match="comment is required"):
        notices.return_notice(network, wang, second.notice_id, " ")
    returned = notices.return_notice(network, wang, second.notice_id, "name the batches")
    assert (returned.status, returned.last_comment) == ("returned", "name the batches")
    with pytest.raises(NoticeStateError):
        notices.submit(network, li, second.notice_id)

    # A signal dismissed after submission is not approved.
    third = notices.draft(network, li, HOSTILE_SIGNAL, "risk-notice").notice
    notices.submit(network, li, third.notice_id)
    _decide(network, people, "dismiss")
    with pytest.raises(NoticeRefused, match="no longer confirmed"):
        notices.approve(network, zhao, third.notice_id)
    _decide(network, people, "confirm")

    from pipeline.services import accounts

    db = accounts.open_appdb(network)
    try:
        report = accounts.verify_audit(db)
    finally:
        db.dispose()
    assert report.ok, report.problems


def _bundle(cases: list[dict]) -> Bundle:
    frame = pd.DataFrame(cases)
    for column in ("brand", "model", "batch", "barcode", "product_name", "cause"):
        frame[column] = frame.get(column)
    return Bundle(
        kind="signal",
        request={"signal_id": "S1", "week": "2026-W47"},
        cases=frame,
        trend=pd.DataFrame(),
        followups=pd.DataFrame(columns=["result_id", "product_role", "reached"]),
        triage=pd.DataFrame(columns=["decision", "actor", "recorded_at"]),
        signal={
            "signal_id": "S1",
            "week": "2026-W47",
            "category": "HA01",
            "onset_week": "2026-W47",
        },
        members=pd.DataFrame(columns=["week", "alert_type", "term", "method"]),
        window={
            "from_week": "2026-W47",
            "to_week": "2026-W47",
            "from_date": "2026-11-16",
            "to_date": "2026-11-22",
        },
        category={"category_code": "HA01", "name_en": "Rice cooker", "name_zh": "电饭煲"},
        provenance={"data_as_of": "2026-11-23", "submissions": []},
    )


def test_ages_are_integers_with_units_and_counts_have_their_plurals() -> None:
    """Issue 15: ages printed as `37.0`, and "1 children", "1 death(s)"."""
    base = {
        "hospital_code": "GZ001",
        "visit_date": "2026-11-18",
        "visit_week": "2026-W47",
        "sex": "female",
        "severity": "severe",
        "injury_nature": "burn",
        "body_region": "face",
        "product_relation": "quality_related",
    }
    bundle = _bundle(
        [
            {**base, "case_id": "C1", "age": 37.0, "age_unit": "years", "outcome": "died"},
            {**base, "case_id": "C2", "age": 1.0, "age_unit": "years", "outcome": "admitted"},
            {**base, "case_id": "C3", "age": 8.0, "age_unit": "months", "outcome": "admitted"},
        ]
    )
    from pipeline.notices.render import render

    en = {k: render(f(bundle, "en"), "md") for k, f in _builders().items()}
    zh = {k: render(f(bundle, "zh"), "md") for k, f in _builders().items()}
    referral = en["recall-referral"]
    assert "37 years" in referral and "1 year" in referral and "8 months" in referral
    assert "37.0" not in referral and "1 years" not in referral
    assert "1 death" in referral and "1 deaths" not in referral and "death(s)" not in referral
    assert "2 children under 14" in en["risk-notice"]
    assert "37岁" in zh["recall-referral"] and "8个月" in zh["recall-referral"]
    one_child = _bundle(
        [{**base, "case_id": "C9", "age": 6.0, "age_unit": "years", "outcome": "died"}]
    )
    text = render(safety_warning(one_child, "en"), "md")
    assert "1 person injured" in text and "1 of them a child" in text and "1 person died" in text
    assert "1 children" not in render(risk_notice(one_child, "en"), "md")
    assert "1 child under 14" in render(risk_notice(one_child, "en"), "md")


def _builders() -> dict:
    return {
        "risk-notice": risk_notice,
        "safety-warning": safety_warning,
        "recall-referral": lambda b, lang: recall_referral(b, lang, None),
    }


def test_cli_drafts_submits_and_approves_as_users_with_exit_codes(network, people) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    if _current(network) != "confirm":
        _decide(network, people, "confirm")
    runner = CliRunner()

    def run(*args: str, user: str | None = "li.analyst"):  # type: ignore[no-untyped-def]
        env = {"SENTINEL_HOME": str(network.home), "SENTINEL_USER": user or ""}
        return runner.invoke(app, list(args), env=env)

    drafted = run("notice", "draft", "--signal", HOSTILE_SIGNAL, "--kind", "risk-notice")
    assert drafted.exit_code == 0, drafted.output
    notice_id = drafted.stdout.split()[1].rstrip(":")
    assert all(line.endswith((".html", ".md")) for line in drafted.stdout.splitlines()[1:])
    assert run("notice", "submit", notice_id).exit_code == 0
    queued = run("notice", "queue")
    assert notice_id in queued.stdout
    assert run("notice", "approve", notice_id).exit_code == 10  # an analyst
    assert run("notice", "approve", notice_id, user=None).exit_code == 10  # nobody
    approved = run("notice", "approve", notice_id, user="wang.supervisor")
    assert approved.exit_code == 0 and "approved by wang.supervisor" in approved.stdout
    shown = run("notice", "show", notice_id, "--lang", "en")
    assert shown.exit_code == 0 and "Product injury risk notice" in shown.stdout
    bad = run("notice", "draft", "--signal", HOSTILE_SIGNAL, "--kind", "memo")
    assert bad.exit_code == 2
    unknown = run("notice", "submit", "N404")
    assert unknown.exit_code == 4
    assert run("notice", "render", "--signal", HOSTILE_SIGNAL).exit_code == 2  # gone


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
