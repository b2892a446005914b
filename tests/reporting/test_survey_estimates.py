"""Weighted national estimates (issue 15 item 8) against a hand computation and R `survey`.

R ``survey`` (Debian r-cran-survey) is the independent reference: ``svydesign(ids = ~psu,
strata = ~stratum, weights = ~weight, nest = TRUE)`` and ``svytotal`` / ``svyby`` give the
same design-based (with-replacement, linearisation) standard errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.reporting.stats import survey_estimate, survey_total, unstable_reasons

from .reporting_r import require_r, run_r


def _design(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["stratum", "psu", "weight"])


def test_estimate_and_standard_error_by_hand() -> None:
    # stratum A: PSU 1 two cases of weight 10, PSU 2 one of 20; stratum B: PSUs of 5, 5+5, 15
    design = _design(
        [
            ("A", "A/1", 10.0),
            ("A", "A/1", 10.0),
            ("A", "A/2", 20.0),
            ("B", "B/1", 5.0),
            ("B", "B/2", 5.0),
            ("B", "B/2", 5.0),
            ("B", "B/3", 15.0),
        ]
    )
    total, se, lonely = survey_total(design, np.ones(7))
    # A: PSU totals 20, 20 -> 0; B: 5, 10, 15 -> 3/2 * 50 = 75
    assert total == 70.0 and se == pytest.approx(math.sqrt(75)) and lonely == []
    # domain of cases 1, 3, 4, 5: A: 10, 20 -> 2 * 50 = 100; B: 5, 5, 0 -> 1.5 * 50/3 = 25
    domain = np.array([1, 0, 1, 1, 1, 0, 0], dtype=bool)
    estimate = survey_estimate(design, domain)
    assert estimate.estimate == 40.0 and estimate.cases == 4
    assert estimate.se == pytest.approx(math.sqrt(125))
    assert estimate.ci_low == pytest.approx(40 - 1.959964 * math.sqrt(125), rel=1e-6)
    assert estimate.unstable and estimate.reasons == ("cases", "estimate")


def test_neiss_unstable_rule() -> None:
    assert unstable_reasons(20, 1200.0, 0.33) == ()
    assert unstable_reasons(19, 50_000.0, 0.10) == ("cases",)
    assert unstable_reasons(400, 1199.0, 0.10) == ("estimate",)
    assert unstable_reasons(400, 50_000.0, 0.3301) == ("cv",)
    assert unstable_reasons(5, 100.0, None) == ("cases", "estimate", "cv")


def test_a_stratum_with_one_psu_adds_no_variance() -> None:
    design = _design([("A", "A/1", 4.0), ("B", "B/1", 3.0), ("B", "B/2", 5.0)])
    total, se, lonely = survey_total(design, np.ones(3))
    assert total == 12.0 and se == pytest.approx(math.sqrt(2 * 2.0)) and lonely == ["A"]


def neiss_like_sample(seed: int = 7, n: int = 3000) -> pd.DataFrame:
    """NEISS-shaped: 5 strata (C, L, M, S, V) with their own PSU counts and weight levels,
    per-PSU weights varying a little around the stratum's, product families with different
    shares per stratum; one stratum with a single PSU."""
    rng = np.random.default_rng(seed)
    strata = {"C": (9, 4.9), "L": (6, 56.3), "M": (7, 78.2), "S": (12, 74.0), "V": (8, 16.0)}
    rows = []
    for stratum, (psus, weight) in strata.items():
        for psu in range(1, psus + 1):
            size = int(rng.integers(20, 160))
            w = round(weight * rng.uniform(0.9, 1.1), 4)
            shares = rng.dirichlet([4, 2, 1, 0.5, 0.3])
            for family in rng.choice(["SP", "FU", "BM", "HA", "TY"], size=size, p=shares):
                rows.append((stratum, str(psu), w, family))
    rows.append(("X", "1", 30.0, "SP"))  # a lonely PSU
    rows.append(("X", "1", 30.0, "TY"))
    return pd.DataFrame(rows, columns=["stratum", "psu", "weight", "family"])


@pytest.mark.slow
def test_estimates_match_r_survey(tmp_path) -> None:  # type: ignore[no-untyped-def]
    require_r("survey")
    sample = neiss_like_sample()
    design = sample.assign(psu=sample["stratum"] + "/" + sample["psu"])
    reference = run_r(
        """
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "certainty")
d <- read.csv("sample.csv", colClasses = c(psu = "character"))
d$one <- 1
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d, nest = TRUE)
tot <- svytotal(~one, des)
by <- svyby(~one, ~family, des, svytotal)
out <- rbind(
  data.frame(domain = "all", estimate = unname(coef(tot)), se = unname(SE(tot))),
  data.frame(domain = by$family, estimate = unname(coef(by)), se = unname(SE(by)))
)
write.csv(format(out, digits = 15), "out.csv", row.names = FALSE)
""",
        {"sample": sample},
        tmp_path,
    )
    assert len(reference) == 6
    for row in reference.to_dict("records"):
        domain = str(row["domain"]).strip()
        mask = np.ones(len(design), bool) if domain == "all" else design["family"] == domain
        ours = survey_estimate(design, np.asarray(mask))
        assert ours.estimate == pytest.approx(float(row["estimate"]), rel=1e-9)
        assert ours.se == pytest.approx(float(row["se"]), rel=1e-7)
        assert ours.se > 0
