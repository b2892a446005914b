"""Readable pattern labels: distinctive concepts and terms (Chinese and English), dominant
mechanism, injury and body region.

A term or concept is *distinctive* for a pattern when it is frequent among the pattern's cases
and more frequent there than in its whole category: score = share_in_pattern x
log(1 + share_in_pattern / share_in_category).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline import reference
from pipeline.clustering.analysis import DocStore, zh_id, zh_term
from pipeline.clustering.lexicon import CONCEPTS

ZH_NOISE = re.compile(r"[0-9IVⅠⅡⅢ度%cm]")


@dataclass
class DocCounts:
    """Document frequencies in a group of narratives (a pattern, or a category's background):
    packed Chinese terms (sorted ids and counts), English words, concepts."""

    n: int
    zh_ids: np.ndarray
    zh_counts: np.ndarray
    zh_docs: int  # narratives with at least one Chinese term
    en: Counter
    en_docs: int
    concepts: np.ndarray  # count per concept index

    @classmethod
    def of(cls, docs: DocStore, rows: np.ndarray) -> DocCounts:
        zh_ids, zh_counts = np.unique(docs.zh.gather(rows), return_counts=True)
        en: Counter = Counter()
        en_docs = 0
        for r in rows:
            words = docs.en[r]
            if words:
                en.update(words)
                en_docs += 1
        return cls(
            n=len(rows),
            zh_ids=zh_ids,
            zh_counts=zh_counts,
            zh_docs=int(np.count_nonzero(docs.zh.lengths(rows))),
            en=en,
            en_docs=en_docs,
            concepts=np.bincount(
                docs.concepts.gather(rows).astype(np.int64), minlength=len(CONCEPTS)
            ),
        )

    def zh_frequent(self, min_share: float) -> Counter:
        """Chinese terms of at least ``min_share`` of the narratives with Chinese terms (the
        only ones ``_distinctive`` can choose), as text."""
        n = max(self.zh_docs, 1)
        keep = np.flatnonzero(self.zh_counts / n >= min_share)
        return Counter({zh_term(self.zh_ids[i]): int(self.zh_counts[i]) for i in keep})

    def zh_count(self, terms: Iterable[str]) -> Counter:
        """Counts of the given Chinese terms (absent ones are left out)."""
        ids = np.array([zh_id(t) for t in terms], dtype=np.int64)
        pos = np.searchsorted(self.zh_ids, ids)
        out: Counter = Counter()
        for term, value, p in zip(terms, ids, pos, strict=True):
            if p < len(self.zh_ids) and self.zh_ids[p] == value:
                out[term] = int(self.zh_counts[p])
        return out

    def concept_counts(self) -> Counter:
        return Counter({CONCEPTS[i].key: int(c) for i, c in enumerate(self.concepts) if c})


def _groups(frame: pd.DataFrame, by: list[str]) -> Iterable[tuple[tuple, np.ndarray]]:
    for key, idx in frame.groupby(by, sort=True).indices.items():
        yield (key if isinstance(key, tuple) else (key,)), idx


def _distinctive(
    pattern_counts: Counter,
    n_pattern: int,
    category_counts: Counter,
    n_category: int,
    k: int,
    min_share: float,
) -> list[str]:
    scored = []
    for term, count in pattern_counts.items():
        share = count / n_pattern
        if share < min_share:
            continue
        base = category_counts.get(term, count) / max(n_category, 1)
        scored.append((share * math.log1p(share / max(base, 1e-9)), term))
    scored.sort(key=lambda st: (-st[0], st[1]))
    chosen: list[str] = []
    for _score, term in scored:
        # skip a term contained in (or containing) one already chosen: 锅盖 vs 锅盖弹开
        if any(term in c or c in term for c in chosen):
            continue
        chosen.append(term)
        if len(chosen) == k:
            break
    return chosen


def _mode(values: Sequence[object], order: Sequence[str]) -> str | None:
    counts = Counter(v for v in values if isinstance(v, str))
    if not counts:
        return None
    rank = {c: i for i, c in enumerate(order)}
    return min(counts, key=lambda v: (-counts[v], rank.get(v, len(rank)), v))


def label_patterns(members: pd.DataFrame, background: pd.DataFrame, docs: DocStore) -> pd.DataFrame:
    """One row per pattern of ``members`` (columns pattern_id, category_code, cause,
    injury_nature, body_region and ``doc``, the row of its narrative in ``docs``);
    ``background`` (category_code, doc) holds every clustered case of those categories (the
    background for distinctiveness)."""
    codesets = reference.load_codesets()
    names = {(r.codeset, r.code): (r.label_en, r.label_zh) for r in codesets.itertuples()}
    taxonomy = reference.load_taxonomy().set_index("category_code")
    background_rows = background["doc"].to_numpy(dtype=np.int64)
    categories = {
        key[0]: DocCounts.of(docs, background_rows[idx])
        for key, idx in _groups(background, ["category_code"])
    }
    member_rows = members["doc"].to_numpy(dtype=np.int64)
    rows = []
    for (pattern_id, category), idx in _groups(members, ["pattern_id", "category_code"]):
        group = members.iloc[idx]
        mine = DocCounts.of(docs, member_rows[idx])
        n = len(group)
        base = categories.get(category, mine)
        zh_p = mine.zh_frequent(0.2)
        concepts = _distinctive(
            mine.concept_counts(), n, base.concept_counts(), base.n, k=3, min_share=0.25
        )
        zh_terms = [
            t
            for t in _distinctive(
                zh_p, max(mine.zh_docs, 1), base.zh_count(list(zh_p)), base.n, k=12, min_share=0.2
            )
            if not ZH_NOISE.search(t)
        ][:5]
        en_terms = _distinctive(mine.en, max(mine.en_docs, 1), base.en, base.n, k=5, min_share=0.2)
        cause = _mode(group["cause"].tolist(), reference.codes("cause"))
        injury = _mode(group["injury_nature"].tolist(), reference.codes("injury_nature"))
        region = _mode(group["body_region"].tolist(), reference.codes("body_region"))
        cat_en, cat_zh = (
            (taxonomy.loc[category, "name_en"], taxonomy.loc[category, "name_zh"])
            if category in taxonomy.index
            else (category, category)
        )
        by_key = {c.key: c for c in CONCEPTS}
        what_en = ", ".join(by_key[k].label_en for k in concepts) or ", ".join(en_terms[:2]).lower()
        what_zh = "、".join(by_key[k].label_zh for k in concepts) or "、".join(zh_terms[:2])

        def lab(codeset: str, code: str | None, lang: int) -> str:
            return names.get((codeset, code), (code or "-", code or "-"))[lang]

        label_en = (
            f"{cat_en}: {what_en or 'unspecified'} - {lab('cause', cause, 0)}, "
            f"{lab('injury_nature', injury, 0)} ({lab('body_region', region, 0)})"
        )
        label_zh = (
            f"{cat_zh}：{what_zh or '未细分'}——{lab('cause', cause, 1)}，"
            f"{lab('injury_nature', injury, 1)}（{lab('body_region', region, 1)}）"
        )
        rows.append(
            {
                "pattern_id": pattern_id,
                "category_code": category,
                "label_en": label_en,
                "label_zh": label_zh,
                "concepts": concepts,
                "terms_zh": zh_terms,
                "terms_en": en_terms,
                "dominant_cause": cause,
                "dominant_injury": injury,
                "dominant_region": region,
            }
        )
    return pd.DataFrame.from_records(rows)
