"""Coding runs, the review queue and the coded_cases view on a tiny warehouse."""

from __future__ import annotations

from dataclasses import replace

import coding_helpers as h
import pytest

from pipeline.coding.store import ReviewError, list_reviews, resolve_review, run_coding


def _coding(con, case_id):
    row = con.execute(
        "SELECT category_code, source, reason, needs_review, case_version, "
        "product_involved, model_version FROM case_coding WHERE case_id = ?",
        [case_id],
    ).fetchall()
    row = row[0] if row else None
    return (
        dict(
            zip(
                [
                    "category",
                    "source",
                    "reason",
                    "needs_review",
                    "version",
                    "involved",
                    "model_version",
                ],
                row,
                strict=True,
            )
        )
        if row
        else None
    )


def test_coding_run_keeps_checks_predicts_and_queues(con, shipped_model):
    h.store(
        con,
        [
            h.case("C1", h.RICE_ZH),  # valid hospital code
            h.case("C2", h.TRAMPOLINE_EN, category=None),  # blank -> predicted
            h.case("C3", h.KNIFE_ZH, category="ZZ99"),  # invalid -> predicted
            h.case("C4", h.RICE_EN, category="SP01"),  # hospital code the model rejects
            h.case("C5", h.DOG_BITE, category=None),  # no product involved
            h.case(
                "C6", h.RICE_ZH, category=None, product_name=None, narrative="PT INJURED"
            ),  # nothing to go on
            h.case("C7", h.TRAMPOLINE_ZH, status="void"),
        ],
    )
    summary = run_coding(con, shipped_model)
    assert summary.cases == 6
    assert _coding(con, "C1")["category"] == "HA01"
    assert _coding(con, "C1")["source"] == "hospital"
    assert _coding(con, "C1")["reason"] == "hospital_code"
    assert _coding(con, "C2")["category"] == "SP01"
    assert _coding(con, "C2")["source"] == "model"
    assert _coding(con, "C3")["category"] == "KW03"
    assert _coding(con, "C3")["reason"] == "model_invalid_code"
    c4 = _coding(con, "C4")
    assert (c4["category"], c4["source"], c4["reason"], c4["needs_review"]) == (
        "SP01",
        "hospital",
        "model_disagrees",
        True,
    )
    c5 = _coding(con, "C5")
    assert c5["category"] is None and c5["involved"] is False and not c5["needs_review"]
    assert _coding(con, "C6")["needs_review"] is True
    assert _coding(con, "C6")["reason"] == "low_confidence"
    assert _coding(con, "C7") is None  # void cases are not coded
    assert all(_coding(con, c)["model_version"] == shipped_model.version for c in ("C1", "C2"))

    queue = list_reviews(con)
    assert sorted(queue["case_id"]) == ["C4", "C6"]
    c4_item = queue[queue["case_id"] == "C4"].iloc[0]
    assert c4_item["hospital_category"] == "SP01" and c4_item["suggested_category"] == "HA01"
    # statistics see only final codings
    final = {r[0] for r in con.execute("SELECT case_id FROM coded_cases").fetchall()}
    assert final == {"C1", "C2", "C3", "C5"}
    # a second run has nothing to do
    assert run_coding(con, shipped_model).cases == 0


def test_low_confidence_threshold_comes_from_the_model(con, shipped_model):
    h.store(con, [h.case("C2", h.TRAMPOLINE_EN, category=None)])
    strict = replace(shipped_model, thresholds=replace(shipped_model.thresholds, review=1.01))
    if shipped_model.confidence is not None:  # format 3: the confidence model's threshold
        strict = replace(strict, confidence=replace(shipped_model.confidence, threshold=1.01))
    run_coding(con, strict)
    assert _coding(con, "C2")["reason"] == "low_confidence"
    assert con.execute("SELECT count(*) FROM coded_cases").fetchall()[0][0] == 0


