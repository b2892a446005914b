"""Load on the web application: signed-in users on 127.0.0.1 while an ingest runs.

    python -m bench.web [--users 50] [--duration 120] [--factor 10] [--home var] [--out DIR]

1. Network: every table of a home after the main job (``--home``, default ``var/``) copied
   ``--factor`` times with unique keys (``bench.publish.run.build``: 10x the shipped sample is
   about 660,000 cases), built once and cached under ``bench/.cache/web/``, with its own
   application database holding the benchmark's users (production password cost).
2. A working copy of that home; ``sentinel web`` started on a free 127.0.0.1 port.
3. ``--users`` virtual users (analysts, supervisors, recall officers) sign in, each with its own
   session, then, until ``--duration`` seconds have passed, each in its own thread: a page, a
   pause of 1 to 3 seconds (seeded), the next page. Pages: the signal inbox, a signal page, a
   case search (filtered, or over all cases), a CSV export of a filtered search.
4. Meanwhile ``sentinel ingest`` stores new daily files (built by code with the intake
   benchmark's generator: 8 hospitals x ``--ingest-days`` days) into the same home: the only
   writer, which publishes a new snapshot the web app must pick up.

Reports per page kind and overall: requests, p50 / p95 / p99 latency (client-side, from
sending the request to the last byte), errors (status >= 400 or no answer), and lock waits (the
ingest's "waiting for the warehouse lock" lines, and any "busy" answer of the app). Goals (issue
18): p95 under 500 ms for pages, under 2 s for a case search over all cases, zero errors, zero
lock waits. Bounded: at most 200 users and 600 s, and the whole run is killed after
duration + 600 s. Writes ``bench/results/web/latest.json`` and ``latest.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # allow `python bench/web/run.py`
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from pipeline.config import Settings  # noqa: E402
from pipeline.storage import publish  # noqa: E402

CACHE = ROOT / "bench" / ".cache" / "web"
OUT = ROOT / "bench" / "results" / "web"
PASSWORD = "Bench-harbor-7731-maple"
SEED = 20261206
MAX_USERS, MAX_SECONDS = 200, 600
ROLES = ("analyst",) * 6 + ("supervisor",) * 2 + ("recall_officer",) * 2
# (kind, weight): what a user of each role does next.
MIX = {
    "analyst": (("inbox", 3), ("signal", 3), ("search", 3), ("search_all", 1), ("export", 1)),
    "supervisor": (("inbox", 3), ("signal", 3), ("search", 3), ("search_all", 1), ("export", 1)),
    "recall_officer": (("evidence", 2), ("search", 4), ("search_all", 1), ("export", 2)),
}
# Case searches are drawn from a space of a few thousand distinct queries (so the app's
# per-snapshot memory of answers rarely helps them): a family or category, an age group, a
# severity, a month to start from, a word of the narratives.
FAMILIES = ("HA", "CP", "TY", "FD", "VE", "FU", "EL", "SP")
CATEGORIES = ("HA01", "HA02", "CP02", "TY04", "FD01", "VE04", "EL01", "FU01")
WORDS = (
    "lid",
    "battery",
    "fire",
    "stairs",
    "magnet",
    "burn",
    "fell",
    "scald",
    "%E7%94%B5%E9%A5%AD%E7%85%B2",
    "%E7%83%AB%E4%BC%A4",
    "%E6%91%94%E4%BC%A4",
    "%E7%A3%81",
)  # 电饭煲 烫伤 摔伤 磁
AGES = ("0", "1-4", "5-9", "10-14", "15-24", "25-44", "45-64", "65%2B")
SEVERITIES = ("mild", "moderate", "severe")
GOALS = {"page_p95_ms": 500, "search_all_p95_ms": 2000}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sentinel(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", *args]


# ---- the network ----------------------------------------------------------------------------


def _key_of(home: Path) -> str:
    path = home / "secrets" / "pseudonym.key"
    if not path.exists():
        raise SystemExit(f"{path} missing: run the main job first (bash scripts/run_sample.sh)")
    return path.read_text().strip()


def build_network(source: Path, factor: int, users: int, say) -> Path:  # type: ignore[no-untyped-def]
    """The cached home: ``factor`` x the source's snapshot, and the benchmark's users."""
    from bench.publish.run import build

    src = Settings(home=source, landing_dir=source)
    current = publish.current(src)
    if current is None:
        raise SystemExit(f"nothing published under {source}: run the main job first")
    stamp = f"x{factor}-{current.stat().st_size}-{current.name}"
    home = CACHE / f"home-{stamp}"
    done = home / ".built"
    if not done.exists():
        shutil.rmtree(home, ignore_errors=True)
        say(f"building the {factor}x network from {current} (once) ...")
        started = time.perf_counter()
        counts = build(src, Settings(home=home, landing_dir=home), factor)
        (home / "secrets").mkdir(parents=True, exist_ok=True)
        shutil.copy(source / "secrets" / "pseudonym.key", home / "secrets" / "pseudonym.key")
        say(f"built in {time.perf_counter() - started:.0f} s: {counts.get('cases', 0):,} cases")
        done.write_text(json.dumps(counts))
    _ensure_users(home, users, say)
    return home


def _user_names(users: int) -> list[tuple[str, str]]:
    return [(f"bench-{i:03d}", ROLES[i % len(ROLES)]) for i in range(users)]


def _ensure_users(home: Path, users: int, say) -> None:  # type: ignore[no-untyped-def]
    from pipeline.appdb import schema
    from pipeline.appdb.audit import Actor
    from pipeline.appdb.db import AppDB
    from pipeline.services import accounts

    settings = Settings(home=home, landing_dir=home)  # production password cost
    schema.upgrade(settings.app_database_url)
    db = AppDB.from_settings(settings)
    made = 0
    try:
        existing = {u.username for u in accounts.list_users(db)}
        for username, role in _user_names(users):
            if username in existing:
                continue
            accounts.add_user(
                db,
                settings,
                Actor(None, "os:bench", "cli"),
                username=username,
                role=role,
                password=PASSWORD,
                language="en" if made % 2 else "zh",
            )
            made += 1
    finally:
        db.dispose()
    if made:
        say(f"{made} benchmark users added")


def write_ingest_files(landing: Path, days: int, seed: int) -> int:
    """Daily files of the 8 sample hospitals for ``days`` days after the sample's end (new
    cases, each hospital in its own export style). Returns the rows written."""
    from sentinel_tools.sample import refdata

    from bench.ingest.extracts import write_daily_files

    codes = {"GZ001", "SH001", "GZ002", "BJ001", "CD001", "WH001", "GZ003", "HZ001"}
    hospitals = [h for h in refdata.hospital_list() if h.code in codes]
    first = date(2026, 11, 23)
    extracts = write_daily_files(
        landing, hospitals, [first + timedelta(days=i) for i in range(days)], 40.0, seed
    )
    return sum(e.rows for e in extracts)


# ---- the load ---------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    seconds: float
    status: int  # 0: no answer
    at: float


@dataclass
class Shared:
    base: str
    deadline: float
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    signals: list[str] = field(default_factory=list)  # "/signals/<id>?week=<week>"
    failures: dict[str, int] = field(default_factory=dict)  # "kind: status or exception" -> n

    def record(self, sample: Sample, failure: str | None = None) -> None:
        with self.lock:
            self.samples.append(sample)
            if failure:
                self.failures[failure] = self.failures.get(failure, 0) + 1


def _sign_in(client: httpx.Client, username: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no sign-in form"
    answer = client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "next": "/",
            "csrf_token": token.group(1),
        },
    )
    if answer.status_code != 303 or answer.headers.get("location") != "/":
        raise RuntimeError(f"sign-in of {username} failed: {answer.status_code}")


def _search_query(rnd: random.Random) -> str:
    parts = []
    if rnd.random() < 0.6:
        parts.append("category=" + rnd.choice(FAMILIES + CATEGORIES))
    if rnd.random() < 0.4:
        parts.append("q=" + rnd.choice(WORDS))
    if rnd.random() < 0.3:
        parts.append("age_group=" + rnd.choice(AGES))
    if rnd.random() < 0.3:
        parts.append("severity=" + rnd.choice(SEVERITIES))
    if rnd.random() < 0.5 or not parts:
        parts.append(f"date_from=2026-{rnd.randint(1, 11):02d}-01")
    return "&".join(parts)


def _path(kind: str, rnd: random.Random, shared: Shared) -> str:
    if kind == "inbox":
        return rnd.choice(("/signals", "/signals?status=new", "/signals?severity=severe"))
    if kind == "signal":
        return rnd.choice(shared.signals) if shared.signals else "/signals"
    if kind == "search":
        page = "&page=2" if rnd.random() < 0.2 else ""
        return "/cases?search=1&" + _search_query(rnd) + page
    if kind == "search_all":
        return "/cases?search=1"
    if kind == "evidence":
        return "/evidence"
    # an export: a category over a few months
    category = rnd.choice(CATEGORIES)
    return f"/cases/export?fmt={rnd.choice(('csv', 'xlsx'))}&category={category}&date_from=2026-{rnd.randint(6, 11):02d}-01"


def _user(  # noqa: PLR0913 - one virtual user
    shared: Shared,
    client: httpx.Client,
    role: str,
    seed: int,
    think: tuple[float, float],
    start: threading.Barrier,
) -> None:
    rnd = random.Random(seed)
    kinds = [k for k, w in MIX[role] for _ in range(w)]
    start.wait()
    time.sleep(rnd.uniform(0, think[1]))  # users do not all click at the same instant
    while time.monotonic() < shared.deadline:
        kind = rnd.choice(kinds)
        path = _path(kind, rnd, shared)
        began = time.perf_counter()
        failure = None
        try:
            answer = client.get(path)
            status = answer.status_code
            if status >= 400:
                failure = f"{kind}: HTTP {status}"
        except httpx.HTTPError as exc:
            status, failure = 0, f"{kind}: {type(exc).__name__}"
        shared.record(Sample(kind, time.perf_counter() - began, status, time.monotonic()), failure)
        time.sleep(rnd.uniform(*think))


def _signals(client: httpx.Client) -> list[str]:
    page = client.get("/signals").text
    return sorted(set(re.findall(r'href="(/signals/[^"/?]+\?week=\d{4}-W\d{2})"', page)))[:40]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def cold_timings(home: Path) -> dict[str, float]:
    """Each page's service call once on the final snapshot with nothing remembered (a fresh
    reader): what a first visitor waits for, without the load, in milliseconds."""
    from pipeline.appdb.db import AppDB
    from pipeline.services import cases, signals

    settings = Settings(home=home, landing_dir=home)
    known = cases.facets(settings.hospital_registry)
    out: dict[str, float] = {}
    db = AppDB.from_settings(settings)  # open as the web app holds it (decisions read fresh)

    def timed(label: str, call) -> None:  # type: ignore[no-untyped-def]
        from pipeline.storage.session import Snapshots

        snapshots = Snapshots(settings)
        try:
            began = time.perf_counter()
            call(snapshots)
            out[label] = round(1000 * (time.perf_counter() - began), 1)
        finally:
            snapshots.close()

    try:
        first = signals.inbox(settings, db=db).rows[0]
        timed("inbox", lambda s: signals.inbox(settings, snapshots=s, db=db))
        timed(
            "signal",
            lambda s: signals.details(
                settings, first["signal_id"], first["week"], snapshots=s, db=db
            ),
        )
    finally:
        db.dispose()
    for text in ("", "category=HA&severity=severe", "q=lid", "q=%E7%94%B5%E9%A5%AD%E7%85%B2"):
        params: dict[str, list[str]] = {}
        for part in filter(None, text.split("&")):
            key, value = part.split("=")
            params.setdefault(key, []).append(urllib.parse.unquote(value))
        query = cases.CaseQuery.parse(params, known)
        label = "search_all" if not text else f"search {urllib.parse.unquote(text)}"
        timed(label, lambda s, q=query: cases.search(settings, q, snapshots=s))
    export_query = cases.CaseQuery.parse({"category": ["HA01"], "date_from": ["2026-10-01"]}, known)
    timed(
        "export csv HA01 since October",
        lambda s: cases.export(settings, export_query, "csv", snapshots=s),
    )
    return out


def _timeline(samples: list[Sample], start: float, window: float = 15.0) -> list[dict]:
    """Requests and p95 per ``window`` seconds of the run (does latency follow the ingest?)."""
    out = []
    if not samples:
        return out
    last = max(s.at for s in samples)
    t = 0.0
    while start + t <= last:
        chosen = [1000 * s.seconds for s in samples if start + t <= s.at < start + t + window]
        out.append(
            {"from_s": t, "requests": len(chosen), "p95_ms": round(_percentile(chosen, 95), 1)}
        )
        t += window
    return out


def summarise(samples: list[Sample]) -> dict:
    out = {}
    kinds = sorted({s.kind for s in samples}) + ["all pages"]
    for kind in kinds:
        chosen = [
            s for s in samples if kind == "all pages" and s.kind != "search_all" or s.kind == kind
        ]
        ms = [1000 * s.seconds for s in chosen]
        out[kind] = {
            "requests": len(chosen),
            "p50_ms": round(_percentile(ms, 50), 1),
            "p95_ms": round(_percentile(ms, 95), 1),
            "p99_ms": round(_percentile(ms, 99), 1),
            "max_ms": round(max(ms), 1) if ms else None,
            "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
            "errors": sum(1 for s in chosen if s.status == 0 or s.status >= 400),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=120, help="seconds of load")
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--ingest-days", type=int, default=7)
    parser.add_argument("--home", type=Path, default=ROOT / "var", help="a home after the main job")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--no-ingest", action="store_true", help="load only (for comparison)")
    parser.add_argument(
        "--think", default="2,8", help="a user's pause between pages, seconds: MIN,MAX"
    )
    args = parser.parse_args(argv)
    if not (1 <= args.users <= MAX_USERS) or not (10 <= args.duration <= MAX_SECONDS):
        raise SystemExit(f"--users 1..{MAX_USERS}, --duration 10..{MAX_SECONDS}")
    low, high = (float(v) for v in args.think.split(","))
    if not 0 <= low <= high <= 60:
        raise SystemExit("--think MIN,MAX with 0 <= MIN <= MAX <= 60")

    def say(message: str) -> None:
        print(f"[bench.web {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    source = args.home.resolve()
    cached = build_network(source, args.factor, args.users, say)
    counts = json.loads((cached / ".built").read_text())
    work = Path(CACHE / "run")
    shutil.rmtree(work, ignore_errors=True)
    home = work / "home"
    say("copying the network for this run ...")
    shutil.copytree(cached, home, ignore=shutil.ignore_patterns(".built"))
    landing = work / "landing"
    rows = 0 if args.no_ingest else write_ingest_files(landing, args.ingest_days, SEED)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL_")}
    env.update(
        SENTINEL_HOME=str(home),
        SENTINEL_LANDING=str(landing),
        SENTINEL_PSEUDONYM_KEY=_key_of(cached),
        PYTHONUNBUFFERED="1",
        # httpx keeps Secure cookies for https only (browsers also for http://127.0.0.1): the
        # benchmark's clients get plain cookies; nothing else about the app changes.
        SENTINEL_COOKIE_SECURE="0",
    )
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = work / "server.log"
    ingest_log = work / "ingest.log"
    hard_stop = time.monotonic() + args.duration + 600
    server = subprocess.Popen(
        _sentinel("web", "--port", str(port)),
        env=env,
        cwd=ROOT,
        stdout=server_log.open("w"),
        stderr=subprocess.STDOUT,
    )
    ingest: subprocess.Popen | None = None
    result: dict = {}
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > hard_stop:
                raise SystemExit("sentinel web did not start:\n" + server_log.read_text()[-3000:])
            time.sleep(0.3)
        say(f"server up on {base}; signing in {args.users} users ...")
        clients = [
            httpx.Client(base_url=base, timeout=60.0, follow_redirects=False)
            for _ in range(args.users)
        ]
        for (username, _role), client in zip(_user_names(args.users), clients, strict=True):
            _sign_in(client, username)
        shared = Shared(base=base, deadline=0.0)
        shared.signals = _signals(clients[0])
        barrier = threading.Barrier(args.users + 1)
        roles = [role for _name, role in _user_names(args.users)]
        threads = [
            threading.Thread(
                target=_user,
                args=(shared, c, roles[i], SEED + i, (low, high), barrier),
                daemon=True,
            )
            for i, c in enumerate(clients)
        ]
        for thread in threads:
            thread.start()
        published_before = publish.current(Settings(home=home, landing_dir=landing))
        shared.deadline = time.monotonic() + args.duration
        load_started = time.monotonic()
        load_before = os.getloadavg()  # the machine is shared: say how busy it was
        cpu_before = _cpu_seconds(server.pid)
        barrier.wait()
        say(f"load for {args.duration} s; ingest of {rows:,} new rows running alongside")
        ingest_seconds = None
        if not args.no_ingest:
            ingest = subprocess.Popen(
                _sentinel("ingest"),
                env=env,
                cwd=ROOT,
                stdout=ingest_log.open("w"),
                stderr=subprocess.STDOUT,
            )
        for thread in threads:
            thread.join(timeout=max(1.0, hard_stop - time.monotonic()))
        load_seconds = time.monotonic() - load_started
        cpu_used = _cpu_seconds(server.pid) - cpu_before
        if ingest is not None:
            ingest.wait(timeout=max(1.0, hard_stop - time.monotonic()))
            ingest_seconds = round(time.monotonic() - load_started, 1)
        published_after = publish.current(Settings(home=home, landing_dir=landing))
        for client in clients:
            client.close()
        ingest_text = ingest_log.read_text() if ingest_log.exists() else ""
        server_text = server_log.read_text()
        lock_waits = len(re.findall(r"waiting for the warehouse|waits for", ingest_text))
        busy = len(re.findall(r"\b503\b", server_text))
        summary = summarise(shared.samples)
        timeline = _timeline(shared.samples, load_started)
        result = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.node()} {os.cpu_count()} cores",
            "load_average": {
                "start": [round(v, 1) for v in load_before],
                "end": [round(v, 1) for v in os.getloadavg()],
            },
            "users": args.users,
            "roles": {r: roles.count(r) for r in sorted(set(roles))},
            "think_s": [low, high],
            "duration_s": args.duration,
            "load_s": round(load_seconds, 1),
            "network": {
                "factor": args.factor,
                "cases": counts.get("cases"),
                "case_versions": counts.get("case_versions"),
                "alerts": counts.get("alerts"),
                "submissions": counts.get("submissions"),
            },
            "ingest": {
                "rows": rows,
                "exit": None if ingest is None else ingest.returncode,
                "finished_after_s": ingest_seconds,
                "snapshot_before": published_before.name if published_before else None,
                "snapshot_after": published_after.name if published_after else None,
            },
            "lock_waits": lock_waits + busy,
            "failures": dict(sorted(shared.failures.items())),
            # CPU the server used during the load, per request: what the code costs,
            # whatever else the machine runs at the time.
            "server_cpu_s": round(cpu_used, 1),
            "server_cpu_ms_per_request": round(1000 * cpu_used / max(1, len(shared.samples)), 1),
            "pages": summary,
            "timeline": timeline,
            "goals": GOALS,
            "server_errors_logged": len(re.findall(r"Traceback|unhandled error", server_text)),
        }
    finally:
        if result:
            result["server_peak_rss_mb"] = _peak_rss_mb(server.pid)
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        if ingest is not None and ingest.poll() is None:
            ingest.kill()
    if result:
        say("cold timings (one request at a time, nothing remembered) ...")
        result["cold_ms"] = cold_timings(home)
    met = _verdict(result)
    result["goals_met"] = met
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    text = _markdown(result)
    (args.out / "latest.md").write_text(text, encoding="utf-8")
    print(text)
    return 0 if all(met.values()) else 1


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float | None:
    """The server process's peak resident set (VmHWM) so far, in MiB (Linux)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", text, re.MULTILINE)
    return round(int(match.group(1)) / 1024, 1) if match else None


