"""Scrubbing free text: one value (``scrub_text``) or a whole column (``scrub_series``,
``scrub_columns``), with the record's own known names removed by literal matching.

The column path never runs a Python regex on a row that cannot hold an identifier: three small
RE2 gates run over the column in Arrow (C++), then the grouped triggers over the rows the gates
let through, then each rule only on the rows its trigger flagged. Known names are found with a
vectorised per-row ``contains`` (DuckDB) on large columns. Tests check that every gate and
trigger is a superset of what it stands for and that both paths give the same text.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.privacy import lexicon as L
from pipeline.privacy.rules import (
    _CJK,
    _REPLACERS,
    _RULE_TRIGGER,
    GATES,
    PLACEHOLDERS,
    RULES,
    SURNAMES_2,
    TRIGGER_GROUPS,
    TRIGGERS,
)

# ---- known names ---------------------------------------------------------------------------

_NOT_A_NAME = frozenset(
    L.words("不详 未知 无名 匿名 无 不明 空 unknown none n/a na null anonymous")
)


def _name_forms(names: Iterable[str]) -> list[str]:
    """The literal forms of known names to remove, longest first: the name as written (NFKC,
    inner spaces dropped for Chinese), a Chinese name's given name of 2+ characters, and each
    part of 3+ letters of a Latin-script name."""
    forms: set[str] = set()
    for raw in names:
        name = unicodedata.normalize("NFKC", raw).strip()
        if len(name) < 2 or name.lower() in _NOT_A_NAME:
            continue
        if _CJK.search(name):
            compact = "".join(name.split())
            forms.add(compact)
            surname = 2 if compact[:2] in SURNAMES_2 and len(compact) >= 4 else 1
            if len(compact) - surname >= 2:
                forms.add(compact[surname:])
        else:
            forms.add(" ".join(name.split()))
            forms.update(p for p in re.split(r"[\s.,]+", name) if len(p) >= 3)
    return sorted(forms, key=len, reverse=True)


def _is_latin_letter(ch: str) -> bool:
    return ch.isalpha() and not _CJK.match(ch)


def _remove_known_names(text: str, names: Sequence[str], placeholder: str) -> str:
    """Literal removal of the record's own names: Chinese forms as written, Latin forms
    case-insensitively and only as whole words ("Li" does not hit "Lily")."""
    for form in _name_forms(names):
        if _CJK.search(form):
            text = text.replace(form, placeholder)
            continue
        lowered, needle = text.lower(), form.lower()
        if needle not in lowered:
            continue
        if len(lowered) != len(text):  # lower() changed the length: a regex keeps offsets
            word = r"(?<![^\W\d_])" + re.escape(form) + r"(?![^\W\d_])"
            text = re.sub(word, placeholder, text, flags=re.IGNORECASE)
            continue
        out, pos, hit = [], 0, lowered.find(needle)
        while hit >= 0:
            end = hit + len(needle)
            inside_word = (hit > 0 and _is_latin_letter(text[hit - 1])) or (
                end < len(text) and _is_latin_letter(text[end])
            )
            if not inside_word:
                out += [text[pos:hit], placeholder]
                pos = end
            hit = lowered.find(needle, hit + 1 if inside_word else end)
        out.append(text[pos:])
        text = "".join(out)
    return text


def _may_hold(text: str, names: Sequence[str]) -> bool:
    """Cheap pre-check (a superset of what ``_remove_known_names`` removes): may a form of a
    known name occur in ``text``?"""
    lowered = None
    for name in names:
        if name.isascii():
            lowered = lowered if lowered is not None else text.lower()
            parts = name.lower().split()
            if " ".join(parts) in lowered or any(len(p) >= 3 and p in lowered for p in parts):
                return True
        elif not _CJK.search(name):
            return True  # other scripts (full-width, accents): let the exact pass decide
        else:
            compact = "".join(name.split())
            if compact in text or (len(compact) >= 3 and compact[-2:] in text):
                return True
            if unicodedata.normalize("NFKC", compact) != compact:
                return True
    return False


def _scrub_one(text: str, names: Sequence[str], rules: Iterable[int]) -> str:
    zh = bool(_CJK.search(text))
    replacers = _REPLACERS[zh]
    for i in rules:
        text = replacers[i](text)
    if names and _may_hold(text, names):
        text = _remove_known_names(text, names, PLACEHOLDERS["name"][0 if zh else 1])
    return text


_ALL_RULES = tuple(range(len(RULES)))


def scrub_text(text: str | None, names: Iterable[str] = ()) -> str | None:
    """Remove identifiers (and the given known names of the record) from one text."""
    if not text:
        return text
    return _scrub_one(text, tuple(n for n in names if isinstance(n, str)), _ALL_RULES)


_CHUNK = 1_000_000  # rows per Arrow call (slices are zero-copy; each call compiles the patterns)
_SMALL = 64  # fewer texts than this: run every rule (compiling the triggers costs more)
_PARALLEL_FROM = 20_000  # this many rows or more: trigger passes run on two threads
_DUCKDB_FROM = 20_000  # this many rows or more: the known-name pre-check runs in DuckDB


def _flags(texts: pa.Array, pattern: str) -> np.ndarray:
    hits = pc.fill_null(pc.match_substring_regex(texts, pattern), False)
    return hits.to_numpy(zero_copy_only=False)


def _group_flags(chunk: pa.Array, group: tuple[int, ...]) -> dict[int, np.ndarray]:
    """Trigger index -> flags over ``chunk``: one pass for the group's union, then each
    member trigger over the (few) rows the union flagged."""
    union = "|".join(f"(?:{TRIGGERS[t]})" for t in group)
    hit = _flags(chunk, union)
    if len(group) == 1:
        return {group[0]: hit}
    rows = np.flatnonzero(hit)
    out = {t: np.zeros(len(chunk), dtype=bool) for t in group}
    if len(rows):
        flagged = chunk.take(pa.array(rows))
        for t in group:
            out[t][rows] = _flags(flagged, TRIGGERS[t])
    return out


def _run_all(jobs: list[Callable[[], dict[int, np.ndarray]]], parallel: bool) -> dict:
    out: dict = {}
    if parallel:  # Arrow releases the GIL: two passes at a time
        with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
            for found in pool.map(lambda job: job(), jobs):
                out.update(found)
    else:
        for job in jobs:
            out.update(job())
    return out


def _rules_for_chunk(chunk: pa.Array) -> dict[int, tuple[int, ...]]:
    """Row (within ``chunk``) -> indices of the rules whose trigger matches it."""
    gates = _run_all(
        [lambda g=g: {g: _flags(chunk, GATES[g])} for g in range(len(GATES))],
        len(chunk) >= _PARALLEL_FROM,
    )
    candidates = np.flatnonzero(np.logical_or.reduce([gates[g] for g in range(len(GATES))]))
    if not len(candidates):
        return {}
    subset = chunk.take(pa.array(candidates))
    per_trigger = _run_all(
        [lambda g=g: _group_flags(subset, g) for g in TRIGGER_GROUPS],
        len(subset) >= _PARALLEL_FROM,
    )
    matrix = np.stack([per_trigger[t] for t in range(len(TRIGGERS))])  # triggers x candidates
    # One integer per row holds its trigger flags; each distinct pattern is mapped to its rules
    # once (a few dozen patterns), not once per row.
    codes = (matrix.T.astype(np.uint64) << np.arange(len(TRIGGERS), dtype=np.uint64)).sum(axis=1)
    hit = np.flatnonzero(codes)
    if not len(hit):
        return {}
    lookup = {
        int(code): tuple(i for i, t in enumerate(_RULE_TRIGGER) if (int(code) >> t) & 1)
        for code in np.unique(codes[hit])
    }
    rows = candidates[hit].tolist()
    return dict(zip(rows, map(lookup.__getitem__, codes[hit].tolist()), strict=True))


def rules_to_run(texts: pa.Array | Sequence[str | None]) -> dict[int, tuple[int, ...]]:
    """Row -> indices (in ``RULES``) of the rules that may match it; rows absent need none."""
    if not isinstance(texts, pa.Array):
        texts = pa.array(list(texts), type=pa.large_string())
    out: dict[int, tuple[int, ...]] = {}
    for start in range(0, len(texts), _CHUNK):
        found = _rules_for_chunk(texts.slice(start, _CHUNK))
        out.update({start + row: rules for row, rules in found.items() if rules})
    return out


# DuckDB version of ``_may_hold`` (a vectorised per-row "contains"): names of Chinese
# characters by the name and its last two characters, printable-ASCII names (words separated
# by single spaces) by their lower-case parts; any other name is a candidate and the exact
# Python pass decides.
_KNOWN_NAME_SQL = r"""
SELECT i FROM texts WHERE t IS NOT NULL AND n IS NOT NULL AND n <> '' AND CASE
  WHEN regexp_full_match(n, '[\x{4e00}-\x{9fff}]+') THEN
    contains(t, n) OR (length(n) >= 3 AND contains(t, right(n, 2)))
  WHEN regexp_full_match(n, '[\x21-\x7E]+(?: [\x21-\x7E]+)*') THEN
    contains(lower(t), lower(n))
    OR coalesce(list_bool_or(list_transform(string_split(lower(n), ' '),
                                            lambda p: length(p) >= 3 AND contains(lower(t), p))),
                false)
  ELSE true
