"""Fast text features for the product coder: character n-grams, English words and word pairs,
and product-lexicon terms, found for a whole batch of texts at once.

scikit-learn's ``TfidfVectorizer`` builds every n-gram as a Python string (60-80 us a case for
character 1-3-grams). Here a batch of (already normalised) texts is joined into one array of
code points and every substring is identified by a 64-bit polynomial hash computed with numpy
from prefix sums: ``hash(a, b) = (P[b] - P[a]) * B^-a`` (mod 2^64) where ``P`` is the running
sum of ``code[i] * B^i``. The hashes are looked up in a fitted vocabulary (sorted keys,
``searchsorted``), so features are exact (no hashing-trick collisions beyond the 2^-64 chance
of two different strings sharing a hash) and a text costs a few microseconds.

Kinds of features (each block TF-IDF weighted with sublinear TF and L2-normalised, as
``TfidfVectorizer(sublinear_tf=True)`` does):

- ``char``: character n-grams (``n`` in ``char_ngrams``) that do not cross a space inside
  them (a space may open or close the n-gram: the word-boundary n-grams of ``char_wb``);
- ``word``: runs of letters ``a-z`` (English words of two letters or more) and pairs of
  consecutive words in the same text.

Lexicon terms (``LexiconIndex``) are matched on the same arrays: Chinese terms as substrings
of runs of Chinese characters, English terms as sequences of whole words (``[a-z0-9]+``),
whatever separates them; a match inside a longer match is dropped (电动自行车 is an e-bike, not
also a 自行车 bicycle).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

_B = 0x9E3779B97F4A7C15  # odd: invertible modulo 2^64
_B_INV = pow(_B, -1, 2**64)
_W = 0xD6E8FEB86659FD93  # word-sequence multiplier (odd)
_W_INV = pow(_W, -1, 2**64)
_SEP = 0  # code point joining the texts of a batch
_U64 = np.uint64


_POWERS: dict[int, np.ndarray] = {}


def _powers(base: int, n: int) -> np.ndarray:
    """``base^i`` (mod 2^64) for i < n; kept and grown, so a batch reads a prefix of it."""
    have = _POWERS.get(base)
    if have is None or len(have) < n:
        size = max(n, 2 * len(have) if have is not None else 1 << 16)
        out = np.full(size, base, dtype=_U64)
        out[0] = 1
        np.cumprod(out, out=out)  # wraps modulo 2^64
        _POWERS[base] = have = out
    return have[:n]


@dataclass
class Batch:
    """A batch of texts as one array of code points with the prefix hashes of every position."""

    codes: np.ndarray  # (N,) uint32 code points, texts joined by _SEP (one after each text)
    starts: np.ndarray  # (n_texts,) index of each text's first code point
    row: np.ndarray  # (N,) text index of each position
    prefix: np.ndarray  # (N + 1,) uint64
    inv: np.ndarray  # (N,) uint64 B^-i

    @classmethod
    def of(cls, texts: Sequence[str]) -> Batch:
        joined = "\x00".join(texts) + "\x00"
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
        starts = np.zeros(len(texts), dtype=np.int64)
        if len(texts):
            np.cumsum(lengths[:-1], out=starts[1:])
        row = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        n = len(codes)
        with np.errstate(over="ignore"):
            terms = codes.astype(_U64) * _powers(_B, n)
            prefix = np.zeros(n + 1, dtype=_U64)
            np.cumsum(terms, out=prefix[1:])
        return cls(codes, starts, row, prefix, _powers(_B_INV, n))

    def hashes(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Hashes of the substrings ``[a, b)`` (positions in the joined array)."""
        with np.errstate(over="ignore"):
            return (self.prefix[b] - self.prefix[a]) * self.inv[a]

    def hashes_n(self, n: int) -> np.ndarray:
        """Hashes of every substring of length ``n``, by start position (contiguous slices,
        no gathers): element ``a`` is ``[a, a + n)``."""
        total = len(self.codes)
        if total < n:
            return np.zeros(0, dtype=_U64)
        with np.errstate(over="ignore"):
            return (self.prefix[n:] - self.prefix[: total + 1 - n]) * self.inv[: total + 1 - n]

    def runs(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start and end positions of the maximal runs of ``True`` in ``mask``."""
        padded = np.concatenate(([False], mask, [False]))
        edges = np.flatnonzero(padded[1:] != padded[:-1])
        return edges[0::2], edges[1::2]


def _ngram_positions(blocked: np.ndarray, n: int, interior: np.ndarray | None = None) -> np.ndarray:
    """Start positions ``a`` of the n-grams ``[a, a + n)`` containing no ``blocked`` position
    and, when ``interior`` is given, no ``interior`` position strictly inside them."""
    total = len(blocked)
    if total < n:
        return np.zeros(0, dtype=np.int64)
    count = np.concatenate(([0], np.cumsum(blocked)))
    a = np.arange(total - n + 1)
    ok = count[a + n] == count[a]
    if interior is not None and n >= 3:
        inner = np.concatenate(([0], np.cumsum(interior)))
        ok &= inner[a + n - 1] == inner[a + 1]
    return a[ok]


def _counts(mask: np.ndarray) -> np.ndarray:
    """Running count of ``mask`` with a leading 0: ``c[b] - c[a]`` = set positions in
    ``[a, b)``."""
    out = np.zeros(len(mask) + 1, dtype=np.int32)
    np.cumsum(mask, out=out[1:])
    return out


def word_spans(batch: Batch, letters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of the words (runs of ``letters``) of a batch."""
    return batch.runs(letters)


_FIB = 0x9E3779B97F4A7C15  # Fibonacci hashing: the product's high bits mix every key bit


class HashTable:
    """Open-addressing table from 64-bit keys to their index in a sorted key array, looked up
    for a whole array of hashes at once (a handful of numpy gathers, no per-key Python)."""

    def __init__(self, keys: np.ndarray, load: float = 0.05) -> None:
        self.bits = max(10, int(np.ceil(np.log2(max(len(keys), 1) / load))))
        size = 1 << self.bits
        slots = np.full(size, -1, dtype=np.int32)
        probes = 0
        for i, home in enumerate(self._home(keys).tolist()):
            j = 0
            while slots[(home + j) & (size - 1)] >= 0:
                j += 1
            slots[(home + j) & (size - 1)] = i
            probes = max(probes, j)
        self.slots, self.max_probe, self.keys = slots, probes, keys

    def _home(self, hashes: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return ((hashes * _U64(_FIB)) >> _U64(64 - self.bits)).astype(np.int64)

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """Index of each hash in ``keys``, -1 when absent."""
        out = np.full(len(hashes), -1, dtype=np.int64)
        if len(self.keys) == 0 or len(hashes) == 0:
            return out
        home = self._home(hashes)
        todo = np.arange(len(hashes))
        mask = len(self.slots) - 1
        for j in range(self.max_probe + 1):
            slot = self.slots[(home[todo] + j) & mask]
            filled = slot >= 0
            hit = filled & (self.keys[np.maximum(slot, 0)] == hashes[todo])
            out[todo[hit]] = slot[hit]
            todo = todo[filled & ~hit]  # an empty slot ends the probe sequence
            if len(todo) == 0:
                break
        return out


@dataclass
class Vocabulary:
    """Sorted 64-bit keys -> column; inverse document frequencies."""

    keys: np.ndarray  # (F,) uint64 sorted
    idf: np.ndarray  # (F,) float32
    table: HashTable | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "table": None}  # rebuilt on first use, not stored

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """Column of each hash, -1 when it is not in the vocabulary."""
        if self.table is None:
            self.table = HashTable(self.keys)
        return self.table.lookup(hashes)

    def __len__(self) -> int:
        return len(self.keys)


def _tfidf(rows: np.ndarray, cols: np.ndarray, n_rows: int, vocab: Vocabulary) -> sp.csr_matrix:
    keep = cols >= 0
    rows, cols = rows[keep], cols[keep]
    m = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_rows, len(vocab))
    )
    m.sum_duplicates()
    np.log(m.data, out=m.data)
    m.data += 1.0
    m.data *= vocab.idf[m.indices]
    lengths = np.diff(m.indptr)
    norms = np.sqrt(
        np.bincount(np.repeat(np.arange(n_rows), lengths), weights=m.data**2, minlength=n_rows)
    ).astype(np.float32)
    norms[norms == 0] = 1.0
    m.data /= np.repeat(norms, lengths)
    return m


