"""Run the committed expectation suite with Great Expectations and collect row-level errors."""

from __future__ import annotations

import html
import json
import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.intake.messages import fill
from pipeline.validation.suite import SUITE_PATH, load_suite_dict


def _quiet_gx_loggers() -> None:
    """GX logs hundreds of INFO lines ("Skipping registering function ...") while it is being
    *imported*, and some of its modules pin their own logger to INFO: raise them to WARNING."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if (
            name.startswith("great_expectations.")
            and isinstance(logger, logging.Logger)
            and logger.level < logging.WARNING
        ):
            logger.setLevel(logging.NOTSET)  # inherit WARNING from "great_expectations"


# Must run before the first ``import great_expectations`` (done lazily in CaseValidator).
_quiet_gx_loggers()

ERROR_COLUMNS = ["_submission_id", "_row", "field", "value", "rule", "message_en", "message_zh"]


@dataclass(frozen=True)
class ValidationOutcome:
    errors: pd.DataFrame  # one row per (row, failed rule), columns ERROR_COLUMNS
    evaluated: int  # expectations evaluated
    success: bool


# Two GX passes per chunk (issue 21). The screen runs every expectation over every row but
# reports only pass/fail: GX then skips, for each of the suite's expectations, the unexpected
# index and value lists (each a filtered copy of the batch) it builds at COMPLETE even when
# nothing failed; on the 300,000-row bench extract the screen costs about half a COMPLETE run.
SCREEN_FORMAT = {"result_format": "BOOLEAN_ONLY"}
# The second pass runs only the expectations the screen failed, over the same rows, at the
# cheapest result format that still names every failing row: COMPLETE is the only level with
# the whole unexpected_index_list; the values themselves (unexpected_list, partial lists and
# counts) are not needed (attribution reads them from the frame) and are left out.
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["_idx"],
    "exclude_unexpected_values": True,
    "partial_unexpected_count": 0,
    "return_unexpected_index_query": False,
}
RUNS_DIR = "runs"
# The suite's one rule over several rows: the file-wide unique key.
UNIQUE_KEY_TYPE = "expect_compound_columns_to_be_unique"


class CaseValidator:
    """One GX ephemeral context, the case-record suite and a checkpoint (no actions).

    Build one per process and reuse it: creating the context costs more than validating a
    daily file. With ``data_docs_dir``, :meth:`build_docs` writes the Data Docs of every
    validation this validator ran, once, as one run's site under ``<data_docs_dir>/runs/``
    (earlier runs' sites are kept; see :func:`write_runs_index`).
    """

    def __init__(self, data_docs_dir: Path | None = None, suite_path: Path = SUITE_PATH) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        _quiet_gx_loggers()
        self.suite_path = suite_path
        self._unique_keys: CaseValidator | None = None  # built on first use
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        # The ephemeral context comes with a docs site in a fresh /tmp directory that nothing
        # ever removes: every validation would leave row values there, outside SENTINEL_HOME.
        for site in list(context.variables.data_docs_sites or {}):
            context.delete_data_docs_site(site)
        self.data_docs_dir = data_docs_dir
        self.run_name: str | None = None
        self.validations = 0
        if data_docs_dir is not None:
            # Sortable and unique per process: parallel DAG stage tasks each get their own site.
            self.run_name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{os.getpid()}"
            context.add_data_docs_site(
                "sentinel",
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(data_docs_dir / RUNS_DIR / self.run_name),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        self._context = context
        batch = (
            context.data_sources.add_pandas("intake")
            .add_dataframe_asset("extract")
            .add_batch_definition_whole_dataframe("whole")
        )
        suite_dict = load_suite_dict(suite_path)
        # GX copies every column of the batch for each expectation's row filters: it gets only
        # the columns the suite reads (attribution reads the whole frame by position).
        self.columns = suite_columns(suite_dict) | {"_idx"}
        suite = context.suites.add(gx.ExpectationSuite(**suite_dict))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name="case_record", data=batch, suite=suite)
        )
        # The second pass: a suite holding, for each run, the expectations the screen failed.
        self._failed_suite = context.suites.add(
            gx.ExpectationSuite(name=f"{suite_dict['name']}_failed")
        )
        self._failed_definition = context.validation_definitions.add(
            gx.ValidationDefinition(
                name=f"{suite_dict['name']}_failed", data=batch, suite=self._failed_suite
            )
        )
        # No UpdateDataDocsAction: rebuilding the site after every batch re-read every earlier
        # result of the run (quadratic); build_docs builds it once.
        self._checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name="intake",
                validation_definitions=[definition],
                actions=[],
                result_format=SCREEN_FORMAT,
            )
        )

    @property
    def docs_site_names(self) -> list[str]:
        return list(self._context.variables.data_docs_sites or {})

    def build_docs(self, keep_runs: int = 0) -> Path | None:
        """Build this run's Data Docs (every validation run so far) once, list it in the
        top-level index and remove runs beyond the ``keep_runs`` latest (0: keep all).
        Returns the run's index page, or None without a docs directory or validations."""
        if self.data_docs_dir is None or self.run_name is None or not self.validations:
            return None
        self._context.build_data_docs(site_names=["sentinel"])
        prune_runs(self.data_docs_dir, keep_runs, keep=self.run_name)
        write_runs_index(self.data_docs_dir)
        return self.data_docs_dir / RUNS_DIR / self.run_name / "index.html"

    def validate(
        self,
        frame: pd.DataFrame,
        params: dict[str, object] | None = None,
        chunk_rows: int | None = None,
    ) -> ValidationOutcome:
        """Validate a prepared frame (helper columns included); rows are addressed by _idx.

        ``params`` fill the messages' per-file placeholders (``{earliest_date}``); ``{sender}``
        is each row's sending hospital. ``chunk_rows``: more rows than this are validated in
        chunks (GX's working memory grows with the rows of a run); rows sharing a key
        (submission, hospital, case_id) stay in one chunk, so the file-wide uniqueness rule
        sees them together and the errors equal those of one run."""
        params = dict(params or {})
        frame = frame.reset_index(drop=True)
        frame["_idx"] = np.arange(len(frame))
        senders = frame["_sender"] if "_sender" in frame.columns else None
        parts: list[pd.DataFrame] = []
        evaluated = 0
        for chunk in _chunks(frame, chunk_rows):
            evaluated = self._run(chunk, frame, senders, params, parts)
        errors = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame(columns=[*ERROR_COLUMNS, "_ord", "_pos"])
        )
        # Expectation order, then row order: the same whether or not the rows were chunked.
        errors = errors.sort_values(["_ord", "_pos"], kind="stable")[ERROR_COLUMNS]
        # concat may turn a part's None values into NaN: a missing value is None.
        errors["value"] = errors["value"].astype(object).where(errors["value"].notna(), None)
        errors = errors.drop_duplicates(["_submission_id", "_row", "field", "rule"])
        return ValidationOutcome(
            errors=errors.reset_index(drop=True), evaluated=evaluated, success=errors.empty
        )

    def validate_unique_keys(
        self,
        frame: pd.DataFrame,
        params: dict[str, object] | None = None,
        chunk_rows: int | None = None,
    ) -> ValidationOutcome:
        """Only the suite's file-wide uniqueness rule over ``frame``: a file staged in pieces
        has every piece validated on its own, then the rows of the keys seen in more than one
        piece validated together with this rule (every other rule is row by row). A second
        GX context with that rule alone, built once per validator."""
        if self._unique_keys is None:
            suite = load_suite_dict(self.suite_path)
            suite["expectations"] = [
                e for e in suite["expectations"] if e["type"] == UNIQUE_KEY_TYPE
            ]
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "unique_keys.json"
                path.write_text(json.dumps(suite, ensure_ascii=False), encoding="utf-8")
                self._unique_keys = CaseValidator(data_docs_dir=None, suite_path=path)
        return self._unique_keys.validate(frame, params, chunk_rows)

    def _run(
        self,
        chunk: pd.DataFrame,
        frame: pd.DataFrame,
        senders: pd.Series | None,
        params: dict[str, object],
        parts: list[pd.DataFrame],
    ) -> int:
        """Validate ``chunk`` (rows of ``frame``, addressed by their ``_idx``): the screen
        (every expectation, pass/fail), then the failed expectations again to name their rows;
        appends the error records to ``parts``; returns the expectations evaluated."""
        batch = chunk[[c for c in chunk.columns if c in self.columns]]
        with warnings.catch_warnings():
            # GX runs regexes through str.contains, which warns about the suite's (intended)
            # groups, e.g. the region pattern ^(11|12|...)[0-9]{4}$, once per run.
            warnings.filterwarnings(
                "ignore",
                message="This pattern is interpreted as a regular expression, and has match groups",
                category=UserWarning,
            )
            screen = self._checkpoint.run(batch_parameters={"dataframe": batch})
            self.validations += 1
            results = [item for run in screen.run_results.values() for item in run.results]
            failed = [(o, item) for o, item in enumerate(results) if not item.success]
            detailed = self._failed_rows(batch, [item for _, item in failed]) if failed else []
        for (ordinal, _), item in zip(failed, detailed, strict=True):
            meta = item.expectation_config.meta or {}
            field = meta.get("field", "?")
            indexes = [entry["_idx"] for entry in item.result.get("unexpected_index_list") or []]
            if item.success or not indexes:
                # A failed expectation that names no row raised (GX nests exception_info by
                # metric id) or cannot be attributed: never let it pass silently.
                raise RuntimeError(
                    f"expectation {item.expectation_config.type} on {field} failed without "
                    f"naming rows: {_exception_message(item.exception_info)}"
                )
            positions = _positions(indexes)
            part = _attribute(
                frame, senders, positions, field, meta, item.expectation_config.type, params
            )
            part["_ord"] = ordinal
            part["_pos"] = positions
            parts.append(part)
        return len(results)

    def _failed_rows(self, batch: pd.DataFrame, screened: list) -> list:
        """The second pass: the expectations the screen failed, run again over ``batch`` at
        RESULT_FORMAT; their results in the order of ``screened``."""
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        configs = [item.expectation_config for item in screened]
        self._failed_suite.expectations = [
            ExpectationConfiguration(
                type=c.type, kwargs=dict(c.kwargs), meta=dict(c.meta or {})
            ).to_domain_obj()
            for c in configs
        ]
        self._failed_suite.save()
        result = self._failed_definition.run(
            batch_parameters={"dataframe": batch}, result_format=RESULT_FORMAT
        )
        self.validations += 1
        for config, item in zip(configs, result.results, strict=True):
            if (config.type, config.meta) != (
                item.expectation_config.type,
                item.expectation_config.meta,
            ):
                raise RuntimeError("GX returned the failed expectations out of order")
        return list(result.results)


