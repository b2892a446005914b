"""Noufaily et al. (2013) simulation design for benchmarking weekly detectors.

42 scenarios = 7 parameter blocks x trend (no/yes) x seasonality (none, annual m=1,
biannual m=2). Baseline counts for weeks ``t = 1..624`` are negative binomial with mean

    mu_t = exp(theta + beta t + sum_{j=1..m} [gamma1 cos(2 pi j t / 52) + gamma2 sin(2 pi j t / 52)])

and variance ``phi mu_t`` (Poisson when ``phi = 1``); ``beta = 0`` in the no-trend scenarios.
Outbreaks: size ``~ Poisson(k sd_start)`` with ``sd_start = sqrt(phi mu_start)`` the baseline
standard deviation in the start week, each case added ``floor(LogNormal(0, 0.5))`` weeks after
the start (50 % in the start week, 43 % one week later, 7 % later).

Per replicate (as in Noufaily et al. and the surveillance-package replication studies):

* 4 baseline outbreaks starting in weeks 313-575, ``k`` drawn from {2, 3, 5, 10}; their cases
  are cut at week 575 so that the evaluated weeks hold no baseline-outbreak cases;
* the evaluated ("current") weeks are the last 49 (576-624);
* the series without a current outbreak measures false positives; for each ``k`` in 1..10 a
  copy with one current outbreak starting uniformly in weeks 576-624 measures detection (the
  outbreak size is redrawn until it has at least one case; cases after week 624 are lost).

Scenario numbering (ours): ``id = 6 (block - 1) + 3 trend + m + 1``. Everything is
deterministic given ``seed`` (numpy ``SeedSequence([seed, scenario, replicate])``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "BLOCKS",
    "N_CURRENT",
    "N_WEEKS",
    "OUTBREAK_KS",
    "SCENARIOS",
    "Outbreak",
    "Replicate",
    "Scenario",
    "baseline_mean",
    "simulate_replicate",
    "simulate_scenario",
]

N_WEEKS = 624
N_CURRENT = 49
OUTBREAK_KS = tuple(range(1, 11))
BASELINE_OUTBREAK_WEEKS = (313, 575)  # 1-based, inclusive
BASELINE_OUTBREAK_KS = (2, 3, 5, 10)
N_BASELINE_OUTBREAKS = 4
GENERATOR_VERSION = "noufaily-2013-v1"  # bump when the generator's output changes

#: Parameter blocks of Noufaily et al. (2013), Table I.
BLOCKS: dict[int, dict[str, float]] = {
    1: {"theta": 0.1, "beta": 0.0025, "gamma1": 0.6, "gamma2": 0.6, "phi": 1.5},
    2: {"theta": -2.0, "beta": 0.005, "gamma1": 0.1, "gamma2": 0.3, "phi": 2.0},
    3: {"theta": 1.5, "beta": 0.003, "gamma1": 0.2, "gamma2": -0.4, "phi": 1.0},
    4: {"theta": 0.5, "beta": 0.002, "gamma1": 0.5, "gamma2": 0.5, "phi": 5.0},
    5: {"theta": 2.5, "beta": 0.001, "gamma1": 1.0, "gamma2": 0.1, "phi": 3.0},
    6: {"theta": 3.75, "beta": 0.001, "gamma1": 0.1, "gamma2": -0.1, "phi": 1.1},
    7: {"theta": 5.0, "beta": 0.0001, "gamma1": 0.05, "gamma2": 0.01, "phi": 1.2},
}


@dataclass(frozen=True)
class Scenario:
    id: int
    block: int
    trend: bool
    m: int  # number of harmonics: 0 none, 1 annual, 2 biannual

    @property
    def params(self) -> dict[str, float]:
        p = dict(BLOCKS[self.block])
        if not self.trend:
            p["beta"] = 0.0
        return p

    def describe(self) -> str:
        season = {0: "none", 1: "annual", 2: "biannual"}[self.m]
        return f"block {self.block}, {'trend' if self.trend else 'no trend'}, season {season}"


SCENARIOS: tuple[Scenario, ...] = tuple(
    Scenario(6 * (blk - 1) + 3 * int(tr) + m + 1, blk, tr, m)
    for blk in sorted(BLOCKS)
    for tr in (False, True)
    for m in (0, 1, 2)
)


def baseline_mean(scenario: Scenario, n_weeks: int = N_WEEKS) -> np.ndarray:
    """``mu_t`` for ``t = 1..n_weeks``."""
    p = scenario.params
    t = np.arange(1, n_weeks + 1, dtype=float)
    lin = p["theta"] + p["beta"] * t
    for j in range(1, scenario.m + 1):
        lin = (
            lin
            + p["gamma1"] * np.cos(2 * np.pi * j * t / 52)
            + p["gamma2"] * np.sin(2 * np.pi * j * t / 52)
        )
    return np.exp(lin)


def _nb(rng: np.random.Generator, mu: np.ndarray, phi: float) -> np.ndarray:
    if phi == 1.0:
        return rng.poisson(mu)
    # numpy's NB counts failures: mean n(1-p)/p = mu, variance mu/p = phi mu.
    return rng.negative_binomial(mu / (phi - 1.0), 1.0 / phi)


def _outbreak_cases(rng: np.random.Generator, size: int) -> np.ndarray:
    """Cases per week after the start: histogram of floor(LogNormal(0, 0.5)) delays."""
    delays = np.floor(rng.lognormal(0.0, 0.5, size)).astype(np.int64)
    return np.bincount(delays)


@dataclass(frozen=True)
class Outbreak:
    k: int
    start: int  # 0-based week index
    end: int  # 0-based, inclusive: last week with outbreak cases (clipped to the series)
    size: int  # cases actually added inside the series
    cases: np.ndarray = field(repr=False)  # per week from start


@dataclass(frozen=True)
class Replicate:
    scenario: Scenario
    replicate: int
    mean: np.ndarray  # baseline mean mu_t
    counts: np.ndarray  # baseline + baseline outbreaks, no current outbreak
    outbreaks: dict[int, tuple[np.ndarray, Outbreak]]  # k -> (counts with outbreak, outbreak)

    @property
    def evaluate(self) -> np.ndarray:
        n = self.counts.size
        return np.arange(n - N_CURRENT, n)


def simulate_replicate(
    scenario: Scenario,
    replicate: int,
    seed: int = 20130601,
    ks: tuple[int, ...] = OUTBREAK_KS,
    n_weeks: int = N_WEEKS,
) -> Replicate:
    """One replicate: baseline series and one current-outbreak copy per ``k`` in ``ks``."""
    ss = np.random.SeedSequence([seed, scenario.id, replicate])
    base_ss, *k_ss = ss.spawn(1 + len(OUTBREAK_KS))
    rng = np.random.default_rng(base_ss)
    phi = scenario.params["phi"]
    mu = baseline_mean(scenario, n_weeks)
    sd = np.sqrt(phi * mu)
    counts = _nb(rng, mu, phi).astype(float)
    first_cur = n_weeks - N_CURRENT
    lo, hi = BASELINE_OUTBREAK_WEEKS
    hi = min(hi, first_cur)
    for _ in range(N_BASELINE_OUTBREAKS):
        start = int(rng.integers(lo - 1, hi))  # 0-based start in [lo-1, hi-1]
        k = int(rng.choice(BASELINE_OUTBREAK_KS))
        size = int(rng.poisson(k * sd[start]))
        if size == 0:
            continue
        cases = _outbreak_cases(rng, size)
        stop = min(start + cases.size, first_cur)  # keep the evaluated weeks clean
        counts[start:stop] += cases[: stop - start]

    outbreaks: dict[int, tuple[np.ndarray, Outbreak]] = {}
    for k in ks:
        krng = np.random.default_rng(k_ss[OUTBREAK_KS.index(k)])
        start = int(krng.integers(first_cur, n_weeks))
        size = 0
        while size == 0:
            size = int(krng.poisson(k * sd[start]))
        cases = _outbreak_cases(krng, size)
        stop = min(start + cases.size, n_weeks)
        added = cases[: stop - start]
        series = counts.copy()
        series[start:stop] += added
        nz = np.flatnonzero(added)
        end = start + int(nz[-1]) if nz.size else start
        outbreaks[k] = (
            series,
            Outbreak(k=k, start=start, end=end, size=int(added.sum()), cases=added),
        )
    return Replicate(scenario, replicate, mu, counts, outbreaks)


def simulate_scenario(
    scenario: Scenario, replicates: int, seed: int = 20130601, ks: tuple[int, ...] = OUTBREAK_KS
) -> Iterator[Replicate]:
    for r in range(replicates):
        yield simulate_replicate(scenario, r, seed=seed, ks=ks)
