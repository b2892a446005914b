"""How each sample hospital exports its extract: format, encoding, headers, labels, dates."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.contract import FIELDS, SURVEY_FIELDS


@dataclass(frozen=True)
class Style:
    key: str
    fmt: str  # csv | xlsx
    encoding: str  # python codec name ("" for xlsx)
    headers: str  # en | en_alias | zh | zh_alt
    labels: str  # code | zh (Chinese value labels from codesets.label_zh)
    date_fmt: str
    narrative: str  # zh | en
    newline: str
    case_id: str  # dash | num | prefix | seq
    drop: tuple[str, ...] = ()
    description: str = ""

    @property
    def header_language(self) -> str:
        return "zh" if self.headers.startswith("zh") else "en"

    @property
    def encoding_label(self) -> str:
        if self.fmt == "xlsx":
            return "xlsx"
        return {"utf-8-sig": "utf-8-bom"}.get(self.encoding, self.encoding)

    def columns(self) -> list[str]:
        # Hospital extracts never carry a survey design (only NEISS files do).
        return [f.name for f in FIELDS if f.name not in self.drop and f.name not in SURVEY_FIELDS]

    def header(self, field_name: str) -> str:
        f = next(x for x in FIELDS if x.name == field_name)
        if self.headers == "en":
            return f.name
        if self.headers == "en_alias":
            alias = f.aliases_en[1] if len(f.aliases_en) > 1 else f.name.replace("_", " ")
            return alias.title()
        if self.headers == "zh_alt" and len(f.aliases_zh) > 1:
            return f.aliases_zh[1]
        return f.aliases_zh[0]


DASH = "%Y-%m-%d %H:%M"
SLASH = "%Y/%m/%d %H:%M"

# Assigned to the selected hospitals in registry order (cycling from index 5 for bigger networks).
STYLES: tuple[Style, ...] = (
    Style(
        "en_utf8",
        "csv",
        "utf-8",
        "en",
        "code",
        DASH,
        "zh",
        "\r\n",
        "dash",
        description="English canonical headers, UTF-8, codes, Chinese narratives",
    ),
    Style(
        "zh_gb18030_labels",
        "csv",
        "gb18030",
        "zh",
        "zh",
        SLASH,
        "zh",
        "\r\n",
        "num",
        description="Chinese headers, GB18030 (HIS export), Chinese value labels, YYYY/MM/DD dates",
    ),
    Style(
        "en_utf8_english",
        "csv",
        "utf-8",
        "en",
        "code",
        DASH,
        "en",
        "\n",
        "prefix",
        description="English canonical headers, UTF-8, NEISS-style English narratives",
    ),
    Style(
        "zh_utf8_bom",
        "csv",
        "utf-8-sig",
        "zh_alt",
        "code",
        DASH,
        "zh",
        "\r\n",
        "dash",
        description="Chinese headers (alternative aliases), UTF-8 with BOM, codes",
    ),
    Style(
        "xlsx_en_alias",
        "xlsx",
        "",
        "en_alias",
        "code",
        DASH,
        "zh",
        "\n",
        "num",
        description="XLSX workbook, English alias headers, date cells, Chinese narratives",
    ),
    Style(
        "en_utf8_english_slash",
        "csv",
        "utf-8",
        "en",
        "code",
        SLASH,
        "en",
        "\n",
        "prefix",
        description="English canonical headers, UTF-8, English narratives, YYYY/MM/DD dates",
    ),
    Style(
        "en_utf8_community",
        "csv",
        "utf-8",
        "en",
        "code",
        DASH,
        "zh",
        "\n",
        "seq",
        drop=("report_type", "model", "batch", "barcode"),
        description="English headers, UTF-8, reduced column set "
        "(no report_type/model/batch/barcode)",
    ),
    Style(
        "en_utf8_slash",
        "csv",
        "utf-8",
        "en",
        "code",
        SLASH,
        "zh",
        "\r\n",
        "dash",
        description="English canonical headers, UTF-8, YYYY/MM/DD dates",
    ),
)


def style_for(index: int) -> Style:
    if index < len(STYLES):
        return STYLES[index]
    return STYLES[5 + (index - 5) % (len(STYLES) - 5)]
