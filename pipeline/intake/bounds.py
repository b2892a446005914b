"""Whole-file rejections and the reading limits, checked before and while a file is read.

:class:`Bounds` carries the limits of :class:`pipeline.config.IntakeLimits` and the counts so
far; a reader calls it for the file's size, a workbook's declared and streamed unpacked size,
every row (rows and cells per row) and every cell (length). It holds no data, so a chunked
reader passes the same instance from one chunk to the next and the limits hold for the file.
"""

from __future__ import annotations

from pipeline.config import MIB, IntakeLimits
from pipeline.intake import messages


class FileRejected(Exception):
    """The whole file is rejected. ``rule`` is a stable code; ``params`` fill its message and
    advice in the receipt's language (:mod:`pipeline.intake.messages`); ``variant`` picks a
    more precise wording of the same rule."""

    def __init__(self, rule: str, variant: str | None = None, **params: object) -> None:
        self.rule = rule
        self.headers: list[str] | None = None  # set when the header row was read first
        self.params: dict[str, object] = {k: v for k, v in params.items() if v is not None}
        if variant:
            self.params["variant"] = variant
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The reason in English (logs, exceptions); receipts render it in their language."""
        return messages.file_message(self.rule, "en", self.params)

    @property
    def detail(self) -> str:
        return messages.file_advice(self.rule, "en", self.params)


def _mb(size: int) -> str:
    return f"{size / MIB:,.1f}".rstrip("0").rstrip(".")


class Bounds:
    """The reading limits for one file (see the module docstring)."""

    def __init__(self, limits: IntakeLimits | None = None) -> None:
        self.limits = limits or IntakeLimits()
        self.rows = 0  # rows seen so far, header and blank rows included
        self.unpacked_bytes = 0

    def file_size(self, size: int) -> None:
        if size > self.limits.max_file_bytes:
            raise FileRejected(
                "file_too_large", size_mb=_mb(size), limit_mb=_mb(self.limits.max_file_bytes)
            )

    def declared_unpacked(self, size: int) -> None:
        """A workbook's parts as its zip directory declares them (checked before unpacking)."""
        if size > self.limits.max_unpacked_bytes:
            raise FileRejected("unpacked_too_large", limit_mb=_mb(self.limits.max_unpacked_bytes))

    def unpacked(self, size: int) -> None:
        """Bytes actually unpacked (zipfile never exceeds the declared size; this is the
        second line of defence)."""
        self.unpacked_bytes += size
        if self.unpacked_bytes > self.limits.max_unpacked_bytes:
            raise FileRejected("unpacked_too_large", limit_mb=_mb(self.limits.max_unpacked_bytes))

    def row(self, width: int, line: int) -> None:
        """One more row of ``width`` cells (``line``: where the sender finds it)."""
        self.rows += 1
        if self.rows > self.limits.max_rows + 1:  # + the header row
            raise FileRejected("too_many_rows", limit=self.limits.max_rows)
        if width > self.limits.max_columns:
            self.too_many_columns(line, width)

    def too_many_columns(self, line: int, count: int) -> None:
        raise FileRejected(
            "too_many_columns", line=line, count=count, limit=self.limits.max_columns
        )

    def cell(self, text: str) -> tuple[str, bool]:
        """A cell cut to the limit, and whether it was longer."""
        if len(text) > self.limits.max_cell_chars:
            return text[: self.limits.max_cell_chars], True
        return text, False
