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
from pipeline.clustering.lexicon import CONCEPTS, MASK_ZH, Concept

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


class ConceptMatcher:
    """The whole lexicon compiled into one matcher: a narrative is scanned once, whatever the
    number of entries.

    English entries are whole words or phrases on upper-cased text (``(?<![A-Z])ENTRY(?![A-Z])``).
    An entry that is one word matches exactly when it is one of the text's maximal runs of
    ``A-Z``, so one ``findall`` of the runs and a set intersection find all of them; a phrase can
    only match where its first word is such a run, so only those phrases are searched. Chinese
    entries are substrings of the masked text: only entries whose first character occurs in the
    text are looked for. Both give exactly the concepts that searching every entry one at a
    time gives (``tests/coding/test_concept_matcher.py`` compares them on generated text).
    """

    _RUN = re.compile(r"[A-Z]+")

    def __init__(self, concepts: Sequence[Concept], mask_zh: Sequence[str]) -> None:
        self.masks = tuple(mask_zh)
        self.en_words: dict[str, frozenset[int]] = {}
        phrases: dict[str, dict[str, set[int]]] = {}
        zh: dict[str, dict[str, set[int]]] = {}
        for index, concept in enumerate(concepts):
            for entry in concept.en:
                if not re.fullmatch(r"[A-Z]+( [A-Z]+)*", entry):
                    raise ValueError(f"lexicon entry {entry!r}: words of A-Z and single spaces")
                if " " in entry:
                    phrases.setdefault(entry.split(" ", 1)[0], {}).setdefault(entry, set())
                    phrases[entry.split(" ", 1)[0]][entry].add(index)
                else:
                    self.en_words[entry] = self.en_words.get(entry, frozenset()) | {index}
            for entry in concept.zh:
                if not entry:
                    raise ValueError(f"concept {concept.key}: empty Chinese entry")
                zh.setdefault(entry[0], {}).setdefault(entry, set()).add(index)
        self.en_phrases: dict[str, tuple[tuple[re.Pattern[str], frozenset[int]], ...]] = {
            first: tuple(
                (re.compile(r"(?<![A-Z])" + re.escape(p) + r"(?![A-Z])"), frozenset(ix))
                for p, ix in entries.items()
            )
            for first, entries in phrases.items()
        }
        self.zh_by_first: dict[str, tuple[tuple[str, frozenset[int]], ...]] = {
            first: tuple((term, frozenset(ix)) for term, ix in entries.items())
            for first, entries in zh.items()
        }

    def __call__(self, text: str) -> set[int]:
        found: set[int] = set()
        zh = text
        for mask in self.masks:
            zh = zh.replace(mask, "|")
        by_first = self.zh_by_first
        for first in by_first.keys() & set(zh):
            for term, ix in by_first[first]:
                if term in zh:
                    found |= ix
        words = set(self._RUN.findall(text))
        if words:
            en = self.en_words
            for word in words & en.keys():
                found |= en[word]
            phrases = self.en_phrases
            for first in words & phrases.keys():
                for pattern, ix in phrases[first]:
                    if pattern.search(text):
                        found |= ix
        return found


MATCHER = ConceptMatcher(CONCEPTS, MASK_ZH)


def concepts_of(text: str) -> set[int]:
    """Indices of the lexicon concepts a (normalised) narrative mentions."""
    return MATCHER(text)


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


def term_counts(terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hashed term indices in order of first occurrence and how often each occurs."""
    counts: dict[int, int] = {}
    for t in terms:
        j = term_index(t)
        counts[j] = counts.get(j, 0) + 1
    return (
        np.fromiter(counts, dtype=np.int64, count=len(counts)),
        np.fromiter(counts.values(), dtype=np.float32, count=len(counts)),
    )


def vectorise(
    items: Sequence[CaseText],
    structs: Sequence[dict[str, str | None]],
    layout: Layout,
    idf: Idf,
    weights: dict[str, float] | None = None,
) -> np.ndarray:
    """Dense float32 matrix (one L2-normalised row per case)."""
    rows = []
    for item in items:
        idx, cnt = term_counts(item.terms)
        rows.append((np.fromiter(sorted(item.concepts), dtype=np.int64), idx, cnt))
    return vectorise_parts(rows, structs, layout, idf, weights)


def vectorise_parts(
    parts: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
    structs: Sequence[dict[str, str | None]],
    layout: Layout,
    idf: Idf,
    weights: dict[str, float] | None = None,
) -> np.ndarray:
    """``vectorise`` from analysed narratives: per case the sorted concept indices, the hashed
    term indices (first-occurrence order) and their counts (``pipeline.clustering.analysis``
    stores exactly these)."""
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    out = np.zeros((len(structs), layout.dim), dtype=np.float32)
    tpos = layout.offsets["terms"]
    for row, ((concepts, idx, cnt), struct) in enumerate(zip(parts, structs, strict=True)):
        if len(concepts):
            vals = idf.concepts[concepts]
            out[row, concepts] = w["concepts"] * vals / np.linalg.norm(vals)
        if len(idx):
            vals = (1 + np.log(cnt.astype(np.float32))) * idf.terms[idx]
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
