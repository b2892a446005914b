"""The project's own labelled privacy corpus (bench/privacy/corpus.py) is deterministic and its
labels point at the identifiers they name."""

from __future__ import annotations

from collections import Counter

from bench.privacy.corpus import build
from bench.privacy.run import removed_positions


def test_same_seed_same_corpus_and_valid_labels():
    first, second = build(200, seed=11), build(200, seed=11)
    assert first == second
    assert build(200, seed=12) != first
    kinds = Counter(s["kind"] for r in first for s in r["spans"])
    assert set(kinds) == {"id_number", "phone", "email", "im_id", "address", "name"}
    for record in first:
        for span in record["spans"]:
            assert record["text"][span["start"] : span["end"]] == span["value"]
    assert sum(1 for r in first if not r["spans"]) >= 10  # identifier-free records too


def test_alignment_finds_exactly_the_replaced_stretches():
    before = "电话13812345678，其母王秀英，电话13912345678"
    after = "电话[电话]，其母[姓名]，电话[电话]"
    removed = removed_positions(before, after)
    assert "".join(before[i] for i in sorted(removed)) == "13812345678王秀英13912345678"
    assert removed_positions("same", "same") == set()
