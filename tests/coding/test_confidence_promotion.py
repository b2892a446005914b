"""Honest confidence (issue 20 item 3) and the promotion rule (item 4)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.coding import confidence
from pipeline.coding.promotion import MARGINS, promotion_decision


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=300),
    st.sampled_from([0.8, 0.9, 0.95, 0.97]),
)
def test_threshold_meets_the_corrected_precision_target(pairs, target):
    scores = np.array([p for p, _ in pairs])
    correct = np.array([c for _, c in pairs])
    t = confidence.choose_threshold(scores, correct, target)
    auto = scores >= t
    if auto.any():
        errors = int((~correct[auto]).sum())
        assert (errors + 1) / (auto.sum() + 1) <= 1 - target + 1e-12
    else:
        assert t > 1


def test_confidence_model_separates_right_from_wrong_and_reaches_its_target():
    rng = np.random.default_rng(3)
    n = 3000
    quality = rng.normal(size=n)
    correct = rng.random(n) < 1 / (1 + np.exp(-(2.5 + 2 * quality)))
    signals = np.column_stack([quality + rng.normal(scale=0.3, size=n), rng.normal(size=(n, 6))])
    model, oof = confidence.fit_confidence(signals, correct, 0.97, fitted_on="synthetic")
    assert model.coef[0] > 0 and abs(model.coef[1:]).max() < model.coef[0]
    auto = oof >= model.threshold
    assert correct[auto].mean() >= 0.97 > correct.mean()
    assert 0 < 1 - auto.mean() < 0.9
    curve = confidence.tradeoff_curve(oof, correct)
    precisions = [r["auto_precision"] for r in curve]
    assert precisions[0] == pytest.approx(correct.mean()) and precisions[-1] > precisions[0]


def _metrics(heldout, coder=None, indep=None, auto=None):
    m = {"test": {"top1_accuracy": heldout}, "coder_test": None, "external": {}}
    if coder is not None:
        m["coder_test"] = {"cases": 50, "top1_accuracy": coder}
    if indep is not None:
        m["external"]["independent"] = {"overall": {"top1_accuracy": indep, "auto_precision": auto}}
    return m


def test_promotion_only_when_not_worse_on_both_sets():
    current = _metrics(0.99, coder=0.90, indep=0.90, auto=0.97)
    assert promotion_decision(_metrics(0.99, 0.91, 0.93, 0.98), current).promote
    within = _metrics(0.99 - MARGINS["heldout_top1"] / 2, 0.90, 0.90, 0.97)
    assert promotion_decision(within, current).promote
    worse_coder = promotion_decision(_metrics(0.995, 0.85, 0.95, 0.99), current)
    assert not worse_coder.promote and "coder_top1" in worse_coder.reason
    worse_indep = promotion_decision(_metrics(0.995, 0.95, 0.80, 0.99), current)
    assert not worse_indep.promote and "independent_top1" in worse_indep.reason
    missing = promotion_decision(_metrics(0.995), current)  # cannot show it is not worse
    assert not missing.promote
    assert promotion_decision(_metrics(0.9), None).promote  # nothing to compare with
    assert promotion_decision(_metrics(0.99, 0.9), _metrics(0.99)).promote
