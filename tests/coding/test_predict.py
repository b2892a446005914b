"""`sentinel coding predict` (issue 20 item 6) and coder feedback as training data (item 4)."""

from __future__ import annotations

import csv
import json

import coding_helpers as h
import pytest
from typer.testing import CliRunner

from pipeline.cli import app as sentinel_app


def _app():
    return sentinel_app


def _write(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)


def test_predict_keeps_rows_and_columns_and_takes_the_pipeline_decision(tmp_path):
    src = tmp_path / "in.csv"
    _write(
        src,
        [
            ["id", "product_name", "narrative", "category_given"],
            ["a", "电饭煲", "患儿在家碰翻桌上的电饭煲被烫伤，右手背浅II度烫伤。", ""],
            ["b", "", "7YOM JUMPING ON TRAMPOLINE AND FELL OFF, FX L WRIST", ""],
            [
                "c",
                "RICE COOKER",
                "3YOF KNOCKED OVER RICE COOKER AT HOME, SCALD BURN R HAND",
                "SP01",
            ],
            ["d", "ZORBIX", "3YOF KNOCKED OVER RICE COOKER AT HOME, SCALD BURN R HAND", ""],
            ["e", "", "", ""],
        ],
    )
    out = tmp_path / "out" / "pred.csv"
    result = CliRunner().invoke(_app(), ["coding", "predict", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["rows"] == 5 and summary["auto"] + summary["review"] == 5
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["a", "b", "c", "d", "e"]
    assert list(rows[0]) == [
        "id",
        "product_name",
        "narrative",
        "category_given",
        "category",
        "confidence",
        "decision",
        "reason",
        "top3",
    ]
    assert rows[0]["category"] == "HA01" and rows[0]["decision"] == "auto"
    assert rows[1]["category"] == "SP01"
    # a valid given code is kept, but the model strongly disagrees: a coder looks
    assert rows[2]["category"] == "SP01" and rows[2]["decision"] == "review"
    assert rows[2]["reason"] == "model_disagrees"
    # a product name the model cannot read is never auto-coded
    assert rows[3]["decision"] == "review" and rows[3]["reason"] == "unknown_product_name"
    assert all(len(r["top3"].split()) == 3 for r in rows)
    assert all(0.0 <= float(r["confidence"]) <= 1.0 for r in rows)


def test_predict_errors_are_clear(tmp_path):
    out = tmp_path / "o.csv"
    missing = CliRunner().invoke(
        _app(), ["coding", "predict", str(tmp_path / "nope.csv"), "-o", str(out)]
    )
    assert missing.exit_code == 2 and "no such file" in missing.output
    nocol = tmp_path / "nocol.csv"
    _write(nocol, [["text"], ["x"]])
    res = CliRunner().invoke(_app(), ["coding", "predict", str(nocol), "-o", str(out)])
    assert res.exit_code == 2 and "no 'narrative' column" in res.output and "缺少" in res.output
    gbk = tmp_path / "gbk.csv"
    _write(gbk, [["narrative"], ["患儿被电饭煲烫伤"]], encoding="gb18030")
    res = CliRunner().invoke(_app(), ["coding", "predict", str(gbk), "-o", str(out)])
    assert res.exit_code == 2 and "not UTF-8" in res.output and "line 2" in res.output
    assert "Traceback" not in res.output and not out.exists()


def test_resolved_reviews_become_labelled_training_cases(con):
    from pipeline.coding.store import resolve_review
    from pipeline.coding.train import labelled_cases

    rows = [h.case(f"K{i}", h.RICE_ZH) for i in range(5)]
    rows += [h.case(f"U{i}", h.TRAMPOLINE_EN, category=None) for i in range(4)]
    h.store(con, rows)
    before = labelled_cases(con)
    assert set(before["case_id"]) == {f"K{i}" for i in range(5)}
    resolve_review(con, "GZ001:U0", "SP01", "coder-li")
    resolve_review(con, "GZ001:U1", "NONE", "coder-li")
    resolve_review(con, "GZ001:K0", "KW01", "coder-wang")  # a coder overrides a hospital code
    frame = labelled_cases(con).set_index("case_id")
    assert frame.loc["U0", ["label", "label_source"]].tolist() == ["SP01", "coder"]
    assert frame.loc["U1", ["label", "label_source"]].tolist() == ["NONE", "coder"]
    assert frame.loc["K0", ["label", "label_source"]].tolist() == ["KW01", "coder"]
    assert "U2" not in frame.index


@pytest.mark.slow
def test_training_reports_coder_labelled_and_external_sets_separately(con, tmp_path):
    import csv as _csv

    from pipeline.coding.model import FeatureConfig
    from pipeline.coding.store import resolve_review
    from pipeline.coding.train import train

    templates = [h.RICE_ZH, h.RICE_EN, h.TRAMPOLINE_EN, h.TRAMPOLINE_ZH, h.KNIFE_ZH]
    rows = [h.case(f"K{i:03d}", templates[i % 5]) for i in range(150)]
    rows += [h.case(f"U{i:03d}", h.TRAMPOLINE_EN, category=None) for i in range(60)]
    h.store(con, rows)
    for i in range(60):
        resolve_review(con, f"GZ001:U{i:03d}", "SP01", "coder-li")
    labelled = tmp_path / "cal.csv"
    with labelled.open("w", encoding="utf-8", newline="") as fh:
        w = _csv.writer(fh)
        w.writerow(["id", "lang", "style", "narrative", "product_name", "category_code"])
        for i in range(30):
            w.writerow([i, "en", "clerk", "8YOF FELL OFF TRAMPOLINE SPRAIN", "", "SP01"])
            w.writerow([i, "zh", "nurse", "切菜时菜刀割伤左手", "菜刀", "KW03"])
    config = FeatureConfig(char_max_features=2000, word_max_features=500, min_df=1)
    _coder, m = train(
        con,
        tmp_path / "models",
        name="toy",
        version="v2",
        config=config,
        calibration_path=labelled,
        evaluation_paths={"independent": labelled},
    )
    assert m["data"]["by_source"]["coder"] == 60
    # the held-out coder-labelled cases are measured on their own (hash buckets 90-99)
    assert m["coder_test"] is not None and 1 <= m["coder_test"]["cases"] < 60
    assert (
        "coder-labelled" in m["confidence"]["fitted_on"]
        and "cal.csv" in m["confidence"]["fitted_on"]
    )
    ext = m["external"]["independent"]
    assert ext["overall"]["cases"] == 60
    assert set(ext["by_language"]) == {"en", "zh"} and set(ext["by_style"]) == {"clerk", "nurse"}
    assert [r["review_share"] for r in ext["curve"]][:2] == [0.0, 0.05]
    assert m["lexicon"]["terms"] > 1000 and m["lexicon"]["augmented_cases"] > 0
