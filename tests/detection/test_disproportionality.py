import math

import numpy as np
import pandas as pd
import pytest

from pipeline.detection import disproportionality


def _table() -> pd.DataFrame:
    # Row 0: a=20, b=80, c=100, d=9800 (n1.=100, n.1=120, n..=10000).
    # Row 1: a=2,  b=98, c=50,  d=9850: rare pair, below n >= 3.
    # Row 2: a=10, b=990, c=990, d=98010: exactly as expected (PRR = 1).
    return pd.DataFrame(
        {
            "product": ["e-bike", "kettle", "toy"],
            "outcome": ["burn", "burn", "cut"],
            "n11": [20, 2, 10],
            "n1.": [100, 100, 1000],
            "n.1": [120, 52, 1000],
            "n..": [10000, 10000, 100000],
        }
    )


def test_textbook_values() -> None:
    out = disproportionality(_table())
    r = out.iloc[0]
    # PRR = (20/100) / (100/9900) = 19.8
    assert r["prr"] == pytest.approx(19.8)
    # Yates chi2 = N (|ad - bc| - N/2)^2 / ((a+b)(c+d)(a+c)(b+d))
    #            = 10000 * (196000 - 8000 - 5000)^2 / (100 * 9900 * 120 * 9880) = 285.32
    assert r["chi2"] == pytest.approx(10000 * 183000**2 / (100 * 9900 * 120 * 9880))
    assert r["chi2"] == pytest.approx(285.32, abs=0.01)
    # ROR = 20*9800 / (80*100) = 24.5; se(log) = sqrt(1/20+1/80+1/100+1/9800) = 0.269448
    assert r["ror"] == pytest.approx(24.5)
    assert r["ror_lo"] == pytest.approx(24.5 * math.exp(-1.959964 * 0.269448), rel=1e-5)
    assert r["ror_hi"] == pytest.approx(24.5 * math.exp(1.959964 * 0.269448), rel=1e-5)
    assert r["ror_lo"] == pytest.approx(14.447, abs=0.01)
    assert r["ror_hi"] == pytest.approx(41.546, abs=0.01)
    # E11 = 100*120/10000 = 1.2; IC = log2(20.5/1.7) = 3.5920
    assert r["e11"] == pytest.approx(1.2)
    assert r["ic"] == pytest.approx(3.5920, abs=1e-4)
    # IC025 = IC - 3.3/sqrt(20.5) - 2/20.5^1.5 = 3.5920 - 0.72885 - 0.02155 = 2.8416
    assert r["ic025"] == pytest.approx(2.8416, abs=1e-4)
    assert r["signal_prr"] and r["signal_ror"] and r["signal_ic"]


def test_signal_criteria() -> None:
    out = disproportionality(_table())
    rare, neutral = out.iloc[1], out.iloc[2]
    assert rare["prr"] > 2 and not rare["signal_prr"] and not rare["signal_ror"]  # n11 < 3
    assert neutral["prr"] == pytest.approx(1.0)
    assert not neutral["signal_prr"] and not neutral["signal_ror"] and not neutral["signal_ic"]
    assert list(out.columns[:6]) == list(_table().columns)  # input columns kept


def test_exact_gamma_ic025_close_to_approximation() -> None:
    t = _table()
    approx = disproportionality(t)["ic025"]
    exact = disproportionality(t, ic_method="gamma")["ic025"]
    assert np.all(np.abs(approx - exact) < 0.15)


def test_zero_cell_uses_haldane_correction_and_bad_margins_raise() -> None:
    t = pd.DataFrame({"n11": [5], "n1.": [5], "n.1": [40], "n..": [1000]})  # b = 0
    r = disproportionality(t).iloc[0]
    assert r["ror"] == pytest.approx(5.5 * 960.5 / (0.5 * 35.5))
    assert np.isfinite(r["ror_lo"])
    with pytest.raises(ValueError, match="inconsistent"):
        disproportionality(pd.DataFrame({"n11": [5], "n1.": [3], "n.1": [4], "n..": [10]}))
    with pytest.raises(ValueError, match="lacks columns"):
        disproportionality(pd.DataFrame({"n11": [1]}))
