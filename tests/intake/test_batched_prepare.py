"""A batch of files is prepared in one columnar pass (``read_submissions``); each file's staged
form must be exactly what reading it alone gives: the busy landing (CSV in English and Chinese,
GB18030, XLSX, NEISS, in-file duplicates, rejected and unreadable files, two hospitals)."""

from __future__ import annotations

import intake_helpers as h
import pandas as pd
import pytest

from pipeline import reference
from pipeline.intake.discover import stamp_arrivals
from pipeline.intake.submission import read_submission, read_submissions
from pipeline.services import intake


@pytest.mark.slow
def test_batch_equals_each_file_alone(tmp_path) -> None:
    settings = h.make_settings(tmp_path)
    h.build_busy_landing(settings.landing_dir)
    files = stamp_arrivals(
        intake._candidates(settings, None, None, None), intake._arrivals(settings)
    )
    assert len(files) >= 10
    registry = reference.load_hospitals(settings.hospital_registry)
    key = h.KEY.encode()
    together = read_submissions(files, registry, key, limits=settings.intake)
    prepared = 0
    for f, batched in zip(files, together, strict=True):
        alone = read_submission(f, registry, key, limits=settings.intake)
        assert batched.meta == alone.meta, f.relpath
        assert batched.row_errors == alone.row_errors, f.relpath
        if alone.frame is None:
            assert batched.frame is None, f.relpath
            continue
        prepared += 1
        assert list(batched.frame.columns) == list(alone.frame.columns), f.relpath
        pd.testing.assert_frame_equal(batched.frame, alone.frame, obj=f.relpath)
    # Not vacuous: several files were prepared together, of different layouts.
    assert prepared >= 8
    assert {s.meta["file_format"] for s in together} >= {"csv", "xlsx", "neiss"}
