"""Analysed narratives kept between pattern refreshes (``pipeline.clustering.analysis``): a
refresh analyses only contents it has not seen, and what it decides is exactly what a refresh
that analyses everything again decides."""

from __future__ import annotations

import shutil

import coding_helpers as h
import numpy as np
import pandas as pd
import pyarrow.feather as feather

from pipeline.clustering import analysis
from pipeline.clustering.analysis import DocStore
from pipeline.clustering.patterns import analysis_root, refresh
from pipeline.coding.store import run_coding
from pipeline.storage.warehouse import connect, table_checksums

RUN_TIMES = {"hazard_patterns": ("updated_at",), "pattern_refreshes": ("processed_at",)}
TEMPLATES = [h.RICE_ZH, h.RICE_EN, h.TRAMPOLINE_EN, h.TRAMPOLINE_ZH]
EXTRA_ZH = ["锅盖突然弹开", "蒸汽喷出", "从楼梯滚落", "", "夜间在家中"]
EXTRA_EN = [" LID POPPED OPEN", " STEAM", " ON STAIRS", "", " AT NIGHT"]


def _store_weeks(con, weeks, per_week=8):
    rows = []
    for w_i, week in enumerate(weeks):
        start = h.week_start(week)
        for i in range(per_week):
            template = TEMPLATES[i % len(TEMPLATES)]
            extra = (EXTRA_EN if template[2].isascii() else EXTRA_ZH)[(i + w_i) % 5]
            rows.append(
                h.case(
                    f"{week}-{i}",
                    template,
                    visit=start + pd.Timedelta(hours=i),
                    hospital=["GZ001", "GZ002"][i % 2],
                    narrative=template[2] + extra + (f" {w_i}" if i % 3 else ""),
                )
            )
    h.store(con, rows)


def _pattern_sums(con) -> dict[str, str]:
    return {k: v for k, v in table_checksums(con, exclude=RUN_TIMES).items() if "pattern" in k}


def _distinct_contents(con, where: str) -> int:
    return con.execute(
        f"SELECT count(DISTINCT (coalesce(product_name, ''), coalesce(narrative, ''))) "
        f"FROM cases WHERE {where}"
    ).fetchone()[0]


def test_a_refresh_analyses_only_new_contents_and_decides_the_same(
    con, settings, shipped_model, tmp_path
):
    weeks = [f"2026-W{w:02d}" for w in range(10, 15)]
    _store_weeks(con, weeks)
    run_coding(con, shipped_model)
    first = refresh(con, settings, week="2026-W13")
    assert first["narratives_kept"] == 0
    assert 0 < first["narratives_analysed"] <= _distinct_contents(con, "true")
    stored = DocStore.open(analysis_root(settings))
    assert len(stored) == first["narratives_analysed"]

    # the same warehouse and state, without the kept analyses: the reference
    con.execute("CHECKPOINT")
    other = settings.with_overrides(home=tmp_path / "other")
    shutil.copytree(settings.home, other.home, ignore=shutil.ignore_patterns("*.lock"))
    shutil.rmtree(analysis_root(other))

    second = refresh(con, settings, week="2026-W14")
    assert second["new_cases"] > 0
    assert second["narratives_kept"] == len(stored)
    # only W14's contents can be new (the week's cases and, through relabelling, nothing else)
    assert 0 < second["narratives_analysed"] <= _distinct_contents(con, "visit_week = '2026-W14'")

    ref_con = connect(other.warehouse_path)
    try:
        reference = refresh(ref_con, other, week="2026-W14")
        assert reference["narratives_kept"] == 0
        assert reference["narratives_analysed"] > second["narratives_analysed"]
        assert _pattern_sums(ref_con) == _pattern_sums(con)
    finally:
        ref_con.close()

    nothing = refresh(con, settings)
    assert nothing["new_cases"] == 0 and nothing["narratives_analysed"] == 0


def test_the_store_survives_leftovers_and_duplicates_and_forgets_other_code(tmp_path):
    root = tmp_path / "analysis"
    store = DocStore.open(root)
    rows = store.rows(["电饭煲", "RICE COOKER", None], ["锅盖弹开烫伤", "LID POPPED OPEN", None])
    assert store.analysed == 3 and len(set(rows.tolist())) == 3
    assert store.save() == 3
    # a refresh that failed after writing its part leaves it behind; a killed one a temporary
    part = next(store.folder.glob("part-*.arrow"))
    shutil.copy(part, store.folder / "part-0-duplicate.arrow")
    (store.folder / ".part-0-killed.tmp").write_bytes(b"half a file")
    # a damaged part (disk trouble) is dropped: only its work is lost
    (store.folder / "part-9-damaged.arrow").write_bytes(b"not an arrow file")
    again = DocStore.open(root)
    assert len(again) == 3 and again.analysed == 0
    assert not (store.folder / "part-9-damaged.arrow").exists()
    same = again.rows(["电饭煲", "RICE COOKER", None], ["锅盖弹开烫伤", "LID POPPED OPEN", None])
    assert again.analysed == 0
    for name in ("concepts", "term_idx", "term_cnt", "zh"):
        for r_old, r_new in zip(rows, same, strict=True):
            np.testing.assert_array_equal(
                getattr(store, name).row(r_old), getattr(again, name).row(r_new)
            )
    assert [store.en[r] for r in rows] == [again.en[r] for r in same]
    again.rows(["蹦床"], ["跳跃时摔下"])
    assert again.save() == 1
    assert not list(again.folder.glob(".part-*"))

    # code that analyses differently: a new store, and the old one goes at the next save
    old_folder = again.folder
    new_code = DocStore(root / "0123456789abcdef")
    new_code.rows(["蹦床"], ["跳跃时摔下"])
    new_code.save()
    assert not old_folder.exists() and new_code.folder.exists()
    assert old_folder.name == analysis.FINGERPRINT


def test_many_parts_are_merged(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis, "MAX_PARTS", 2)
    root = tmp_path / "analysis"
    for i in range(4):
        store = DocStore.open(root)
        store.rows(["菜刀"], [f"切菜时被菜刀割伤{'一二三四'[i]}"])
        store.save()
    final = DocStore.open(root)
    assert len(final) == 4
    parts = list(final.folder.glob("part-*.arrow"))
    assert len(parts) <= 2
    assert sum(feather.read_table(p).num_rows for p in parts) == 4  # each content once
