"""Shared by tests/evidence and tests/notices: a signal over the small network's hostile cases,
and a byte scan for clear-text identifiers."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

HOSTILE_ALERT = "AHOSTILE0001"
HOSTILE_SIGNAL = "SHOSTILE0001"
HOSTILE_KEYS = ["GZ001/HOSTILE1", "GZ001/HOSTILE2", "GZ001/HOSTILE3"]


def add_hostile_signal(settings) -> str:  # type: ignore[no-untyped-def]
    """A hand-made alert (week 2026-W47) whose cases are the three hostile-text cases, and a
    hand-made signal holding it."""
    from pipeline.storage.session import writer

    with writer(settings) as con:
        params = con.execute(
            "SELECT params FROM alerts WHERE week = '2026-W47' LIMIT 1"
        ).fetchone()[0]
        con.execute(
            """
            INSERT INTO alerts (week, alert_id, alert_type, subject, category, method, observed,
                                expected, threshold, score, pvalue, qvalue, status, n_hospitals,
                                hospitals, n_severe, n_admitted, n_died, priority, rank,
                                case_keys, params)
            VALUES ('2026-W47', ?, 'category', 'HA01', 'HA01', 'auto-offset', 3, 0.5, 2, 1.5,
                    0.001, 0.01, 'new', 1, 'GZ001', 0, 3, 0, 0.1, 99, ?, ?)""",
            [HOSTILE_ALERT, json.dumps(HOSTILE_KEYS), params],
        )
        subjects = [
            {
                "alert_type": "category",
                "subject": "HA01",
                "category": "HA01",
                "pattern_id": None,
                "region": None,
                "term": None,
            }
        ]
        con.execute(
            """
            INSERT INTO signal_weeks VALUES ('2026-W47', ?, 'new', 'HA01', 'HA01', '["HA01"]',
                '2026-W47', '2026-W47', '2026-W47', 0, 1, ?, ?, '["auto-offset"]', 'category',
                3, 1, 'GZ001', 0, 3, 0, 0.1, 99, ?)""",
            [
                HOSTILE_SIGNAL,
                json.dumps([HOSTILE_ALERT]),
                json.dumps(subjects),
                json.dumps(HOSTILE_KEYS),
            ],
        )
        con.execute(
            "INSERT INTO signal_alerts VALUES ('2026-W47', ?, ?)", [HOSTILE_SIGNAL, HOSTILE_ALERT]
        )
    return HOSTILE_SIGNAL


def identifier_needles(settings) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """Clear-text identifiers inserted in the raw extract, and the stored pseudonyms of every
    identifier column (neither may appear in any output)."""
    from network_fixture import HOSTILE_IDENTIFIERS

    from pipeline.contract import IDENTIFIER_FIELDS
    from pipeline.storage.warehouse import connect

    needles = {f"clear {k}": v.encode("utf-8") for k, v in HOSTILE_IDENTIFIERS.items()}
    needles["clear patient_name, GB18030"] = HOSTILE_IDENTIFIERS["patient_name"].encode("gb18030")
    con = connect(settings.warehouse_path, read_only=True)
    try:
        for field in IDENTIFIER_FIELDS:
            for (value,) in con.execute(
                f"SELECT DISTINCT {field} FROM cases WHERE case_id LIKE 'HOSTILE%' "
                f"AND {field} IS NOT NULL"
            ).fetchall():
                needles[f"pseudonym {field}"] = value.encode("utf-8")
    finally:
        con.close()
    return needles


def output_blobs(paths: list[Path]) -> dict[str, bytes]:
    """Every file's bytes; zips also contribute each member, decompressed."""
    blobs: dict[str, bytes] = {}
    for path in paths:
        blobs[str(path)] = path.read_bytes()
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    blobs[f"{path}!{name}"] = archive.read(name)
    return blobs


def scan(blobs: dict[str, bytes], needles: dict[str, bytes]) -> list[str]:
    return [
        f"{label} in {name}"
        for name, data in blobs.items()
        for label, needle in needles.items()
        if needle in data
    ]