def _fit_vocab(
    rows: np.ndarray, hashes: np.ndarray, n_rows: int, min_df: int, max_features: int
) -> Vocabulary:
    """Keys found in at least ``min_df`` texts; the ``max_features`` most frequent (ties by
    key, so the vocabulary is deterministic); smoothed idf as in scikit-learn."""
    pairs = np.unique(np.stack([hashes, rows.astype(_U64)]), axis=1)
    keys, df = np.unique(pairs[0], return_counts=True)
    keep = df >= min_df
    keys, df = keys[keep], df[keep]
    if len(keys) > max_features:
        order = np.lexsort((keys, -df))[:max_features]
        keys, df = keys[order], df[order]
        order = np.argsort(keys)
        keys, df = keys[order], df[order]
    idf = (np.log((1 + n_rows) / (1 + df)) + 1.0).astype(np.float32)
    return Vocabulary(keys, idf)


@dataclass
class TextFeatures:
    """Character n-gram and English word / word-pair features (see the module docstring)."""

    char_ngrams: tuple[int, ...] = (1, 2, 3)
    min_df: int = 2
    char_max_features: int = 40000
    word_max_features: int = 10000
    char_vocab: Vocabulary | None = None
    word_vocab: Vocabulary | None = None
    info: dict = field(default_factory=dict)

    # ---- raw hashes of a batch --------------------------------------------------------------
    def _char_hashes(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        codes = batch.codes
        total = len(codes)
        sep = codes == _SEP
        space = codes == 32
        blocked = _counts(sep)
        blocked_1 = _counts(sep | space)
        spaces = _counts(space)
        rows, hashes = [], []
        for n in self.char_ngrams:
            if total < n:
                continue
            # a lone space is no feature; spaces inside an n-gram split words (char_wb)
            count = blocked_1 if n == 1 else blocked
            ok = count[n:] == count[: total + 1 - n]
            if n == 2:  # "  " cannot occur after normalisation; " x" and "x " can
                ok &= ~(space[:-1] & space[1:])
            elif n >= 3:  # positions a+1 .. a+n-2 hold no space
                ok &= spaces[n - 1 : total] == spaces[1 : total + 2 - n]
            rows.append(batch.row[: total + 1 - n][ok])
            hashes.append(batch.hashes_n(n)[ok] ^ _U64(n))
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=_U64)
        return np.concatenate(rows), np.concatenate(hashes)

    def _word_hashes(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        codes = batch.codes
        letters = (codes >= 97) & (codes <= 122)
        start, end = word_spans(batch, letters)
        long = end - start >= 2
        start, end = start[long], end[long]
        rows = batch.row[start]
        uni = batch.hashes(start, end)
        same = rows[1:] == rows[:-1]
        bi = batch.hashes(start[:-1][same], end[1:][same]) ^ _U64(0xB16A)
        return np.concatenate([rows, rows[:-1][same]]), np.concatenate([uni, bi])

    # ---- fit / transform ----------------------------------------------------------------------
    def fit(self, texts: Sequence[str]) -> TextFeatures:
        batch = Batch.of(texts)
        r, h = self._char_hashes(batch)
        self.char_vocab = _fit_vocab(r, h, len(texts), self.min_df, self.char_max_features)
        r, h = self._word_hashes(batch)
        self.word_vocab = _fit_vocab(r, h, len(texts), self.min_df, self.word_max_features)
        return self

    def transform(self, texts: Sequence[str], batch: Batch | None = None) -> list[sp.csr_matrix]:
        assert self.char_vocab is not None and self.word_vocab is not None, "fit first"
        batch = batch or Batch.of(texts)
        n = len(texts)
        r, h = self._char_hashes(batch)
        char = _tfidf(r, self.char_vocab.lookup(h), n, self.char_vocab)
        r, h = self._word_hashes(batch)
        word = _tfidf(r, self.word_vocab.lookup(h), n, self.word_vocab)
        return [char, word]

    @property
    def n_features(self) -> int:
        return len(self.char_vocab or ()) + len(self.word_vocab or ())

    def known_share(self, texts: Sequence[str], batch: Batch | None = None) -> np.ndarray:
        """Share of each text's English words and Chinese character pairs that are features
        (1.0 for a text with neither): how much of the text the model can read."""
        batch = batch or Batch.of(texts)
        codes = batch.codes
        n = len(texts)
        letters = (codes >= 97) & (codes <= 122)
        start, end = word_spans(batch, letters)
        long = end - start >= 2
        start, end = start[long], end[long]
        w_rows = batch.row[start]
        w_known = self.word_vocab.lookup(batch.hashes(start, end)) >= 0
        han = (codes >= 0x3400) & (codes <= 0x9FFF)
        a = _ngram_positions(~han, 2)
        c_rows = batch.row[a]
        c_known = self.char_vocab.lookup(batch.hashes(a, a + 2) ^ _U64(2)) >= 0
        total = np.bincount(w_rows, minlength=n) + np.bincount(c_rows, minlength=n)
        known = np.bincount(w_rows, weights=w_known, minlength=n) + np.bincount(
            c_rows, weights=c_known, minlength=n
        )
        return np.where(total > 0, known / np.maximum(total, 1), 1.0)


# ---- product lexicon on the same arrays ------------------------------------------------------


def _is_han(codes: np.ndarray) -> np.ndarray:
    return (codes >= 0x3400) & (codes <= 0x9FFF)


def _is_alnum(codes: np.ndarray) -> np.ndarray:
    return ((codes >= 97) & (codes <= 122)) | ((codes >= 48) & (codes <= 57))


def _word_sequence_hashes(batch: Batch, max_words: int) -> tuple:
    """For every run of 1..max_words consecutive words (``[a-z0-9]+``) in one text: its
    start, end and a hash of the word sequence that ignores what separates the words."""
    start, end = batch.runs(_is_alnum(batch.codes))
    if len(start) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=_U64)
    wh = batch.hashes(start, end)
    rows = batch.row[start]
    m = len(start)
    with np.errstate(over="ignore"):
        q = np.zeros(m + 1, dtype=_U64)
        np.cumsum(wh * _powers(_W, m), out=q[1:])
        inv = _powers(_W_INV, m)
    out_s, out_e, out_h = [], [], []
    for k in range(1, max_words + 1):
        if m < k:
            break
        i = np.arange(m - k + 1)
        i = i[rows[i] == rows[i + k - 1]]
        with np.errstate(over="ignore"):
            h = (q[i + k] - q[i]) * inv[i]
        out_s.append(start[i])
        out_e.append(end[i + k - 1])
        out_h.append(h)
    return np.concatenate(out_s), np.concatenate(out_e), np.concatenate(out_h)


