"""``sentinel coding predict``: the pipeline's coding decision for any CSV of narratives.

Reads a UTF-8 CSV with a ``narrative`` column and optional ``product_name`` and
``category_given`` (a hospital's code) columns; writes every row, in input order and with all
input columns, plus ``category`` (the category the pipeline would record; empty for no product),
``confidence``, ``decision`` (``auto`` or ``review``), ``reason`` and ``top3``
(``CODE:probability`` of the three most probable categories). The decision is
``store.decide``'s - the same code the coding runs use - applied to each row as a case without
a coder resolution, visited today.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.coding import NO_PRODUCT
from pipeline.coding.confidence import assess
from pipeline.coding.model import ProductCoder, model_text
from pipeline.coding.store import decide
from pipeline.errors import BadInput

OUTPUT_COLUMNS = ("category", "confidence", "decision", "reason", "top3")


class PredictInputError(BadInput):
    """The input file cannot be coded (missing, not UTF-8, no narrative column); the message
    is in English and Chinese."""


def read_input(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise PredictInputError(f"{path}: no such file / 文件不存在")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PredictInputError(
            f"{path}: not UTF-8 (byte {exc.start}, line {line}); save the file as UTF-8 "
            f"/ 文件不是 UTF-8 编码（第 {line} 行），请另存为 UTF-8"
        ) from exc
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise PredictInputError(f"{path}: empty file, no header row / 文件为空")
    header = [h.strip() for h in rows[0]]
    if "narrative" not in header:
        raise PredictInputError(
            f"{path}: no 'narrative' column (found: {', '.join(header) or 'none'}) "
            "/ 缺少 narrative 列"
        )
    clash = [c for c in OUTPUT_COLUMNS if c in header]
    if clash:
        raise PredictInputError(
            f"{path}: input already has output column(s) {', '.join(clash)}; rename them "
            "/ 输入文件已含输出列"
        )
    return pd.read_csv(
        path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=False
    )


def predict_frame(
    model: ProductCoder, frame: pd.DataFrame, batch_size: int = 20000
) -> pd.DataFrame:
    """``frame`` plus the output columns (row order kept)."""
    names = frame["product_name"] if "product_name" in frame.columns else pd.Series("", frame.index)
    given = (
        frame["category_given"].str.strip().str.upper()
        if "category_given" in frame.columns
        else pd.Series("", frame.index)
    )
    cases = pd.DataFrame(
        {
            "hospital_code": "INPUT",
            "case_id": [str(i + 1) for i in range(len(frame))],
            "version": 1,
            "product_name": names.where(names.str.strip() != "", None).to_numpy(dtype=object),
            "narrative": frame["narrative"].to_numpy(dtype=object),
            "product_category": given.where(given != "", None).to_numpy(dtype=object),
            "visit_datetime": pd.Timestamp(datetime.now(UTC).date()),
        }
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    parts = []
    for start in range(0, len(cases), batch_size):
        chunk = cases.iloc[start : start + batch_size]
        texts = [
            model_text(p, n) for p, n in zip(chunk["product_name"], chunk["narrative"], strict=True)
        ]
        judged = assess(model, texts, list(chunk["product_name"]))
        rows = decide(chunk, judged.proba, model, {}, now, judged.confident)
        order = np.argsort(-judged.proba, axis=1, kind="stable")[:, :3]
        rows["top3"] = [
            " ".join(f"{model.classes[j]}:{judged.proba[i, j]:.3f}" for j in order[i])
            for i in range(len(chunk))
        ]
        # confidence of the recorded category: the confidence model's for the model's own
        # category, the probability of the given code when the hospital's code is kept
        rows["confidence"] = np.where(
            rows["source"] == "model", judged.confidence, rows["probability"].astype(float)
        )
        parts.append(rows)
    out = frame.copy()
    if not parts:
        for col in OUTPUT_COLUMNS:
            out[col] = pd.Series(dtype=object)
        return out
    rows = pd.concat(parts, ignore_index=True)
    out["category"] = rows["category"].where(rows["category"] != NO_PRODUCT, NO_PRODUCT).to_numpy()
    out["confidence"] = [f"{c:.4f}" for c in rows["confidence"]]
    out["decision"] = np.where(rows["needs_review"], "review", "auto")
    out["reason"] = rows["reason"].to_numpy()
    out["top3"] = rows["top3"].to_numpy()
    return out


def predict_csv(model: ProductCoder, input_path: Path, output_path: Path) -> dict:
    frame = read_input(input_path)
    out = predict_frame(model, frame)
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = output_path.with_suffix(output_path.suffix + ".tmp")
    out.to_csv(tmp, index=False, encoding="utf-8")
    tmp.replace(output_path)  # no half-written output
    return {
        "rows": len(out),
        "auto": int((out["decision"] == "auto").sum()),
        "review": int((out["decision"] == "review").sum()),
        "model": f"{model.name}/{model.version}",
        "output": str(output_path),
    }
