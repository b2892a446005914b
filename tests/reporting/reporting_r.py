"""Run R reference computations from the reporting tests (Rscript + CSV in, CSV out).

R packages come from Debian (`r-cran-survey`, base R's `poisson.test`); `.ci/run` installs
them. Without R a test skips locally but fails when the CI environment variable is set."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest


def r_missing(package: str | None = None) -> str | None:
    """Why R (with ``package``) cannot run here, or None."""
    if shutil.which("Rscript") is None:
        return "Rscript not found (apt-get install r-base-core r-cran-survey)"
    if package:
        probe = subprocess.run(
            ["Rscript", "-e", f"quit(status = !requireNamespace('{package}', quietly = TRUE))"],
            capture_output=True,
            timeout=120,
        )
        if probe.returncode != 0:
            return f"R package {package!r} missing (apt-get install r-cran-{package})"
    return None


def require_r(package: str | None = None) -> None:
    """Skip without R locally; fail in CI (where .ci/run installs it)."""
    reason = r_missing(package)
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI needs R for this reference check: {reason}")
    pytest.skip(reason)


def run_r(script: str, inputs: dict[str, pd.DataFrame], workdir: Path) -> pd.DataFrame:
    """Write ``inputs`` as CSV files (name.csv) in ``workdir``, run ``script`` there (it writes
    out.csv) and return out.csv."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name, frame in inputs.items():
        frame.to_csv(workdir / f"{name}.csv", index=False)
    (workdir / "script.R").write_text(script, encoding="utf-8")
    done = subprocess.run(
        ["Rscript", "--vanilla", "script.R"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return pd.read_csv(workdir / "out.csv", keep_default_na=True)