END
"""


def known_name_rows(texts: pa.Array, names: pa.Array) -> list[int]:
    """Rows whose text may contain a form of the row's known name (a superset)."""
    if len(texts) < _DUCKDB_FROM:
        pairs = zip(texts.to_pylist(), names.to_pylist(), strict=True)
        return [
            i
            for i, (text, name) in enumerate(pairs)
            if text and name and name.strip() and _may_hold(text, (name,))
        ]
    import duckdb  # only for large columns; keeps ``import pipeline.privacy`` light

    table = pa.table({"i": pa.array(np.arange(len(texts))), "t": texts, "n": names})
    con = duckdb.connect()
    try:
        con.register("texts", table)
        found = con.sql(_KNOWN_NAME_SQL).fetchnumpy()["i"]
    finally:
        con.close()
    return [int(i) for i in found]


def _as_arrow(values: pd.Series) -> pa.Array:
    """A column as an Arrow string array (zero-copy when pandas already holds it in Arrow);
    anything that is not a string becomes null."""
    if isinstance(values.dtype, pd.StringDtype):
        arr = pa.array(values, from_pandas=True)
        if pa.types.is_large_string(arr.type) or pa.types.is_string(arr.type):
            return arr
    return pa.array(
        [v if isinstance(v, str) else None for v in values.tolist()], type=pa.large_string()
    )


