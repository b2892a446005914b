"""Evidence packs: one zip per signal and week (or per category and date range) that a recall
officer can hand on, and that anyone can check later.

Contents (see docs/evidence.md): every case linked to the signal from its onset week to the
week, de-identified, as formula-safe CSV and as Parquet, the narratives (Markdown and plain
text), counts by week / hospital / severity, SVG charts, a self-contained summary.html, the
member alerts, triage history and follow-up results, the signal's *provisional* members
(cases waiting for coder review, flagged, never counted: provisional_cases.csv and a section of
summary.html), provenance.json (window, signal, members,
detectors, coding models, contributing submissions with their checksums, the query, the audit
chain head) and manifest.json with the SHA-256 and size of every other file.

The same request on the same data gives a byte-identical zip: no wall-clock anywhere, a fixed
file order, fixed zip timestamps (1980-01-01), permissions and compression level; Parquet is
written without pandas metadata.

**Versions.** A pack is immutable: its file name carries the first 12 hex digits of the
SHA-256 of its ``manifest.json`` (``evidence-<signal>-<week>-<digest>.zip``), which is also its
*pack id*. New data or a new triage record gives a new manifest, hence a new file beside the
old one; an existing file is never overwritten (the same content again is the same file). A
referral cites the pack id and the full manifest hash, and ``verify`` works on any cited pack
later: it re-hashes every member and checks that the name still matches the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
import zlib
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from pipeline.errors import EXIT_CODES, BadInput, NotFound, SentinelError
from pipeline.escaping import md_escape, write_safe_csv
from pipeline.evidence.bundle import (
    PACK_FORMAT,
    Bundle,
    load_category_bundle,
    load_signal_bundle,
)
from pipeline.reporting import explain
from pipeline.reporting.charts import bar_chart_svg, trend_chart_svg
from pipeline.reporting.context import PROVISIONAL_COLUMNS
from pipeline.reporting.risk import suggested_risk_level
from pipeline.triage.store import TriageState

KNOWN_FORMATS = (
    "sentinel-evidence-pack/1",
    "sentinel-evidence-pack/2",
    PACK_FORMAT,
)  # packs cited earlier still verify
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 9
FILE_MODE = 0o644
MANIFEST = "manifest.json"
CSV_FILES = (
    "cases.csv",
    "counts_by_week.csv",
    "counts_by_hospital.csv",
    "counts_by_severity.csv",
    "followups.csv",
    "members.csv",
    "provisional_cases.csv",
)
DIGEST_CHARS = 12
_VERSIONED = re.compile(r"^(evidence-.+)-([0-9a-f]{12})\.zip$")


class PackExists(SentinelError, FileExistsError):
    """A different file already has the name a pack would get: packs are never overwritten."""

    kind = "exists"
    exit_code = EXIT_CODES["exists"]


def pack_name(bundle: Bundle, manifest_sha256: str) -> str:
    """``evidence-<signal>-<week>-<digest>.zip`` (or ``-<category>-<from>-<to>-``)."""
    return f"evidence-{bundle.slug}-{manifest_sha256[:DIGEST_CHARS]}.zip"


def pack_id(path: Path) -> str:
    return path.name.removesuffix(".zip")


def check_request(
    signal_id: str | None,
    week: str | None,
    category: str | None,
    date_from: date | None,
    date_to: date | None,
) -> None:
    """Refuse an incomplete or contradictory request (BadInput)."""
    by_category = category is not None or date_from is not None or date_to is not None
    if signal_id and by_category:
        raise BadInput("give --signal, or --category with --from and --to, not both")
    if not signal_id and not (category and date_from and date_to):
        raise BadInput("give --signal ID, or --category CODE --from DATE --to DATE")
    if week and not signal_id:
        raise BadInput("--week goes with --signal")


def load_bundle(
    con: duckdb.DuckDBPyConnection,
    triage: TriageState,
    *,
    signal_id: str | None = None,
    week: str | None = None,
    category: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Bundle:
    """What the pack of a signal (``signal_id``, optional ``week``) or of a category over a
    visit-date range holds. Raises BadInput for an incomplete or contradictory request,
    NotFound when the signal or category does not exist or the range holds no case."""
    check_request(signal_id, week, category, date_from, date_to)
    if signal_id:
        return load_signal_bundle(con, signal_id, week, triage)
    bundle = load_category_bundle(con, category, date_from, date_to, triage)  # type: ignore[arg-type]
    if bundle.cases.empty:
        raise NotFound(f"no cases of category {category} visited between {date_from} and {date_to}")
    return bundle


def write_pack(bundle: Bundle, directory: Path, out: Path | None = None) -> Path:
    """Write the pack (under ``directory`` with its versioned name, or at ``out``) unless the
    very same pack is already there; a different file at that path is refused (PackExists).
    Returns the path."""
    files = pack_files(bundle)
    digest = hashlib.sha256(files[MANIFEST]).hexdigest()
    path = Path(out) if out else directory / pack_name(bundle, digest)
    data = zip_bytes(files)
    if path.exists():
        if path.read_bytes() == data:
            return path
        raise PackExists(
            f"{path} already exists with other content; evidence packs are never overwritten "
            "(write elsewhere with --out, or remove a file that is not a cited pack)",
            detail_zh=f"{path} 已存在且内容不同；证据包从不覆盖（可用 --out 另存）",
        )
    write_zip(path, files, data)
    return path


# ---- contents ------------------------------------------------------------------------------


def pack_files(bundle: Bundle) -> dict[str, bytes]:
    """Every file of the pack (name -> bytes), manifest included."""
    files: dict[str, bytes] = {}
    cases = bundle.cases
    files["cases.csv"] = _csv(cases)
    files["cases.parquet"] = _parquet(cases)
    files["narratives.md"] = _narratives_md(bundle, md_escape).encode("utf-8")
    files["narratives.txt"] = _narratives_txt(bundle).encode("utf-8")

    by_week = bundle.trend.drop(columns=["signal_cases"], errors="ignore").copy()
    in_pack = cases["visit_week"].value_counts()
    by_week["cases_in_pack"] = [int(in_pack.get(w, 0)) for w in by_week["week"]]
    by_hospital = counts_by_hospital(bundle)
    by_severity = counts_by_severity(bundle)
    files["counts_by_week.csv"] = _csv(by_week)
    files["counts_by_hospital.csv"] = _csv(by_hospital)
    files["counts_by_severity.csv"] = _csv(by_severity)
    files["followups.csv"] = _csv(bundle.followups)
    if bundle.signal is not None:
        files["members.csv"] = _csv(_members(bundle))
    # Apart from cases.csv and every count below: shown, flagged, never counted.
    files["provisional_cases.csv"] = _csv(_provisional(bundle))

    title = _title(bundle)
    charts = {
        "charts/trend.svg": trend_chart_svg(bundle.trend, f"{title}: cases per week"),
        "charts/by_hospital.svg": bar_chart_svg(
            by_hospital["hospital_code"].tolist(),
            by_hospital["cases"].tolist(),
            "Cases by hospital",
        ),
        "charts/by_severity.svg": bar_chart_svg(
            by_severity["label_en"].tolist(), by_severity["cases"].tolist(), "Cases by severity"
        ),
    }
    files.update({name: svg.encode("utf-8") for name, svg in charts.items()})
    files["provenance.json"] = _json(bundle.provenance)
    files["summary.html"] = render_summary(
        bundle, charts, by_hospital, by_severity, sorted(files)
    ).encode("utf-8")
    files[MANIFEST] = _json(manifest(files))
    return files


def _title(bundle: Bundle) -> str:
    if bundle.signal is not None:
        s = bundle.signal
        name = bundle.category_name("en")
        return f"Signal {s['signal_id']}{f' {name}' if name else ''} ({s['onset_week']} to {s['week']})"
    r = bundle.request
    return f"{r['category']} {r['date_from']}..{r['date_to']}"


def _members(bundle: Bundle) -> pd.DataFrame:
    """The signal's member alerts with a sentence each (why it fired)."""
    from pipeline.evidence.bundle import MEMBER_EXPORT_COLUMNS

    return bundle.members.reindex(columns=MEMBER_EXPORT_COLUMNS).reset_index(drop=True)


