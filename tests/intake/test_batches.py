"""Batches of ``sentinel ingest``: many small files of many hospitals share one validation run;
a byte bound keeps a batch's memory bounded; every file is in exactly one batch, in order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipeline.intake.discover import LandingFile, plan_batches


def _file(i: int, hospital: str, size: int) -> LandingFile:
    name = f"{hospital}_{i:05d}.csv"
    return LandingFile(
        hospital_code=hospital,
        path=f"/landing/{hospital}/{name}",
        relpath=f"{hospital}/{name}",
        sha256=f"{i:064x}",
        size_bytes=size,
        received_at="2026-03-01T08:00:00",
        order_key=name,
    )


files_st = st.lists(
    st.tuples(st.sampled_from(["GZ001", "SH001", "BJ001"]), st.integers(0, 5_000)), max_size=60
).map(lambda xs: [_file(i, h, s) for i, (h, s) in enumerate(xs)])


@given(files_st, st.integers(1, 10), st.one_of(st.none(), st.integers(1, 12_000)))
def test_batches_keep_every_file_in_order_within_bounds(files, max_files, max_bytes):
    batches = plan_batches(files, max_files=max_files, by_hospital=False, max_bytes=max_bytes)
    assert [f for b in batches for f in b] == files
    for batch in batches:
        assert 1 <= len(batch) <= max_files
        if max_bytes is not None and len(batch) > 1:
            assert sum(f.size_bytes for f in batch) <= max_bytes
    # Greedy: a batch closes only when the next file would break a bound.
    for batch, nxt in zip(batches, batches[1:], strict=False):
        size = sum(f.size_bytes for f in batch)
        assert len(batch) == max_files or (
            max_bytes is not None and size + nxt[0].size_bytes > max_bytes
        )


def test_batches_span_hospitals():
    files = [_file(i, f"H{i:03d}", 900) for i in range(200)]
    batches = plan_batches(files, max_files=512, by_hospital=False, max_bytes=16 * 2**20)
    assert len(batches) == 1 and len({f.hospital_code for f in batches[0]}) == 200
