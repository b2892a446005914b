"""Metrics for the product coder: accuracy, per-class and macro precision/recall/F1, calibration
(expected calibration error and a reliability table) and the review-threshold trade-off."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

THRESHOLD_GRID = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98)


def topk(proba: np.ndarray, classes: np.ndarray, k: int = 2) -> np.ndarray:
    order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    return classes[order]


def accuracy(proba: np.ndarray, classes: np.ndarray, y: Sequence[str]) -> dict[str, float]:
    y = np.asarray(y, dtype=object)
    top = topk(proba, classes, 2)
    return {
        "top1_accuracy": float(np.mean(top[:, 0] == y)),
        "top2_accuracy": float(np.mean((top[:, 0] == y) | (top[:, 1] == y))),
    }


def per_class(y_true: Sequence[str], y_pred: Sequence[str]) -> tuple[dict, dict]:
    """Per-class and macro precision / recall / F1 over the classes present in ``y_true``."""
    labels = sorted(set(y_true))
    p, r, f, s = precision_recall_fscore_support(
        np.asarray(y_true, dtype=object),
        np.asarray(y_pred, dtype=object),
        labels=labels,
        zero_division=0,
    )
    rows = {
        lab: {
            "precision": round(float(pi), 4),
            "recall": round(float(ri), 4),
            "f1": round(float(fi), 4),
            "support": int(si),
        }
        for lab, pi, ri, fi, si in zip(labels, p, r, f, s, strict=True)
    }
    macro = {
        "precision": float(np.mean(p)),
        "recall": float(np.mean(r)),
        "f1": float(np.mean(f)),
        "classes": len(labels),
    }
    return rows, macro


def reliability(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10
) -> tuple[float, list[dict]]:
    """Expected calibration error of the top-1 confidence and the reliability table
    (equal-width bins; ECE = sum over bins of share x |accuracy - mean confidence|)."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    table = []
    n = max(len(confidence), 1)
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (confidence > lo) & (confidence <= hi) if lo > 0 else (confidence <= hi)
        count = int(mask.sum())
        if count == 0:
            table.append(
                {"bin": f"{lo:.1f}-{hi:.1f}", "cases": 0, "confidence": None, "accuracy": None}
            )
            continue
        conf, acc = float(confidence[mask].mean()), float(correct[mask].mean())
        ece += count / n * abs(acc - conf)
        table.append(
            {
                "bin": f"{lo:.1f}-{hi:.1f}",
                "cases": count,
                "confidence": round(conf, 4),
                "accuracy": round(acc, 4),
            }
        )
    return float(ece), table


def threshold_table(
    confidence: np.ndarray, correct: np.ndarray, grid: Sequence[float] = THRESHOLD_GRID
) -> list[dict]:
    """For each threshold: share of cases sent to review (confidence below it) and accuracy of
    the automatically coded rest."""
    rows = []
    for t in grid:
        auto = confidence >= t
        rows.append(
            {
                "threshold": t,
                "review_share": float(1.0 - auto.mean()),
                "auto_accuracy": float(correct[auto].mean()) if auto.any() else None,
                "auto_cases": int(auto.sum()),
            }
        )
    return rows


def choose_threshold(table: list[dict], target_accuracy: float, minimum: float = 0.5) -> float:
    """The lowest threshold (>= ``minimum``) whose automatic accuracy reaches the target; the
    highest threshold of the grid when none does."""
    for row in table:
        if (
            row["threshold"] >= minimum
            and row["auto_accuracy"] is not None
            and row["auto_accuracy"] >= target_accuracy
        ):
            return float(row["threshold"])
    return float(table[-1]["threshold"])


def disagreement_flags(
    proba: np.ndarray, classes: np.ndarray, given: Sequence[str], top_min: float, given_max: float
) -> np.ndarray:
    """The hospital-code check: flag when the model's top category differs from the given code
    with probability >= ``top_min`` and the given code has probability < ``given_max``."""
    index = {c: i for i, c in enumerate(classes)}
    top = np.argmax(proba, axis=1)
    top_p = proba[np.arange(len(proba)), top]
    given_idx = np.array([index.get(g, -1) for g in given])
    given_p = np.where(given_idx >= 0, proba[np.arange(len(proba)), np.maximum(given_idx, 0)], 0.0)
    return (top != given_idx) & (top_p >= top_min) & (given_p < given_max)
