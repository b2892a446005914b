"""Honest confidence: when may the product coder's category be accepted without a coder?

A calibrated class probability alone is not enough: on text unlike its training data the
model stays confident (v1 coded 巴克球 in a narrative without product name as jewelry at 0.80).
So the decision reads seven signals per case (``SIGNALS``):

- ``log_odds_top``, ``margin``: the temperature-scaled top probability (as log-odds) and its lead
  over the runner-up;
- ``unknown_share``: share of the text's tokens (English words, Chinese character bigrams of
  the normalised text) that are not features of the model: text the model cannot read;
- ``centroid_similarity``: cosine between the case and the training centroid of the predicted
  category: distance to the training data;
- ``lexicon_agrees`` / ``lexicon_conflicts`` / ``name_unknown``: the product lexicon names the
  predicted category / names only other categories; the product name is one the model cannot
  read (the unknown-name rule's share).

A logistic *confidence model* maps them to the probability that the predicted category is
right. It is fitted on labelled cases that were **not written by the generator** (the
calibration set), never on the evaluation sets. The auto-code threshold is chosen on the same
cases from *cross-fitted* scores (each case scored by a model that did not see it): the lowest
threshold whose automatically accepted cases reach the target precision with an add-one
correction, ``(errors + 1) / (accepted + 1) <= 1 - target`` (the finite-sample correction of
split-conformal risk control, so a small calibration set cannot promise more than it shows).
Everything else goes to coder review with the top suggestions.

``assess`` is the one place that decides; ``store.decide`` (coding runs) and ``sentinel coding
predict`` both call it. A v1 artifact (no confidence model) keeps its rule: calibrated top
probability >= review threshold and a readable product name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

SIGNALS = (
    "log_odds_top",
    "margin",
    "unknown_share",
    "centroid_similarity",
    "lexicon_agrees",
    "lexicon_conflicts",
    "name_unknown",
)


@dataclass
class ConfidenceModel:
    """P(predicted category is right | signals): standardised logistic regression."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float  # auto-code when the confidence is at least this
    target_precision: float
    fitted_on: str = ""
    cases: int = 0
    info: dict = field(default_factory=dict)

    def predict(self, signals: np.ndarray) -> np.ndarray:
        z = ((signals - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


@dataclass
class Assessment:
    """The coder's view of a batch: probabilities, confidence and the auto-code decision."""

    proba: np.ndarray  # (n, classes) calibrated class probabilities
    confidence: np.ndarray  # P(top category right); the top probability for v1 models
    unknown_name: np.ndarray  # product name the model cannot read
    confident: np.ndarray  # confidence at or above the model's auto-code threshold
    signals: np.ndarray | None = None

    @property
    def auto(self) -> np.ndarray:
        """Accepted without a coder: confident and a readable product name."""
        return self.confident & ~self.unknown_name


def signals(
    coder,
    texts: Sequence[str],
    product_names: Sequence[object],
    name_share: np.ndarray | None = None,
) -> tuple:
    """(probabilities, signal matrix ``(n, len(SIGNALS))``) for ``model_text`` strings
    (``name_share``: ``coder.unknown_name_share(product_names)`` when already computed)."""
    from sklearn.preprocessing import normalize

    seen = coder.analyse(texts)
    x = seen.x
    proba = coder.predict_proba(seen.prepared, x=x)
    n, k = proba.shape
    if n == 0:
        return proba, np.zeros((0, len(SIGNALS)))
    order = np.argsort(-proba, axis=1, kind="stable")[:, :2]
    rows = np.arange(n)
    p_top = proba[rows, order[:, 0]].astype(np.float64)
    p_second = proba[rows, order[:, 1]].astype(np.float64)
    eps = 1e-6
    p_clip = np.clip(p_top, eps, 1 - eps)
    named = seen.lexicon_hits
    agrees = np.asarray(named[rows, order[:, 0]]).ravel() > 0
    any_named = np.diff(named.indptr) > 0
    cent = coder.centroids[order[:, 0]]
    similarity = np.asarray(normalize(x).multiply(cent).sum(axis=1)).ravel()
    if name_share is None:
        name_share = coder.unknown_name_share(product_names)
    name_share = np.nan_to_num(name_share, nan=0.0)
    matrix = np.column_stack(
        [
            np.log(p_clip / (1 - p_clip)),
            p_top - p_second,
            1.0 - seen.known_share,
            similarity,
            agrees.astype(np.float64),
            (any_named & ~agrees).astype(np.float64),
            name_share,
        ]
    )
    return proba, matrix


def has_confidence_model(coder) -> bool:
    return (
        getattr(coder, "confidence", None) is not None
        and getattr(coder, "lexicon_index", None) is not None
    )


def assess(coder, texts: Sequence[str], product_names: Sequence[object]) -> Assessment:
    """The auto-code decision for ``model_text`` strings and their product names."""
    product_names = list(product_names)
    share = coder.unknown_name_share(product_names)
    unknown = coder.unknown_names(product_names, share)
    if not has_confidence_model(coder):
        proba = coder.predict_proba(texts)
        top = proba.max(axis=1) if len(proba) else np.zeros(0)
        return Assessment(proba, top, unknown, top >= coder.thresholds.review)
    proba, sig = signals(coder, texts, product_names, share)
    conf = coder.confidence.predict(sig) if len(sig) else np.zeros(0)
    return Assessment(proba, conf, unknown, conf >= coder.confidence.threshold, sig)


# ---- fitting ---------------------------------------------------------------------------------


def _fit_lr(x: np.ndarray, y: np.ndarray, c: float) -> tuple:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    if len(set(y)) < 2:  # nothing to learn: every case right (or wrong)
        return mean, scale, np.zeros(x.shape[1]), float(np.log((y.mean() + 0.5) / 1.0))
    clf = LogisticRegression(C=c, max_iter=1000)
    clf.fit((x - mean) / scale, y)
    return mean, scale, clf.coef_[0].astype(np.float64), float(clf.intercept_[0])


def choose_threshold(scores: np.ndarray, correct: np.ndarray, target: float) -> float:
    """Lowest threshold whose accepted cases satisfy ``(errors + 1) / (accepted + 1) <= 1 -
    target``; 1.01 (nothing accepted) when none does."""
    order = np.argsort(-scores, kind="stable")
    s, wrong = scores[order], ~correct[order]
    errors = np.cumsum(wrong)
    accepted = np.arange(1, len(s) + 1)
    ok = (errors + 1) / (accepted + 1) <= 1 - target
    # a threshold must accept all cases with an equal score: only cut between distinct scores
    distinct = np.r_[s[1:] < s[:-1], True]
    ok &= distinct
    if not ok.any():
        return 1.01
    last = int(np.max(np.nonzero(ok)[0]))
    return float(s[last])


def fit_confidence(
    signals_: np.ndarray,
    correct: np.ndarray,
    target_precision: float,
    fitted_on: str,
    folds: int = 5,
    c: float = 1.0,
    seed: int = 20261205,
) -> tuple[ConfidenceModel, np.ndarray]:
    """Fit the confidence model and choose its threshold from cross-fitted scores; returns the
    model and the cross-fitted (out-of-fold) scores of the fitting cases."""
    correct = np.asarray(correct, dtype=bool)
    n = len(correct)
    rng = np.random.default_rng(seed)
    fold = rng.permutation(np.arange(n) % folds)
    oof = np.zeros(n)
    for f in range(folds):
        train, test = fold != f, fold == f
        mean, scale, coef, intercept = _fit_lr(signals_[train], correct[train], c)
        z = ((signals_[test] - mean) / scale) @ coef + intercept
        oof[test] = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
    threshold = choose_threshold(oof, correct, target_precision)
    mean, scale, coef, intercept = _fit_lr(signals_, correct, c)
    model = ConfidenceModel(
        mean=mean,
        scale=scale,
        coef=coef,
        intercept=intercept,
        threshold=threshold,
        target_precision=target_precision,
        fitted_on=fitted_on,
        cases=n,
        info={"signals": list(SIGNALS), "folds": folds, "C": c},
    )
    return model, oof


def tradeoff_curve(
    scores: np.ndarray, correct: np.ndarray, grid: Sequence[float] | None = None
) -> list[dict]:
    """Review share vs precision of the automatically coded rest, for thresholds on ``scores``
    (default: the review shares 0 %, 5 % ... 60 %)."""
    correct = np.asarray(correct, dtype=bool)
    n = len(scores)
    rows = []
    if n == 0:
        return rows
    order = np.argsort(-scores, kind="stable")
    for share in grid or (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6):
        keep = int(round(n * (1 - share)))
        auto = order[:keep]
        rows.append(
            {
                "review_share": share,
                "auto_cases": keep,
                "auto_precision": float(correct[auto].mean()) if keep else None,
                "threshold": float(scores[order[keep - 1]]) if keep else None,
            }
        )
    return rows
