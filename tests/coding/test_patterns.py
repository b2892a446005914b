"""Hazard-pattern clustering: the engine, stable ids, the warehouse refresh, labels."""

from __future__ import annotations

import json

import coding_helpers as h
import numpy as np
import pandas as pd
import pytest

from pipeline.clustering import features
from pipeline.clustering.engine import ClusterState, Params
from pipeline.clustering.lexicon import CONCEPT_BY_KEY, CONCEPTS
from pipeline.clustering.patterns import (
    PatternStateError,
    cluster_cases,
    list_patterns,
    new_state,
    refresh,
)
from pipeline.clustering.quality import stability
from pipeline.coding.store import resolve_review, run_coding


def _concepts(text: str) -> set[str]:
    return {CONCEPTS[i].key for i in features.concepts_of(features.normalise_text(text))}


def test_lexicon_bridges_chinese_and_english():
    zh = _concepts("用电饭煲煮饭时锅盖突然弹开，热蒸汽喷出")
    en = _concepts("RICE COOKER LID POPPED OPEN WHILE COOKING, HOT STEAM")
    assert {"lid", "pop_open", "steam"} <= zh & en
    assert "stairs" in _concepts("坐学步车从楼梯上翻滚下来") & _concepts("FELL DOWN STAIRS")
    # clinical boilerplate is masked: 门诊 is no door, 水疱 no water
    assert not {"door", "water"} & _concepts("门诊处理后回家，右手红肿起水疱")
    assert len({c.key for c in CONCEPTS}) == len(CONCEPTS) == len(CONCEPT_BY_KEY)


def test_case_vectors_are_unit_length_and_stateless():
    frame = pd.DataFrame(
        [
            {
                "product_name": "电饭煲",
                "narrative": "电饭煲锅盖突然弹开，蒸汽烫伤手",
                "cause": "burn_scald",
                "injury_nature": "burn",
                "body_region": "upper_limb",
                "product_relation": "uncertain",
            },
            {
                "product_name": "RICE COOKER",
                "narrative": "RICE COOKER LID POPPED OPEN, STEAM BURN",
                "cause": "burn_scald",
                "injury_nature": "burn",
                "body_region": "upper_limb",
                "product_relation": "quality_related",
            },
            {
                "product_name": "学步车",
                "narrative": "坐学步车从楼梯上翻滚下来",
                "cause": "fall",
                "injury_nature": "bruise",
                "body_region": "head",
                "product_relation": "uncertain",
            },
        ]
    )
    state = new_state(frame)
    items = [
        features.analyse(p, n) for p, n in zip(frame.product_name, frame.narrative, strict=True)
    ]
    structs = frame[list(features.STRUCT_FIELDS)].to_dict("records")
    v = features.vectorise(items, structs, state.layout, state.idf)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]  # same scenario across languages beats same language
    again = features.vectorise(items, structs, state.layout, state.idf)
    np.testing.assert_array_equal(v, again)


def _unit(dim, *hot):
    vec = np.zeros(dim, dtype=np.float32)
    for i in hot:
        vec[i] = 1.0
    return vec / np.linalg.norm(vec)


def test_engine_promotes_candidates_and_keeps_ids(tmp_path):
    layout = features.Layout.default()
    idf = features.Idf(
        concepts=np.ones(len(CONCEPTS), np.float32),
        terms=np.ones(features.TERM_DIM, np.float32),
        n_docs=1,
    )
    state = ClusterState(
        params=Params(threshold=0.6, min_cases=3, merge_threshold=None), idf=idf, layout=layout
    )
    a, b = _unit(layout.dim, 0, 1), _unit(layout.dim, 5, 6)
    out = []
    for i in range(2):
        out += state.assign("HA01", ("X", f"a{i}"), "2026-W01", a)
    assert out == []  # a candidate, not yet a pattern
    out = state.assign("HA01", ("X", "a2"), "2026-W01", a)
    assert [o.pattern_id for o in out] == ["HA01-P001"] * 3
    assert state.assign("HA01", ("X", "a3"), "2026-W02", a)[0].pattern_id == "HA01-P001"
    # a different scenario seeds a new candidate, then a new id
    for i in range(3):
        out = state.assign("HA01", ("X", f"b{i}"), "2026-W02", b)
    assert {o.pattern_id for o in out} == {"HA01-P002"}
    # other categories number their own patterns
    for i in range(3):
        out = state.assign("SP01", ("X", f"s{i}"), "2026-W02", a)
    assert {o.pattern_id for o in out} == {"SP01-P001"}
    # state survives a save/load round trip and continues identically
    state.save(tmp_path / "s1")
    loaded = ClusterState.load(tmp_path / "s1")
    assert loaded.assign("HA01", ("X", "a4"), "2026-W03", a)[0].pattern_id == "HA01-P001"
    assert state.assign("HA01", ("X", "a4"), "2026-W03", a)[0].pattern_id == "HA01-P001"
    # idle candidates expire
    state.assign("HA01", ("X", "lonely"), "2026-W03", _unit(layout.dim, 9))
    assert state.expire_candidates("2026-W30") == 1


