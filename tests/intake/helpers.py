"""Builders for intake tests: valid case rows and extract files in every accepted format."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from pipeline.config import Settings
from pipeline.contract import FIELD_BY_NAME
from pipeline.intake.discover import LandingFile

KEY = "intake-test-pseudonym-key-0123456789"
HOSPITAL = "GZ001"  # registered, active since 2020
OTHER_HOSPITAL = "SH001"
THIRD_HOSPITAL = "BJ001"
# Files are dated (mtime = received_at) after every visit used in the tests.
RECEIVED = datetime(2026, 3, 1, 8, 0, 0)

# Canonical English headers in the order hospitals usually send them.
EN_HEADERS = [
    "hospital_code",
    "case_id",
    "report_type",
    "visit_datetime",
    "injury_datetime",
    "sex",
    "age",
    "age_unit",
    "residence_region",
    "cause",
    "place",
    "activity",
    "intent",
    "injury_nature",
    "body_region",
    "severity",
    "outcome",
    "product_name",
    "product_category",
    "brand",
    "model",
    "batch",
    "barcode",
    "product_relation",
    "narrative",
    "patient_name",
    "patient_id_number",
    "patient_phone",
]
# One Chinese alias per field (the first one in the contract).
ZH_HEADERS = {name: FIELD_BY_NAME[name].aliases_zh[0] for name in EN_HEADERS}


def case_row(case_id: str = "C0001", hospital: str = HOSPITAL, **overrides: object) -> dict:
    """A valid case row with canonical field names and English codes."""
    row = {
        "hospital_code": hospital,
        "case_id": case_id,
        "report_type": "new",
        "visit_datetime": "2026-02-10 09:30",
        "injury_datetime": "2026-02-10 08:45",
        "sex": "male",
        "age": "4",
        "age_unit": "years",
        "residence_region": "440104",
        "cause": "fall",
        "place": "home",
        "activity": "leisure",
        "intent": "unintentional",
        "injury_nature": "fracture",
        "body_region": "upper_limb",
        "severity": "moderate",
        "outcome": "treated_released",
        "product_name": "儿童自行车",
        "product_category": "TY11",
        "brand": "",
        "model": "",
        "batch": "",
        "barcode": "6901234567892",
        "product_relation": "normal_use_accident",
        "narrative": "孩子骑儿童自行车时摔倒，右前臂骨折。",
        "patient_name": "",
        "patient_id_number": "",
        "patient_phone": "",
    }
    for name, value in overrides.items():
        if name not in row:
            raise KeyError(name)
        row[name] = "" if value is None else str(value)
    return row


def rows_table(
    rows: Iterable[dict], headers: list[str] | None = None, language: str = "en"
) -> list[list[str]]:
    """Header row (English or Chinese) followed by the data rows."""
    headers = headers or EN_HEADERS
    head = [ZH_HEADERS.get(h, h) if language == "zh" else h for h in headers]
    return [head, *[[str(r.get(h, "")) for h in headers] for r in rows]]


def csv_bytes(
    rows: Iterable[dict],
    *,
    language: str = "en",
    encoding: str = "utf-8",
    headers: list[str] | None = None,
    delimiter: str = ",",
) -> bytes:
    return table_bytes(rows_table(rows, headers, language), encoding=encoding, delimiter=delimiter)


def table_bytes(table: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    """CSV bytes of a table given as lists of cells (header row first)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(table)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(
    rows: Iterable[dict], *, language: str = "en", headers: list[str] | None = None
) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for line in rows_table(rows, headers, language):
        sheet.append([None if v == "" else v for v in line])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


NEISS_HEADERS = [
    "CPSC_Case_Number",
    "Treatment_Date",
    "Age",
    "Sex",
    "Race",
    "Other_Race",
    "Hispanic",
    "Body_Part",
    "Diagnosis",
    "Other_Diagnosis",
    "Body_Part_2",
    "Diagnosis_2",
    "Other_Diagnosis_2",
    "Disposition",
    "Location",
    "Fire_Involvement",
    "Alcohol",
    "Drug",
    "Product_1",
    "Product_2",
    "Product_3",
    "Narrative_1",
    "Stratum",
    "PSU",
    "Weight",
]


def neiss_row(case: str = "260101001", **overrides: object) -> dict:
    """A NEISS public-file row with real NEISS codes (see neiss_format_codes.tsv)."""
    row = {
        "CPSC_Case_Number": case,
        "Treatment_Date": "01/15/2026",
        "Age": "204",
        "Sex": "1",
        "Race": "1",
        "Other_Race": "",
        "Hispanic": "2",
        "Body_Part": "75",
        "Diagnosis": "57",
        "Other_Diagnosis": "",
        "Body_Part_2": "",
        "Diagnosis_2": "",
        "Other_Diagnosis_2": "",
        "Disposition": "1",
        "Location": "1",
        "Fire_Involvement": "0",
        "Alcohol": "0",
        "Drug": "0",
        "Product_1": "1807",
        "Product_2": "0",
        "Product_3": "0",
        "Narrative_1": "4 MOM FELL OFF BED ONTO FLOOR AT HOME, HIT HEAD. DX: SKULL FRACTURE",
        "Stratum": "V",
        "PSU": "61",
        "Weight": "15.7762",
    }
    row.update({k: str(v) for k, v in overrides.items()})
    return row


