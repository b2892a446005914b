"""Narrative analysis for hazard patterns, done once per narrative and kept.

Everything pattern clustering and labelling read from a narrative comes from one pass over it
(``analyse_narrative``): the lexicon concepts (one combined matcher,
``features.ConceptMatcher``), the hashed terms of the case vector with their counts, and for
labels the Chinese 2-4 character terms and the English words. A refresh looks every case up by
the *content* it reads (product name and narrative; ``content_key``), analyses only contents it
has not seen, and the store keeps the results:

- within a refresh, a narrative is analysed once although the IDF, the clustering, the pattern
  labels and their category backgrounds all read it;
- across refreshes, the results are kept under ``$SENTINEL_HOME/patterns/analysis/<code>/``
  (Arrow IPC files, one per refresh that analysed something new), so a refresh analyses only
  the case versions it has not seen before. ``<code>`` fingerprints the source of this module,
  ``features.py`` and ``lexicon.py``: a change to the lexicon or the analysis starts a new store
  and the old one is removed.

The store is a cache of a pure function of the content: a part written by a refresh that then
failed is still right, and deleting the folder only costs time.

Chinese terms are kept as integers: every character of a Chinese run is in U+3400..U+9FFF, so
a term of n <= 4 characters packs into ``n << 15n | c1 << 15(n-1) | ... | cn`` (c = code point -
0x3400) and unpacks exactly (``zh_term``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather

from pipeline.clustering import features, lexicon
from pipeline.clustering.features import (
    CJK,
    EN_STOP,
    EN_WORD,
    MATCHER,
    ZH_STOP_BIGRAMS,
    Idf,
    _without_product,
    normalise_text,
    term_index,
)

MAX_PARTS = 8  # more parts than this are merged into one
_CJK_BASE = 0x3400


def _fingerprint() -> str:
    digest = hashlib.sha256()
    # NFKC (``normalise_text``) follows the interpreter's Unicode database
    digest.update(unicodedata.unidata_version.encode())
    for module in (features, lexicon):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


FINGERPRINT = _fingerprint()


def zh_id(term: str) -> int:
    value = len(term)
    for ch in term:
        value = (value << 15) | (ord(ch) - _CJK_BASE)
    return value


def zh_term(value: int) -> str:
    value = int(value)
    for n in (2, 3, 4):
        if value >> (15 * n) == n:
            return "".join(
                chr(((value >> (15 * (n - 1 - k))) & 0x7FFF) + _CJK_BASE) for k in range(n)
            )
    raise ValueError(f"not a packed Chinese term: {value}")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def content_key(product_name: object, narrative: object) -> str:
    """What the analysis depends on (a missing value reads as empty text), hashed."""
    name, text = _text(product_name), _text(narrative)
    return hashlib.md5(
        f"{len(name)}:{name}{text}".encode("utf-8", "surrogatepass"), usedforsecurity=False
    ).hexdigest()


def analyse_narrative(
    product_name: object, narrative: object, ids: dict[str, int] | None = None
) -> tuple[list[int], list[int], list[int], list[int], list[str]]:
    """One pass over a narrative: (sorted concept indices, hashed term indices in order of first
    occurrence, their counts, sorted packed Chinese label terms, sorted English label words).

    Same results as ``features.analyse`` (concepts, terms) and, for labels, Chinese n-grams of
    2-4 characters within a run that neither start nor end with a boilerplate bigram and English
    words of three letters or more that are not boilerplate. ``ids``: a memo of packed term ids
    (terms repeat across narratives)."""
    ids = {} if ids is None else ids
    text = _without_product(normalise_text(_text(narrative)), _text(product_name))
    concepts = sorted(MATCHER(text))
    counts: dict[int, int] = {}
    grams: set[str] = set()
    for run in CJK.findall(text):
        bigrams = [run[i : i + 2] for i in range(len(run) - 1)]
        ok = [b not in ZH_STOP_BIGRAMS for b in bigrams]
        for b, keep in zip(bigrams, ok, strict=True):
            if keep:
                j = term_index(b)
                counts[j] = counts.get(j, 0) + 1
                grams.add(b)
        grams.update(run[i : i + 3] for i in range(len(run) - 2) if ok[i] and ok[i + 1])
        grams.update(run[i : i + 4] for i in range(len(run) - 3) if ok[i] and ok[i + 2])
    words = [w for w in EN_WORD.findall(text) if len(w) >= 3 and w not in EN_STOP]
    for w in words:
        j = term_index(w)
        counts[j] = counts.get(j, 0) + 1
    return (
        concepts,
        list(counts),
        list(counts.values()),
        sorted(ids.get(g) or ids.setdefault(g, zh_id(g)) for g in grams),
        sorted(set(words)),
    )


class Ragged:
    """Variable-length rows of numbers: ``values`` and row boundaries ``offsets``."""

    def __init__(self, values: np.ndarray, offsets: np.ndarray) -> None:
        self.values, self.offsets = values, offsets

    @classmethod
    def from_lists(cls, rows: Sequence[Sequence[int]], dtype: type) -> Ragged:
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        values = np.fromiter((v for r in rows for v in r), dtype=dtype, count=int(offsets[-1]))
        return cls(values, offsets)

    @classmethod
    def from_arrow(cls, column: pa.ChunkedArray, dtype: type) -> Ragged:
        lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False).astype(np.int64)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        values = pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(dtype)
        return cls(values, offsets)

    def to_arrow(self, start: int, stop: int, kind: pa.DataType) -> pa.Array:
        offsets = self.offsets[start : stop + 1]
        return pa.ListArray.from_arrays(
            pa.array(offsets - offsets[0], type=pa.int32()),
            pa.array(self.values[offsets[0] : offsets[-1]], type=kind),
        )

    def extend(self, other: Ragged) -> None:
        self.values = np.concatenate([self.values, other.values])
        self.offsets = np.concatenate([self.offsets, other.offsets[1:] + self.offsets[-1]])

    def row(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def lengths(self, rows: np.ndarray) -> np.ndarray:
        return self.offsets[rows + 1] - self.offsets[rows]

    def gather(self, rows: np.ndarray) -> np.ndarray:
        """The values of ``rows`` (in that order, repeats included), concatenated."""
        lengths = self.lengths(rows)
        total = int(lengths.sum())
        if total == 0:
            return self.values[:0]
        starts = self.offsets[rows]
        shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        return self.values[np.arange(total, dtype=np.int64) + shift]


_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("concepts", pa.list_(pa.uint8())),
        ("term_idx", pa.list_(pa.uint16())),
        ("term_cnt", pa.list_(pa.uint32())),
        ("zh", pa.list_(pa.int64())),
        ("en", pa.list_(pa.string())),
    ]
)


class DocStore:
    """The analysed narratives, one row per distinct content. ``DocStore(None)`` keeps them in
    memory only (tests, benchmarks); ``DocStore.open(folder)`` also loads and keeps them on
    disk (``save`` writes what this process added)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self.index: dict[str, int] = {}
        self.concepts = Ragged(np.zeros(0, np.uint8), np.zeros(1, np.int64))
        self.term_idx = Ragged(np.zeros(0, np.int64), np.zeros(1, np.int64))
        self.term_cnt = Ragged(np.zeros(0, np.float32), np.zeros(1, np.int64))
        self.zh = Ragged(np.zeros(0, np.int64), np.zeros(1, np.int64))
        self.en: list[tuple[str, ...]] = []
        self.keys: list[str] = []
        self.loaded = 0  # rows on disk; rows after these are new
        self.kept = 0  # rows read from disk when opened
        self.analysed = 0  # narratives analysed by this process

    def __len__(self) -> int:
        return len(self.keys)

    # ---- persistence ---------------------------------------------------------------------
    @classmethod
    def open(cls, root: Path) -> DocStore:
        store = cls(Path(root) / FINGERPRINT)
        parts = sorted(store.folder.glob("part-*.arrow")) if store.folder.is_dir() else []
        tables = []
        for part in parts:
            try:
                tables.append(feather.read_table(part).cast(_SCHEMA))
            except (OSError, pa.ArrowException):
                # a damaged part is only lost work: its contents are analysed again
                part.unlink(missing_ok=True)
        if tables:
            store._append_table(pa.concat_tables(tables))
        store.loaded = store.kept = len(store)
        return store

    def _append_table(self, table: pa.Table) -> None:
        keys = table.column("key").to_pylist()
        # a content already held (or twice in the parts: a refresh that failed after writing
        # its part, then analysed the same contents again) is kept once, first part first
        keep: list[int] = []
        seen: set[str] = set()
        for i, k in enumerate(keys):
            if k not in self.index and k not in seen:
                seen.add(k)
                keep.append(i)
        if len(keep) < len(keys):
            table = table.take(pa.array(keep, type=pa.int64()))
            keys = [keys[i] for i in keep]
        base = len(self.keys)
        self.keys.extend(keys)
        self.index.update((k, base + i) for i, k in enumerate(keys))
        self.concepts.extend(Ragged.from_arrow(table.column("concepts"), np.uint8))
        self.term_idx.extend(Ragged.from_arrow(table.column("term_idx"), np.int64))
        self.term_cnt.extend(Ragged.from_arrow(table.column("term_cnt"), np.float32))
        self.zh.extend(Ragged.from_arrow(table.column("zh"), np.int64))
        self.en.extend(tuple(e) for e in table.column("en").to_pylist())

    def _table(self, start: int, stop: int) -> pa.Table:
        return pa.Table.from_arrays(
            [
                pa.array(self.keys[start:stop], type=pa.string()),
                self.concepts.to_arrow(start, stop, pa.uint8()),
                self.term_idx.to_arrow(start, stop, pa.uint16()),
                self.term_cnt.to_arrow(start, stop, pa.uint32()),
                self.zh.to_arrow(start, stop, pa.int64()),
                pa.array([list(e) for e in self.en[start:stop]], type=pa.list_(pa.string())),
            ],
            schema=_SCHEMA,
        )

    def save(self) -> int:
        """Write the rows added since ``open`` as a new part (temporary file, then a rename);
        merge the parts when there are too many; remove stores of other code versions.
        Returns the number of rows written."""
        if self.folder is None:
            return 0
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".part-*.tmp"):
            stale.unlink(missing_ok=True)
        written = 0
        if len(self) > self.loaded:
            self._write(self._table(self.loaded, len(self)))
            written = len(self) - self.loaded
            self.loaded = len(self)
        parts = sorted(self.folder.glob("part-*.arrow"))
        if len(parts) > MAX_PARTS:
            self._write(self._table(0, len(self)))
            for old in parts:
                old.unlink(missing_ok=True)
        for other in self.folder.parent.iterdir():
            if other.is_dir() and other != self.folder and not other.name.startswith("."):
                # best effort: a process of that other code may still be writing there
                shutil.rmtree(other, ignore_errors=True)
        return written

    def _write(self, table: pa.Table) -> None:
        name = f"part-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        tmp = self.folder / f".{name}.tmp"
        feather.write_feather(table, tmp, compression="zstd")
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.folder / f"{name}.arrow")

    # ---- lookups -------------------------------------------------------------------------
    def rows(self, product_names: Iterable[object], narratives: Iterable[object]) -> np.ndarray:
        """The store row of each (product name, narrative); contents not seen yet are analysed
        (each distinct content once) and added."""
        names, texts = list(product_names), list(narratives)
        keys = [content_key(p, n) for p, n in zip(names, texts, strict=True)]
        missing: dict[str, tuple[object, object]] = {}
        for i, key in enumerate(keys):
            if key not in self.index and key not in missing:
                missing[key] = (names[i], texts[i])
        if missing:
            self._add(missing)
        return np.fromiter((self.index[k] for k in keys), dtype=np.int64, count=len(keys))

    def _add(self, contents: dict[str, tuple[object, object]]) -> None:
        ids: dict[str, int] = {}
        results = [analyse_narrative(p, n, ids) for p, n in contents.values()]
        self.analysed += len(results)
        base = len(self.keys)
        self.keys.extend(contents)
        self.index.update((k, base + i) for i, k in enumerate(contents))
        self.concepts.extend(Ragged.from_lists([r[0] for r in results], np.uint8))
        self.term_idx.extend(Ragged.from_lists([r[1] for r in results], np.int64))
        self.term_cnt.extend(Ragged.from_lists([r[2] for r in results], np.float32))
        self.zh.extend(Ragged.from_lists([r[3] for r in results], np.int64))
        self.en.extend(tuple(r[4]) for r in results)

    def vector_parts(self, rows: np.ndarray) -> Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per row what ``features.vectorise_parts`` needs."""
        for r in rows:
            yield (
                self.concepts.row(r).astype(np.int64),
                self.term_idx.row(r),
                self.term_cnt.row(r),
            )

    def idf(self, rows: np.ndarray) -> Idf:
        """``Idf.fit`` over the narratives of ``rows`` (a row per case, repeats counted)."""
        n = len(rows)
        df_c = np.bincount(
            self.concepts.gather(rows).astype(np.int64), minlength=len(lexicon.CONCEPTS)
        ).astype(np.float64)
        df_t = np.bincount(self.term_idx.gather(rows), minlength=features.TERM_DIM).astype(
            np.float64
        )
        return Idf(
            concepts=(np.log((1 + n) / (1 + df_c)) + 1).astype(np.float32),
            terms=(np.log((1 + n) / (1 + df_t)) + 1).astype(np.float32),
            n_docs=n,
        )