def test_new_group_similar_to_a_pattern_joins_it():
    layout = features.Layout.default()
    idf = features.Idf(
        concepts=np.ones(len(CONCEPTS), np.float32),
        terms=np.ones(features.TERM_DIM, np.float32),
        n_docs=1,
    )
    state = ClusterState(
        params=Params(threshold=0.8, min_cases=2, merge_threshold=0.5), idf=idf, layout=layout
    )
    for i in range(2):
        state.assign("HA01", ("X", f"a{i}"), "2026-W01", _unit(layout.dim, 0, 1, 2))
    out = []
    for i in range(2):  # cosine 2/3 to the pattern: a case alone does not join, a group does
        out += state.assign("HA01", ("X", f"b{i}"), "2026-W02", _unit(layout.dim, 0, 1, 3))
    assert {o.pattern_id for o in out} == {"HA01-P001"}
    assert state.next_seq["HA01"] == 1


def _store_weeks(con, weeks, per_week=6):
    rows = []
    for w_i, week in enumerate(weeks):
        start = h.week_start(week)
        for i in range(per_week):
            template = [h.RICE_ZH, h.RICE_EN, h.TRAMPOLINE_EN][i % 3]
            rows.append(
                h.case(
                    f"{week}-{i}",
                    template,
                    visit=start + pd.Timedelta(hours=i),
                    hospital=["GZ001", "GZ002"][i % 2],
                )
            )
        del w_i
    h.store(con, rows)


def test_refresh_is_incremental_and_stable(con, settings, shipped_model):
    weeks = [f"2026-W{w:02d}" for w in range(10, 16)]
    _store_weeks(con, weeks)
    run_coding(con, shipped_model)
    first = refresh(con, settings, week="2026-W14")
    assert first["refresh_seq"] == 1 and first["new_patterns"] >= 2
    before = con.execute("SELECT hospital_code, case_id, pattern_id FROM case_patterns").df()
    second = refresh(con, settings, week="2026-W15")
    assert second["new_cases"] == 6 and second["new_patterns"] == 0
    after = con.execute("SELECT hospital_code, case_id, pattern_id FROM case_patterns").df()
    assert stability(before, after)["share_kept"] == 1.0
    assert len(after) == len(before) + 6
    # nothing new: a no-op refresh
    assert refresh(con, settings)["new_cases"] == 0
    patterns = list_patterns(con)
    assert set(patterns["category_code"]) == {"HA01", "SP01"}
    terms = json.loads(patterns.iloc[0]["top_terms"])
    assert set(terms) == {"concepts", "zh", "en"}
    ha01 = patterns[patterns["category_code"] == "HA01"].iloc[0]
    assert ha01["label_en"].startswith("Rice cooker") and ha01["label_zh"].startswith("电饭煲")
    assert ha01["dominant_cause"] == "burn_scald" and ha01["dominant_injury"] == "burn"
    assert (
        patterns["n_cases"].sum()
        == con.execute("SELECT count(*) FROM case_patterns").fetchall()[0][0]
    )
    assert patterns["first_week"].min() == "2026-W10"
    assert (patterns["created_week"] >= patterns["first_week"]).all()