def neiss_bytes(rows: Iterable[dict]) -> bytes:
    lines = ["\t".join(NEISS_HEADERS)]
    lines += ["\t".join(r[h] for h in NEISS_HEADERS) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def unlanded_file(data: bytes, name: str = "GZ001_20260215.csv") -> LandingFile:
    """A landing entry for ``data`` read from memory (``read_submission(..., data=data)``):
    nothing on disk, a fixed digest."""
    return LandingFile(
        hospital_code=HOSPITAL,
        path=f"{HOSPITAL}/{name}",
        relpath=f"{HOSPITAL}/{name}",
        sha256="0" * 64,
        size_bytes=len(data),
        received_at="2026-03-01T08:00:00",
        order_key="20260215",
    )


def write(path: Path, data: bytes, received: datetime = RECEIVED) -> Path:
    """Write ``data`` to ``path`` and, when ``path`` lies in a landing zone ``<root>/landing``,
    record its arrival at ``received`` in ``<root>/home`` (what the submission API does at
    upload; ``make_settings(root)`` uses that home). The modification time is set to a
    different moment on purpose: Sentinel must never take it for the received time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (MISLEADING_MTIME, MISLEADING_MTIME))
    record_arrival(path, received)
    return path


MISLEADING_MTIME = datetime(2031, 1, 1).timestamp()  # far from any received time in the tests


def landing_root(path: Path) -> Path | None:
    """The landing directory ``path`` lies in (a folder named ``landing``), if any."""
    for parent in path.parents:
        if parent.name == "landing":
            return parent
    return None


def record_arrival(path: Path, received: datetime, home: Path | None = None) -> None:
    """Record that the landing file ``path`` arrived at ``received`` (UTC when naive)."""
    import hashlib

    from pipeline.intake.arrivals import Arrival, Arrivals, normalise_time

    landing = landing_root(path)
    if landing is None:
        return
    relpath = path.relative_to(landing).as_posix()
    arrival = Arrival(
        hospital_code=relpath.split("/", 1)[0],
        relpath=relpath,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        received_at=normalise_time(received),
        source="manifest",
        size_bytes=path.stat().st_size,
    )
    Arrivals((home or landing.parent / "home") / "arrivals").record([arrival])


def make_settings(root: Path, landing: Path | None = None) -> Settings:
    return Settings.from_env(
        {
            "SENTINEL_HOME": str(root / "home"),
            "SENTINEL_LANDING": str(landing or root / "landing"),
            "SENTINEL_PSEUDONYM_KEY": KEY,
        }
    )


def copy_tree(src: Path, dst: Path) -> None:
    """Copy a landing zone ``<root>/landing`` and the arrivals recorded for it in
    ``<root>/home/arrivals`` (its files' received times)."""
    shutil.copytree(src, dst, copy_function=shutil.copy2, symlinks=True)
    arrivals = src.parent / "home" / "arrivals"
    if arrivals.exists():
        shutil.copytree(arrivals, dst.parent / "home" / "arrivals", dirs_exist_ok=True)


VOLATILE = {
    "submissions": ("processed_at",),
    "submission_events": ("event_at",),
    "pseudonym_key": ("recorded_at",),
}


def snapshot(settings: Settings) -> dict:
    """Everything an ingest produces, minus volatile timestamps: table checksums, lake files
    (relative name -> bytes) and receipts (relative name -> bytes)."""
    from pipeline.storage.warehouse import connect, table_checksums

    con = connect(settings.warehouse_path, read_only=True)
    try:
        tables = table_checksums(con, VOLATILE)
    finally:
        con.close()
    return {
        "tables": tables,
        "lake": tree_bytes(settings.lake_dir),
        "receipts": tree_bytes(settings.outbox_dir),
    }


def tree_bytes(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def query(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    """Run a read-only query against the warehouse."""
    from pipeline.storage.warehouse import connect

    con = connect(settings.warehouse_path, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def submission(settings: Settings, file_name: str) -> dict:
    """The ledger row of the submission of ``file_name`` (relative to the landing)."""
    from pipeline.storage.warehouse import connect

    con = connect(settings.warehouse_path, read_only=True)
    try:
        cursor = con.execute("SELECT * FROM submissions WHERE file_name = ?", [file_name])
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        con.close()
    assert len(rows) == 1, (file_name, rows)
    return dict(zip(names, rows[0], strict=True))


def receipt_json(settings: Settings, submission_id: str, hospital: str = HOSPITAL) -> dict:
    import json

    path = settings.outbox_dir / hospital / f"{submission_id}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def build_busy_landing(landing: Path) -> list[Path]:
    """14 files from two hospitals: new cases, corrections, voids, a resend (duplicate), an
    in-file duplicate row, rejected and unreadable files, GB18030, XLSX and NEISS. Files get
    distinct mtimes (received_at)."""
    from datetime import timedelta

    g, s = HOSPITAL, OTHER_HOSPITAL
    files: list[tuple[str, str, bytes]] = [
        (
            g,
            "GZ001_20260201.csv",
            csv_bytes([case_row(f"C{i}") for i in range(1, 7)] + [case_row("C66", sex="?")]),
        ),
        (
            g,
            "GZ001_20260202.csv",
            csv_bytes(
                [
                    case_row("C1", report_type="correction", severity="severe"),
                    case_row("C2", report_type="void"),
                    case_row("C7"),
                ]
            ),
        ),
        (
            g,
            "GZ001_20260203.xlsx",
            xlsx_bytes([case_row("C8"), case_row("C9", sex="女")], language="zh"),
        ),
        (g, "GZ001_20260204.csv", csv_bytes([case_row("C11")], headers=[*EN_HEADERS, "性别"])),
        (
            g,
            "GZ001_20260205.csv",
            csv_bytes(
                [
                    case_row("C99", report_type="correction"),
                    case_row("C10"),
                    case_row("C3", age="9"),
                    case_row("C12"),
                    case_row("C12"),
                ]
            ),
        ),
        (g, "GZ001_20260206.csv", csv_bytes([case_row("C13"), case_row("C14", hospital=s)])),
        (
            s,
            "SH001_20260201.csv",
            csv_bytes(
                [case_row(f"S{i}", hospital=s, sex="男", cause="跌倒/坠落") for i in range(1, 6)],
                language="zh",
                encoding="gb18030",
            ),
        ),
        (
            s,
            "SH001_20260202.csv",
            csv_bytes(
                [case_row("S1", hospital=s, report_type="更正", outcome="住院")],
                language="zh",
                encoding="gb18030",
            ),
        ),
        (
            s,
            "SH001_20260203.txt",
            neiss_bytes([neiss_row(f"2602030{i}", Age=str(200 + i)) for i in range(1, 5)]),
        ),
        (s, "SH001_20260204.csv", bytes(range(256))),
        (s, "SH001_20260205.xlsx", xlsx_bytes([case_row("S3", hospital=s, report_type="void")])),
        (
            s,
            "SH001_20260206.csv",
            csv_bytes(
                [case_row("S2", hospital=s, report_type="correction", age="6")],
                encoding="utf-8-sig",
            ),
        ),
        (s, "SH001_20260207.csv", csv_bytes([])),
    ]
    written = []
    for i, (hospital, name, data) in enumerate(files):
        written.append(write(landing / hospital / name, data, RECEIVED + timedelta(minutes=i)))
    # The same file again under another name: a duplicate submission.
    resend = landing / g / "GZ001_20260202_resend.csv"
    written.append(
        write(
            resend, (landing / g / "GZ001_20260202.csv").read_bytes(), RECEIVED + timedelta(hours=1)
        )
    )
    return written


class AccessWatch:
    """Every open or read of anything in ``directory`` by any process, seen by the kernel
    (inotify): how a test proves that nothing outside the landing zone was read, whatever path
    or descriptor the reader used."""

    IN_ACCESS, IN_OPEN, IN_ISDIR = 0x1, 0x20, 0x40000000

    def __init__(self, directory: Path) -> None:
        import ctypes

        self._libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, ctypes.get_errno()
        wd = self._libc.inotify_add_watch(
            self.fd, str(directory).encode(), self.IN_ACCESS | self.IN_OPEN
        )
        assert wd >= 0, ctypes.get_errno()

    def events(self) -> list[tuple[str, str]]:
        """(what, name) of each event since the watch began (or since the last call)."""
        import struct

        out = []
        while True:
            try:
                buffer = os.read(self.fd, 65536)
            except BlockingIOError:
                return out
            offset = 0
            while offset < len(buffer):
                _wd, mask, _cookie, size = struct.unpack_from("iIII", buffer, offset)
                name = buffer[offset + 16 : offset + 16 + size].rstrip(b"\0").decode()
                what = "open" if mask & self.IN_OPEN else "read"
                out.append((what + (" dir" if mask & self.IN_ISDIR else ""), name))
                offset += 16 + size

    def close(self) -> None:
        os.close(self.fd)
