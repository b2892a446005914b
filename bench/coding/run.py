"""Product-coding benchmark: prediction throughput, training time, pattern assignment.

    python -m bench.coding [--predict 1000000] [--train 200000] [--quick]
                           [--warehouse PATH | --landing DIR]

Narratives come from the sample network: the warehouse at ``--warehouse`` (default
``$SENTINEL_HOME/warehouse.duckdb`` when it exists) or, without one, the landing files read with
the intake reader. Larger workloads are synthesised by resampling those cases with a fixed seed.

Each step runs in its own process so its peak memory (``ru_maxrss``) is its own:

1. predict: the shipped model (``models/product_coder/CURRENT``) takes the pipeline's decision
   for N narratives in batches of 20,000 (``confidence.assess``: text normalisation, features,
   calibrated probabilities, confidence signals and model, unknown-name rule, top-2): cases/s,
   peak RSS, and the tracemalloc peak of one batch. Product names are normalised through a
   cache (they recur); narratives are not cached, so resampling does not flatter the figure;
2. train: fit the coder on N resampled labelled cases plus the reference documents (same
   configuration as ``sentinel model train``): seconds, lbfgs iterations, peak RSS;
3. cluster: build the pattern state and assign every sample case with a product (``sentinel
   patterns refresh --rebuild`` without the database): cases/s, patterns, peak RSS.

Figures are printed and written to ``bench/results/coding/latest.json`` and ``latest.md``,
with the model's review-share / auto-coded-precision curve as recorded in its
``metrics.json`` (independent evaluation set; the benchmark does not re-run any evaluation).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # allow `python bench/coding/run.py`
    sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "results" / "coding"
BATCH = 20_000
SEED = 20261122


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def load_pool(warehouse: Path | None, landing: Path | None):
    """Sample cases: product_name, narrative, label (known category / NONE / None), the
    clustering fields."""
    import pandas as pd

    from pipeline.coding import NO_PRODUCT
    from pipeline.coding.train import valid_codes

    if warehouse is not None and warehouse.exists():
        from pipeline.config import Settings
        from pipeline.storage.session import reader

        settings = Settings.from_env().with_overrides(home=warehouse.parent)
        with reader(settings) as con:  # the published snapshot, like every reader
            frame = con.execute(
                "SELECT hospital_code, case_id, product_name, narrative, product_category, "
                "product_relation, cause, injury_nature, body_region, visit_week, "
                "strftime(visit_datetime, '%Y-%m-%d %H:%M:%S') AS visit_datetime "
                "FROM cases WHERE status = 'active' ORDER BY hospital_code, case_id"
            ).df()
        source = str(warehouse)
    else:
        from pipeline.coding.landing import read_landing_cases

        frame = read_landing_cases(landing)
        frame["visit_datetime"] = pd.to_datetime(frame["visit_datetime"]).dt.strftime(
            "%Y-%m-%d %H:%M:%S"
        )
        source = str(landing)
    valid = valid_codes(frame["product_category"], pd.to_datetime(frame["visit_datetime"]))
    none = (
        frame["product_category"].isna()
        & frame["product_name"].isna()
        & (frame["product_relation"] == "other")
    )
    frame["label"] = None
    frame.loc[none, "label"] = NO_PRODUCT
    frame.loc[valid, "label"] = frame.loc[valid, "product_category"]
    return frame, source


def step_predict(pool_path: str, n: int, out: dict) -> None:
    import numpy as np
    import pandas as pd

    from pipeline.coding import model as coder_model
    from pipeline.coding.confidence import assess
    from pipeline.coding.model import model_text
    from pipeline.config import REPO_ROOT

    pool = pd.read_parquet(pool_path)
    texts = [model_text(p, t) for p, t in zip(pool["product_name"], pool["narrative"], strict=True)]
    names = pool["product_name"].tolist()
    coder = coder_model.load(REPO_ROOT / "models")
    rng = np.random.default_rng(SEED)
    baseline = _rss_mb()

    def decide(idx: np.ndarray) -> None:
        judged = assess(coder, [texts[i] for i in idx], [names[i] for i in idx])
        top2 = np.argsort(-judged.proba, axis=1)[:, :2]
        coder.classes[top2[:, 0]]
        judged.auto.sum()

    # tracemalloc slows Python code down: measure one batch separately, then time the run.
    tracemalloc.start()
    decide(rng.integers(0, len(texts), BATCH))
    _current, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.perf_counter()
    cpu_started = time.process_time()
    done = 0
    while done < n:
        size = min(BATCH, n - done)
        decide(rng.integers(0, len(texts), size))
        done += size
    seconds = time.perf_counter() - started
    # CPU time of this process (all its threads): on a shared machine the wall clock also
    # counts the time other jobs held the CPU
    cpu_seconds = time.process_time() - cpu_started
    out.update(
        step="predict",
        cases=n,
        seconds=round(seconds, 1),
        cases_per_second=round(n / seconds),
        cpu_seconds=round(cpu_seconds, 1),
        cases_per_cpu_second=round(n / cpu_seconds),
        model=f"{coder.name}/{coder.version}",
        batch=BATCH,
        peak_rss_mb=round(_rss_mb(), 1),
        rss_before_mb=round(baseline, 1),
        tracemalloc_peak_one_batch_mb=round(traced_peak / 2**20, 1),
    )


def model_curve() -> dict:
    """The shipped model's review-share / precision curves from its metrics.json."""
    from pipeline.coding import model as coder_model
    from pipeline.config import REPO_ROOT

    models = REPO_ROOT / "models"
    version = coder_model.current_version(models)
    metrics = coder_model.read_metrics(models, coder_model.DEFAULT_NAME, version)
    curves = {name: ext["curve"] for name, ext in (metrics.get("external") or {}).items() if ext}
    conf = metrics.get("confidence") or {}
    if conf.get("curve"):
        curves["calibration (cross-fitted)"] = conf["curve"]
    return {"version": version, "threshold": conf.get("threshold"), "curves": curves}


