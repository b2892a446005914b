"""Write the landing files, ``ground_truth.json``, ``ground_truth_cases.csv``, ``README.md`` and
``arrivals.csv`` (when each file is meant to have arrived: ``sentinel arrivals import``)."""

from __future__ import annotations

import calendar
import csv
import hashlib
import io
import json
import os
from collections import Counter
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path

from pipeline.isoweek import format_iso_week as iso_week
from sentinel_tools.sample import refdata
from sentinel_tools.sample.faults import FILE_REJECTED, Fault
from sentinel_tools.sample.generator import (
    GENERATOR_VERSION,
    Context,
    OutFile,
    Row,
    late_senders,
)


def _mtime(f: OutFile, ctx: Context) -> datetime:
    if f.day is None:
        return datetime.combine(ctx.daily_start, time(9, 0))
    base = datetime.combine(f.day + timedelta(days=1), time(1, 30))
    return base + {"fix": timedelta(hours=9), "resend": timedelta(hours=10)}.get(
        f.kind, timedelta()
    )


def _arrival(f: OutFile, ctx: Context, weekly: set[str]) -> datetime:
    """When the file is meant to have reached Sentinel (UTC): the morning after its date
    (09:30 China time); a weekly sender's daily files of one ISO week on the Wednesday of the
    next week; a fix or a resend later that day."""
    stamp = _mtime(f, ctx)
    if f.day is not None and f.hosp.code in weekly:
        wednesday = f.day + timedelta(days=7 - f.day.weekday() + 2)
        stamp += timedelta(days=(wednesday - (f.day + timedelta(days=1))).days)
    return stamp


def _set_mtime(path: Path, stamp: datetime) -> None:
    ts = calendar.timegm(stamp.timetuple())
    os.utime(path, (ts, ts))


ARRIVALS = "arrivals.csv"


