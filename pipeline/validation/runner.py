"""Run the committed expectation suite with Great Expectations and collect row-level errors."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

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


class CaseValidator:
    """One GX ephemeral context, the case-record suite and a checkpoint that updates Data Docs.

    Build one per process and reuse it: creating the context costs more than validating a
    daily file.
    """

    def __init__(self, data_docs_dir: Path | None = None, suite_path: Path = SUITE_PATH) -> None:
        import great_expectations as gx
        from great_expectations.checkpoint import UpdateDataDocsAction
        from great_expectations.data_context.types.base import ProgressBarsConfig

        _quiet_gx_loggers()
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        # The ephemeral context comes with a docs site in a fresh /tmp directory that nothing
        # ever removes: every validation would leave row values there, outside SENTINEL_HOME.
        for site in list(context.variables.data_docs_sites or {}):
            context.delete_data_docs_site(site)
        actions = []
        if data_docs_dir is not None:
            context.add_data_docs_site(
                "sentinel",
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(data_docs_dir),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
            actions.append(UpdateDataDocsAction(name="update_data_docs", site_names=["sentinel"]))
        batch = (
            context.data_sources.add_pandas("intake")
            .add_dataframe_asset("extract")
            .add_batch_definition_whole_dataframe("whole")
        )
        suite = context.suites.add(gx.ExpectationSuite(**load_suite_dict(suite_path)))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name="case_record", data=batch, suite=suite)
        )
        self._checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name="intake",
                validation_definitions=[definition],
                actions=actions,
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": ["_idx"],
                },
            )
        )

    def validate(
        self, frame: pd.DataFrame, params: dict[str, object] | None = None
    ) -> ValidationOutcome:
        """Validate a prepared frame (helper columns included); rows are addressed by _idx.

        ``params`` fill the messages' per-file placeholders (``{earliest_date}``); ``{sender}``
        is each row's sending hospital."""
        params = dict(params or {})
        frame = frame.reset_index(drop=True)
        frame["_idx"] = range(len(frame))
        with warnings.catch_warnings():
            # GX runs regexes through str.contains, which warns about the suite's (intended)
            # groups, e.g. the region pattern ^(11|12|...)[0-9]{4}$, once per run.
            warnings.filterwarnings(
                "ignore",
                message="This pattern is interpreted as a regular expression, and has match groups",
                category=UserWarning,
            )
            result = self._checkpoint.run(batch_parameters={"dataframe": frame})
        records: list[dict] = []
        evaluated = 0
        for run in result.run_results.values():
            for item in run.results:
                evaluated += 1
                if item.success:
                    continue
                meta = item.expectation_config.meta or {}
                field = meta.get("field", "?")
                indexes = [
                    entry["_idx"] for entry in item.result.get("unexpected_index_list") or []
                ]
                if not indexes:
                    # A failed expectation that names no row raised (GX nests exception_info by
                    # metric id) or cannot be attributed: never let it pass silently.
                    raise RuntimeError(
                        f"expectation {item.expectation_config.type} on {field} failed without "
                        f"naming rows: {_exception_message(item.exception_info)}"
                    )
                for idx in indexes:
                    row = frame.iloc[int(idx)]
                    value = row[field] if field in frame.columns else None
                    values = {**params, "sender": row.get("_sender", "")}
                    records.append(
                        {
                            "_submission_id": row["_submission_id"],
                            "_row": int(row["_row"]),
                            "field": field,
                            "value": None if pd.isna(value) else str(value),
                            "rule": meta.get("rule", item.expectation_config.type),
                            "message_en": fill(meta.get("message_en", ""), values),
                            "message_zh": fill(meta.get("message_zh", ""), values),
                        }
                    )
        errors = pd.DataFrame.from_records(records, columns=ERROR_COLUMNS)
        errors = errors.drop_duplicates(["_submission_id", "_row", "field", "rule"])
        return ValidationOutcome(errors=errors, evaluated=evaluated, success=errors.empty)


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