def test_resolution_is_audited_and_survives_unrelated_corrections(con, shipped_model):
    h.store(
        con, [h.case("C6", h.RICE_ZH, category=None, product_name=None, narrative="PT INJURED")]
    )
    run_coding(con, shipped_model)
    with pytest.raises(ReviewError):
        resolve_review(con, "GZ001:C6", "ZZ99", by="coder-li")
    with pytest.raises(ReviewError):
        resolve_review(con, "GZ001:C6", "OT99", by=" ")
    result = resolve_review(con, "C6", "OT99", by="coder-li", note="phoned the hospital")
    assert result["was_open"] and result["category"] == "OT99"
    assert _coding(con, "C6")["source"] == "coder"
    assert con.execute("SELECT count(*) FROM coded_cases").fetchall()[0][0] == 1
    # A correction that changes age only: same product text -> the coder's decision stays.
    h.store(
        con,
        [
            {
                **h.case(
                    "C6",
                    h.RICE_ZH,
                    category=None,
                    product_name=None,
                    narrative="PT INJURED",
                    version=2,
                ),
                "age": 40.0,
            }
        ],
    )
    run_coding(con, shipped_model)
    assert _coding(con, "C6")["version"] == 2
    assert _coding(con, "C6")["category"] == "OT99"
    assert _coding(con, "C6")["source"] == "coder"
    # Changing one's mind adds a new, already resolved item; the old one is untouched.
    resolve_review(con, "GZ001:C6", "NONE", by="coder-wang")
    items = con.execute(
        "SELECT review_id, status, resolution, resolved_by FROM coding_review ORDER BY review_id"
    ).fetchall()
    assert [i[1:] for i in items] == [
        ("resolved", "OT99", "coder-li"),
        ("resolved", "NONE", "coder-wang"),
    ]
    assert _coding(con, "C6")["involved"] is False


def test_correction_recodes_and_supersedes_open_review(con, shipped_model):
    h.store(con, [h.case("C4", h.RICE_EN, category="SP01")])
    run_coding(con, shipped_model)
    assert _coding(con, "C4")["needs_review"] is True
    # the hospital corrects the code: new version, coded again, open item superseded
    h.store(con, [h.case("C4", h.RICE_EN, category="HA01", version=2)])
    summary = run_coding(con, shipped_model)
    assert summary.cases == 1 and summary.superseded_reviews == 1
    assert _coding(con, "C4")["version"] == 2
    assert _coding(con, "C4")["reason"] == "hospital_code"
    assert list_reviews(con).empty
    # a void takes the case out of statistics
    h.store(con, [h.case("C4", h.RICE_EN, category="HA01", version=3, status="void")])
    assert run_coding(con, shipped_model).removed == 1
    assert con.execute("SELECT count(*) FROM coded_cases").fetchall()[0][0] == 0


def test_recode_with_another_model_version_keeps_coder_decisions(con, shipped_model):
    h.store(con, [h.case("C1", h.RICE_ZH), h.case("C2", h.TRAMPOLINE_EN, category=None)])
    run_coding(con, shipped_model)
    resolve_review(con, "GZ001:C2", "SP02", by="coder-li")
    newer = replace(shipped_model, version="v-next")
    assert run_coding(con, newer).cases == 0  # nothing new
    summary = run_coding(con, newer, recode=True)
    assert summary.cases == 1  # C1 only: C2 is a coder decision
    assert _coding(con, "C1")["model_version"] == "v-next"
    assert _coding(con, "C2")["category"] == "SP02"


def test_unknown_product_name_goes_to_review_not_into_statistics(con, shipped_model):
    magnets = (  # 嘭嘭珠: a new (invented) name for magnet balls
        "TY04",
        "嘭嘭珠",
        "患儿在家中误吞嘭嘭珠数颗，腹痛，诊断消化道异物。",
        "other",
        "foreign_body",
        "trunk",
    )
    h.store(
        con,
        [
            h.case("M1", magnets, category=None),  # blank code, unknown name
            h.case("M2", magnets),  # the hospital coded it: kept
            h.case("M3", h.RICE_ZH, category=None),  # blank code, known name
            # a confident narrative under a name the model cannot read
            h.case("M4", h.RICE_EN, category=None, product_name="ZORBIX"),
        ],
    )
    run_coding(con, shipped_model)
    m1 = _coding(con, "M1")
    # the new term is in the narrative too: the confidence model already doubts it
    assert m1["source"] == "model" and m1["needs_review"]
    assert m1["reason"] in {"unknown_product_name", "low_confidence"}
    m4 = _coding(con, "M4")
    assert (m4["source"], m4["reason"], m4["needs_review"]) == (
        "model",
        "unknown_product_name",
        True,
    )
    assert _coding(con, "M2")["reason"] in {"hospital_code", "model_disagrees"}
    assert _coding(con, "M2")["category"] == "TY04"
    assert _coding(con, "M3")["reason"] == "model"
    queue = list_reviews(con)
    assert "M1" in set(queue["case_id"])
    final = {r[0] for r in con.execute("SELECT case_id FROM coded_cases").fetchall()}
    assert "M1" not in final and "M4" not in final and "M3" in final
    resolve_review(con, "GZ001:M1", "TY04", by="coder-li")
    assert _coding(con, "M1")["category"] == "TY04"
