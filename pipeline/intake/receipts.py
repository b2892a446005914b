"""Receipts: what happened to a submission, for the clerk who sent it, in the clerk's language.

Built here from plain data (pure); written by the ledger (:mod:`pipeline.storage.ledger`) to
``<outbox>/<hospital>/<submission_id>.json`` and ``.md``, returned by ``sentinel validate``
(and the submission API) as the same JSON. One language per receipt, chosen from the file's
headers (:func:`pipeline.storage.ledger.receipt_language`): every message, piece of advice,
field name, unit and status is in that language (:mod:`pipeline.intake.messages`); rule codes
stay in the JSON for systems, never in the Markdown. Every row error is listed with its row
number, field, value and message, also when the whole file was rejected; rows that have no error
of their own are named once, not given the file's reason row by row. Values of identifier fields
are never echoed, and everything that came from the sender (file name, headers, values) is
escaped for Markdown.

JSON (``receipt_version`` 2)::

  {"receipt_version": 2, "language": "zh"|"en", "submission_id", "hospital_code",
   "file_name", "sha256", "received_at" (UTC, ISO, "Z"), "received_at_local" (China time),
   "arrival_source", "status", "status_text", "rows_received", "rows_stored",
   "rows_quarantined", "rows_duplicate", "file_rule", "file_message", "advice",
   "duplicate_of", "header_language", "file_format", "encoding", "unknown_columns",
   "errors": [{"row", "field", "field_label", "value", "rule", "message"}],
   "rows_rejected_with_file": [row numbers]}
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.contract import IDENTIFIER_FIELDS
from pipeline.escaping import md_cell, md_escape
from pipeline.intake import messages

RECEIPT_VERSION = 2
VALUE_SHOWN = 200  # characters of a rejected value shown in a Markdown receipt

LABELS = {
    "en": {
        "title": "Submission receipt",
        "file": "File",
        "hospital": "Hospital",
        "id": "Submission ID",
        "sha": "SHA-256",
        "received": "Received",
        "local": "China time",
        "status": "Status",
        "counts": "Rows",
        "received_n": "received",
        "stored_n": "stored",
        "quarantined_n": "not stored",
        "duplicate_n": "already received",
        "file_error": "The whole file was rejected",
        "duplicate": "Duplicate",
        "errors": "Rows not stored",
        "row": "Row",
        "field": "Field",
        "value": "Value",
        "message": "Problem and what to do",
        "none": "No row was rejected.",
        "unknown": "Columns ignored (not used by the network)",
        "hint": "What to do",
        "bare": "Not stored only because the whole file was rejected (no error of their own): "
        "rows {rows}.",
        "all_bare": "No row has an error of its own; the rows were not stored because the "
        "whole file was rejected.",
    },
    "zh": {
        "title": "报送回执",
        "file": "文件",
        "hospital": "医院",
        "id": "报送编号",
        "sha": "SHA-256 校验值",
        "received": "接收时间",
        "local": "北京时间",
        "status": "状态",
        "counts": "行数",
        "received_n": "接收",
        "stored_n": "入库",
        "quarantined_n": "未入库",
        "duplicate_n": "此前已接收",
        "file_error": "整份文件被拒收",
        "duplicate": "重复报送",
        "errors": "未入库的行",
        "row": "行",
        "field": "字段",
        "value": "值",
        "message": "问题及处理办法",
        "none": "没有被拒收的行。",
        "unknown": "已忽略的列（监测网络不使用）",
        "hint": "处理建议",
        "bare": "以下行本身没有错误，仅因整份文件被拒收而未入库：第 {rows} 行。",
        "all_bare": "各行本身没有错误，因整份文件被拒收而未入库。",
    },
}
CHINA = timedelta(hours=8)  # every sentinel hospital is in China (UTC+8, no daylight saving)


def _utc(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).removesuffix("Z"))


def _shown(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= VALUE_SHOWN else text[:VALUE_SHOWN] + "…"


def build_receipt(submission: dict, errors: list[dict]) -> dict:
    """A receipt as a plain dict (the JSON form), in the language of ``header_language``.

    ``submission``: a ledger row (``file_message`` and ``file_detail`` already in the receipt's
    language); ``errors``: quarantine rows (``source_row``, ``field``, ``value``, ``rule``,
    ``message_en``, ``message_zh``)."""
    lang = messages.receipt_language(submission.get("header_language"))
    file_rule = submission.get("file_rule")
    own, bare = [], set()
    for err in errors:
        if file_rule and err["rule"] == file_rule and err["field"] == "*":
            bare.add(int(err["source_row"]))
            continue
        own.append(err)
    rows = []
    for err in sorted(own, key=lambda e: (int(e["source_row"]), e["field"], e["rule"])):
        field = err["field"]
        rows.append(
            {
                "row": int(err["source_row"]),
                "field": field,
                "field_label": messages.field_label(field, lang),
                "value": None if field in IDENTIFIER_FIELDS else err.get("value"),
                "rule": err["rule"],
                "message": err["message_zh"] if lang == "zh" else err["message_en"],
            }
        )
    bare -= {r["row"] for r in rows}
    received = _utc(submission.get("received_at"))
    status = submission.get("status")
    duplicate_of = submission.get("duplicate_of")
    file_message = submission.get("file_message")
    if status == "duplicate" and duplicate_of:
        file_message = messages.duplicate_message(duplicate_of, lang)
    return {
        "receipt_version": RECEIPT_VERSION,
        "language": lang,
        "submission_id": submission.get("submission_id"),
        "hospital_code": submission.get("hospital_code"),
        "file_name": submission.get("file_name"),
        "sha256": submission.get("sha256"),
        "received_at": received.isoformat(timespec="seconds") + "Z" if received else None,
        "received_at_local": (
            (received + CHINA).strftime("%Y-%m-%d %H:%M:%S") if received else None
        ),
        "arrival_source": submission.get("arrival_source"),
        "status": status,
        "status_text": messages.status_text(status or "", lang),
        "rows_received": submission.get("rows_received"),
        "rows_stored": submission.get("rows_stored"),
        "rows_quarantined": submission.get("rows_quarantined"),
        "rows_duplicate": submission.get("rows_duplicate"),
        "file_rule": file_rule,
        "file_message": file_message,
        "advice": submission.get("file_detail") or None,
        "duplicate_of": duplicate_of,
        "header_language": submission.get("header_language"),
        "file_format": submission.get("file_format"),
        "encoding": submission.get("encoding"),
        "unknown_columns": list(submission.get("unknown_columns") or []),
        "errors": rows,
        "rows_rejected_with_file": sorted(bare),
    }


def _row_list(rows: list[int], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(str(r) for r in rows)


def render_markdown(receipt: dict) -> str:
    """The receipt as Markdown, entirely in the receipt's language; sender text escaped."""
    lang = messages.receipt_language(receipt.get("language") or receipt.get("header_language"))
    t = LABELS[lang]
    colon = "：" if lang == "zh" else ": "
    sep = "，" if lang == "zh" else ", "
    counts = sep.join(
        f"{t[k + '_n']} {receipt.get('rows_' + k) or 0}"
        for k in ("received", "stored", "quarantined", "duplicate")
    )
    status_text = receipt.get("status_text") or messages.status_text(receipt["status"], lang)
    lines = [
        f"# {t['title']}",
        "",
        f"- {t['id']}{colon}`{md_cell(receipt['submission_id'])}`",
        f"- {t['hospital']}{colon}{md_escape(receipt['hospital_code'])}",
        f"- {t['file']}{colon}{md_escape(receipt['file_name'])}",
        f"- {t['sha']}{colon}`{md_cell(receipt['sha256'])}`",
    ]
    if receipt.get("received_at_local"):
        lines.append(
            f"- {t['received']}{colon}{receipt['received_at_local']}（{t['local']}）"
            if lang == "zh"
            else f"- {t['received']}{colon}{receipt['received_at_local']} ({t['local']})"
        )
    lines += [
        f"- {t['status']}{colon}**{md_escape(status_text)}**",
        f"- {t['counts']}{colon}{counts}",
    ]
    if receipt.get("status") == "duplicate" and receipt.get("file_message"):
        lines.append(f"- {t['duplicate']}{colon}{md_escape(receipt['file_message'])}")
    elif receipt.get("file_message"):
        lines.append(f"- {t['file_error']}{colon}{md_escape(receipt['file_message'])}")
    if receipt.get("advice"):
        lines.append(f"- {t['hint']}{colon}{md_escape(receipt['advice'])}")
    if receipt.get("unknown_columns"):
        quoted = [md_escape(messages.quote(c, lang)) for c in receipt["unknown_columns"]]
        lines.append(f"- {t['unknown']}{colon}" + ("、" if lang == "zh" else ", ").join(quoted))
    lines += ["", f"## {t['errors']}", ""]
    errors = receipt.get("errors") or []
    bare = receipt.get("rows_rejected_with_file") or []
    if not errors and not bare:
        rejected_rows = receipt.get("file_rule") and receipt.get("rows_quarantined")
        lines.append(t["all_bare"] if rejected_rows else t["none"])
    if errors:
        lines.append(f"| {t['row']} | {t['field']} | {t['value']} | {t['message']} |")
        lines.append("|---|---|---|---|")
        for err in errors:
            value = "" if err["value"] is None else md_cell(_shown(err["value"]))
            lines.append(
                f"| {err['row']} | {md_cell(err['field_label'])} | {value} | "
                f"{md_cell(err['message'])} |"
            )
    if bare:
        lines.append("")
        text = t["all_bare"] if not errors else t["bare"].format(rows=_row_list(bare, lang))
        lines.append(text)
    return "\n".join(lines) + "\n"
