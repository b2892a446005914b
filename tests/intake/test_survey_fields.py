"""Survey design fields (issue 15 item 8): NEISS Weight / Stratum / PSU are kept through intake;
cases without a design keep the content hashes they had before these fields existed."""

from __future__ import annotations

import intake_helpers as h

from pipeline.contract import FIELD_BY_NAME, SURVEY_FIELDS
from pipeline.intake.prepare import prepare_extract
from pipeline.intake.reader import read_extract
from pipeline.storage.ledger import CONTENT_FIELDS, content_hash


def test_neiss_reader_keeps_the_survey_design(tmp_path) -> None:
    rows = [
        h.neiss_row("260115001"),  # Stratum V, PSU 61, Weight 15.7762
        h.neiss_row("260115002", Stratum="C", PSU="8", Weight="4.851"),
        h.neiss_row("260115003", Stratum="", PSU="", Weight=""),
    ]
    path = h.write(tmp_path / "neiss.txt", h.neiss_bytes(rows))
    raw = read_extract(path)
    prepared = prepare_extract(
        raw, sender=h.OTHER_HOSPITAL, received_at=h.RECEIVED, key=h.KEY.encode()
    )
    frame = prepared.frame
    assert frame[list(SURVEY_FIELDS)].iloc[0].tolist() == ["15.7762", "V", "61"]
    assert frame[list(SURVEY_FIELDS)].iloc[1].tolist() == ["4.851", "C", "8"]
    assert frame[list(SURVEY_FIELDS)].iloc[2].isna().all()
    for name in SURVEY_FIELDS:
        assert not FIELD_BY_NAME[name].required


def test_cases_without_a_design_keep_their_content_hash() -> None:
    """The hash of a case stored before schema 4 (value pinned from main at 094fad9): a resend
    of an old file stays a duplicate, not a key_exists conflict."""
    row = {f: None for f in CONTENT_FIELDS}
    row.update(
        visit_datetime="2026-01-15 10:00:00",
        sex="male",
        age="4",
        age_unit="years",
        narrative="fell off bed",
        cause="fall",
        product_category="FU01",
    )
    pinned = "ad923039a2ad1cfd77e642b0e3b442ff074ed5bd9b89fc500643495f690b63b6"
    assert content_hash(row) == pinned
    assert content_hash({**row, **{f: None for f in SURVEY_FIELDS}}) == pinned
    weighted = content_hash({**row, "survey_weight": "15.7762", "survey_stratum": "V"})
    assert weighted != pinned
    assert content_hash({**row, "survey_weight": "4.851", "survey_stratum": "V"}) != weighted


def test_hospital_extracts_never_carry_a_design() -> None:
    from sentinel_tools.sample.styles import STYLES

    for style in STYLES:
        assert not set(style.columns()) & set(SURVEY_FIELDS), style.key