def _write_arrivals(out_dir: Path, arrivals: list[tuple[str, bytes, datetime]]) -> None:
    """The intended arrival of every landing file (UTC): the received time a sentinel network
    would have recorded at upload. A file's modification time cannot carry it (a copy or a
    checkout changes it), so the sample runner and the tests import this manifest before
    ingest (``sentinel arrivals import data/sample/arrivals.csv``)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["file", "sha256", "bytes", "received_at"])
    for relpath, data, stamp in sorted(arrivals, key=lambda a: a[0]):
        writer.writerow(
            [
                relpath.removeprefix("landing/"),
                hashlib.sha256(data).hexdigest(),
                len(data),
                stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            ]
        )
    (out_dir / ARRIVALS).write_bytes(buffer.getvalue().encode("utf-8"))


def write_outputs(
    out_dir: Path,
    *,
    ctx: Context,
    files_by_hosp: dict[str, list[OutFile]],
    cases_by_hosp: dict[str, list[dict]],
    faults: list[Fault],
    hazard_plan: list,
    silent_weeks: list[str],
    neiss: tuple,
    args: dict,
    render: Callable[[OutFile], bytes],
    onset: Callable,
) -> dict:
    """Write the landing files, ground_truth.json, ground_truth_cases.csv and README.md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    order = [h.code for h in ctx.selected]
    all_files = [f for code in order for f in files_by_hosp[code]]
    landing_bytes, n_files, neiss_entries = _write_landing(out_dir, ctx, all_files, neiss, render)
    pos = _row_positions(all_files)
    fault_rows = _fault_entries(faults, pos)
    faulted_rows = {
        (pos[id(flt.row)][0].relpath, pos[id(flt.row)][1]): flt.type
        for flt in faults
        if flt.row is not None and id(flt.row) in pos
    }
    stored_at = _stored_at(all_files, faulted_rows)
    all_cases = [c for code in order for c in cases_by_hosp[code]]
    hazards = _hazard_entries(ctx, hazard_plan, all_cases, onset)
    hosp_gt, total_rows = _hospital_entries(ctx, files_by_hosp, cases_by_hosp, silent_weeks)
    cases_csv = _cases_csv(all_cases, stored_at)
    (out_dir / "ground_truth_cases.csv").write_bytes(cases_csv)

    names = sorted({c["patient_name"] for c in all_cases if c["patient_name"]})
    ids = sorted({c["patient_id_number"] for c in all_cases if c["patient_id_number"]})
    phones = sorted({c["patient_phone"] for c in all_cases if c["patient_phone"]})
    fault_counts = Counter(e["type"] for e in fault_rows)
    n_cases = len(all_cases)
    product_cases = sum(1 for c in all_cases if c["_cat"])
    filled = sum(1 for c in all_cases if c["_cat"] and c["product_category"])
    silent_periods = [
        {"hospital": code, "start": s0.isoformat(), "end": s1.isoformat(), "weeks": silent_weeks}
        for code, (s0, s1) in sorted(ctx.silent.items())
    ]
    totals = {
        "hospitals": len(ctx.selected),
        "files": n_files,
        "landing_bytes": landing_bytes,
        "cases": n_cases,
        "rows": total_rows,
        "product_cases": product_cases,
        "no_product_cases": n_cases - product_cases,
        "category_filled_share": round(filled / product_cases, 4) if product_cases else 0.0,
        "hazards": len(hazards),
        "hazard_cases": sum(h["n_cases"] for h in hazards),
        "faults": len(fault_rows),
        "faults_by_type": dict(sorted(fault_counts.items())),
        "identifiers": {"names": len(names), "id_numbers": len(ids), "phones": len(phones)},
    }
    gt = {
        "generator": {"version": GENERATOR_VERSION, "arguments": args},
        "network": _network_entry(ctx, args),
        "hospitals": hosp_gt,
        "hazards": hazards,
        "faults": fault_rows,
        "silent_periods": silent_periods,
        "neiss": neiss_entries,
        "identifiers": {"names": names, "id_numbers": ids, "phones": phones},
        "totals": totals,
        "cases_file": "ground_truth_cases.csv",
    }
    gt_bytes = (json.dumps(gt, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    (out_dir / "ground_truth.json").write_bytes(gt_bytes)

    total_bytes = landing_bytes + len(gt_bytes) + len(cases_csv)
    readme = _readme(
        args,
        ctx,
        hosp_gt,
        hazards,
        fault_counts,
        totals,
        total_bytes,
        silent_periods,
        neiss_entries,
    )
    (out_dir / "README.md").write_bytes(readme.encode("utf-8"))
    total_bytes += len(readme.encode("utf-8"))
    for name in ("ground_truth.json", "ground_truth_cases.csv", "README.md"):
        _set_mtime(out_dir / name, datetime.combine(ctx.end + timedelta(days=1), time(4, 0)))
    return {
        "out_dir": str(out_dir),
        "files": n_files,
        "cases": n_cases,
        "rows": total_rows,
        "bytes": landing_bytes,
        "total_bytes": total_bytes,
        "hospitals": len(ctx.selected),
        "hazards": len(hazards),
        "hazard_cases": totals["hazard_cases"],
        "faults": len(fault_rows),
        "faults_by_type": totals["faults_by_type"],
    }


def _write_landing(
    out_dir: Path,
    ctx: Context,
    all_files: list[OutFile],
    neiss: tuple,
    render: Callable[[OutFile], bytes],
) -> tuple[int, int, list]:
    """Render and write every landing file (and the NEISS file); (bytes, files, NEISS entries)."""
    for f in all_files:
        if f.copy_of is None:
            f.data = render(f)
    for f in all_files:
        if f.copy_of is not None:
            f.data = f.copy_of.data
    landing_bytes = 0
    arrivals: list[tuple[str, bytes, datetime]] = []
    weekly = late_senders(ctx.selected, set(ctx.silent))
    for f in all_files:
        path = out_dir / f.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.data)
        _set_mtime(path, _mtime(f, ctx))
        arrivals.append((f.relpath, f.data, _arrival(f, ctx, weekly)))
        landing_bytes += len(f.data)
    neiss_entries, neiss_payload = neiss
    n_files = len(all_files)
    if neiss_payload:
        rel, data = neiss_payload
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        stamp = datetime.combine(ctx.end + timedelta(days=1), time(3, 0))
        _set_mtime(path, stamp)
        arrivals.append((rel, data, stamp))
        landing_bytes += len(data)
        n_files += 1
        for e in neiss_entries:
            e["sha256"] = hashlib.sha256(data).hexdigest()
            e["bytes"] = len(data)
    _write_arrivals(out_dir, arrivals)
    return landing_bytes, n_files, neiss_entries


def _row_positions(all_files: list[OutFile]) -> dict[int, tuple[OutFile, int]]:
    """id(row) -> (file, 1-based data row within the file), first occurrence."""
    pos: dict[int, tuple[OutFile, int]] = {}
    for f in all_files:
        for i, r in enumerate(f.rows, start=1):
            pos.setdefault(id(r), (f, i))
    return pos


def _fault_entries(faults: list[Fault], pos: dict[int, tuple[OutFile, int]]) -> list[dict]:
    """The ground truth's faults, sorted and numbered F001, F002 ..."""

    def where(r: Row | None) -> int | None:
        return pos[id(r)][1] if r is not None and id(r) in pos else None

    fault_rows = []
    for flt in faults:
        entry = {
            "type": flt.type,
            "hospital": flt.hospital,
            "file": flt.file.relpath if flt.file else None,
            "row": where(flt.row),
            "field": flt.field,
            "value": flt.value,
            "expected": flt.expected,
            "description": flt.description,
        }
        for key, val in flt.extra.items():
            entry[key] = where(val) if isinstance(val, Row) else val
        if flt.row is not None:
            entry["case_id"] = flt.row.case["case_id"]
        fault_rows.append(entry)
    fault_rows.sort(key=lambda e: (e["hospital"], e["file"] or "", e["row"] or 0, e["type"]))
    for i, e in enumerate(fault_rows, start=1):
        e["id"] = f"F{i:03d}"
    return fault_rows


def _stored_at(
    all_files: list[OutFile], faulted_rows: dict[tuple[str, int], str]
) -> dict[tuple[str, str], tuple[str, int, str]]:
    """Where each case is first stored: (file, row, the row's fault if any)."""
    stored_at: dict[tuple[str, str], tuple[str, int, str]] = {}
    for f in all_files:
        if f.kind == "resend" or f.file_fault in FILE_REJECTED:
            continue
        for i, r in enumerate(f.rows, start=1):
            if r.tag != "new":
                continue
            key = (r.case["hospital_code"], r.case["case_id"])
            if key not in stored_at:
                stored_at[key] = (f.relpath, i, faulted_rows.get((f.relpath, i), ""))
    return stored_at


def _hazard_entries(
    ctx: Context, hazard_plan: list, all_cases: list[dict], onset: Callable
) -> list[dict]:
    """The ground truth of every injected hazard."""
    hazards = []
    for spec, hosps in hazard_plan:
        mine = [c for c in all_cases if c["_hazard"] == spec.id]
        mine.sort(key=lambda c: (c["_visit"], c["hospital_code"], c["case_id"]))
        start_monday = onset(spec)
        by_week = Counter(iso_week(c["_visit"].date()) for c in mine)
        expected = {}
        for w in range(ctx.weeks):
            wk = ctx.start + timedelta(days=7 * w)
            rate = spec.rate_at((wk - start_monday).days // 7)
            if rate > 0:
                expected[iso_week(wk)] = round(rate, 3)
        natures = Counter(c["injury_nature"] for c in mine)
        regions = Counter(c["body_region"] for c in mine)
        causes = Counter(c["cause"] for c in mine)
        cat = refdata.category(spec.category)
        entry = {
            "id": spec.id,
            "title": spec.title,
            "category_code": spec.category,
            "category_name_en": cat["name_en"],
            "category_name_zh": cat["name_zh"],
            "pattern": {
                "text": spec.text,
                "mechanism": causes.most_common(1)[0][0] if causes else None,
                "causes": sorted(causes),
                "injury_nature": [k for k, _ in natures.most_common()],
                "body_region": [k for k, _ in regions.most_common()],
                "terms_zh": list(spec.terms_zh),
                "terms_en": list(spec.terms_en),
                "new_term": spec.new_term,
            },
            "hospitals": [h.code for h in hosps],
            "onset_week": iso_week(start_monday),
            "onset_date": start_monday.isoformat(),
            "shape": spec.shape,
            "extra_per_week": spec.rate,
            "expected_extra_by_week": expected,
            "observed_by_week": dict(sorted(by_week.items())),
            "cases": [[c["hospital_code"], c["case_id"]] for c in mine],
            "n_cases": len(mine),
            "brand_zh": spec.brand_zh or None,
            "brand_en": spec.brand_en or None,
            "model": spec.model or None,
        }
        if spec.shape == "ramp":
            entry["ramp_weeks"] = spec.ramp_weeks
        if spec.shape == "burst":
            entry["burst_weeks"] = spec.burst_weeks
        if spec.scope == "city" and hosps:
            entry["region"] = {
                "city_prefix": hosps[0].region[:4],
                "city_en": hosps[0].city_en,
                "city_zh": hosps[0].city_zh,
                "districts": list(refdata.city_districts(hosps[0].region)),
            }
        if spec.new_term:
            entry["new_terms"] = list(spec.terms_zh) + list(spec.terms_en)
        hazards.append(entry)
    return hazards


def _hospital_entries(
    ctx: Context,
    files_by_hosp: dict[str, list[OutFile]],
    cases_by_hosp: dict[str, list[dict]],
    silent_weeks: list[str],
) -> tuple[dict, int]:
    """Per hospital: style, files, counts, silent period; and the total number of rows."""
    hosp_gt = {}
    total_rows = 0
    for h in ctx.selected:
        st = ctx.styles[h.code]
        cases = cases_by_hosp[h.code]
        files = []
        for f in files_by_hosp[h.code]:
            files.append(
                {
                    "file": f.relpath,
                    "kind": f.kind,
                    "rows": len(f.rows) if f.copy_of is None else len(f.copy_of.rows),
                    "bytes": len(f.data),
                    "sha256": hashlib.sha256(f.data).hexdigest(),
                    "day": f.day.isoformat() if f.day else None,
                }
            )
        rows = sum(x["rows"] for x in files)
        total_rows += rows
        product = [c for c in cases if c["_cat"]]
        hosp_gt[h.code] = {
            "name_zh": h.name_zh,
            "name_en": h.name_en,
            "hospital_type": h.type,
            "city_en": h.city_en,
            "region_code": h.region,
            "daily_volume": h.daily_volume,
            "style": st.key,
            "style_description": st.description,
            "header_language": st.header_language,
            "encoding": st.encoding_label,
            "format": st.fmt,
            "date_format": st.date_fmt,
            "value_labels": st.labels,
            "narrative_language": st.narrative,
            "case_id_style": st.case_id,
            "columns": [st.header(c) for c in st.columns()],
            "canonical_columns": st.columns(),
            "files": files,
            "n_files": len(files),
            "cases": len(cases),
            "rows": rows,
            "product_cases": len(product),
            "category_filled_by_hospital": sum(1 for c in product if c["product_category"]),
            "no_product_cases": len(cases) - len(product),
            "hazard_cases": sum(1 for c in cases if c["_hazard"]),
            "silent": (
                {
                    "start": ctx.silent[h.code][0].isoformat(),
                    "end": ctx.silent[h.code][1].isoformat(),
                    "weeks": silent_weeks,
                }
                if h.code in ctx.silent
                else None
            ),
            "days_without_file": _days_without_file(ctx, h, files_by_hosp[h.code]),
        }
    return hosp_gt, total_rows


def _cases_csv(
    all_cases: list[dict], stored_at: dict[tuple[str, str], tuple[str, int, str]]
) -> bytes:
    """ground_truth_cases.csv: every generated case with its scenario, category and fault."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "hospital_code",
            "case_id",
            "file",
            "row",
            "visit_date",
            "iso_week",
            "scenario",
            "true_category",
            "category_given",
            "hazard_id",
            "narrative_language",
            "row_fault",
        ]
    )
    for c in all_cases:
        key = (c["hospital_code"], c["case_id"])
        fpath, frow, fault = stored_at.get(key, ("", 0, ""))
        w.writerow(
            [
                c["hospital_code"],
                c["case_id"],
                fpath,
                frow or "",
                c["_visit"].date().isoformat(),
                iso_week(c["_visit"].date()),
                c["_scenario"],
                c["_cat"],
                c["product_category"],
                c["_hazard"],
                c["_lang"],
                fault,
            ]
        )
    cases_csv = buf.getvalue().encode("utf-8")
    return cases_csv


def _network_entry(ctx: Context, args: dict) -> dict:
    return {
        "start_date": ctx.start.isoformat(),
        "end_date": ctx.end.isoformat(),
        "first_week": iso_week(ctx.start),
        "last_week": iso_week(ctx.end),
        "weeks": ctx.weeks,
        "daily_start": ctx.daily_start.isoformat(),
        "daily_weeks": args["daily_weeks"],
        "file_naming": {
            "daily": "<HOSP>_<YYYYMMDD>.<ext>",
            "backfill": "<HOSP>_backfill_<YYYYMM>.<ext>",
            "fixed_resend": "<HOSP>_<YYYYMMDD>_v2.<ext>",
            "duplicate_resend": "<HOSP>_<YYYYMMDD>_resend.<ext>",
            "neiss": "neiss_<YYYYMMDD>.tsv",
        },
        "paths_relative_to": "the output directory (files live under landing/)",
    }


def _days_without_file(ctx: Context, h, files: list[OutFile]) -> list[str]:
    """Daily-period days on which the hospital had no case and so sent no file (not silence)."""
    first = max(ctx.daily_start, h.active_from or ctx.daily_start)
    last = min(ctx.end, h.active_to or ctx.end)
    silent = ctx.silent.get(h.code)
    days = {f.day for f in files if f.day}
    out, d = [], first
    while d <= last:
        if d not in days and not (silent and silent[0] <= d <= silent[1]):
            out.append(d.isoformat())
        d += timedelta(days=1)
    return out


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def _readme(
    args: dict,
    ctx: Context,
    hosp_gt: dict,
    hazards: list,
    fault_counts: Counter,
    totals: dict,
    total_bytes: int,
    silent: list,
    neiss: list,
) -> str:
    lines = [
        "# Sentinel sample network",
        "",
        "Synthetic, deterministic extracts of a small sentinel-hospital network, generated by "
        f"`sentinel sample generate` ({GENERATOR_VERSION}). Every patient, name, ID number and "
        "phone number is fake. The same arguments always give byte-identical files.",
        "",
        f"Arguments: `--seed {args['seed']} --hospitals {args['hospitals']} --weeks "
        f"{args['weeks']} "
        f"--end-date {args['end_date']} --daily-weeks {args['daily_weeks']} --scale "
        f"{args['scale']}`",
        "",
        f"- period: {ctx.start} to {ctx.end} (ISO weeks {iso_week(ctx.start)} to "
        f"{iso_week(ctx.end)}); "
        f"daily extracts from {ctx.daily_start}, monthly backfill files before",
        f"- {totals['hospitals']} hospitals, {totals['files']:,} files, {totals['cases']:,} cases, "
        f"{totals['rows']:,} data rows",
        f"- size: landing files {_mb(totals['landing_bytes'])}; {_mb(total_bytes)} on disk with "
        f"the "
        "ground truth",
        f"- product-related cases {totals['product_cases']:,} "
        f"({totals['product_cases'] / max(totals['cases'], 1):.0%}), product category filled by "
        f"the "
        f"hospital for {totals['category_filled_share']:.0%} of them",
        "",
        "## Layout",
        "",
        "- `landing/<hospital_code>/` the files each hospital sent: `<HOSP>_backfill_<YYYYMM>` "
        "(history uploaded on joining), `<HOSP>_<YYYYMMDD>` (daily extract: cases of that day plus "
        "a few late cases; no file on a day without cases), `_v2` (fixed resend after a "
        "rejected file), `_resend` (byte-identical duplicate)",
        "- `landing/<test hospital>/neiss_<YYYYMMDD>.tsv` a file in the public NEISS format",
        "- `ground_truth.json` hazards (with case keys), faults (file, row, field, value, "
        "expected outcome), per-hospital styles and files, silent periods, identifiers",
        "- `ground_truth_cases.csv` one line per case: where it is stored, scenario, true "
        "product category, hazard",
        "",
        "## Hospitals",
        "",
        "| code | type | style | header | encoding | format | files | cases |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for code, g in hosp_gt.items():
        lines.append(
            f"| {code} | {g['hospital_type']} | {g['style']} | {g['header_language']} | "
            f"{g['encoding']} | {g['format']} | {g['n_files']} | {g['cases']:,} |"
        )
    lines += [
        "",
        "## Injected hazards",
        "",
        "| id | category | shape | onset | hospitals | cases |",
        "|---|---|---|---|---|---|",
    ]
    for hz in hazards:
        lines.append(
            f"| {hz['id']} | {hz['category_code']} {hz['category_name_en']} | {hz['shape']} | "
            f"{hz['onset_week']} | {', '.join(hz['hospitals'])} | {hz['n_cases']} |"
        )
    lines += ["", "## Injected faults", "", "| type | count |", "|---|---|"]
    for t, n in sorted(fault_counts.items()):
        lines.append(f"| {t} | {n} |")
    if silent:
        lines += [
            "",
            "Silent: "
            + "; ".join(
                f"{s['hospital']} {s['start']} to {s['end']} ({', '.join(s['weeks'])})"
                for s in silent
            ),
        ]
    if neiss:
        lines += ["", "NEISS: " + "; ".join(f"{n['file']} ({n['rows']} rows)" for n in neiss)]
    lines.append("")
    return "\n".join(lines)
