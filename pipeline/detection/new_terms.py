"""New-term detection in case narratives (Chinese and English).

A hazard that nobody has coded yet (a new product, a new failure mode) often shows first as
words that have never appeared in the narratives: "hoverboard", "磁力珠". This module finds
terms absent from the previous ``history_weeks`` (104) weeks that appear this week in at least
``min_cases`` (3) cases at ``min_hospitals`` (2) or more hospitals.

Tokenisation needs no external segmenter:

* English (any Latin-script text): lower-cased words (letters/digits, inner ``-`` or ``'``)
  and 2-word phrases of adjacent words within a clause; words that are stop words, 1 letter
  long or purely numeric are dropped and never form phrases.
* Chinese: character bigrams and trigrams of each run of CJK characters; n-grams beginning or
  ending with a function character (的, 了, 在, ...) or listed as stop terms are dropped.

Overlapping n-grams are collapsed: a term is dropped when a longer new term containing it
occurs in exactly the same cases (a trigram subsumes its bigrams, a phrase its words), and
remaining terms that overlap (a suffix of one is a prefix of the other) and occur in the same
cases are merged when the merged string occurs in every one of those narratives
(ABC + BCD -> ABCD).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pandas as pd

from pipeline.isoweek import week_ordinal

__all__ = ["DEFAULT_STOP_TERMS", "category_new_terms", "new_terms", "tokenize"]

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
# Clause boundaries: ASCII and full-width punctuation, line breaks and CJK text itself.
_CLAUSE_SPLIT = re.compile(
    rf"[.,;:!?()\[\]{{}}\"/\\|<>\n\r\t，。；：！？、（）【】《》“”‘’…—{_CJK}]+"
)
_WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")
# Numbers with a unit ("12yom", "3yo", "2cm", "10min") are ages/measures, not terms.
_NUMBER_UNIT = re.compile(r"^\d+(?:\.\d+)?[a-z]{0,4}$")

EN_STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in into
    is it its itself just me more most my myself no nor not of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves onto upon via per while got get gets getting went go goes going
    pt pts patient patients yom yof yo y/o dx c/o s/p hx""".split()  # noqa: SIM905 - readable list
)

#: Function characters: an n-gram starting or ending with one of them is noise ("的电", "了被").
ZH_FUNCTION_CHARS = frozenset("的了着过在是和与及被把将于从对而或也就都又其该此这那个等时后因致")

#: Generic narrative words that are never a new hazard even in the first weeks of data.
DEFAULT_STOP_TERMS = frozenset(
    """患者 就诊 受伤 导致 不慎 左侧 右侧 当时 自行 家属 我院 本院 来院 入院 门诊 急诊 今日
    昨日 小时 分钟 左右 约在""".split()  # noqa: SIM905 - readable list
)


def _english_terms(text: str) -> set[str]:
    out: set[str] = set()
    for clause in _CLAUSE_SPLIT.split(text.lower()):
        words = _WORD.findall(clause)
        keep = [
            len(w) > 1 and w not in EN_STOP_WORDS and not _NUMBER_UNIT.match(w.replace("-", ""))
            for w in words
        ]
        for i, w in enumerate(words):
            if keep[i]:
                out.add(w)
                if i + 1 < len(words) and keep[i + 1]:
                    out.add(f"{w} {words[i + 1]}")
    return out


def _chinese_terms(text: str, stop_terms: frozenset[str]) -> set[str]:
    out: set[str] = set()
    for run in _CJK_RUN.findall(text):
        for n in (2, 3):
            for i in range(len(run) - n + 1):
                g = run[i : i + n]
                if g[0] in ZH_FUNCTION_CHARS or g[-1] in ZH_FUNCTION_CHARS or g in stop_terms:
                    continue
                out.add(g)
    return out


