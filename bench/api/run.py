"""Load test of the submission API (issue 19), loopback only, bounded in count and time.

``python -m bench.api [--hospitals 100] [--files 5] [--rows 50] [--clients 32]``

Builds ``hospitals x files`` extracts of ``rows`` rows each (sample-generator cases, the
benchmark registry of ``bench.ingest.extracts``), starts ``sentinel web`` on 127.0.0.1 with a
fresh SENTINEL_HOME, issues one token per hospital and sends every file concurrently
(``--clients`` connections). Then it waits until every submission is processed and checks:
every file is in the ledger exactly once, every receipt is retrievable through
``GET /api/v1/submissions/{id}``. Prints uploads/s, p50/p95 upload latency, p50/p95 time from
upload (202) to receipt available, and the server's peak resident memory (VmHWM), as JSON.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

from bench.ingest import extracts
from pipeline.appdb import schema
from pipeline.appdb.audit import Actor
from pipeline.appdb.db import AppDB
from pipeline.config import Settings
from pipeline.services import api_tokens
from pipeline.storage.session import reader

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def build_files(root: Path, n_hospitals: int, n_files: int, rows: int) -> tuple[Path, list[Path]]:
    hospitals = extracts.bench_hospitals(n_hospitals, prefix="AP")
    registry = root / "registry.csv"
    extracts.write_registry(registry, hospitals)
    days = [date(2026, 11, 16) + timedelta(days=i) for i in range(n_files)]
    styles = {
        h.code: extracts.SMALL_STYLES[i % len(extracts.SMALL_STYLES)]
        for i, h in enumerate(hospitals)
    }
    ctx = extracts._context(20261205, hospitals, styles, min(days))
    out = []
    for h in hospitals:
        source = extracts._CaseSource(ctx, h, 20261205)
        for day in days:
            path = root / "outgoing" / h.code / f"{h.code}_{day:%Y%m%d}.csv"
            fh, writer = extracts._open_csv(path, styles[h.code])
            with fh:
                writer.writerow(source.header())
                writer.writerows(source.day_rows(day, rows))
            out.append(path)
    return registry, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__)
    parser.add_argument("--hospitals", type=int, default=100)
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds, whole run")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        root = Path(tmp)
        registry, files = build_files(root, args.hospitals, args.files, args.rows)
        home = root / "home"
        env = {
            **os.environ,
            "SENTINEL_HOME": str(home),
            "SENTINEL_LANDING": str(home / "landing"),
            "SENTINEL_HOSPITAL_REGISTRY": str(registry),
            "SENTINEL_PSEUDONYM_KEY": "bench-api-pseudonym-key-0123456789",
            "SENTINEL_API_RATE_PER_MINUTE": "100000",
            "SENTINEL_COOKIE_SECURE": "0",
        }
        settings = Settings.from_env(env)
        (home / "landing").mkdir(parents=True)
        schema.upgrade(settings.app_database_url)
        db = AppDB.from_settings(settings)
        actor = Actor(None, "os:bench", "cli")
        codes = sorted({p.parent.name for p in files})
        tokens = {c: api_tokens.issue(db, settings, actor, c).token for c in codes}
        db.dispose()
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = (root / "server.log").open("wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "web", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            while True:
                try:
                    if httpx.get(f"{url}/api/openapi.json", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
                if server.poll() is not None or time.monotonic() - started > 120:
                    raise SystemExit(
                        "server did not start: " + (root / "server.log").read_text()[-2000:]
                    )
            return _run(args, url, files, tokens, settings, server.pid, started)
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()


def _run(args, url, files, tokens, settings, pid, started) -> int:  # type: ignore[no-untyped-def]
    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, timeout=120)
        return local.client

    def upload(path: Path) -> tuple[Path, str, float, float]:
        token = tokens[path.parent.name]
        t0 = time.monotonic()
        r = client().post(
            "/api/v1/submissions",
            params={"filename": path.name},
            content=path.read_bytes(),
            headers={"authorization": f"Bearer {token}", "content-type": "text/csv"},
        )
        t1 = time.monotonic()
        if r.status_code != 202:
            raise RuntimeError(f"{path.name}: HTTP {r.status_code} {r.text[:200]}")
        return path, r.json()["submission_id"], t1 - t0, t1

    t_start = time.monotonic()
    with cf.ThreadPoolExecutor(args.clients) as pool:
        results = list(pool.map(upload, files))
    t_uploaded = time.monotonic()
    done_at = {sid: t for _, sid, _, t in results}
    by_hospital: dict[str, set[str]] = {}
    for path, sid, _, _ in results:
        by_hospital.setdefault(path.parent.name, set()).add(sid)
    available: dict[str, float] = {}
    with httpx.Client(base_url=url, timeout=120) as poller:
        while len(available) < len(results):
            if time.monotonic() - started > args.timeout:
                raise SystemExit(f"timeout: {len(available)}/{len(results)} receipts")
            for code, sids in by_hospital.items():
                if sids <= available.keys():
                    continue
                listed = poller.get(
                    "/api/v1/submissions", headers={"authorization": f"Bearer {tokens[code]}"}
                ).json()["submissions"]
                now = time.monotonic()
                for item in listed:
                    if (
                        item["status"] in ("processed", "failed")
                        and item["submission_id"] not in available
                    ):
                        available[item["submission_id"]] = now
            time.sleep(0.5)
        # Every receipt retrievable, each submission exactly once in the ledger.
        missing = []
        for path, sid, _, _ in results:
            body = poller.get(
                f"/api/v1/submissions/{sid}",
                headers={"authorization": f"Bearer {tokens[path.parent.name]}"},
            ).json()
            if not body.get("receipt"):
                missing.append(sid)
    with reader(settings) as con:
        counts = dict(
            con.execute("SELECT submission_id, count(*) FROM submissions GROUP BY 1").fetchall()
        )
        stored = con.execute(
            "SELECT sum(rows_stored), sum(rows_received) FROM submissions"
        ).fetchone()
    sids = [sid for _, sid, _, _ in results]
    once = sum(1 for sid in sids if counts.get(sid) == 1)
    status = Path(f"/proc/{pid}/status").read_text()
    hwm_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
    latencies = [lat for _, _, lat, _ in results]
    to_receipt = [available[sid] - done_at[sid] for sid in sids]
    report = {
        "hospitals": args.hospitals,
        "files": len(files),
        "rows_per_file": args.rows,
        "clients": args.clients,
        "upload_seconds": round(t_uploaded - t_start, 2),
        "uploads_per_second": round(len(files) / (t_uploaded - t_start), 1),
        "upload_latency_p50_s": round(_pct(latencies, 50), 3),
        "upload_latency_p95_s": round(_pct(latencies, 95), 3),
        "upload_to_receipt_p50_s": round(_pct(to_receipt, 50), 1),
        "upload_to_receipt_p95_s": round(_pct(to_receipt, 95), 1),
        "upload_to_receipt_max_s": round(max(to_receipt), 1),
        "all_processed_after_s": round(max(available.values()) - t_start, 1),
        "in_ledger_exactly_once": once,
        "ledger_submissions": len(counts),
        "receipts_missing": len(missing),
        "rows_received": int(stored[1] or 0),
        "rows_stored": int(stored[0] or 0),
        "server_peak_rss_mb": round(hwm_kb / 1024, 1),
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(report, indent=2))
    ok = once == len(files) == len(counts) and not missing
    return 0 if ok else 1
