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
from collections.abc import Sequence

import pandas as pd

from pipeline import reference
from pipeline.clustering.features import (
    CJK,
    EN_STOP,
    ZH_STOP_BIGRAMS,
    _without_product,
    concepts_of,
    normalise_text,
)
from pipeline.clustering.lexicon import CONCEPTS

EN_WORD = re.compile(r"[A-Z][A-Z'\-]*[A-Z]")
ZH_NOISE = re.compile(r"[0-9IVⅠⅡⅢ度%cm]")


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
    en = {w for w in EN_WORD.findall(text) if len(w) >= 3 and w not in EN_STOP}
    return zh, en, concepts_of(text)


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


def label_patterns(members: pd.DataFrame, category_docs: dict[str, list[tuple]]) -> pd.DataFrame:
    """One row per pattern of ``members`` (columns pattern_id, category_code, product_name,
    narrative, cause, injury_nature, body_region); ``category_docs`` maps each category to the
    ``doc_terms`` of all its clustered cases (the background for distinctiveness)."""
    codesets = reference.load_codesets()
    names = {(r.codeset, r.code): (r.label_en, r.label_zh) for r in codesets.itertuples()}
    taxonomy = reference.load_taxonomy().set_index("category_code")
    background: dict[str, tuple[Counter, Counter, Counter, int]] = {}
    for category, docs in category_docs.items():
        zh_c, en_c, co_c = Counter(), Counter(), Counter()
        for zh, en, co in docs:
            zh_c.update(zh)
            en_c.update(en)
            co_c.update(co)
        background[category] = (zh_c, en_c, co_c, len(docs))
    rows = []
    for (pattern_id, category), group in members.groupby(
        ["pattern_id", "category_code"], sort=True
    ):
        zh_p, en_p, co_p = Counter(), Counter(), Counter()
        zh_docs = en_docs = 0
        for name, narrative in zip(group["product_name"], group["narrative"], strict=True):
            zh, en, co = doc_terms(name, narrative)
            zh_p.update(zh)
            en_p.update(en)
            co_p.update(co)
            zh_docs += bool(zh)
            en_docs += bool(en)
        n = len(group)
        zh_b, en_b, co_b, n_b = background.get(category, (zh_p, en_p, co_p, n))
        concepts = _distinctive(
            Counter({CONCEPTS[i].key: c for i, c in co_p.items()}),
            n,
            Counter({CONCEPTS[i].key: c for i, c in co_b.items()}),
            n_b,
            k=3,
            min_share=0.25,
        )
        zh_terms = [
            t
            for t in _distinctive(zh_p, max(zh_docs, 1), zh_b, n_b, k=12, min_share=0.2)
            if not ZH_NOISE.search(t)
        ][:5]
        en_terms = _distinctive(en_p, max(en_docs, 1), en_b, n_b, k=5, min_share=0.2)
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
