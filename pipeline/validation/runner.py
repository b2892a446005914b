"""Run the committed expectation suite with Great Expectations and collect row-level errors."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.validation.suite import SUITE_PATH, load_suite_dict

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

        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        actions = []
        if data_docs_dir is not None:
            context.add_data_docs_site("sentinel", {
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(data_docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            })
            actions.append(UpdateDataDocsAction(name="update_data_docs"))
        batch = (context.data_sources.add_pandas("intake")
                 .add_dataframe_asset("extract").add_batch_definition_whole_dataframe("whole"))
        suite = context.suites.add(gx.ExpectationSuite(**load_suite_dict(suite_path)))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name="case_record", data=batch, suite=suite))
        self._checkpoint = context.checkpoints.add(gx.Checkpoint(
            name="intake", validation_definitions=[definition], actions=actions,
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["_idx"]},
        ))

    def validate(self, frame: pd.DataFrame) -> ValidationOutcome:
        """Validate a prepared frame (helper columns included); rows are addressed by _idx."""
        frame = frame.reset_index(drop=True)
        frame["_idx"] = range(len(frame))
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
                indexes = [entry["_idx"] for entry in item.result.get("unexpected_index_list") or []]
                if not indexes and item.exception_info and item.exception_info.get(
                        "raised_exception"):
                    raise RuntimeError(
                        f"expectation {item.expectation_config.type} on {field} raised: "
                        f"{item.exception_info.get('exception_message')}")
                for idx in indexes:
                    row = frame.iloc[int(idx)]
                    value = row[field] if field in frame.columns else None
                    records.append({
                        "_submission_id": row["_submission_id"], "_row": int(row["_row"]),
                        "field": field, "value": None if pd.isna(value) else str(value),
                        "rule": meta.get("rule", item.expectation_config.type),
                        "message_en": meta.get("message_en", ""),
                        "message_zh": meta.get("message_zh", ""),
                    })
        errors = pd.DataFrame.from_records(records, columns=ERROR_COLUMNS)
        errors = errors.drop_duplicates(["_submission_id", "_row", "field", "rule"])
        return ValidationOutcome(errors=errors, evaluated=evaluated, success=errors.empty)