def _verdict(result: dict) -> dict[str, bool]:
    pages = result["pages"]
    everything = [v for k, v in pages.items() if k != "all pages"]
    return {
        "pages p95 < 500 ms": pages["all pages"]["p95_ms"] < GOALS["page_p95_ms"],
        "search over all cases p95 < 2 s": pages.get("search_all", {}).get("p95_ms", 0)
        < GOALS["search_all_p95_ms"]
        and result.get("cold_ms", {}).get("search_all", 0) < GOALS["search_all_p95_ms"],
        "zero errors": sum(v["errors"] for v in everything) == 0,
        "zero lock waits": result["lock_waits"] == 0,
        "ingest finished and published": result["ingest"]["exit"] in (0, None)
        and (
            result["ingest"]["exit"] is None
            or result["ingest"]["snapshot_after"] != result["ingest"]["snapshot_before"]
        ),
    }


def _markdown(r: dict) -> str:
    rows = [
        "| page | requests | p50 ms | p95 ms | p99 ms | max ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, v in r["pages"].items():
        rows.append(
            f"| {kind} | {v['requests']} | {v['p50_ms']} | {v['p95_ms']} | {v['p99_ms']} | "
            f"{v['max_ms']} | {v['errors']} |"
        )
    ingest = r["ingest"]
    return "\n".join(
        [
            f"# Web load, {r['users']} signed-in users, {r['duration_s']} s ({r['when']})",
            "",
            f"users by role: {r['roles']}; pause between pages {r['think_s'][0]:g}-"
            f"{r['think_s'][1]:g} s",
            f"network: {r['network']['factor']}x the sample, {r['network']['cases']:,} cases, "
            f"{r['network']['alerts']:,} alerts; machine: {r['machine']}, load average "
            f"(1/5/15 min) at start {r['load_average']['start']}, at end "
            f"{r['load_average']['end']}",
            f"ingest alongside: {ingest['rows']:,} new rows, exit {ingest['exit']}, done after "
            f"{ingest['finished_after_s']} s, snapshot {ingest['snapshot_before']} -> "
            f"{ingest['snapshot_after']}",
            "",
            *rows,
            "",
            f"lock waits: {r['lock_waits']}; server errors logged: {r['server_errors_logged']}; "
            f"server peak RSS: {r.get('server_peak_rss_mb')} MiB; server CPU during the load "
            f"{r.get('server_cpu_s')} s, {r.get('server_cpu_ms_per_request')} ms per request",
            f"failed requests: {r.get('failures') or 'none'}",
            "",
            "p95 per 15 s of the run (ms): "
            + ", ".join(f"{w['from_s']:.0f}s {w['p95_ms']}" for w in r.get("timeline", [])),
            "",
            "cold, one request at a time, nothing remembered (ms): "
            + ", ".join(f"{k} {v}" for k, v in r.get("cold_ms", {}).items()),
            "goals: "
            + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in r["goals_met"].items()),
            "",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
