"""Privacy service: de-identify the free text of a file before it is shared."""

from __future__ import annotations

from pathlib import Path

from pipeline.privacy import ScrubSummary, scrub_csv


def scrub_file(
    input_csv: Path, output: Path, column: str = "text", name_column: str | None = None
) -> ScrubSummary:
    """Scrub ``column`` of a UTF-8 CSV file into ``output`` (the scrubbing intake applies);
    ``name_column`` holds each row's person name, removed from its text too. Raises
    :class:`~pipeline.privacy.ScrubInputError` for a file it cannot read (missing, not UTF-8,
    no such column)."""
    return scrub_csv(input_csv, output, column=column, name_column=name_column)