def test_refresh_takes_out_recategorised_and_void_cases(con, settings, shipped_model):
    weeks = [f"2026-W{w:02d}" for w in range(10, 13)]
    _store_weeks(con, weeks)
    run_coding(con, shipped_model)
    refresh(con, settings)
    key = "2026-W10-0"  # a rice-cooker case
    # correction: the hospital recodes it as a kettle (HA06) -> out of its HA01 pattern
    h.store(
        con, [h.case(key, h.RICE_ZH, category="HA06", version=2, visit=h.week_start("2026-W10"))]
    )
    h.store(
        con,
        [
            h.case(
                "2026-W10-1",
                h.RICE_EN,
                version=2,
                status="void",
                hospital="GZ002",
                visit=h.week_start("2026-W10"),
            )
        ],
    )
    run_coding(con, shipped_model)
    # the model strongly disagrees (a rice-cooker narrative): pending review, out of patterns;
    # a coder confirms the hospital's code
    resolve_review(con, f"GZ001:{key}", "HA06", by="coder-li")
    result = refresh(con, settings)
    assert result["taken_out"] == 2
    rows = con.execute(
        "SELECT case_id, pattern_id FROM case_patterns WHERE case_id IN (?, ?)", [key, "2026-W10-1"]
    ).fetchall()
    assert all(not pid.startswith("HA01") for _cid, pid in rows)
    processed = con.execute(
        "SELECT category_code FROM pattern_processed WHERE case_id = ?", [key]
    ).fetchall()
    assert processed == [("HA06",)]


def test_missing_state_is_refused(con, settings, shipped_model):
    import shutil

    _store_weeks(con, ["2026-W10", "2026-W11"])
    run_coding(con, shipped_model)
    refresh(con, settings)
    shutil.rmtree(settings.home / "patterns")
    with pytest.raises(PatternStateError):
        refresh(con, settings)
    assert refresh(con, settings, rebuild=True)["rebuilt"] is True


def test_cluster_cases_is_order_independent():
    rows = []
    for i in range(12):
        cat, name, text, cause, nature, region = [h.RICE_ZH, h.RICE_EN, h.TRAMPOLINE_EN][i % 3]
        rows.append(
            {
                "hospital_code": "GZ001",
                "case_id": f"C{i:02d}",
                "category_code": cat,
                "visit_week": f"2026-W{10 + i // 6:02d}",
                "visit_datetime": f"2026-03-0{1 + i % 6} 09:00:00",
                "product_name": name,
                "narrative": text,
                "cause": cause,
                "injury_nature": nature,
                "body_region": region,
                "product_relation": "uncertain",
            }
        )
    frame = pd.DataFrame(rows)
    a = cluster_cases(new_state(frame), frame)
    shuffled = frame.sample(frac=1.0, random_state=3)
    b = cluster_cases(new_state(shuffled), shuffled)
    assert [(x.case_id, x.pattern_id) for x in a] == [(x.case_id, x.pattern_id) for x in b]


def _member_sums(con, state):
    """Sum of the vectors of every pattern's current members (clustered versions)."""
    from pipeline.clustering.patterns import _vectors

    frame = con.execute("""
        SELECT p.pattern_id, v.product_name, v.narrative, v.cause, v.injury_nature,
               v.body_region, v.product_relation
        FROM case_patterns p JOIN pattern_processed pp USING (hospital_code, case_id)
        JOIN case_versions v ON v.hospital_code = pp.hospital_code AND v.case_id = pp.case_id
             AND v.version = pp.case_version
        ORDER BY p.pattern_id, p.hospital_code, p.case_id""").df()
    vectors = _vectors(frame, state)
    return {
        pid: vectors[idx].sum(axis=0) for pid, idx in frame.groupby("pattern_id").indices.items()
    }