@dataclass
class LexiconIndex:
    """Lexicon terms as 64-bit hashes -> category indices (a term may name several)."""

    n_categories: int
    keys: np.ndarray  # (T,) uint64 sorted, unique
    term_offsets: np.ndarray  # (T + 1,) into term_categories
    term_categories: np.ndarray  # category indices
    han_lengths: tuple[int, ...]  # lengths (characters) of the Chinese terms
    max_words: int  # most words in an English term
    table: HashTable | None = None
    # hashes of the first two characters of the Chinese terms: only positions starting with
    # one of them are tried at every term length (a tenth of the work of trying them all)
    prefix_keys: np.ndarray | None = None
    prefix_table: HashTable | None = None

    @classmethod
    def build(
        cls, n_categories: int, zh_terms: dict[str, Sequence[int]], en_terms: dict
    ) -> LexiconIndex:
        """``zh_terms``: Chinese string -> category indices; ``en_terms``: tuple of words ->
        category indices (both already normalised as the texts will be)."""
        hashes: dict[int, set[int]] = {}
        zh = sorted(zh_terms)
        if zh:
            b = Batch.of(zh)
            ends = b.starts + np.fromiter((len(t) for t in zh), dtype=np.int64, count=len(zh))
            for term, h in zip(zh, b.hashes(b.starts, ends).tolist(), strict=True):
                hashes.setdefault(h ^ 0x2E, set()).update(zh_terms[term])
        en = sorted(en_terms)
        if en:
            b = Batch.of([" ".join(t) for t in en])
            s, e, h = _word_sequence_hashes(b, max(len(t) for t in en))
            full = {  # the hash of the whole term: the run from its first to its last word
                (int(r), int(ss)): hh
                for r, ss, ee, hh in zip(b.row[s], s, e, h.tolist(), strict=True)
                if ee == b.starts[r] + len(" ".join(en[r])) and ss == b.starts[r]
            }
            for i, term in enumerate(en):
                hashes.setdefault(full[(i, int(b.starts[i]))], set()).update(en_terms[term])
        prefixes = sorted({t[:2] for t in zh})
        prefix_keys = np.zeros(0, dtype=_U64)
        if prefixes:
            b = Batch.of(prefixes)
            prefix_keys = np.unique(b.hashes(b.starts, b.starts + 2) ^ _U64(0x2E))
        keys = np.array(sorted(hashes), dtype=_U64)
        cats = [sorted(hashes[int(k)]) for k in keys.tolist()]
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum([len(c) for c in cats], out=offsets[1:])
        flat = np.array([c for cs in cats for c in cs], dtype=np.int32)
        return cls(
            n_categories=n_categories,
            keys=keys,
            term_offsets=offsets,
            term_categories=flat,
            han_lengths=tuple(sorted({len(t) for t in zh})),
            max_words=max((len(t) for t in en), default=1),
            prefix_keys=prefix_keys,
        )

    def __getstate__(self) -> dict:
        return {**self.__dict__, "table": None, "prefix_table": None}  # rebuilt, not stored

    def _lookup(self, hashes: np.ndarray) -> np.ndarray:
        if self.table is None:
            self.table = HashTable(self.keys)
        return self.table.lookup(hashes)

    def matches(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """(text index, category index) of every term found (not inside a longer match)."""
        starts, ends, terms = [], [], []
        codes = batch.codes
        total = len(codes)
        han = _is_han(codes)
        prefix_keys = getattr(self, "prefix_keys", None)
        if prefix_keys is not None and total >= 2:
            if self.prefix_table is None:
                self.prefix_table = HashTable(prefix_keys)
            a2 = np.flatnonzero(han[:-1] & han[1:])
            cand = a2[self.prefix_table.lookup(batch.hashes_n(2)[a2] ^ _U64(0x2E)) >= 0]
            not_han = _counts(~han)
            tries = [(length, cand[cand + length <= total]) for length in self.han_lengths]
            tries = [(n, a[not_han[a + n] == not_han[a]]) for n, a in tries]
        else:  # an index built before the prefix filter: every position
            tries = [(n, _ngram_positions(~han, n)) for n in self.han_lengths]
        for length, a in tries:
            t = self._lookup(batch.hashes(a, a + length) ^ _U64(0x2E))
            hit = t >= 0
            starts.append(a[hit])
            ends.append(a[hit] + length)
            terms.append(t[hit])
        s, e, h = _word_sequence_hashes(batch, self.max_words)
        t = self._lookup(h)
        hit = t >= 0
        starts.append(s[hit])
        ends.append(e[hit])
        terms.append(t[hit])
        s, e, t = np.concatenate(starts), np.concatenate(ends), np.concatenate(terms)
        if len(s) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        # longest match first, no overlaps (as reading left to right): sort by start, longer
        # first; a match starting before the furthest end of the matches sorted before it is
        # inside or across one of them and is dropped
        order = np.lexsort((-(e - s), s))
        s, e, t = s[order], e[order], t[order]
        reach = np.maximum.accumulate(e)
        keep = np.r_[True, s[1:] >= reach[:-1]]
        s, t = s[keep], t[keep]
        counts = self.term_offsets[t + 1] - self.term_offsets[t]
        rows = np.repeat(batch.row[s], counts)
        cat_pos = np.repeat(self.term_offsets[t], counts) + (
            np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        return rows, self.term_categories[cat_pos].astype(np.int64)

    def features(self, batch: Batch, n_texts: int) -> sp.csr_matrix:
        """One column per category, 1 where a term of the category is found in the text."""
        rows, cats = self.matches(batch)
        m = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cats)),
            shape=(n_texts, self.n_categories),
        )
        m.sum_duplicates()
        m.data[:] = 1.0
        return m
