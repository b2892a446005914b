"""Text normalisation and the product lexicon (issue 20, items 1-2)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import reference
from pipeline.coding.lexicon import LexiconMatcher, lexicon_table
from pipeline.coding.normalise import TRAD_TO_SIMP, normalise, normalise_model_text, stem


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("FIREWORKS", "firework"),
        ("FIREWORK", "firework"),
        ("BATTERIES", "battery"),
        ("KNIVES", "knife"),
        ("JUMPING ON TRAMPOLINES", "jump on trampoline"),
        ("PT S/P FALL W/ LAC", "patient status post fall with laceration"),
        ("DX: FX R WRIST", "diagnosis: fracture right wrist"),
        ("3YOM", "year old male"),
        ("78 y/o f", "year old female"),
        ("14 MOF", "month old female"),
        ("C/O PAIN", "complain of pain"),
        ("ＲＩＣＥ　ＣＯＯＫＥＲ", "rice cooker"),
        ("患兒在家碰翻電飯鍋被燙傷", "患儿在家碰翻电饭锅被烫伤"),
        ("误吞3颗，约2小时前", "误吞0颗,约0小时前"),
        (None, ""),
        ("", ""),
    ],
)
def test_normalise_examples(raw, expected):
    assert normalise(raw) == expected


def test_stem_keeps_exceptions():
    for word in ("glass", "bus", "scissors", "stairs", "ceiling", "swing", "bed", "clothes"):
        assert stem(word) == word
    assert stem("lighting") == stem("lit") == "light"


def test_model_text_sides_normalised_separately():
    assert normalise_model_text("fireworks | 3yom lit fireworks") == (
        "firework | year old male light firework"
    )


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_normalise_output_is_clean(text):
    out = normalise(text)
    assert out == out.strip() and "  " not in out
    assert not re.search(r"[1-9]", out)  # numbers masked
    assert not re.search(r"[A-Z\uff01-\uff5e]", out)  # lower case, no full-width ASCII
    assert out.translate(TRAD_TO_SIMP) == out  # no traditional character of the table left


def test_lexicon_covers_every_active_category_in_both_languages_with_sources():
    table = lexicon_table()
    taxonomy = reference.load_taxonomy()
    active = set(taxonomy.loc[taxonomy["valid_to"].isna(), "category_code"])
    hand = table[table["source"].str.startswith("hand-written")]
    for lang in ("zh", "en"):
        assert active <= set(hand.loc[hand["lang"] == lang, "category_code"]), lang
    assert (table["source"].str.len() > 0).all()
    assert {"hand-written", "NEISS", "taxonomy"} <= set(table["source"].str.split(" ").str[0])
    assert set(table["category_code"]) <= active | {"NONE"}
    # the coding manual's index reaches categories through the crosswalk
    manual = table[table["source"].str.startswith("NEISS coding manual")]
    assert ("FL09", "smoke bombs") in set(zip(manual["category_code"], manual["term"], strict=True))


def test_matcher_prefers_the_longest_term():
    table = pd.DataFrame(
        {
            "category_code": ["VE03", "VE07", "HA07", "HA10", "FL09"],
            "lang": ["zh", "zh", "en", "en", "en"],
            "term": ["电动自行车", "自行车", "hair dryer", "dryer", "bottle rocket"],
            "source": "test",
        }
    )
    cats = ["FL09", "HA07", "HA10", "VE03", "VE07"]
    m = LexiconMatcher.build(cats, table)
    found = lambda s: {cats[c] for c in m.categories_in(normalise(s))}  # noqa: E731
    assert found("患者骑電動自行車摔倒") == {"VE03"}
    assert found("骑自行车摔倒") == {"VE07"}
    assert found("burned by HAIR DRYERS") == {"HA07"}
    assert found("clothes dryer") == {"HA10"}
    assert found("14YOM LIT BOTTLE ROCKETS") == {"FL09"}
    x = m.features([normalise_model_text("hair dryer | 骑电动自行车")])
    assert x.shape == (1, 5) and x.toarray().tolist() == [[0, 1, 0, 1, 0]]


def test_shipped_lexicon_names_kinds_and_synonyms():
    table = lexicon_table()
    cats = sorted(set(table["category_code"]))
    m = LexiconMatcher.build(cats, table)
    for text, cat in [
        ("14 yom lit a sparkler", "FL09"),
        ("燃放窜天猴炸伤左手", "FL09"),
        ("误吞巴克球数颗", "TY04"),
        ("fell off hoverboard", "VE09"),
        ("e-bike crash", "VE03"),
    ]:
        assert cat in {cats[c] for c in m.categories_in(normalise(text))}, text