def tokenize(text: Any, stop_terms: Iterable[str] | None = None) -> set[str]:
    """The set of candidate terms of one narrative (English words/phrases, Chinese n-grams)."""
    if not isinstance(text, str) or not text:
        return set()
    stops = DEFAULT_STOP_TERMS if stop_terms is None else frozenset(stop_terms)
    en = {t for t in _english_terms(text) if t not in stops}
    return en | _chinese_terms(text, stops)


def _is_cjk(term: str) -> bool:
    return bool(_CJK_RUN.fullmatch(term))


def _units(term: str) -> list[str]:
    return list(term) if _is_cjk(term) else term.split(" ")


def _join(units: list[str], cjk: bool) -> str:
    return "".join(units) if cjk else " ".join(units)


def _contains(longer: str, shorter: str) -> bool:
    if _is_cjk(longer):
        return _is_cjk(shorter) and shorter in longer
    return not _is_cjk(shorter) and f" {shorter} " in f" {longer} "


def _normalised(text: str) -> tuple[str, str]:
    """Narrative as searched for merged terms: raw text (Chinese), word sequence (English)."""
    words = " ".join(_WORD.findall(text.lower()))
    return text, f" {words} "


def _collapse(
    cand: dict[str, frozenset[tuple[str, str]]],
    narratives: dict[tuple[str, str], tuple[str, str]],
) -> dict[str, frozenset[tuple[str, str]]]:
    # 1. Drop a term subsumed by a longer candidate seen in exactly the same cases.
    keep = {
        t: cases
        for t, cases in cand.items()
        if not any(u != t and cand[u] == cases and _contains(u, t) for u in cand)
    }
    # 2. Merge same-case terms that overlap (ABC + BCD -> ABCD, AB C + C D -> ...): a suffix of
    #    one equals a prefix of the other. Keep the merge only if the merged string occurs in
    #    every one of those narratives (the overlap could be a coincidence).
    merged = True
    while merged:
        merged = False
        terms = sorted(keep, key=lambda t: (-len(t), t))
        for t1 in terms:
            for t2 in terms:
                if t1 == t2 or keep[t1] != keep[t2] or _is_cjk(t1) != _is_cjk(t2):
                    continue
                u1, u2 = _units(t1), _units(t2)
                ov = next(
                    (o for o in range(min(len(u1), len(u2)) - 1, 0, -1) if u1[-o:] == u2[:o]),
                    0,
                )
                if ov == 0:
                    continue
                cjk = _is_cjk(t1)
                joined = _join(u1 + u2[ov:], cjk)
                needle = joined if cjk else f" {joined} "
                if all(needle in narratives[c][0 if cjk else 1] for c in keep[t1]):
                    cases = keep.pop(t1)
                    keep.pop(t2)
                    keep[joined] = cases
                    merged = True
                    break
            if merged:
                break
    return keep


