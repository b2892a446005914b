"""Where a web request's time goes (python -m bench.web.profile --home HOME).

The app is built in this process (``create_app``) and driven through Starlette's TestClient
(the same ASGI stack, sync routes in the thread pool) as one signed-in benchmark user. Each
page kind is requested once cold (nothing remembered for the snapshot) and ``--repeat`` times
warm; the time of each request is split into the parts the routes call, measured by wrapping
them: the session lookup (application database), the read-side service call (DuckDB, or the
per-snapshot memory), the triage state / saved queries (application database), the template
rendering and the export's audit record. ``--threads N`` then sends the same mix from N
threads at once and reports the wall time per request (does the app run requests in
parallel?). HOME: a home with the benchmark's users (``python -m bench.web`` builds one under
``bench/.cache/web/``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PAGES = {
    "inbox": ["/signals", "/signals?status=new", "/signals?severity=severe"],
    "signal": [],  # filled from the inbox
    "search": [
        "/cases?search=1&category=HA&severity=severe",
        "/cases?search=1&q=lid",
        "/cases?search=1&q=%E7%94%B5%E9%A5%AD%E7%85%B2&date_from=2026-06-01",
        "/cases?search=1&category=TY04&age_group=1-4",
    ],
    "search_all": ["/cases?search=1"],
    "export": [
        "/cases/export?fmt=csv&category=HA01&date_from=2026-10-01",
        "/cases/export?fmt=xlsx&category=FD01&date_from=2026-09-01",
    ],
}
# (label, module, attribute): what each part of a request is; wrapped where the routes look
# them up.
PARTS = [
    ("session", "pipeline.services.accounts", "current_session"),
    ("read side", "pipeline.services.cases", "search"),
    ("read side", "pipeline.services.cases", "export"),
    ("read side", "pipeline.services.signals", "inbox"),
    ("read side", "pipeline.services.signals", "details"),
    ("triage state", "pipeline.services.triage", "state"),
    ("saved queries", "pipeline.services.cases", "saved_queries"),
    ("audit", "pipeline.services.cases", "record_export"),
    ("render", "pipeline.web.render", "page"),
    ("render", "pipeline.web.routes.cases", "page"),
    ("render", "pipeline.web.routes.signals", "page"),
]


SPENT: dict[str, float] = defaultdict(float)  # label -> seconds, over every thread
SPENT_LOCK = threading.Lock()


def _wrap(label: str, fn):  # type: ignore[no-untyped-def]
    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            with SPENT_LOCK:
                SPENT[label] += time.perf_counter() - began

    timed.__wrapped__ = fn  # type: ignore[attr-defined]
    return timed


def instrument() -> None:
    """Wrap every part where it is looked up (routes import some by name)."""
    for label, module, name in PARTS:
        mod = importlib.import_module(module)
        fn = getattr(mod, name, None)
        if fn is not None and not hasattr(fn, "__wrapped__"):
            setattr(mod, name, _wrap(label, fn))


def _spent() -> dict[str, float]:
    with SPENT_LOCK:
        return dict(SPENT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--user", default="bench-000")
    args = parser.parse_args(argv)
    os.environ["SENTINEL_COOKIE_SECURE"] = "0"
    os.environ["SENTINEL_HOME"] = str(args.home)
    from fastapi.testclient import TestClient

    from bench.web.run import _sign_in, _signals
    from pipeline.config import Settings
    from pipeline.web import create_app

    settings = Settings.from_env()
    app = create_app(settings)
    instrument()
    client = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
    _sign_in(client, args.user)  # type: ignore[arg-type]
    print(f"home {args.home}; snapshot {app.state.web.snapshots.path or '(not open yet)'}")
    header = f"{'page':<11} {'request':>8} " + " ".join(
        f"{p:>13}" for p in dict.fromkeys(lb for lb, _m, _n in PARTS)
    )
    for phase in ("cold", "warm"):
        print(f"\n{phase} (ms per request)")
        print(header)
        for kind, paths in PAGES.items():
            if kind == "signal" and not paths:  # after the inbox's cold request
                paths = PAGES["signal"] = _signals(client)[:3]  # type: ignore[arg-type]
            totals: list[float] = []
            parts: dict[str, float] = defaultdict(float)
            rounds = 1 if phase == "cold" else args.repeat
            for _ in range(rounds):
                for path in paths:
                    before = _spent()
                    began = time.perf_counter()
                    status = client.get(path).status_code
                    took = time.perf_counter() - began
                    after = _spent()
                    if status >= 400:
                        print(f"  {path}: HTTP {status}")
                    totals.append(took)
                    for k, v in after.items():
                        parts[k] += v - before.get(k, 0.0)
            n = len(totals)
            print(
                f"{kind:<11} {1000 * statistics.fmean(totals):8.1f} "
                + " ".join(
                    f"{1000 * parts.get(p, 0.0) / n:13.1f}"
                    for p in dict.fromkeys(lb for lb, _m, _n in PARTS)
                )
            )
    if args.threads:
        mix = [p for paths in PAGES.values() for p in paths] * args.repeat
        began = time.perf_counter()
        lat: list[float] = []

        def timed(path: str) -> None:
            t0 = time.perf_counter()
            client.get(path)
            lat.append(time.perf_counter() - t0)

        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(timed, mix))
        wall = time.perf_counter() - began
        lat.sort()
        print(
            f"\n{len(mix)} warm requests from {args.threads} threads: {wall:.1f} s wall, "
            f"{1000 * wall / len(mix):.1f} ms per request; latency p50 "
            f"{1000 * lat[len(lat) // 2]:.0f} ms, p95 {1000 * lat[int(len(lat) * 0.95)]:.0f} ms"
        )
    client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