def scrub_series(texts: pd.Series, known_names: pd.Series | None = None) -> pd.Series:
    """Scrub a whole column: identifiers the rules find, and each row's known name
    (``known_names``: the record's own name, aligned with ``texts`` by position; missing
    where unknown). Returns a copy; values that are not text stay as they are; index, name
    and dtype are kept."""
    if known_names is not None and len(known_names) != len(texts):
        raise ValueError(f"known_names has {len(known_names)} rows, texts {len(texts)}")
    arr = _as_arrow(texts)
    names = _as_arrow(known_names) if known_names is not None else None
    if len(arr) < _SMALL:
        rules = {i: _ALL_RULES for i in range(len(arr)) if arr[i].is_valid}
    else:
        rules = rules_to_run(arr)
    candidates = set(rules)
    if names is not None:
        candidates.update(known_name_rows(arr, names))
    out = texts.copy()
    if not candidates:
        return out
    rows = sorted(candidates)
    taken = pa.array(rows, type=pa.int64())
    row_texts = arr.take(taken).to_pylist()
    row_names = names.take(taken).to_pylist() if names is not None else [None] * len(rows)
    changed: dict[int, str] = {}
    for i, text, name in zip(rows, row_texts, row_names, strict=True):
        if not text:
            continue
        scrubbed = _scrub_one(text, (name,) if name and name.strip() else (), rules.get(i, ()))
        if scrubbed != text:
            changed[i] = scrubbed
    if changed:
        out.iloc[list(changed)] = list(changed.values())
    return out


def scrub_columns(
    frame: pd.DataFrame, columns: Sequence[str], known_names: pd.Series | None = None
) -> dict[str, pd.Series]:
    """``scrub_series`` over several columns of one frame in a single pass (one trigger run
    for all of them); each row's known name applies to every column of the row."""
    parts = [frame[c].reset_index(drop=True).astype(object) for c in columns]
    stacked = pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype=object)
    names = None
    if known_names is not None:
        one = known_names.reset_index(drop=True).astype(object)
        names = pd.concat([one] * len(columns), ignore_index=True)
    out = scrub_series(stacked, names)
    result, start = {}, 0
    for column in columns:
        n = len(frame)
        values = out.iloc[start : start + n].tolist()
        result[column] = pd.Series(values, index=frame.index, dtype=frame[column].dtype)
        start += n
    return result