def step_train(pool_path: str, n: int, out: dict) -> None:
    import numpy as np
    import pandas as pd

    from pipeline.coding.model import FeatureConfig, ProductCoder, model_text
    from pipeline.coding.train import reference_documents

    pool = pd.read_parquet(pool_path)
    pool = pool[pool["label"].notna()].reset_index(drop=True)
    rng = np.random.default_rng(SEED)
    idx = np.sort(rng.integers(0, len(pool), n))
    texts = [model_text(pool["product_name"].iat[i], pool["narrative"].iat[i]) for i in idx]
    labels = pool["label"].to_numpy()[idx].tolist()
    ref_texts, ref_labels = reference_documents()
    baseline = _rss_mb()
    started = time.perf_counter()
    coder = ProductCoder.fit(
        texts + ref_texts,
        labels + ref_labels,
        name="bench",
        version="bench",
        config=FeatureConfig(),
    )
    seconds = time.perf_counter() - started
    out.update(
        step="train",
        cases=n,
        reference_documents=len(ref_texts),
        seconds=round(seconds, 1),
        lbfgs_iterations=coder.info["n_iter"],
        classes=len(coder.classes),
        features=coder.n_features,
        peak_rss_mb=round(_rss_mb(), 1),
        rss_before_mb=round(baseline, 1),
    )


def step_cluster(pool_path: str, _n: int, out: dict) -> None:
    import pandas as pd

    from pipeline.clustering.patterns import cluster_cases, new_state

    pool = pd.read_parquet(pool_path)
    frame = (
        pool[pool["label"].notna() & (pool["label"] != "NONE")]
        .rename(columns={"label": "category_code"})
        .reset_index(drop=True)
    )
    baseline = _rss_mb()
    started = time.perf_counter()
    state = new_state(frame)
    idf_seconds = time.perf_counter() - started
    assignments = cluster_cases(state, frame)
    seconds = time.perf_counter() - started
    patterns = len({a.pattern_id for a in assignments})
    out.update(
        step="cluster",
        cases=len(frame),
        seconds=round(seconds, 1),
        idf_seconds=round(idf_seconds, 1),
        cases_per_second=round(len(frame) / seconds),
        assigned=len(assignments),
        patterns=patterns,
        peak_rss_mb=round(_rss_mb(), 1),
        rss_before_mb=round(baseline, 1),
    )


