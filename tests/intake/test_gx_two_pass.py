"""The validator's two GX passes (a pass/fail screen of every expectation over the columns the
suite reads, then COMPLETE for the failed expectations only) give exactly the errors of the
former single COMPLETE run over the whole prepared frame (kept here as the reference): same
rows, fields, values, rules and messages, in the same order, chunked or not."""

from __future__ import annotations

import warnings
from pathlib import Path

import intake_helpers as h
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.intake.prepare import prepare_extract
from pipeline.intake.reader import read_extract
from pipeline.validation import runner
from pipeline.validation.suite import load_suite_dict

pytestmark = pytest.mark.slow  # GX runs

PARAMS = {"earliest_date": "2000-01-01", "limit": "2,000"}
# Written values that break (or, for some, pass) a rule of the suite; "" blanks the cell.
VALUES: dict[str, list[str]] = {
    "hospital_code": ["GZ-001", "ZZ999", "", "gz001", h.OTHER_HOSPITAL],
    "case_id": ["bad id", "", "DUP"],
    "report_type": ["update", ""],
    "visit_datetime": ["2026-02-30", "1900-01-01", "2026-12-01 10:00", "", "昨天"],
    "injury_datetime": ["昨天", "2026-02-10 10:00", "1753-01-01 07:00", ""],
    "sex": ["", "X", "Female"],
    "age": ["four", "130", "-1", "40", "", "400", "36"],
    "age_unit": ["months", "天", "bogus", ""],
    "residence_region": ["990101", "4401041", ""],
    "cause": ["bogus", "月球", "Burn/scald"],
    "place": ["", "月球"],
    "severity": ["SEVERE", "mild?"],
    "product_category": ["ZZ99", "EL90", "", "ty11"],
    "barcode": ["12AB5678", ""],
    "brand": ["B" * 101],
    "narrative": ["  ", "很" * 2001],
}


class Reference:
    """The former path: one GX run per chunk of the whole frame at RESULT_FORMAT."""

    def __init__(self) -> None:
        import great_expectations as gx

        context = gx.get_context(mode="ephemeral")
        for site in list(context.variables.data_docs_sites or {}):
            context.delete_data_docs_site(site)
        batch = (
            context.data_sources.add_pandas("reference")
            .add_dataframe_asset("extract")
            .add_batch_definition_whole_dataframe("whole")
        )
        suite = context.suites.add(gx.ExpectationSuite(**load_suite_dict()))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name="reference", data=batch, suite=suite)
        )
        self.checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name="reference",
                validation_definitions=[definition],
                actions=[],
                result_format=runner.RESULT_FORMAT,
            )
        )

    def validate(self, frame: pd.DataFrame, chunk_rows: int | None) -> pd.DataFrame:
        frame = frame.reset_index(drop=True)
        frame["_idx"] = np.arange(len(frame))
        parts = []
        for chunk in runner._chunks(frame, chunk_rows):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                result = self.checkpoint.run(batch_parameters={"dataframe": chunk})
            for run in result.run_results.values():
                for ordinal, item in enumerate(run.results):
                    if item.success:
                        continue
                    meta = item.expectation_config.meta
                    indexes = [e["_idx"] for e in item.result["unexpected_index_list"]]
                    positions = runner._positions(indexes)
                    part = runner._attribute(
                        frame,
                        frame["_sender"],
                        positions,
                        meta["field"],
                        meta,
                        item.expectation_config.type,
                        PARAMS,
                    )
                    part["_ord"], part["_pos"] = ordinal, positions
                    parts.append(part)
        if not parts:
            return pd.DataFrame(columns=runner.ERROR_COLUMNS)
        errors = pd.concat(parts, ignore_index=True)
        errors = errors.sort_values(["_ord", "_pos"], kind="stable")[runner.ERROR_COLUMNS]
        errors["value"] = errors["value"].astype(object).where(errors["value"].notna(), None)
        errors = errors.drop_duplicates(["_submission_id", "_row", "field", "rule"])
        return errors.reset_index(drop=True)


@pytest.fixture(scope="module")
def reference():
    return Reference()


def _frame(files: list[list[tuple[dict, bool]]]) -> pd.DataFrame:
    """The prepared frames of several files (rows with an optional surplus cell) as
    check_files hands them to the validator."""
    frames = []
    for number, rows in enumerate(files):
        table = h.rows_table([row for row, _ in rows])
        for line, (_, surplus) in zip(table[1:], rows, strict=True):
            if surplus:
                line.extend(["", "surplus"])
        data = h.table_bytes(table)
        frame = prepare_extract(
            read_extract(Path("x.csv"), data),
            sender=h.HOSPITAL,
            received_at=h.RECEIVED,
            key=h.KEY.encode(),
        ).frame
        frame["_submission_id"], frame["_sender"] = f"S{number}", h.HOSPITAL
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@st.composite
def rows(draw) -> tuple[dict, bool]:
    """A case row with some fields (often many) given invalid values."""
    broken = draw(st.lists(st.sampled_from(sorted(VALUES)), max_size=len(VALUES), unique=True))
    overrides = {name: draw(st.sampled_from(VALUES[name])) for name in broken}
    case_id = overrides.pop("case_id", None) or f"C{draw(st.integers(0, 5))}"
    return h.case_row(case_id, **overrides), draw(st.integers(0, 5)) == 0


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    files=st.lists(st.lists(rows(), min_size=1, max_size=6), min_size=1, max_size=2),
    chunk_rows=st.sampled_from([None, 3]),
)
def test_two_passes_give_the_errors_of_one_complete_run(validator, reference, files, chunk_rows):
    frame = _frame(files)
    expected = reference.validate(frame, chunk_rows)
    got = validator.validate(frame, PARAMS, chunk_rows=chunk_rows).errors
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_index_type=False)


def test_every_rule_broken_at_once_gives_the_reference_errors(validator, reference):
    """One frame breaking (nearly) every rule, several rules a row: many expectations fail in
    the screen and are detailed in one second pass."""
    rows = [(h.case_row("C0"), False)]
    rows += [
        (h.case_row(f"R{i}", **{name: values[i % len(values)] for name, values in VALUES.items()
                                if name != "case_id"}), i % 2 == 0)
        for i in range(7)
    ]  # fmt: skip
    rows += [(h.case_row("bad id"), False), (h.case_row("D", age="5"), False)]
    rows += [(h.case_row("D", age="6"), False)]
    frame = _frame([rows, rows[:4]])
    expected = reference.validate(frame, None)
    assert expected["rule"].nunique() >= 15  # the frame does break many rules
    got = validator.validate(frame, PARAMS).errors
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_index_type=False)


def test_gx_gets_only_the_columns_the_suite_reads(validator, monkeypatch):
    seen: list[list[str]] = []
    checkpoint = validator._checkpoint

    class Spy:
        def run(self, batch_parameters):
            seen.append(list(batch_parameters["dataframe"].columns))
            return checkpoint.run(batch_parameters=batch_parameters)

    monkeypatch.setattr(validator, "_checkpoint", Spy())
    frame = _frame([[(h.case_row("C1"), False)]])
    assert validator.validate(frame, PARAMS).success
    (columns,) = seen
    assert set(columns) == runner.suite_columns(load_suite_dict()) | {"_idx"}
    assert "_row" in set(frame.columns) - set(columns)  # attribution reads it from the frame