def suite_columns(suite: dict) -> set[str]:
    """The columns the expectations of ``suite`` (a suite dict) read."""
    columns: set[str] = set()
    for expectation in suite["expectations"]:
        kwargs = expectation["kwargs"]
        columns.update(kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs)
        columns.update(kwargs.get("column_list", []))
    return columns


KEY_COLUMNS = ["_submission_id", "hospital_code", "case_id"]


def _chunks(frame: pd.DataFrame, chunk_rows: int | None) -> list[pd.DataFrame]:
    """The frame whole, or in about ``len / chunk_rows`` chunks grouped by a hash of the key
    (every row of one key in the same chunk); each chunk keeps its rows' ``_idx``."""
    if not chunk_rows or len(frame) <= chunk_rows or not set(KEY_COLUMNS) <= set(frame.columns):
        return [frame]
    n = -(-len(frame) // chunk_rows)
    keys = frame[KEY_COLUMNS].astype(object).where(frame[KEY_COLUMNS].notna(), None)
    group = pd.util.hash_pandas_object(keys, index=False).to_numpy() % np.uint64(n)
    return [frame[group == g].reset_index(drop=True) for g in range(n) if (group == g).any()]


def _positions(indexes: list) -> np.ndarray:
    """Row positions from GX's unexpected_index_list entries: a scalar for a column
    expectation, a one-element list for a column-pair one."""
    return np.concatenate([np.ravel(np.asarray(i, dtype="int64")) for i in indexes])


def _attribute(
    frame: pd.DataFrame,
    senders: pd.Series | None,
    idx: np.ndarray,
    field: str,
    meta: dict,
    default_rule: str,
    params: dict[str, object],
) -> pd.DataFrame:
    """The failing rows of one expectation as error records, in columnar code: each row keeps
    its submission (hence hospital and file) and source row; messages are filled once per
    sender, not once per row."""

    def column(name: str) -> np.ndarray:
        return frame[name].to_numpy(dtype=object)[idx]

    if field in frame.columns:
        raw = column(field)
        value = np.array([None if pd.isna(v) else str(v) for v in raw], dtype=object)
    else:
        value = np.full(len(idx), None, dtype=object)
    sender = (
        np.array(["" if pd.isna(v) else str(v) for v in senders.to_numpy(dtype=object)[idx]])
        if senders is not None
        else np.full(len(idx), "", dtype=object)
    )
    out = pd.DataFrame(
        {
            "_submission_id": column("_submission_id"),
            "_row": frame["_row"].to_numpy(dtype="int64")[idx],
            "field": field,
            "value": value,
            "rule": meta.get("rule", default_rule),
        }
    )
    for message in ("message_en", "message_zh"):
        template = meta.get(message, "")
        by_sender = {s: fill(template, {**params, "sender": s}) for s in set(sender)}
        out[message] = [by_sender[s] for s in sender]
    return out[ERROR_COLUMNS]


def prune_runs(data_docs_dir: Path, keep_runs: int, keep: str | None = None) -> list[str]:
    """Remove the oldest run sites beyond the ``keep_runs`` latest (0: keep all); ``keep`` (the
    current run) is never removed. Returns the removed run names."""
    if keep_runs <= 0:
        return []
    runs = _run_names(data_docs_dir)
    removed = [r for r in runs[:-keep_runs] if r != keep]
    for name in removed:
        shutil.rmtree(data_docs_dir / RUNS_DIR / name, ignore_errors=True)
    return removed


def _run_names(data_docs_dir: Path) -> list[str]:
    root = data_docs_dir / RUNS_DIR
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "index.html").is_file())


def write_runs_index(data_docs_dir: Path) -> Path:
    """``<data_docs_dir>/index.html``: one link per kept run's site, newest first (written
    to a temporary name and renamed, so a reader never sees half a page)."""
    runs = list(reversed(_run_names(data_docs_dir)))
    items = "\n".join(
        f'<li><a href="{RUNS_DIR}/{html.escape(r)}/index.html">{html.escape(r)}</a></li>'
        for r in runs
    )
    page = (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        "<title>Sentinel Data Docs</title></head><body>\n"
        "<h1>Great Expectations Data Docs: intake runs</h1>\n"
        f"<p>{len(runs)} runs, newest first.</p>\n<ul>\n{items}\n</ul>\n</body></html>\n"
    )
    target = data_docs_dir / "index.html"
    tmp = data_docs_dir / f".index.{os.getpid()}.tmp"
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    return target


def _exception_message(info: dict | None) -> str:
    """The message of an exception GX caught, at the top level or nested per metric."""
    if not info:
        return "no exception recorded"
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return "no exception recorded"