def test_void_and_recoded_cases_leave_pattern_centroids(con, settings, shipped_model):
    from pipeline.clustering.engine import ClusterState
    from pipeline.clustering.patterns import state_root

    weeks = [f"2026-W{w:02d}" for w in range(10, 13)]
    _store_weeks(con, weeks)
    run_coding(con, shipped_model)
    refresh(con, settings)
    state = ClusterState.load(state_root(settings) / "000001")
    sums = _member_sums(con, state)
    for pid, total in sums.items():  # to begin with, a centroid is the sum of its members
        np.testing.assert_allclose(
            state.categories[pid[:4]].sums[state.categories[pid[:4]].pattern_id.index(pid)],
            total,
            atol=1e-4,
        )
    void_key, moved_key = "2026-W11-1", "2026-W12-0"  # a rice-cooker case each
    pattern_of = dict(con.execute("SELECT case_id, pattern_id FROM case_patterns").fetchall())
    pid = pattern_of[void_key]
    cc = state.categories["HA01"]
    count_before = int(cc.count[cc.pattern_id.index(pid)])
    h.store(
        con,
        [
            h.case(
                void_key,
                h.RICE_EN,
                version=2,
                status="void",
                hospital="GZ002",
                visit=h.week_start("2026-W11") + pd.Timedelta(hours=1),
            )
        ],
    )
    h.store(
        con,
        [h.case(moved_key, h.RICE_ZH, category="HA06", version=2, visit=h.week_start("2026-W12"))],
    )
    run_coding(con, shipped_model)
    resolve_review(con, f"GZ001:{moved_key}", "HA06", by="coder-li")
    result = refresh(con, settings)
    assert result["taken_out"] == 2
    after = ClusterState.load(state_root(settings) / f"{result['refresh_seq']:06d}")
    cc = after.categories["HA01"]
    i = cc.pattern_id.index(pid)
    assert int(cc.count[i]) == count_before - (2 if pattern_of[moved_key] == pid else 1)
    sums = _member_sums(con, after)
    assert void_key not in dict(
        con.execute("SELECT case_id, pattern_id FROM case_patterns").fetchall()
    )
    for p, total in sums.items():  # the void and the moved case no longer count anywhere
        k = after.categories[p[:4]]
        j = k.pattern_id.index(p)
        np.testing.assert_allclose(k.sums[j], total, atol=1e-4)
        assert int(k.count[j]) == int(
            con.execute("SELECT count(*) FROM case_patterns WHERE pattern_id = ?", [p]).fetchall()[
                0
            ][0]
        )
        assert abs(k.norm2[j] - float(total.astype(np.float64) @ total)) < 1e-3


def test_review_pending_cases_are_provisional_members_never_counted(con, settings, shipped_model):
    from pipeline.clustering.provisional import pattern_members

    _store_weeks(con, [f"2026-W{w:02d}" for w in range(10, 13)])
    run_coding(con, shipped_model)
    refresh(con, settings)
    # a rice-cooker narrative the hospital coded as a kettle: the model disagrees, a coder
    # must decide; its top suggestion is the rice cooker (HA01)
    visit = h.week_start("2026-W12") + pd.Timedelta(hours=20)
    h.store(con, [h.case("PENDING", h.RICE_ZH, category="HA06", visit=visit)])
    run_coding(con, shipped_model)
    coding = con.execute(
        "SELECT needs_review, model_category FROM case_coding WHERE case_id = 'PENDING'"
    ).fetchall()
    assert coding == [(True, "HA01")]
    result = refresh(con, settings)
    assert result["provisional_members"] == 1 and result["new_cases"] == 0
    row = con.execute(
        "SELECT pattern_id, suggested_category, reason FROM provisional_patterns"
    ).fetchall()
    assert (
        len(row) == 1
        and row[0][0].startswith("HA01-P")
        and row[0][1:]
        == (
            "HA01",
            "model_disagrees",
        )
    )
    pattern = row[0][0]
    # flagged in the members' view, absent from final members and from every count
    members = pattern_members(con, pattern)
    assert members.loc[members["case_id"] == "PENDING", "provisional"].tolist() == [True]
    assert "PENDING" not in set(pattern_members(con, pattern, provisional=False)["case_id"])
    assert (
        con.execute("SELECT count(*) FROM case_patterns WHERE case_id = 'PENDING'").fetchall()[0][0]
        == 0
    )
    n_cases = con.execute(
        "SELECT n_cases FROM hazard_patterns WHERE pattern_id = ?", [pattern]
    ).fetchall()[0][0]
    assert n_cases == len(pattern_members(con, pattern, provisional=False))
    # the coder resolves it: a final member from the next refresh on, no longer provisional
    resolve_review(con, "GZ001:PENDING", "HA01", by="coder-li")
    run_coding(con, shipped_model)
    after = refresh(con, settings)
    assert after["provisional_members"] == 0
    final = pattern_members(con, pattern, provisional=False)
    assert "PENDING" in set(final["case_id"])