STEPS = {"predict": step_predict, "train": step_train, "cluster": step_cluster}


def _child(step: str, pool_path: str, n: int, queue) -> None:
    out: dict = {}
    STEPS[step](pool_path, n, out)
    queue.put(out)


def run_step(step: str, pool_path: str, n: int) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(step, pool_path, n, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _pct1(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def render(results: dict) -> str:
    p, t, c = results["predict"], results["train"], results.get("cluster")
    lines = [
        "# Product-coding benchmark",
        "",
        f"Machine: {results['machine']}. Source: {results['source']} "
        f"({results['pool_cases']} cases, resampled with seed {SEED}).",
        "",
        "| step | workload | time | throughput | peak RSS |",
        "|---|---|---|---|---|",
        f"| predict ({p['model']}) | {p['cases']:,} narratives, batches of {p['batch']:,} | "
        f"{p['seconds']} s ({p['cpu_seconds']} s CPU) | {p['cases_per_second']:,} cases/s "
        f"({p['cases_per_cpu_second']:,} per CPU second) | {p['peak_rss_mb']} MB "
        f"(tracemalloc peak of one batch {p['tracemalloc_peak_one_batch_mb']} MB) |",
        f"| train | {t['cases']:,} cases + {t['reference_documents']} reference docs, "
        f"{t['classes']} classes, {t['features']} features | {t['seconds']} s "
        f"({t['lbfgs_iterations']} lbfgs iterations) | - | {t['peak_rss_mb']} MB |",
    ]
    if c:
        lines.append(
            f"| cluster (rebuild) | {c['cases']:,} coded cases -> {c['patterns']} "
            f"patterns | {c['seconds']} s | {c['cases_per_second']:,} cases/s | "
            f"{c['peak_rss_mb']} MB |"
        )
    curve = results.get("curve") or {}
    for name, rows in (curve.get("curves") or {}).items():
        lines += [
            "",
            f"Review share vs precision of the automatically coded rest, {name} "
            f"({curve['version']}, from its metrics.json):",
            "",
            "| sent to review | auto-coded cases | precision of the auto-coded |",
            "|---|---|---|",
        ]
        lines += [
            f"| {100 * r['review_share']:.0f} % | {r['auto_cases']} | "
            f"{_pct1(r['auto_precision'])} |"
            for r in rows
        ]
    lines += ["", f"Command: `{results['command']}`", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--predict", type=int, default=1_000_000, help="narratives to code")
    parser.add_argument("--train", type=int, default=200_000, help="training cases")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="100,000 predictions, 20,000 training cases (smoke run)",
    )
    parser.add_argument("--no-cluster", action="store_true", help="skip the clustering step")
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=None,
        help="warehouse to read cases from (default: $SENTINEL_HOME's)",
    )
    parser.add_argument(
        "--landing",
        type=Path,
        default=ROOT / "data" / "sample" / "landing",
        help="landing directory when there is no warehouse",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.quick:
        args.predict, args.train = 100_000, 20_000
    warehouse = args.warehouse
    if warehouse is None:
        from pipeline.config import Settings

        warehouse = Settings.from_env().warehouse_path
    print(
        f"loading sample cases ({warehouse if warehouse.exists() else args.landing}) ...",
        flush=True,
    )
    pool, source = load_pool(warehouse, args.landing)
    results: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}",
        "source": source,
        "pool_cases": len(pool),
        "command": "python -m bench.coding " + " ".join(argv or sys.argv[1:]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        pool_path = str(Path(tmp) / "pool.parquet")
        pool.to_parquet(pool_path, index=False)
        for step, n in (("predict", args.predict), ("train", args.train), ("cluster", 0)):
            if step == "cluster" and args.no_cluster:
                continue
            print(f"{step} ...", flush=True)
            results[step] = run_step(step, pool_path, n)
            print(json.dumps(results[step]), flush=True)
    try:
        results["curve"] = model_curve()
    except (FileNotFoundError, KeyError) as exc:  # a model without metrics: no curve
        results["curve"] = {"error": str(exc)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "latest.md").write_text(render(results))
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
