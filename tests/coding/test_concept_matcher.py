"""The combined concept matcher and the one-pass narrative analysis give exactly what the code
before them gave (kept verbatim in ``bench/patterns/legacy.py``: every lexicon entry searched
one at a time, each narrative analysed separately for features and for labels), on generated
text built from the lexicon's own entries, masks, boilerplate and noise around them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.clustering import analysis, features
from pipeline.clustering.features import (
    EN_STOP,
    ZH_STOP_BIGRAMS,
    ConceptMatcher,
    normalise_text,
    term_counts,
)
from pipeline.clustering.lexicon import CONCEPTS, MASK_ZH, Concept

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/ is not installed
from bench.patterns import legacy  # noqa: E402

EN_ENTRIES = sorted({w for c in CONCEPTS for w in c.en})
ZH_ENTRIES = sorted({w for c in CONCEPTS for w in c.zh})
# pieces a narrative is made of: lexicon entries, in any case and spacing; parts of entries
# (a prefix of a phrase, a word inside a longer word); masks and boilerplate; CJK, Latin,
# full-width and other letters, digits and punctuation as separators or glue
PIECES = st.one_of(
    st.sampled_from(EN_ENTRIES),
    st.sampled_from(EN_ENTRIES).map(str.lower),
    st.sampled_from(EN_ENTRIES).map(lambda w: w.split(" ")[0]),
    st.sampled_from(EN_ENTRIES).map(lambda w: w[: max(1, len(w) - 1)]),
    st.sampled_from(ZH_ENTRIES),
    st.sampled_from(ZH_ENTRIES).map(lambda w: w[:-1] or w),
    st.sampled_from(MASK_ZH),
    st.sampled_from(sorted(ZH_STOP_BIGRAMS)),
    st.sampled_from(sorted(EN_STOP)),
    st.sampled_from([" ", "  ", ",", "，", "。", "'", "-", "/", "\n", "1", "25", "%", "|"]),
    st.sampled_from(["Ｆ", "ＥＬＬ", "ﾃﾞ", "É", "ß", "ǅ", "ﬁ", "Ⅱ", "㎝", "①"]),
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4E80), max_size=3),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ'-", max_size=6),
    st.text(max_size=3),
)
NARRATIVES = st.lists(PIECES, max_size=30).map("".join)
PRODUCT_NAMES = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(["电饭煲", "RICE COOKER", "学步车", "lid", "FELL", "门", "盖子"]),
    NARRATIVES.map(lambda t: t[:8]),
)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(NARRATIVES)
def test_the_combined_matcher_finds_what_searching_each_entry_finds(raw):
    text = normalise_text(raw)
    assert features.concepts_of(text) == legacy.concepts_of(text)


@PROPERTY
@given(PRODUCT_NAMES, NARRATIVES)
def test_one_pass_analysis_equals_the_separate_analyses(product_name, narrative):
    concepts, idx, counts, zh, en = analysis.analyse_narrative(product_name, narrative)
    old = legacy.analyse(product_name, narrative)
    assert concepts == sorted(old.concepts)
    old_idx, old_counts = term_counts(old.terms)
    assert idx == old_idx.tolist() and counts == old_counts.astype(int).tolist()
    old_zh, old_en, old_concepts = legacy.doc_terms(product_name, narrative)
    assert [analysis.zh_term(v) for v in zh] == sorted(old_zh, key=analysis.zh_id)
    assert set(en) == old_en and len(en) == len(old_en)
    assert set(concepts) == old_concepts
    # the vector built from the stored parts is the vector built from the old analysis
    state_args = _layout_and_idf()
    structs = [{"cause": "fall"}]
    new_vec = features.vectorise_parts(
        [(np.array(concepts, dtype=np.int64), np.array(idx, dtype=np.int64), np.array(counts))],
        structs,
        *state_args,
    )
    np.testing.assert_array_equal(new_vec, legacy.vectorise([old], structs, *state_args))


def _layout_and_idf():
    layout = features.Layout.default()
    rng = np.random.default_rng(7)
    idf = features.Idf(
        concepts=rng.uniform(1, 4, len(CONCEPTS)).astype(np.float32),
        terms=rng.uniform(1, 9, features.TERM_DIM).astype(np.float32),
        n_docs=100,
    )
    return layout, idf


@given(
    st.text(
        alphabet=st.characters(min_codepoint=0x3400, max_codepoint=0x9FFF), min_size=2, max_size=4
    )
)
def test_chinese_terms_pack_into_integers_and_back(term):
    assert analysis.zh_term(analysis.zh_id(term)) == term
    assert 0 < analysis.zh_id(term) < 2**63


def test_entries_the_matcher_cannot_compile_are_refused():
    bad = Concept("x", "x", "x", (), ("FELL  OFF",))
    try:
        ConceptMatcher([bad], ())
    except ValueError as exc:
        assert "FELL  OFF" in str(exc)
    else:
        raise AssertionError("a phrase with two spaces was accepted")


def test_examples_that_need_more_than_a_set_lookup():
    """Phrases that share a first word, words inside words, masks, both languages."""
    cases = [
        "PT FELL OFF BED AND KNOCKED OVER A LAMP, HIT HEAD",
        "KNOCKED  OVER",  # two spaces: the phrase does not match, KNOCKED (struck) does
        "TIPPEDOVER CAUGHT FIRE",
        "STUCK IN NOSE; PUT IN EAR",
        "门诊处理后回家，右手红肿起水疱",
        "就诊断为骨折，楼道里摔倒",
        "PT 在楼梯 FELL-DOWN THE STAIRS",
        "",
    ]
    for raw in cases:
        text = normalise_text(raw)
        assert features.concepts_of(text) == legacy.concepts_of(text), raw
