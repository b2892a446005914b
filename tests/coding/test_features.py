"""The numpy text features agree with a plain Python / scikit-learn implementation."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.coding.features import Batch, LexiconIndex, TextFeatures

_ALPHABET = "ab cdz电饭锅煲车门,|0"
_text = st.text(alphabet=_ALPHABET, min_size=0, max_size=25).map(
    lambda t: re.sub(r" +", " ", t).strip()
)


def _char_ngrams(text: str, ns=(1, 2, 3)) -> list[str]:
    out = []
    for n in ns:
        for a in range(len(text) - n + 1):
            g = text[a : a + n]
            if n == 1 and g == " ":
                continue
            if n >= 3 and " " in g[1:-1]:
                continue
            out.append(g)
    return out


def _words(text: str) -> list[str]:
    words = re.findall(r"[a-z]+", text)
    words = [w for w in words if len(w) >= 2]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def _rows_sorted(m) -> list[list[float]]:
    m = m.tocsr()
    return [sorted(float(v) for v in m[i].data) for i in range(m.shape[0])]


@settings(max_examples=60, deadline=None)
@given(st.lists(_text, min_size=1, max_size=12))
def test_features_match_a_plain_implementation(texts):
    ours = TextFeatures(min_df=1, char_max_features=10**6, word_max_features=10**6).fit(texts)
    char, word = ours.transform(texts)
    for analyzer, got in ((_char_ngrams, char), (_words, word)):
        ref = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, lowercase=False)
        try:
            expected = ref.fit_transform(texts)
        except ValueError:  # empty vocabulary
            assert got.nnz == 0
            continue
        assert got.shape[1] == expected.shape[1]  # same vocabulary size
        # Tolerance, not rounding: rounding both sides flips at a boundary (0.24145 float32).
        for ours_row, ref_row in zip(_rows_sorted(got), _rows_sorted(expected), strict=True):
            assert ours_row == pytest.approx(ref_row, abs=1e-5)


def test_vocabulary_limits_and_unknown_text():
    texts = ["电饭锅 rice cooker", "电饭锅 burn", "trampoline fall", "电饭锅 lid"]
    tf = TextFeatures(min_df=2).fit(texts)
    char, word = tf.transform(["电饭锅", "xylophone"])
    assert char[0].nnz > 0 and word[1].nnz == 0  # 电饭锅 known, xylophone not
    share = tf.known_share(["电饭锅 cooker", "巴克球", "", "12"])
    assert share[0] == pytest.approx(2 / 3)  # 电饭, 饭锅 (df 3) known; "cooker" (df 1) not
    assert share[1] == 0.0 and share[2] == 1.0 and share[3] == 1.0


def test_lexicon_longest_match_without_overlap():
    zh = {"自行车": [0], "电动自行车": [1], "车门": [2], "门夹": [3]}
    en = {("car",): [2], ("car", "door"): [3], ("gas", "cylinder"): [4]}
    index = LexiconIndex.build(5, zh, en)
    texts = ["骑电动自行车摔倒", "下车时车门夹手", "car-door pinch; gas  cylinder leak", "card"]
    hits = index.features(Batch.of(texts), len(texts)).toarray()
    assert hits[0].tolist() == [0, 1, 0, 0, 0]  # not also 自行车
    assert hits[1].tolist() == [0, 0, 1, 0, 0]  # 车门 first; 门夹 overlaps it
    assert hits[2].tolist() == [0, 0, 0, 1, 1]  # words, whatever separates them
    assert hits[3].tolist() == [0, 0, 0, 0, 0]  # "car" is not inside "card"
