"""The Parquet lake on S3-compatible storage (SENTINEL_LAKE_URI), against moto's S3 server.

The server runs on 127.0.0.1 from its own environment (``bash scripts/setup.sh --moto``;
botocore and great-expectations need incompatible python-dateutil versions), started and
stopped by this module. Endpoint and credentials reach pyarrow through the standard AWS_*
variables, as in production.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import intake_helpers as h
import pandas as pd
import pytest

from pipeline.config import Settings
from pipeline.storage import lake

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
MOTO = REPO / ".venv-moto" / "bin" / "moto_server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    if not MOTO.exists():
        message = f"{MOTO} missing: run `bash scripts/setup.sh --moto`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = _free_port()
    proc = subprocess.Popen(
        [str(MOTO), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, "moto_server exited"
                assert time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def bucket(s3_endpoint, monkeypatch) -> str:
    """A fresh bucket; AWS_* variables point pyarrow at the local server."""
    import pyarrow.fs as pafs

    for name, value in {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    name = f"lake-{uuid.uuid4().hex[:12]}"
    pafs.S3FileSystem(
        endpoint_override=s3_endpoint.removeprefix("http://"),
        scheme="http",
        access_key="testing",
        secret_key="testing",
        region="us-east-1",
        allow_bucket_creation=True,
    ).create_dir(name)
    return name


def s3_tree(uri: str) -> dict[str, bytes]:
    """Relative key -> bytes of every object under ``uri``."""
    import pyarrow.fs as pafs

    fs, base = lake.open_lake(uri)
    out = {}
    for info in fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True)):
        if info.type == pafs.FileType.File:
            with fs.open_input_stream(info.path) as fh:
                out[info.path.removeprefix(base + "/")] = fh.read()
    return out


def test_setting_reads_the_lake_uri(tmp_path):
    env = {"SENTINEL_HOME": str(tmp_path)}
    assert Settings.from_env(env).lake_location == str(tmp_path / "lake")
    remote = Settings.from_env({**env, "SENTINEL_LAKE_URI": "s3://bucket/lake"})
    assert remote.lake_location == "s3://bucket/lake"
    local = Settings.from_env({**env, "SENTINEL_LAKE_URI": str(tmp_path / "elsewhere")})
    assert local.lake_location == str(tmp_path / "elsewhere")


def test_ingest_writes_the_same_lake_to_s3_as_to_disk(tmp_path, bucket, validator):
    """Corrections, voids, duplicates, rejected files: the S3 lake holds byte for byte what
    the local lake holds, the warehouse is the same, and nothing is written to local disk."""
    from pipeline.services.intake import ingest

    landing = tmp_path / "landing"
    h.build_busy_landing(landing)
    local = h.make_settings(tmp_path / "local", landing)
    uri = f"s3://{bucket}/lake"
    remote = h.make_settings(tmp_path / "remote", landing).with_overrides(lake_uri=uri)
    for home in (local.home, remote.home):  # the files' recorded arrivals (received times)
        shutil.copytree(tmp_path / "home" / "arrivals", home / "arrivals")
    ingest(local, validator=validator)
    ingest(remote, validator=validator)

    on_disk = h.tree_bytes(local.lake_dir)
    assert len(on_disk) >= 3
    assert all(name.startswith("case_versions/visit_month=") for name in on_disk)
    assert s3_tree(uri) == on_disk
    assert not remote.lake_dir.exists()
    assert h.snapshot(remote)["tables"] == h.snapshot(local)["tables"]

    # A second run changes nothing; readers see the same versions as the warehouse holds.
    ingest(remote, validator=validator)
    assert s3_tree(uri) == on_disk
    from_s3 = lake.read_versions(uri)
    stored = h.query(remote, "SELECT count(*) FROM case_versions")[0][0]
    assert len(from_s3) == stored > 0
    pd.testing.assert_frame_equal(
        from_s3.sort_values(["hospital_code", "case_id", "version"]).reset_index(drop=True),
        lake.read_versions(local.lake_dir)
        .sort_values(["hospital_code", "case_id", "version"])
        .reset_index(drop=True),
    )


def test_duckdb_reads_the_s3_lake_through_pyarrow(tmp_path, bucket):
    """DuckDB 2.0 has no httpfs here: readers register a pyarrow dataset of the S3 lake."""
    import duckdb
    import pyarrow.dataset as ds

    uri = f"s3://{bucket}/lake"
    versions = pd.DataFrame(
        {
            "hospital_code": ["GZ001", "GZ001", "SH001"],
            "case_id": ["A", "B", "C"],
            "version": [1, 1, 1],
            "visit_datetime": pd.to_datetime(["2026-01-05", "2026-02-07", "2026-02-08"]),
        }
    )
    lake.write_submission_versions(uri, "S1", versions)
    fs, base = lake.open_lake(uri)
    dataset = ds.dataset(f"{base}/{lake.TABLE}", filesystem=fs, partitioning="hive")
    con = duckdb.connect()
    con.register("case_versions", dataset)
    rows = con.execute(
        "SELECT visit_month, count(*) FROM case_versions GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert rows == [("2026-01", 1), ("2026-02", 2)]


def test_rewrites_and_orphans_on_s3(bucket):
    """A rewritten submission drops its stale months; orphans and leftovers are removed."""
    uri = f"s3://{bucket}/lake"
    jan_feb = pd.DataFrame(
        {
            "hospital_code": ["GZ001", "GZ001"],
            "case_id": ["A", "B"],
            "version": [1, 1],
            "visit_datetime": pd.to_datetime(["2026-01-05", "2026-02-07"]),
        }
    )
    lake.write_submission_versions(uri, "S1", jan_feb)
    lake.write_submission_versions(uri, "S2", jan_feb.iloc[:1])
    lake.write_submission_versions(uri, "S1", jan_feb.iloc[1:])  # now February only
    fs, base = lake.open_lake(uri)
    with fs.open_output_stream(f"{base}/{lake.TABLE}/visit_month=2026-01/.S3.parquet.tmp") as fh:
        fh.write(b"partial")
    assert sorted(s3_tree(uri)) == [
        "case_versions/visit_month=2026-01/.S3.parquet.tmp",
        "case_versions/visit_month=2026-01/S2.parquet",
        "case_versions/visit_month=2026-02/S1.parquet",
    ]
    removed = lake.remove_orphans(uri, keep={"S1"})
    assert sorted(Path(p).name for p in removed) == [".S3.parquet.tmp", "S2.parquet"]
    assert sorted(s3_tree(uri)) == ["case_versions/visit_month=2026-02/S1.parquet"]
    assert lake.read_versions(uri)["case_id"].tolist() == ["B"]