def _provisional(bundle: Bundle) -> pd.DataFrame:
    """The provisional members with their flag, oldest first (like cases.csv)."""
    frame = bundle.provisional.reindex(columns=PROVISIONAL_COLUMNS).reset_index(drop=True)
    frame.insert(0, "provisional", "waiting for coder review")
    frame["similarity"] = [None if _missing(v) else f"{float(v):.3f}" for v in frame["similarity"]]
    return frame


def counts_by_hospital(bundle: Bundle) -> pd.DataFrame:
    cases = bundle.cases
    names = bundle.hospitals.set_index("hospital_code") if not bundle.hospitals.empty else None
    rows = []
    for code in sorted(set(cases["hospital_code"])):
        own = cases[cases["hospital_code"] == code]
        rows.append(
            {
                "hospital_code": code,
                "name_en": names.at[code, "name_en"]
                if names is not None and code in names.index
                else "",
                "name_zh": names.at[code, "name_zh"]
                if names is not None and code in names.index
                else "",
                "cases": len(own),
                "severe": int((own["severity"] == "severe").sum()),
                "admitted": int(own["outcome"].isin(["admitted", "transferred"]).sum()),
                "died": int((own["outcome"] == "died").sum()),
            }
        )
    frame = pd.DataFrame(
        rows, columns=["hospital_code", "name_en", "name_zh", "cases", "severe", "admitted", "died"]
    )
    return frame.sort_values(
        ["cases", "hospital_code"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def counts_by_severity(bundle: Bundle) -> pd.DataFrame:
    order = ["severe", "moderate", "mild"]
    counts = bundle.cases["severity"].value_counts()
    levels = order + sorted(c for c in counts.index if c not in order)
    return pd.DataFrame(
        [
            {
                "severity": s,
                "label_en": bundle.label("severity", s, "en"),
                "label_zh": bundle.label("severity", s, "zh"),
                "cases": int(counts.get(s, 0)),
            }
            for s in levels
        ],
        columns=["severity", "label_en", "label_zh", "cases"],
    )


def _csv(frame: pd.DataFrame) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        write_safe_csv(frame, path)
        return path.read_bytes()


def _parquet(cases: pd.DataFrame) -> bytes:
    """Deterministic Parquet: explicit schema, rows in the given order, no pandas metadata."""

    def column(name: str) -> pa.Array:
        values = [None if _missing(v) else v for v in cases[name].tolist()]
        if name == "visit_date":
            return pa.array(values, type=pa.date32())
        if name == "age":
            return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())

    table = pa.table({name: column(name) for name in cases.columns})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", compression_level=3)
    return sink.getvalue()


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _json(payload: object) -> bytes:
    return (
        json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n"
    ).encode("utf-8")


def _case_header(bundle: Bundle, case: dict) -> str:
    age = "" if _missing(case["age"]) else explain.age_text(case["age"], case["age_unit"], "en")
    parts = [
        f"{case['hospital_code']}/{case['case_id']}",
        str(case["visit_date"] or ""),
        case["sex"] or "",
        age.strip(),
        bundle.label("severity", case["severity"]),
        bundle.label("outcome", case["outcome"]),
    ]
    return " · ".join(p for p in parts if p)


def _narratives_md(bundle: Bundle, escape) -> str:  # type: ignore[no-untyped-def]
    lines = [
        f"# Narratives: {escape(_title(bundle))}",
        "",
        f"{len(bundle.cases)} de-identified cases, oldest first.",
        "",
    ]
    for case in bundle.cases.to_dict("records"):
        product = " / ".join(
            str(case[k])
            for k in ("product_name", "brand", "model", "batch")
            if not _missing(case[k])
        )
        lines += [f"## {escape(_case_header(bundle, case))}", ""]
        if product:
            lines += [f"Product: {escape(product)}", ""]
        lines += [escape(case["narrative"] or ""), ""]
    return "\n".join(lines)


def _narratives_txt(bundle: Bundle) -> str:
    lines = [
        f"Narratives: {_title(bundle)}",
        f"{len(bundle.cases)} de-identified cases, oldest first.",
        "",
    ]
    for case in bundle.cases.to_dict("records"):
        product = " / ".join(
            str(case[k])
            for k in ("product_name", "brand", "model", "batch")
            if not _missing(case[k])
        )
        lines += [_case_header(bundle, case)]
        if product:
            lines += [f"Product: {product}"]
        lines += [" ".join(str(case["narrative"] or "").split()), ""]
    return "\n".join(lines)


# ---- summary.html --------------------------------------------------------------------------


def _environment():  # type: ignore[no-untyped-def]
    return Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_summary(
    bundle: Bundle,
    charts: dict[str, str],
    by_hospital: pd.DataFrame,
    by_severity: pd.DataFrame,
    file_names: list[str],
) -> str:
    risk = suggested_risk_level(bundle.cases, bundle.lead or {}) if bundle.signal else None
    cases = [
        {
            **c,
            "header": _case_header(bundle, c),
            "age_text": ""
            if _missing(c["age"])
            else explain.age_text(c["age"], c["age_unit"], "en"),
            "severity_label": bundle.label("severity", c["severity"]),
            "outcome_label": bundle.label("outcome", c["outcome"]),
            "relation_label": bundle.label("product_relation", c["product_relation"]),
        }
        for c in bundle.cases.to_dict("records")
    ]
    provisional = [
        {
            **c,
            "age_text": ""
            if _missing(c["age"])
            else explain.age_text(c["age"], c["age_unit"], "en"),
            "severity_label": bundle.label("severity", c["severity"]),
            "outcome_label": bundle.label("outcome", c["outcome"]),
        }
        for c in bundle.provisional.to_dict("records")
    ]
    return (
        _environment()
        .get_template("summary.html.j2")
        .render(
            title=_title(bundle),
            bundle=bundle,
            signal=bundle.signal,
            window=bundle.window,
            window_en=explain.window_sentence(bundle.signal, "en") if bundle.signal else "",
            window_zh=explain.window_sentence(bundle.signal, "zh") if bundle.signal else "",
            members=bundle.members.to_dict("records"),
            risk=risk,
            cases=cases,
            provisional=provisional,
            # matplotlib escapes every text node of its SVG; the charts are our own markup.
            charts={name: Markup(svg) for name, svg in charts.items()},
            by_hospital=by_hospital.to_dict("records"),
            by_severity=by_severity.to_dict("records"),
            followups=bundle.followups.to_dict("records"),
            triage=bundle.triage.to_dict("records"),
            provenance=bundle.provenance,
            files=file_names + [MANIFEST],
            missing=_missing,
            fmt=_fmt,
        )
    )


def _fmt(value: object, digits: int = 2) -> str:
    if _missing(value):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-2 and value else f"{value:.{digits}f}"
    return str(value)


# ---- zip, manifest, verification ----------------------------------------------------------


def manifest(files: dict[str, bytes]) -> dict:
    return {
        "format": PACK_FORMAT,
        "files": [
            {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in sorted(files.items())
            if name != MANIFEST
        ],
    }


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever the host
            info.external_attr = (0o100000 | FILE_MODE) << 16
            archive.writestr(
                info, files[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL
            )
    return buffer.getvalue()


def write_zip(path: Path, files: dict[str, bytes], data: bytes | None = None) -> None:
    """Atomically: a temporary file in the target directory, then a hard link to the final
    name, which fails instead of replacing a file that appeared meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = zip_bytes(files) if data is None else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        try:
            os.link(tmp, path)
        except FileExistsError:
            if path.read_bytes() != data:
                raise PackExists(f"{path} appeared meanwhile with other content") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def verify_evidence_pack(path: Path) -> list[str]:
    """Problems found in a pack (an empty list means it is intact): unreadable zip, missing
    manifest, a file missing, changed (SHA-256 or size) or not listed in the manifest."""
    problems: list[str] = []
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"{path}: not a readable zip ({exc})"]
    with archive:
        names = archive.namelist()
        if len(names) != len(set(names)):
            problems.append("duplicate file names in the zip")
        if MANIFEST not in names:
            return problems + [f"{MANIFEST} is missing"]
        try:
            listed = json.loads(archive.read(MANIFEST))
            entries = {e["name"]: e for e in listed["files"]}
        except (ValueError, KeyError, TypeError, zipfile.BadZipFile, zlib.error) as exc:
            return problems + [f"{MANIFEST} is unreadable ({exc})"]
        if listed.get("format") not in KNOWN_FORMATS:
            problems.append(f"unknown pack format {listed.get('format')!r}")
        versioned = _VERSIONED.match(Path(path).name)
        if versioned:
            digest = hashlib.sha256(archive.read(MANIFEST)).hexdigest()
            if not digest.startswith(versioned[2]):
                problems.append(
                    f"the name says manifest {versioned[2]}… but manifest.json hashes to "
                    f"{digest[:DIGEST_CHARS]}… (renamed, or the manifest was changed)"
                )
        for name in sorted(set(names) - set(entries) - {MANIFEST}):
            problems.append(f"{name}: not listed in the manifest")
        for name, entry in sorted(entries.items()):
            if name not in names:
                problems.append(f"{name}: listed in the manifest but missing")
                continue
            try:
                data = archive.read(name)
            except (zipfile.BadZipFile, zlib.error, OSError, ValueError) as exc:  # CRC, inflate
                problems.append(f"{name}: cannot be read ({exc})")
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest != entry.get("sha256") or len(data) != entry.get("size"):
                problems.append(
                    f"{name}: SHA-256 {digest[:12]}… size {len(data)} does not "
                    f"match the manifest ({str(entry.get('sha256'))[:12]}… size "
                    f"{entry.get('size')})"
                )
    return problems


def manifest_digest(path: Path) -> str:
    """SHA-256 of a pack's manifest.json (cited by the recall referral)."""
    with zipfile.ZipFile(path) as archive:
        return hashlib.sha256(archive.read(MANIFEST)).hexdigest()