def _week_ordinals(week: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(week):
        iso = week.dt.isocalendar()
        labels = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
        return labels.map(week_ordinal)
    return week.astype(str).map(week_ordinal)


def new_terms(
    cases: pd.DataFrame,
    current_week: str,
    *,
    history_weeks: int = 104,
    min_cases: int = 3,
    min_hospitals: int = 2,
    stop_terms: Iterable[str] | None = None,
    zh_product_share: float = 0.5,
    vocabulary_cache: dict[int, frozenset[str]] | None = None,
) -> pd.DataFrame:
    """Terms new in ``current_week`` (ISO ``YYYY-Www``).

    ``cases`` needs columns ``case_id, hospital_code, week, narrative`` (``week`` as ISO week
    strings or datetimes). A term is reported when it does not occur in any narrative of the
    ``history_weeks`` weeks before ``current_week`` and occurs this week in ``>= min_cases``
    distinct cases (``hospital_code`` + ``case_id``) from ``>= min_hospitals`` hospitals.

    When ``cases`` has a ``product_name`` column, a Chinese n-gram must also occur in the
    product name of at least ``zh_product_share`` (half) of its cases: character n-grams of
    unsegmented text often straddle word boundaries ("车从楼" from "学步车从楼梯", "商场提"
    from "在商场提"), while a new product is named in the product field (half tolerates
    clerks who leave it empty). English words are delimited by spaces and are not filtered.
    New Chinese failure-mode words are therefore left to the pattern signals.

    ``vocabulary_cache``: a dict the caller keeps across calls on the *same* ``cases`` and
    ``stop_terms`` (a backfill of consecutive weeks); it stores each past week's terms so
    that a week's narratives are tokenised once instead of once per evaluated week.

    Returns columns ``term, language ("zh"/"en"), n_cases, n_hospitals, hospital_codes,
    case_keys`` sorted by ``n_cases`` then ``n_hospitals`` (descending).
    """
    need = {"case_id", "hospital_code", "week", "narrative"}
    missing = sorted(need - set(cases.columns))
    if missing:
        raise ValueError(f"new_terms input lacks columns {missing}")
    cur = week_ordinal(current_week)
    ordinal = _week_ordinals(cases["week"])
    hist = cases[(ordinal >= cur - history_weeks) & (ordinal < cur)]
    now = cases[ordinal == cur]
    stops = DEFAULT_STOP_TERMS if stop_terms is None else frozenset(stop_terms)

    seen: set[str] = set()
    if vocabulary_cache is None:
        for text in hist["narrative"]:
            seen |= tokenize(text, stops)
    else:
        hist_ordinal = ordinal[hist.index]
        for week_no in range(cur - history_weeks, cur):
            if week_no not in vocabulary_cache:
                words: set[str] = set()
                for text in hist.loc[hist_ordinal == week_no, "narrative"]:
                    words |= tokenize(text, stops)
                vocabulary_cache[week_no] = frozenset(words)
            seen |= vocabulary_cache[week_no]

    term_cases: dict[str, set[tuple[str, str]]] = defaultdict(set)
    narratives: dict[tuple[str, str], tuple[str, str]] = {}
    products: dict[tuple[str, str], str] = {}
    has_products = "product_name" in now.columns
    names = now["product_name"] if has_products else [None] * len(now)
    for hosp, cid, text, product in zip(
        now["hospital_code"], now["case_id"], now["narrative"], names, strict=True
    ):
        key = (str(hosp), str(cid))
        narratives[key] = _normalised(text if isinstance(text, str) else "")
        products[key] = product if isinstance(product, str) else ""
        for term in tokenize(text, stops) - seen:
            term_cases[term].add(key)

    def named_product(term: str, keys: set[tuple[str, str]]) -> bool:
        if not has_products or not _is_cjk(term):
            return True
        named = sum(term in products[k] for k in keys)
        return named >= 1 and named >= zh_product_share * len(keys)

    cand = {
        t: frozenset(c)
        for t, c in term_cases.items()
        if len(c) >= min_cases and len({h for h, _ in c}) >= min_hospitals and named_product(t, c)
    }
    kept = _collapse(cand, narratives)
    rows = [
        {
            "term": t,
            "language": "zh" if _is_cjk(t) else "en",
            "n_cases": len(c),
            "n_hospitals": len({h for h, _ in c}),
            "hospital_codes": tuple(sorted({h for h, _ in c})),
            "case_keys": tuple(sorted(c)),
        }
        for t, c in kept.items()
    ]
    cols = ["term", "language", "n_cases", "n_hospitals", "hospital_codes", "case_keys"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(
        ["n_cases", "n_hospitals", "term"], ascending=[False, False, True]
    ).reset_index(drop=True)


def _category_terms(text: Any, stops: frozenset[str]) -> set[str]:
    # Chinese: bigrams only. Within one category the vocabulary is small, so a new trigram is
    # mostly a fragment of a new word combination; most Chinese words have two characters.
    return {t for t in tokenize(text, stops) if not _is_cjk(t) or len(t) == 2}


def category_new_terms(
    cases: pd.DataFrame,
    current_week: str,
    *,
    history_weeks: int = 104,
    min_cases: int = 3,
    min_hospitals: int = 2,
    stop_terms: Iterable[str] | None = None,
    vocabulary_cache: dict | None = None,
) -> pd.DataFrame:
    """Terms new *within a product category* in ``current_week``.

    A hazard often shows as ordinary words in an unusual product: "楼梯" (stairs) is in
    thousands of narratives, but not in the baby-walker narratives of the last two years. A
    term is reported for category ``C`` when no narrative of ``C`` in the previous
    ``history_weeks`` weeks contains it and ``>= min_cases`` cases of ``C`` this week from
    ``>= min_hospitals`` hospitals do. Terms: English words and 2-word phrases as in
    :func:`tokenize`, Chinese bigrams (trigrams are left out, see ``_category_terms``); no
    overlap collapsing. ``cases`` needs ``case_id, hospital_code, week, narrative,
    category`` (cases without a category are ignored). ``vocabulary_cache``: as in
    :func:`new_terms` (may be the same dict).

    Returns ``category, term, language, n_cases, n_hospitals, hospital_codes, case_keys``,
    sorted by category, then ``n_cases`` (descending) and term.
    """
    need = {"case_id", "hospital_code", "week", "narrative", "category"}
    missing = sorted(need - set(cases.columns))
    if missing:
        raise ValueError(f"category_new_terms input lacks columns {missing}")
    cols = ["category", "term", "language", "n_cases", "n_hospitals", "hospital_codes", "case_keys"]
    cases = cases[cases["category"].notna()]
    cur = week_ordinal(current_week)
    ordinal = _week_ordinals(cases["week"])
    now = cases[ordinal == cur]
    if now.empty:
        return pd.DataFrame(columns=cols)
    stops = DEFAULT_STOP_TERMS if stop_terms is None else frozenset(stop_terms)
    hist = cases[(ordinal >= cur - history_weeks) & (ordinal < cur)]
    hist_ordinal = ordinal[hist.index]
    categories = set(now["category"])

    def week_vocab(week_no: int) -> dict[str, frozenset[str]]:
        key = ("category", week_no)
        if vocabulary_cache is not None and key in vocabulary_cache:
            return vocabulary_cache[key]
        part = hist[hist_ordinal == week_no]
        vocab: dict[str, set[str]] = defaultdict(set)
        for category, text in zip(part["category"], part["narrative"], strict=True):
            vocab[category] |= _category_terms(text, stops)
        frozen = {c: frozenset(v) for c, v in vocab.items()}
        if vocabulary_cache is not None:
            vocabulary_cache[key] = frozen
        return frozen

    seen: dict[str, set[str]] = defaultdict(set)
    for week_no in range(cur - history_weeks, cur):
        for category, words in week_vocab(week_no).items():
            if category in categories:
                seen[category] |= words

    rows = []
    for category, group in now.groupby("category", sort=True):
        term_cases: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for hosp, cid, text in zip(
            group["hospital_code"], group["case_id"], group["narrative"], strict=True
        ):
            for term in _category_terms(text, stops) - seen[category]:
                term_cases[term].add((str(hosp), str(cid)))
        for term, keys in term_cases.items():
            hospitals = {h for h, _ in keys}
            if len(keys) >= min_cases and len(hospitals) >= min_hospitals:
                rows.append(
                    {
                        "category": category,
                        "term": term,
                        "language": "zh" if _is_cjk(term) else "en",
                        "n_cases": len(keys),
                        "n_hospitals": len(hospitals),
                        "hospital_codes": tuple(sorted(hospitals)),
                        "case_keys": tuple(sorted(keys)),
                    }
                )
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(
        ["category", "n_cases", "term"], ascending=[True, False, True]
    ).reset_index(drop=True)
