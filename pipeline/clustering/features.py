"""Case vectors for hazard-pattern clustering.

A case is described by what happened (narrative concepts from the bilingual lexicon, shared by
Chinese and English narratives), the narrative's own terms (Chinese character bigrams, English
words; hashed, so a term never seen before still gets a dimension) and the coded fields
mechanism (cause), injury nature, body region and relation to the product. Each block is
L2-normalised, multiplied by its weight, and the whole vector L2-normalised, so the dot product
of two case vectors is their cosine similarity.

Everything here is stateless except the inverse document frequencies (``Idf``), which are
computed once when the pattern state is first built and then frozen, so the vector of a case
never changes as new weeks arrive.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline import reference
from pipeline.clustering.lexicon import CONCEPTS, MASK_ZH

TERM_DIM = 2**13  # hashed narrative-term dimensions
STRUCT_FIELDS = ("cause", "injury_nature", "body_region", "product_relation")
DEFAULT_WEIGHTS: dict[str, float] = {
    "concepts": 1.0,
    "terms": 0.55,
    "cause": 0.35,
    "injury_nature": 0.3,
    "body_region": 0.25,
    "product_relation": 0.1,
}
CJK = re.compile(r"[\u3400-\u9fff]+")
EN_WORD = re.compile(r"[A-Z][A-Z'\-]*[A-Z]|[A-Z]")
# Clerk boilerplate that says nothing about the scenario (ages, sex, dispositions, diagnoses
# that the coded fields already carry).
_EN_STOP_WORDS = """
A AN AND THE OF TO IN ON AT WITH FOR FROM BY WAS WERE IS ARE HAS HAD HAVE BE BEEN PT PTS YO YOM
YOF YR YRS OLD MALE FEMALE MO MOS DO DX REPORTS REPORTED SUSTAINED DC'D TX'D REL HM HOME
TREATED RELEASED ADMITTED ADMIT OBS OBSERVATION TRANSFERRED XFER LEFT AMA LWBS DEG DEGREE ST
ND RD TH L R BILAT LEFT RIGHT WHILE WHEN AFTER HIS HER HE SHE THEIR INTO ONTO UP C/O CO
"""
EN_STOP = frozenset(_EN_STOP_WORDS.split())
ZH_STOP_BIGRAMS = frozenset(
    [
        "患儿",
        "患者",
        "家属",
        "代诉",
        "主诉",
        "查体",
        "处理",
        "伤后",
        "小时",
        "今日",
        "今晚",
        "昨晚",
        "今晨",
        "上午",
        "下午",
        "分钟",
        "当即",
        "遂来",
        "来我",
        "我院",
        "初步",
        "予以",
        "对症",
        "回家",
        "观察",
        "治疗",
        "家中",
        "在家",
        "自家",
        "家里",
        "病人",
        "伤者",
    ]
)


def normalise_text(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text if isinstance(text, str) else "").upper()


def _without_product(text: str, product_name: str | None) -> str:
    """The narrative with the product's own name removed: within a category the name (and its
    spelling variants between hospitals) says nothing about the hazard scenario."""
    name = normalise_text(product_name).strip()
    if len(name) >= 2:
        text = text.replace(name, " ")
    return text


_EN_PATTERNS: list[tuple[int, re.Pattern[str]]] = []
_ZH_TERMS: list[tuple[int, str]] = []
for _i, _c in enumerate(CONCEPTS):
    for _w in _c.en:
        _EN_PATTERNS.append((_i, re.compile(r"(?<![A-Z])" + re.escape(_w) + r"(?![A-Z])")))
    for _w in _c.zh:
        _ZH_TERMS.append((_i, _w))


def concepts_of(text: str) -> set[int]:
    """Indices of the lexicon concepts a (normalised) narrative mentions."""
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


def terms_of(text: str) -> list[str]:
    """Narrative terms: Chinese character bigrams (within runs of Chinese characters, boilerplate
    removed) and English words of three letters or more that are not clerk boilerplate."""
    out: list[str] = []
    for run in CJK.findall(text):
        out.extend(
            b for b in (run[i : i + 2] for i in range(len(run) - 1)) if b not in ZH_STOP_BIGRAMS
        )
    for word in EN_WORD.findall(text):
        if len(word) >= 3 and word not in EN_STOP:
            out.append(word)
    return out


def term_index(term: str) -> int:
    return zlib.crc32(term.encode("utf-8")) % TERM_DIM


@dataclass(frozen=True)
class Layout:
    """Column layout of a case vector: concepts, one block per coded field, hashed terms."""

    struct_codes: dict[str, tuple[str, ...]]
    offsets: dict[str, int] = field(default_factory=dict)
    dim: int = 0

    @classmethod
    def default(cls) -> Layout:
        codes = {name: reference.codes(name) for name in STRUCT_FIELDS}
        offsets = {"concepts": 0}
        pos = len(CONCEPTS)
        for name in STRUCT_FIELDS:
            offsets[name] = pos
            pos += len(codes[name]) + 1  # +1: blank / unknown value
        offsets["terms"] = pos
        return cls(struct_codes=codes, offsets=offsets, dim=pos + TERM_DIM)


@dataclass
class Idf:
    """Frozen inverse document frequencies for concepts and hashed terms."""

    concepts: np.ndarray
    terms: np.ndarray
    n_docs: int

    @classmethod
    def fit(cls, docs: Iterable[tuple[set[int], list[str]]]) -> Idf:
        df_c = np.zeros(len(CONCEPTS), dtype=np.float64)
        df_t = np.zeros(TERM_DIM, dtype=np.float64)
        n = 0
        for concepts, terms in docs:
            n += 1
            if concepts:
                df_c[list(concepts)] += 1
            if terms:
                df_t[sorted({term_index(t) for t in terms})] += 1
        return cls(
            concepts=(np.log((1 + n) / (1 + df_c)) + 1).astype(np.float32),
            terms=(np.log((1 + n) / (1 + df_t)) + 1).astype(np.float32),
            n_docs=n,
        )


@dataclass
class CaseText:
    concepts: set[int]
    terms: list[str]


def analyse(product_name: str | None, narrative: str | None) -> CaseText:
    text = _without_product(normalise_text(narrative), product_name)
    return CaseText(concepts=concepts_of(text), terms=terms_of(text))


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
