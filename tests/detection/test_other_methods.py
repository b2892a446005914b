import numpy as np
import pandas as pd
import pytest

from pipeline.detection import METHODS, auto, glrnb, short_history
from pipeline.detection.base import RESULT_COLUMNS
from pipeline.detection.registry import OFFSET_METHODS, detect_panel, detect_panel_frame


def test_registry_has_the_documented_methods() -> None:
    expected = {
        "farrington-original",
        "farrington-noufaily",
        "farrington-original-offset",
        "farrington-noufaily-offset",
        "ears-c1",
        "ears-c2",
        "ears-c3",
        "glrnb",
        "short-history",
        "auto",
        "auto-offset",
        "short-window",
        "auto-rise",
        "auto-rise-offset",
    }
    assert set(METHODS) == expected
    assert {m for m in expected if m.endswith("-offset")} == OFFSET_METHODS


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_honours_the_interface(name: str) -> None:
    rng = np.random.default_rng(0)
    y = rng.poisson(5, 330).astype(float)
    den = np.full(y.size, 100.0)
    out = METHODS[name](y, denominator=den, evaluate=np.arange(320, 330), alpha=0.01)
    assert list(out.columns)[:7] == RESULT_COLUMNS
    assert out["index"].tolist() == list(range(320, 330))
    assert (out["upper"] >= 0).all()
    # score > 1 <=> observed above the threshold (alarm may still be vetoed by limit54)
    above = out["observed"] > out["upper"]
    assert ((out["score"] > 1) == above).all() or name == "ears-c3"
    assert not (out["alarm"] & ~above).any() or name == "ears-c3"


def test_glrnb_catches_a_spread_outbreak_the_weekly_test_misses() -> None:
    rng = np.random.default_rng(12)
    hits_glr = hits_far = 0
    for _rep in range(30):
        y = rng.negative_binomial(20 / 0.5, 1 / 1.5, 330).astype(float)  # mean 20, phi 1.5
        y[320:323] += [9, 9, 9]  # +9 a week for three weeks: ~1.6 sd each week
        g = glrnb(y, evaluate=np.arange(320, 323))
        f = METHODS["farrington-noufaily"](y, evaluate=np.arange(320, 323))
        hits_glr += bool(g["alarm"].any())
        hits_far += bool(f["alarm"].any())
    assert hits_glr > hits_far


def test_short_history_rule() -> None:
    y = np.array([2, 3, 1, 2, 4, 2, 3, 2, 1, 3, 2, 2, 15], dtype=float)
    out = short_history(y, evaluate=np.arange(y.size))
    # history ends 2 weeks before, >= 8 weeks needed -> first evaluable week is index 10
    assert out["index"].tolist() == [10, 11, 12]
    last = out.iloc[-1]
    assert last["expected"] == pytest.approx(np.mean(y[:10]))
    assert bool(last["alarm"])
    # all-zero history: a handful of cases still needs the 5-in-4-weeks rule
    z = np.zeros(20)
    z[-1] = 3
    assert not short_history(z).iloc[0]["alarm"]
    z[-4:] = [1, 1, 1, 3]
    assert short_history(z).iloc[0]["alarm"]


def test_auto_picks_method_by_history_length() -> None:
    rng = np.random.default_rng(1)
    y = rng.poisson(6, 300).astype(float)
    out = auto(y, evaluate=np.array([5, 20, 60, 110, 160, 214, 270, 299]))
    methods = dict(zip(out["index"], out["method"], strict=True))
    assert 5 not in methods  # < 8 weeks of history: not evaluated
    assert methods[20] == "short-history"
    assert methods[60] == "short-history"
    assert methods[110] == "farrington-noufaily(b=2)"
    assert methods[160] == "farrington-noufaily(b=3)"
    assert methods[214] == "farrington-noufaily(b=4)"
    assert methods[270] == "farrington-noufaily(b=5)"
    panel = detect_panel("auto", [y, y[:100]], evaluate=[np.array([299]), np.array([99])])
    assert panel[0]["method"].tolist() == ["farrington-noufaily(b=5)"]
    assert panel[1]["method"].tolist() == ["short-history"]


def test_auto_falls_back_when_the_glm_cannot_be_fitted() -> None:
    # Five years of zeros: R's glm does not converge (the weekly mean runs off to 0), so
    # farrington gives no result; auto still judges the week with short-history.
    y = np.zeros(300)
    y[-4:] = [2, 2, 3, 6]
    far = METHODS["farrington-noufaily"](y)
    out = auto(y)
    assert far["upper"].isna().all() and not far["alarm"].any()
    assert out["method"].tolist() == ["short-history"]
    assert bool(out.iloc[0]["alarm"])


@pytest.mark.parametrize("name", sorted(METHODS))
def test_panel_frame_equals_per_series_calls(name: str) -> None:
    rng = np.random.default_rng(8)
    series = [rng.poisson(m, n).astype(float) for m, n in ((4, 330), (1, 40), (9, 280))]
    dens = [np.full(s.size, 50.0) for s in series]
    evals = [np.arange(s.size - 12, s.size) for s in series]
    frame = detect_panel_frame(name, series, evaluate=evals, denominators=dens)
    for i, s in enumerate(series):
        single = METHODS[name](s, evaluate=evals[i], denominator=dens[i])
        part = frame[frame["series"] == i].drop(columns="series").reset_index(drop=True)
        pd.testing.assert_frame_equal(part, single)
