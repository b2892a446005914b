"""The distributed deployment, for real, on this machine: run by ``scripts/cluster_check.sh``.

Starts, on 127.0.0.1 and free ports, each as a child process of this script:

- its own PostgreSQL cluster (``initdb`` in a temporary directory; the machine's own server, if
  any, is not touched) holding the Airflow metadata DB and the Celery result backend;
- Redis, the Celery broker (password-protected);
- moto's S3 server, holding the Parquet lake (``SENTINEL_LAKE_URI=s3://sentinel-lake/lake``);
- the Airflow API server, scheduler and DAG processor with the CeleryExecutor;
- two Celery workers, each with its own log server on 127.0.0.1 (``scripts/airflow_log_server.py``;
  the workers run with ``--skip-serve-logs`` because Airflow's own log server listens on every
  interface): ``worker-default`` serves the default queue, ``worker-warehouse`` alone serves
  ``sentinel_warehouse``, where every task that opens the DuckDB warehouse is pinned.

Then it generates a small network, unpauses the four chained DAGs, triggers ``ingest_daily``
through the REST API and polls the runs until ``report_weekly`` has succeeded (the scheduler
chains ingest_daily -> code_and_cluster -> detect_weekly -> report_weekly through assets). It
runs the same DAGs with ``dag.test()`` (scripts/dag_test.py, SQLite metadata DB, local lake) on
the same landing files, and checks:

- every listening socket of everything it started is on the loopback interface;
- each warehouse task ran on worker-warehouse and each other task on worker-default (worker
  logs);
- the warehouse tables of both runs have equal checksums (``table_checksums``), leaving out only
  the columns that record when something ran (RUN_TIMES below), and the lake files on S3 are
  byte-identical to the local lake of the reference run.

Everything it started is stopped by process id (process group) on the way out, also on failure
or SIGTERM; the pids are also written to ``$CHECK_DIR/pids`` for the shell trap.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
AIRFLOW = str(VENV_BIN / "airflow")
CHAIN = ("ingest_daily", "code_and_cluster", "detect_weekly", "report_weekly")
WAREHOUSE_QUEUE = "sentinel_warehouse"
BUCKET = "sentinel-lake"
KEY = "cluster-check-pseudonym-key-0123456789"
# Columns that record when something ran (wall clock), not what was decided: they differ between
# any two runs, distributed or not.
RUN_TIMES = {
    "submissions": ("processed_at",),
    "submission_events": ("event_at",),
    "case_coding": ("coded_at",),
    "coding_review": ("opened_at", "resolved_at"),
    "hazard_patterns": ("updated_at",),
    "pattern_refreshes": ("processed_at",),
    "pseudonym_key": ("recorded_at",),
}


def say(message: str) -> None:
    print(f"[cluster-check {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Children started in their own process group; stopped by pid, newest first."""

    def __init__(self, pidfile: Path) -> None:
        self.pidfile = pidfile
        self.started: list[tuple[str, subprocess.Popen, Path]] = []

    def start(
        self, name: str, cmd: list[str], env: dict, log_dir: Path, user: str | None = None
    ) -> subprocess.Popen:
        if user and os.geteuid() == 0:
            cmd = ["runuser", "-u", user, "--", *cmd]
        log = log_dir / f"{name}.log"
        with open(log, "wb") as fh:
            proc = subprocess.Popen(
                cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.started.append((name, proc, log))
        with open(self.pidfile, "a") as fh:
            fh.write(f"{proc.pid} {name}\n")
        return proc

    def check_alive(self) -> None:
        for name, proc, log in self.started:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited ({proc.returncode}):\n{tail(log)}")

    def stop_all(self, keep: set[str] = frozenset()) -> None:
        for name, proc, _ in reversed(self.started):
            if proc.poll() is not None or name in keep:
                continue
            # SIGINT: PostgreSQL's fast shutdown; Airflow and Celery stop on it too.
            sig = signal.SIGINT if name == "postgres" else signal.SIGTERM
            try:
                os.killpg(proc.pid, sig)
                proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
            say(f"stopped {name} (pid {proc.pid})")

    def pids(self) -> dict[str, list[int]]:
        """Every live process of each group (the children of workers and servers included)."""
        import psutil

        out = {}
        for name, proc, _ in self.started:
            try:
                parent = psutil.Process(proc.pid)
                out[name] = [parent.pid, *(c.pid for c in parent.children(recursive=True))]
            except psutil.NoSuchProcess:
                out[name] = []
        return out


def tail(path: Path, n: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def wait_for(what: str, ok, timeout: float, procs: Processes, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            result = ok()
        except Exception:  # noqa: BLE001 - not up yet
            result = None
        if result:
            return result
        time.sleep(every)
    raise TimeoutError(f"{what}: not ready after {timeout:.0f} s")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


# ------------------------------------------------------------------------------ services


def start_postgres(procs: Processes, work: Path, logs: Path) -> str:
    """A private PostgreSQL cluster on 127.0.0.1 only; returns the SQLAlchemy URL."""
    import psycopg2

    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bindir:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    bindir = bindir[-1].parent
    data = work / "pgdata"
    password = secrets.token_hex(16)
    pwfile = work / "pgpass"
    pwfile.write_text(password + "\n")
    user = "postgres" if os.geteuid() == 0 else None
    if user:  # PostgreSQL refuses to run as root: the cluster belongs to the postgres account
        data.mkdir(mode=0o700)
        shutil.chown(data, user, user)
        shutil.chown(pwfile, user, user)
        os.chmod(work, 0o755)
    cmd = [
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        "sentinel",
        "--auth=scram-sha-256",
        f"--pwfile={pwfile}",
        "-E",
        "UTF8",
        "--locale=C",
    ]
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True)
    pwfile.unlink()
    port = free_port()
    procs.start(
        "postgres",
        [
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
        ],
        dict(os.environ),
        logs,
        user=user,
    )

    def connect():
        return psycopg2.connect(
            host="127.0.0.1", port=port, user="sentinel", password=password, dbname="postgres"
        )

    con = wait_for("postgres", connect, 60, procs)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute("CREATE DATABASE airflow ENCODING 'UTF8'")
    con.close()
    say(f"postgres on 127.0.0.1:{port} ({bindir.parent.name}), database airflow")
    return f"sentinel:{password}@127.0.0.1:{port}/airflow"


def start_redis(procs: Processes, logs: Path) -> str:
    exe = shutil.which("redis-server")
    if not exe:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port, password = free_port(), secrets.token_hex(16)
    procs.start(
        "redis",
        [
            exe,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--requirepass",
            password,
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        dict(os.environ),
        logs,
    )
    wait_for("redis", lambda: port_open(port), 30, procs, every=0.2)
    say(f"redis on 127.0.0.1:{port}")
    return f"redis://:{password}@127.0.0.1:{port}/0"


def start_s3(procs: Processes, logs: Path, moto: Path) -> str:
    if not moto.exists():
        raise RuntimeError(f"{moto} missing: bash scripts/setup.sh --moto")
    port = free_port()
    procs.start("moto", [str(moto), "-H", "127.0.0.1", "-p", str(port)], dict(os.environ), logs)
    endpoint = f"http://127.0.0.1:{port}"
    wait_for("moto", lambda: port_open(port), 60, procs, every=0.3)
    s3_filesystem(endpoint, allow_bucket_creation=True).create_dir(BUCKET)
    say(f"S3 (moto) on {endpoint}, bucket {BUCKET}")
    return endpoint


def s3_filesystem(endpoint: str, **kw):
    import pyarrow.fs as pafs

    return pafs.S3FileSystem(
        endpoint_override=endpoint.removeprefix("http://"),
        scheme="http",
        access_key="testing",
        secret_key="testing",
        region="us-east-1",
        **kw,
    )


# ------------------------------------------------------------------------------ Airflow


class Api:
    """The Airflow REST API (v2) with a token of the simple auth manager."""

    def __init__(self, base: str, user: str, password: str) -> None:
        self.base, self.user, self.password, self.token = base, user, password, ""

    def login(self) -> bool:
        body = json.dumps({"username": self.user, "password": self.password}).encode()
        request = urllib.request.Request(
            f"{self.base}/auth/token",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        self.token = json.loads(urllib.request.urlopen(request, timeout=10).read())["access_token"]
        return True

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.base}/api/v2{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            method=method,
        )
        try:
            return json.loads(urllib.request.urlopen(request, timeout=30).read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from exc


def airflow_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SENTINEL_", "AWS_"))
    }
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW_CONFIG=str(REPO / "airflow.cfg"),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LOGGING__COLORED_CONSOLE_LOG="False",
        PYTHONPATH=str(REPO / "dags"),
        PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    )
    env.update(extra)
    return env


def run(cmd: list[str], env: dict, timeout: float = 300) -> str:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def start_airflow(procs: Processes, work: Path, logs: Path, db: str, broker: str, sentinel: dict):
    home = work / "airflow_home"
    home.mkdir()
    api_port = free_port()
    password = secrets.token_hex(12)
    (home / "passwords.json").write_text(json.dumps({"sentinel": password}))
    env = airflow_env(
        home,
        {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{db}",
            "AIRFLOW__CELERY__BROKER_URL": broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{db}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__CORE__FERNET_KEY": _fernet_key(),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "sentinel:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            **sentinel,
        },
    )
    run([AIRFLOW, "db", "migrate"], env)
    run([AIRFLOW, "pools", "set", "sentinel_warehouse", "1", "DuckDB single writer"], env)
    say("metadata DB migrated on PostgreSQL; pool sentinel_warehouse (1 slot)")
    procs.start("api-server", [AIRFLOW, "api-server"], env, logs)
    procs.start("scheduler", [AIRFLOW, "scheduler"], env, logs)
    procs.start("dag-processor", [AIRFLOW, "dag-processor"], env, logs)
    workers = {"worker-default": "default", "worker-warehouse": WAREHOUSE_QUEUE}
    for name, queue in workers.items():
        log_port = free_port()
        wenv = {**env, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port)}
        procs.start(
            f"{name}-logs",
            [sys.executable, str(REPO / "scripts" / "airflow_log_server.py")],
            wenv,
            logs,
        )
        procs.start(
            name,
            [
                AIRFLOW,
                "celery",
                "worker",
                "--queues",
                queue,
                "--concurrency",
                "2" if queue == "default" else "1",
                "--celery-hostname",
                f"{name}@%h",
                "--skip-serve-logs",
            ],
            wenv,
            logs,
        )
        say(f"{name}: queue {queue}, log server on 127.0.0.1:{log_port}")
    api = Api(f"http://127.0.0.1:{api_port}", "sentinel", password)
    wait_for("api-server", api.login, 120, procs)
    say(f"api-server on 127.0.0.1:{api_port}")
    for name in workers:
        wait_for(name, lambda n=name: "ready." in (logs / f"{n}.log").read_text(), 120, procs)
    return api, env


def _fernet_key() -> str:
    import base64

    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def check_listeners(procs: Processes) -> list[str]:
    """(name, address) of every listening TCP socket of everything started; fails on any that
    is not on the loopback interface."""
    import psutil

    pids = {pid: name for name, group in procs.pids().items() for pid in group}
    found, bad = [], []
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status != psutil.CONN_LISTEN or conn.pid not in pids:
            continue
        line = f"{pids[conn.pid]} {conn.laddr.ip}:{conn.laddr.port}"
        found.append(line)
        if conn.laddr.ip not in ("127.0.0.1", "::1"):
            bad.append(line)
    if bad:
        raise RuntimeError(f"listening beyond the loopback interface: {bad}")
    return sorted(set(found))


def run_chain(api: Api, procs: Processes, timeout: float) -> dict[str, dict]:
    wait_for(
        "DAGs parsed",
        lambda: all(api.call("GET", f"/dags/{d}").get("dag_id") == d for d in CHAIN),
        180,
        procs,
        every=2,
    )
    for dag_id in CHAIN:
        api.call("PATCH", f"/dags/{dag_id}", {"is_paused": False})
    started = api.call("POST", "/dags/ingest_daily/dagRuns", {"logical_date": None, "conf": {}})
    say(f"triggered ingest_daily run {started['dag_run_id']}; waiting for the chain")
    deadline = time.monotonic() + timeout
    done: dict[str, dict] = {}
    seen = ""
    while time.monotonic() < deadline:
        procs.check_alive()
        for dag_id in CHAIN:
            if dag_id in done:
                continue
            runs = api.call("GET", f"/dags/{dag_id}/dagRuns?order_by=-run_after&limit=5")
            for dr in runs.get("dag_runs", []):
                if dr["state"] == "failed":
                    raise RuntimeError(f"{dag_id} run {dr['dag_run_id']} failed")
                # Unpausing also starts each cron DAG's latest missed run (start_date in the
                # past, catchup off); the chain is the manual ingest and what its assets trigger.
                if dr["state"] == "success" and dr.get("run_type") != "scheduled":
                    done[dag_id] = dr
        state = ", ".join(f"{d}: {'success' if d in done else '...'}" for d in CHAIN)
        if state != seen:
            say(state)
            seen = state
        # Runs started alongside (a scheduled run, the assets it updated) end before the
        # comparison reads the warehouse; a failed one fails the check above.
        if len(done) == len(CHAIN) and not any(
            dr["state"] in ("queued", "running")
            for dag_id in CHAIN
            for dr in api.call("GET", f"/dags/{dag_id}/dagRuns?limit=20").get("dag_runs", [])
        ):
            return done
        time.sleep(3)
    raise TimeoutError(f"the chain did not finish within {timeout:.0f} s (done: {sorted(done)})")


def task_placement(api: Api, runs: dict[str, dict], logs: Path) -> list[str]:
    """Each task instance's queue, and the worker whose log shows it executing there."""
    executed = {
        w: [
            line
            for line in (logs / f"{w}.log").read_text(errors="replace").splitlines()
            if "Executing workload in Celery" in line
        ]
        for w in WORKERS
    }
    lines, wrong = [], []
    for dag_id, dr in runs.items():
        tis = api.call("GET", f"/dags/{dag_id}/dagRuns/{dr['dag_run_id']}/taskInstances")
        for ti in tis["task_instances"]:
            if ti["state"] not in ("success", "skipped"):
                wrong.append(f"{dag_id}.{ti['task_id']}: {ti['state']}")
            needles = (
                f"task_id='{ti['task_id']}'",
                f"dag_id='{dag_id}'",
                f"run_id='{dr['dag_run_id']}'",
                f"map_index={ti['map_index']}",
            )
            ran_on = [
                w
                for w, found in executed.items()
                if any(all(n in x for n in needles) for x in found)
            ]
            expected = "worker-warehouse" if ti["queue"] == WAREHOUSE_QUEUE else "worker-default"
            label = f"{dag_id}.{ti['task_id']}" + (
                f"[{ti['map_index']}]" if ti["map_index"] >= 0 else ""
            )
            lines.append(f"{label:32} queue {ti['queue']:18} ran on {', '.join(ran_on) or '-'}")
            if ti["state"] == "success" and ran_on != [expected]:
                wrong.append(f"{label} ran on {ran_on}, expected {expected}")
    if wrong:
        raise RuntimeError("task placement: " + "; ".join(wrong))
    return lines


WORKERS = ("worker-default", "worker-warehouse")


def reference_run(work: Path, landing: Path, logs: Path) -> Path:
    """The same DAGs through dag.test() (SQLite metadata DB, local lake); returns its home."""
    home = work / "reference_home"
    import_arrivals(home, landing)
    env = airflow_env(
        work / "reference_airflow",
        {
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "SENTINEL_HOME": str(home),
            "SENTINEL_LANDING": str(landing),
            "SENTINEL_PSEUDONYM_KEY": KEY,
        },
    )
    (work / "reference_airflow").mkdir()
    run([AIRFLOW, "db", "migrate"], env)
    run([AIRFLOW, "pools", "set", "sentinel_warehouse", "1", "DuckDB single writer"], env)
    out = work / "reference.json"
    cmd = [sys.executable, str(REPO / "scripts" / "dag_test.py")]
    for dag_id in CHAIN:
        started = time.monotonic()
        proc = subprocess.run(
            [*cmd, dag_id, "--out", str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            cwd=work,
        )
        (logs / f"reference-{dag_id}.log").write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise RuntimeError(f"dag.test {dag_id} failed:\n{proc.stderr[-3000:]}")
        state = json.loads(out.read_text())["runs"][0]["state"]
        if state != "success":
            raise RuntimeError(f"dag.test {dag_id} ended {state}: see {logs}")
        say(
            f"reference (dag.test, LocalExecutor) {dag_id}: {state} in {time.monotonic() - started:.0f} s"
        )
    return home


def compare(cluster_home: Path, reference_home: Path, s3_endpoint: str) -> list[str]:
    import duckdb
    import pyarrow.fs as pafs

    from pipeline.storage.warehouse import table_checksums

    def sums(home: Path) -> dict[str, str]:
        con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
        try:
            return table_checksums(con, exclude=RUN_TIMES)
        finally:
            con.close()

    a, b = sums(cluster_home), sums(reference_home)
    if a != b:
        diff = {t: (a.get(t), b.get(t)) for t in sorted(set(a) | set(b)) if a.get(t) != b.get(t)}
        raise RuntimeError(f"warehouse tables differ (cluster, reference): {diff}")
    if int(a["cases"].split(":")[0]) == 0:
        raise RuntimeError("the cluster stored no cases")
    s3 = s3_filesystem(s3_endpoint)
    remote_base = f"{BUCKET}/lake"
    remote = {
        info.path.removeprefix(remote_base + "/"): info.path
        for info in s3.get_file_info(pafs.FileSelector(remote_base, recursive=True))
        if info.type == pafs.FileType.File
    }
    local_root = reference_home / "lake"
    local = {p.relative_to(local_root).as_posix(): p for p in local_root.rglob("*") if p.is_file()}
    if sorted(remote) != sorted(local) or not local:
        raise RuntimeError(
            f"lake files differ: S3 {sorted(remote)[:5]}..., local {sorted(local)[:5]}..."
        )
    for rel, key in remote.items():
        with s3.open_input_stream(key) as fh:
            if fh.read() != local[rel].read_bytes():
                raise RuntimeError(f"lake file {rel} differs between S3 and the reference")
    if (cluster_home / "lake").exists():
        raise RuntimeError("the cluster wrote a local lake although SENTINEL_LAKE_URI is set")
    lines = [f"  {t:20} {a[t]}" for t in sorted(a)]
    lines.append(f"  lake: {len(remote)} Parquet files on s3://{remote_base}, byte-identical")
    return lines


def import_arrivals(home: Path, landing: Path) -> None:
    """The generator's intended arrival times into ``home`` (both runs get the same received
    times; without them each run would record its own first sighting)."""
    run(
        [str(VENV_BIN / "sentinel"), "arrivals", "import", str(landing.parent / "arrivals.csv")],
        {**os.environ, "SENTINEL_HOME": str(home)},
    )


def generate_network(work: Path) -> Path:
    out = work / "sample"
    run(
        [
            str(VENV_BIN / "sentinel"),
            "sample",
            "generate",
            "--out",
            str(out),
            "--seed",
            "20261122",
            "--hospitals",
            "3",
            "--weeks",
            "20",
            "--daily-weeks",
            "1",
            "--scale",
            "0.1",
        ],
        dict(os.environ),
    )
    files = sum(1 for p in (out / "landing").rglob("*") if p.is_file())
    say(f"generated a small network: {files} landing files under {out / 'landing'}")
    return out / "landing"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, help="working directory (default: a new temporary one)")
    ap.add_argument("--chain-timeout", type=float, default=480)
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    args = ap.parse_args(argv)
    started = time.monotonic()
    work = args.work or Path(tempfile.mkdtemp(prefix="sentinel-cluster-"))
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    procs = Processes(work / "pids")

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    ok = False
    try:
        landing = generate_network(work)
        db = start_postgres(procs, work, logs)
        broker = start_redis(procs, logs)
        s3 = start_s3(procs, logs, REPO / ".venv-moto" / "bin" / "moto_server")
        cluster_home = work / "cluster_home"
        import_arrivals(cluster_home, landing)
        sentinel = {
            "SENTINEL_HOME": str(cluster_home),
            "SENTINEL_LANDING": str(landing),
            "SENTINEL_PSEUDONYM_KEY": KEY,
            "SENTINEL_LAKE_URI": f"s3://{BUCKET}/lake",
            "AWS_ENDPOINT_URL": s3,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        api, _ = start_airflow(procs, work, logs, db, broker, sentinel)
        for line in check_listeners(procs):
            say(f"listening: {line}")
        chain_started = time.monotonic()
        runs = run_chain(api, procs, args.chain_timeout)
        say(f"the chain succeeded on Celery in {time.monotonic() - chain_started:.0f} s")
        for line in task_placement(api, runs, logs):
            say(f"  {line}")
        check_listeners(procs)  # again, now that tasks have run
        procs.stop_all(keep={"moto"})  # the S3 lake is compared below
        reference_home = reference_run(work, landing, logs)
        say(
            "compared with the reference run, leaving out the run-time columns "
            + ", ".join(f"{t}.{c}" for t, cs in RUN_TIMES.items() for c in cs)
            + ":"
        )
        for line in compare(cluster_home, reference_home, s3):
            say(line)
        ok = True
    except Exception as exc:
        say(f"FAILED: {exc}")
        say(f"logs: {logs}")
        for name, _, log in procs.started:
            say(f"--- last lines of {name}:\n{tail(log, 15)}")
        raise
    finally:
        procs.stop_all()
        total = time.monotonic() - started
        say(f"{'passed' if ok else 'failed'} in {total:.0f} s ({total / 60:.1f} min)")
        if ok and not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
