"""The narrative analysis of hazard-pattern clustering as it was before the combined matcher
(main at a58700a, ``pipeline/clustering/features.py`` and ``labels.py``), kept verbatim as the
reference the new code is compared with: ``bench.patterns`` times it, and
``tests/coding/test_concept_matcher.py`` checks that both give the same result on generated
text. Not used by the pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from pipeline.clustering.features import (
    CJK,
    DEFAULT_WEIGHTS,
    EN_STOP,
    STRUCT_FIELDS,
    ZH_STOP_BIGRAMS,
    CaseText,
    Idf,
    Layout,
    _without_product,
    normalise_text,
    term_index,
    terms_of,
)
from pipeline.clustering.lexicon import CONCEPTS, MASK_ZH

_EN_PATTERNS: list[tuple[int, re.Pattern[str]]] = []
_ZH_TERMS: list[tuple[int, str]] = []
for _i, _c in enumerate(CONCEPTS):
    for _w in _c.en:
        _EN_PATTERNS.append((_i, re.compile(r"(?<![A-Z])" + re.escape(_w) + r"(?![A-Z])")))
    for _w in _c.zh:
        _ZH_TERMS.append((_i, _w))


def concepts_of(text: str) -> set[int]:
    """Indices of the lexicon concepts a (normalised) narrative mentions: every entry searched
    one at a time."""
    found: set[int] = set()
    zh = text
    for mask in MASK_ZH:
        zh = zh.replace(mask, "|")
    for index, word in _ZH_TERMS:
        if index not in found and word in zh:
            found.add(index)
    if re.search(r"[A-Z]", text):
        for index, pattern in _EN_PATTERNS:
            if index not in found and pattern.search(text):
                found.add(index)
    return found


def analyse(product_name: str | None, narrative: str | None) -> CaseText:
    text = _without_product(normalise_text(narrative), product_name)
    return CaseText(concepts=concepts_of(text), terms=terms_of(text))


LABEL_EN_WORD = re.compile(r"[A-Z][A-Z'\-]*[A-Z]")


def doc_terms(product_name: object, narrative: object) -> tuple[set[str], set[str], set[int]]:
    """(Chinese 2-4 character terms, English words, concept indices) of one narrative."""
    text = _without_product(
        normalise_text(narrative if isinstance(narrative, str) else ""),
        product_name if isinstance(product_name, str) else None,
    )
    zh: set[str] = set()
    for run in CJK.findall(text):
        for n in (2, 3, 4):
            for i in range(len(run) - n + 1):
                gram = run[i : i + n]
                if gram[:2] in ZH_STOP_BIGRAMS or gram[-2:] in ZH_STOP_BIGRAMS:
                    continue
                zh.add(gram)
    en = {w for w in LABEL_EN_WORD.findall(text) if len(w) >= 3 and w not in EN_STOP}
    return zh, en, concepts_of(text)


def vectorise(
    items: Sequence[CaseText],
    structs: Sequence[dict[str, str | None]],
    layout: Layout,
    idf: Idf,
    weights: dict[str, float] | None = None,
) -> np.ndarray:
    """Dense float32 matrix (one L2-normalised row per case)."""
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    out = np.zeros((len(items), layout.dim), dtype=np.float32)
    tpos = layout.offsets["terms"]
    for row, (item, struct) in enumerate(zip(items, structs, strict=True)):
        if item.concepts:
            idx = np.fromiter(sorted(item.concepts), dtype=np.int64)
            vals = idf.concepts[idx]
            out[row, idx] = w["concepts"] * vals / np.linalg.norm(vals)
        if item.terms:
            counts: dict[int, int] = {}
            for t in item.terms:
                j = term_index(t)
                counts[j] = counts.get(j, 0) + 1
            idx = np.fromiter(counts, dtype=np.int64)
            vals = (1 + np.log(np.fromiter(counts.values(), dtype=np.float32))) * idf.terms[idx]
            out[row, tpos + idx] = w["terms"] * vals / np.linalg.norm(vals)
        for name in STRUCT_FIELDS:
            codes = layout.struct_codes[name]
            value = struct.get(name)
            pos = codes.index(value) if value in codes else len(codes)
            out[row, layout.offsets[name] + pos] = w[name]
        norm = np.linalg.norm(out[row])
        if norm > 0:
            out[row] /= norm
    return out
