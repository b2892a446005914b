"""The sample-network generator: determinism, ground truth == files, realistic content."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from sentinel_tools.neiss_crosswalk import DEFAULT_TSV as NEISS_FORMAT_CODES
from sentinel_tools.sample import GENERATOR_VERSION, generate_network, refdata
from sentinel_tools.sample.catalog import CATALOG, NO_BACKGROUND, by_category, incoherent
from sentinel_tools.sample.cli import app
from sentinel_tools.sample.generator import ENUM_FIELDS
from sentinel_tools.sample.hazards import HAZARDS
from sentinel_tools.sample.neiss import NEISS_COLUMNS
from sentinel_tools.sample.people import valid_id_number
from typer.testing import CliRunner

from pipeline.config import SAMPLE_DIR
from pipeline.contract import FIELDS, canonical_field

ARGS = {
    "seed": 7,
    "hospitals": 5,
    "weeks": 12,
    "daily_weeks": 4,
    "scale": 0.3,
    "end_date": date(2026, 11, 22),
}
FILE_REJECTED = {
    "missing_column",
    "empty_file",
    "garbage_file",
    "wrong_hospital_file",
    "header_only",
}
# The copy shipped with the tools (public-domain US CPSC data, tools/sentinel_tools/data/).
NEISS_TSV = NEISS_FORMAT_CODES


# ----------------------------------------------------------------------------- helpers


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def read_table(out: Path, relpath: str, hosp: dict) -> tuple[list[str], list[dict[str, str]]]:
    """Canonical column names and rows (values as written; XLSX cells normalised to text)."""
    path = out / relpath
    if hosp["format"] == "xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        raw = [list(r) for r in wb.active.iter_rows(values_only=True)]
        wb.close()

        def cell(v: object) -> str:
            if v is None:
                return ""
            if isinstance(v, datetime):
                return v.strftime(hosp["date_format"])
            return str(v)

        table = [[cell(v) for v in r] for r in raw]
    else:
        encoding = {"utf-8-bom": "utf-8-sig"}.get(hosp["encoding"], hosp["encoding"])
        table = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))
    if not table:
        return [], []
    header = [canonical_field(h) or h for h in table[0]]
    width = len(header)
    return header, [dict(zip(header, (r + [""] * width)[:width], strict=True)) for r in table[1:]]


def all_labels(codeset: str) -> set[str]:
    return set(refdata.codes(codeset)) | set(refdata.zh_labels(codeset).values())


def to_code(codeset: str, value: str) -> str:
    back = {v: k for k, v in refdata.zh_labels(codeset).items()}
    return back.get(value, value)


@pytest.fixture(scope="module")
def net(tmp_path_factory) -> tuple[Path, dict, dict]:
    out = tmp_path_factory.mktemp("net") / "sample"
    summary = generate_network(out, **ARGS)
    gt = json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))
    return out, gt, summary


@pytest.fixture(scope="module")
def stored_rows(net) -> dict[tuple[str, str], dict[str, str]]:
    """(hospital, case_id) -> first stored 'new' row, over files that are not rejected."""
    out, gt, _ = net
    rejected = {f["file"] for f in gt["faults"] if f["type"] in FILE_REJECTED}
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for code, hosp in gt["hospitals"].items():
        for f in hosp["files"]:
            if f["file"] in rejected or f["kind"] == "resend":
                continue
            _, table = read_table(out, f["file"], hosp)
            for r in table:
                if to_code("report_type", r.get("report_type", "")) in ("", "new"):
                    rows.setdefault((code, r["case_id"]), r)
    return rows


# ----------------------------------------------------------------------------- determinism


@pytest.mark.slow
def test_same_arguments_give_identical_bytes(net, tmp_path):
    out, _, _ = net
    again = tmp_path / "again"
    generate_network(again, **ARGS)
    assert tree_hashes(out) == tree_hashes(again)


@pytest.mark.slow
def test_different_seed_gives_different_data(net, tmp_path):
    out, _, _ = net
    other = tmp_path / "other"
    generate_network(other, **{**ARGS, "seed": 8})
    a, b = tree_hashes(out), tree_hashes(other)
    shared = set(a) & set(b)
    assert sum(a[k] != b[k] for k in shared) > len(shared) // 2


def test_ground_truth_json_is_canonical(net):
    out, gt, _ = net
    text = (out / "ground_truth.json").read_text(encoding="utf-8")
    assert text == json.dumps(gt, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    assert gt["generator"]["version"] == GENERATOR_VERSION
    assert gt["generator"]["arguments"]["seed"] == 7


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="Sunday"):
        generate_network(tmp_path, seed=1, end_date=date(2026, 11, 21))
    n_prod = sum(1 for h in refdata.hospital_list() if not h.is_test)
    with pytest.raises(ValueError, match="hospitals"):
        generate_network(tmp_path, seed=1, hospitals=n_prod + 1)


# ----------------------------------------------------------------------------- files and layout


def test_layout_and_file_listing(net):
    out, gt, summary = net
    hosp_codes = [h.code for h in refdata.hospital_list() if not h.is_test][: ARGS["hospitals"]]
    assert list(gt["hospitals"]) == sorted(hosp_codes)
    listed = {f["file"]: f for h in gt["hospitals"].values() for f in h["files"]}
    listed.update({n["file"]: n for n in gt["neiss"]})
    on_disk = {p.relative_to(out).as_posix() for p in (out / "landing").rglob("*") if p.is_file()}
    assert on_disk == set(listed)
    for rel, f in listed.items():
        data = (out / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
        assert len(data) == f["bytes"]
        name = rel.rsplit("/", 1)[1]
        assert re.fullmatch(
            r"([A-Z]{2}\d{3}_(backfill_\d{6}|\d{8}(_v2|_resend)?)\.(csv|xlsx))|"
            r"neiss_\d{8}\.tsv",
            name,
        ), name
    assert summary["files"] == len(listed)
    assert (out / "README.md").read_text(encoding="utf-8").startswith("# Sentinel sample network")


def test_hospital_styles(net):
    out, gt, _ = net
    styles = {h["style"]: (code, h) for code, h in gt["hospitals"].items()}
    code, gb = styles["zh_gb18030_labels"]
    assert gb["header_language"] == "zh" and gb["encoding"] == "gb18030"
    data = next((out / f["file"]).read_bytes() for f in gb["files"] if f["rows"] > 3)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("gb18030")
    assert "医院编码" in text.splitlines()[0] and ("男" in text or "女" in text)
    _, bom = styles["zh_utf8_bom"]
    assert all(
        (out / f["file"]).read_bytes().startswith(b"\xef\xbb\xbf")
        for f in bom["files"]
        if f["bytes"] and f["kind"] != "fault"
    )
    _, xl = styles["xlsx_en_alias"]
    assert all(f["file"].endswith(".xlsx") for f in xl["files"])
    _, en = styles["en_utf8_english"]
    _, rows = read_table(out, next(f["file"] for f in en["files"] if f["rows"] > 3), en)
    assert any(re.match(r"^\d+ ?(YO|MO|DO|Y/O|YEAR|MONTH|DAY)", r["narrative"]) for r in rows)


def test_backfill_and_daily_periods(net):
    out, gt, _ = net
    daily_start = date.fromisoformat(gt["network"]["daily_start"])
    for hosp in gt["hospitals"].values():
        kinds = {f["kind"] for f in hosp["files"]}
        assert "backfill" in kinds and "daily" in kinds
        for f in hosp["files"]:
            if f["day"]:
                assert daily_start <= date.fromisoformat(f["day"]) <= ARGS["end_date"]


# ----------------------------------------------------------------------------- faults


def test_every_fault_is_really_in_the_files(net):
    out, gt, _ = net
    types = {f["type"] for f in gt["faults"]}
    for needed in (
        "bad_enum",
        "unknown_category",
        "bad_region",
        "future_visit",
        "injury_after_visit",
        "unparseable_date",
        "impossible_age",
        "missing_required",
        "duplicate_row",
        "resend_duplicate",
        "correction",
        "void",
        "silent_period",
        "missing_column",
        "empty_file",
        "header_only",
        "wrong_hospital_file",
        "garbage_file",
        "pii_in_narrative",
    ):
        assert needed in types, needed
    for f in gt["faults"]:
        assert f["expected"] in {
            "row_rejected",
            "file_rejected",
            "duplicate_file",
            "duplicate_row",
            "correction",
            "void",
            "stored",
            "redacted",
            "no_files",
        }
        hosp = gt["hospitals"][f["hospital"]]
        if f["type"] == "silent_period":
            start, end = date.fromisoformat(f["start"]), date.fromisoformat(f["end"])
            assert len(f["weeks"]) == 2
            assert not [
                x
                for x in hosp["files"]
                if x["day"] and start <= date.fromisoformat(x["day"]) <= end
            ]
            continue
        path = out / f["file"]
        if f["type"] == "empty_file":
            assert path.stat().st_size == 0
            continue
        if f["type"] == "garbage_file":
            data = path.read_bytes()
            for enc in ("utf-8", "gb18030"):
                with pytest.raises(UnicodeDecodeError):
                    data.decode(enc)
            continue
        if f["type"] == "resend_duplicate":
            assert path.read_bytes() == (out / f["original"]).read_bytes()
            continue
        header, rows = read_table(out, f["file"], hosp)
        if f["type"] == "missing_column":
            assert f["field"] not in header and rows
            assert f["field"] in read_table(out, f["resent_as"], hosp)[0]
            continue
        if f["type"] == "header_only":
            assert header and rows == []
            continue
        if f["type"] == "wrong_hospital_file":
            assert rows and all(r["hospital_code"] == f["value"] != f["hospital"] for r in rows)
            continue
        row = rows[f["row"] - 1]
        if f.get("match") == "contains":
            assert all(i in row[f["field"]] for i in f["identifiers"])
        else:
            assert row[f["field"]] == f["value"], f
        if f["type"] == "duplicate_row":
            assert rows[f["first_row"] - 1] == row
        if f["type"] in ("correction", "void"):
            assert to_code("report_type", row["report_type"]) == f["type"]
            _, orig = read_table(out, f["original_file"], hosp)
            original = orig[f["original_row"] - 1]
            assert original["case_id"] == row["case_id"]
            if f["type"] == "correction":
                assert original[f["field"]] == f["old_value"] != f["value"]


def test_row_faults_are_mostly_in_the_daily_period(net):
    _, gt, _ = net
    row_faults = [f for f in gt["faults"] if f["row"]]
    daily = [f for f in row_faults if "_backfill_" not in f["file"]]
    assert len(daily) >= 0.8 * len(row_faults)


def test_enum_values_are_codes_or_zh_labels(net):
    out, gt, _ = net
    faulty = {(f["file"], f["row"]) for f in gt["faults"] if f["row"]}
    rejected = {f["file"] for f in gt["faults"] if f["type"] in FILE_REJECTED}
    allowed = {name: all_labels(name) | {""} for name in ENUM_FIELDS}
    taxonomy = {r["category_code"] for r in refdata.taxonomy()}
    checked = 0
    for hosp in gt["hospitals"].values():
        for f in hosp["files"]:
            if f["file"] in rejected and f["bytes"] == 0:
                continue
            if not f["bytes"] or f["file"] in rejected and "garbage" in f["file"]:
                continue
            if any(x["file"] == f["file"] and x["type"] == "garbage_file" for x in gt["faults"]):
                continue
            _, rows = read_table(out, f["file"], hosp)
            for i, r in enumerate(rows, start=1):
                if (f["file"], i) in faulty:
                    continue
                for name in ENUM_FIELDS:
                    if name in r:
                        assert r[name] in allowed[name], (f["file"], i, name, r[name])
                assert r.get("product_category", "") in taxonomy | {""}
                assert re.fullmatch(r"[1-8]\d{5}|", r["residence_region"])
                checked += 1
    assert checked > 1000


def test_ages_and_units_are_plausible(net, stored_rows):
    _, gt, _ = net
    faulty = {f["case_id"] for f in gt["faults"] if f.get("case_id")}
    units = {}
    for (_, case_id), r in stored_rows.items():
        if case_id in faulty:
            continue
        unit, age = to_code("age_unit", r["age_unit"]), int(r["age"])
        units[unit] = units.get(unit, 0) + 1
        assert {"years": 0 <= age <= 100, "months": 1 <= age <= 35, "days": 1 <= age <= 59}[unit]
    assert units["months"] > 20 and units["days"] > 0 and units["years"] > units["months"]


# ----------------------------------------------------------------------------- hazards


def test_hazards_are_in_the_files(net, stored_rows):
    _, gt, _ = net
    assert len(gt["hazards"]) >= 5
    shapes = {h["shape"] for h in gt["hazards"]}
    assert shapes == {"step", "ramp", "burst"}
    last_week = gt["network"]["last_week"]
    for hz in gt["hazards"]:
        assert hz["cases"], hz["id"]
        assert hz["onset_week"] <= last_week
        terms = [t.lower() for t in hz["pattern"]["terms_zh"] + hz["pattern"]["terms_en"]]
        for code, case_id in hz["cases"]:
            assert code in hz["hospitals"]
            r = stored_rows[(code, case_id)]
            assert r["product_category"] in ("", hz["category_code"])
            assert any(t in r["narrative"].lower() for t in terms), r["narrative"]
            assert to_code("cause", r["cause"]) in hz["pattern"]["causes"]
            assert to_code("injury_nature", r["injury_nature"]) in hz["pattern"]["injury_nature"]
            assert to_code("body_region", r["body_region"]) in hz["pattern"]["body_region"]
            visit = r["visit_datetime"].replace("/", "-")[:10]
            assert visit >= hz["onset_date"]
    city = next(h for h in gt["hazards"] if h.get("region"))
    for code, case_id in city["cases"]:
        assert stored_rows[(code, case_id)]["residence_region"][:4] == city["region"]["city_prefix"]


def test_new_term_is_absent_before_onset(net):
    out, gt, _ = net
    hz = next(h for h in gt["hazards"] if h["pattern"]["new_term"])
    assert len(hz["hospitals"]) >= 2
    terms = hz["new_terms"]
    before = after = 0
    hospitals_after = set()
    for code, hosp in gt["hospitals"].items():
        for f in hosp["files"]:
            if not f["bytes"] or any(
                x["file"] == f["file"] and x["type"] == "garbage_file" for x in gt["faults"]
            ):
                continue
            _, rows = read_table(out, f["file"], hosp)
            for r in rows:
                text = (r["narrative"] + " " + r.get("product_name", "")).upper()
                if any(t.upper() in text for t in terms):
                    if r["visit_datetime"].replace("/", "-")[:10] < hz["onset_date"]:
                        before += 1
                    else:
                        after += 1
                        hospitals_after.add(code)
    assert before == 0 and after >= 3 and len(hospitals_after) >= 2


# ----------------------------------------------------------------------------- identifiers


def test_identifiers_listed_match_the_data(net):
    out, gt, _ = net
    found = {"names": set(), "id_numbers": set(), "phones": set()}
    cols = {"patient_name": "names", "patient_id_number": "id_numbers", "patient_phone": "phones"}
    for hosp in gt["hospitals"].values():
        for f in hosp["files"]:
            if not f["bytes"] or any(
                x["file"] == f["file"] and x["type"] == "garbage_file" for x in gt["faults"]
            ):
                continue
            for r in read_table(out, f["file"], hosp)[1]:
                for col, key in cols.items():
                    if r.get(col):
                        found[key].add(r[col])
    for key in found:
        assert set(gt["identifiers"][key]) == found[key], key
    assert all(valid_id_number(x) for x in found["id_numbers"])
    assert all(re.fullmatch(r"1[3-9]\d{9}", x) for x in found["phones"])
    pii = [f for f in gt["faults"] if f["type"] == "pii_in_narrative"]
    assert pii and all(
        set(f["identifiers"]) <= found["names"] | found["id_numbers"] | found["phones"] for f in pii
    )


# ----------------------------------------------------------------------------- content realism


def test_product_mix(net):
    out, _, _ = net
    with open(out / "ground_truth_cases.csv", encoding="utf-8", newline="") as fh:
        cases = list(csv.DictReader(fh))
    product = [c for c in cases if c["true_category"]]
    assert 0.03 < 1 - len(product) / len(cases) < 0.15  # ~8% without a product
    filled = sum(1 for c in product if c["category_given"]) / len(product)
    assert 0.55 < filled < 0.85
    assert all(c["category_given"] in ("", c["true_category"]) for c in cases)
    assert len({c["true_category"] for c in product}) > 60
    assert all(c["file"] for c in cases)


def test_catalog_is_coherent_and_covers_the_taxonomy():
    assert incoherent() == []
    assert incoherent([h.scenario for h in HAZARDS]) == []
    specific = {c for c in by_category() if c}
    assert len(specific) >= 60
    assert NO_BACKGROUND.isdisjoint(specific)
    taxonomy = {r["category_code"] for r in refdata.taxonomy()}
    assert specific <= taxonomy
    assert len({s.key for s in CATALOG}) == len(CATALOG)


def test_neiss_file(net):
    out, gt, _ = net
    (entry,) = gt["neiss"]
    assert entry["format"] == "neiss"
    rows = list(
        csv.reader(io.StringIO((out / entry["file"]).read_text(encoding="utf-8")), delimiter="\t")
    )
    assert tuple(rows[0]) == NEISS_COLUMNS and len(rows) - 1 == entry["rows"] >= 40
    test_hosp = next(h for h in refdata.hospital_list() if h.is_test)
    assert entry["file"].startswith(f"landing/{test_hosp.code}/neiss_")
    recs = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert all(2 <= int(r["Age"]) <= 120 or 201 <= int(r["Age"]) <= 223 for r in recs)
    valid: dict[str, set[int]] = {}
    for line in NEISS_TSV.read_text(encoding="utf-8").splitlines()[1:]:
        fmt, lo, hi, _ = line.split("\t", 3)
        valid.setdefault(fmt.strip('"'), set()).update(range(int(lo), int(hi) + 1))
    for r in recs:
        assert int(r["Product_1"]) in valid["PROD"]
        assert int(r["Body_Part"]) in valid["BDYPT"]
        assert int(r["Diagnosis"]) in valid["DIAG"]
        assert int(r["Disposition"]) in valid["DISP"]
        assert int(r["Location"]) in valid["LOC"]
        assert int(r["Sex"]) in valid["GENDER"]


def test_cli_generate(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["generate", "--help"])
    assert result.exit_code == 0 and "--daily-weeks" in result.output
    out = tmp_path / "cli"
    result = runner.invoke(
        app,
        [
            "generate",
            "--out",
            str(out),
            "--seed",
            "3",
            "--hospitals",
            "2",
            "--weeks",
            "3",
            "--daily-weeks",
            "2",
            "--scale",
            "0.1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "cases" in result.output and (out / "ground_truth.json").exists()
    result = runner.invoke(app, ["generate", "--out", str(out), "--end-date", "2026-11-20"])
    assert result.exit_code == 2


# ----------------------------------------------------------------------------- shipped sample


def _texts_with(path: Path, hosp: dict, term: str) -> bool:
    if hosp["format"] == "xlsx":
        with zipfile.ZipFile(path) as z:
            return any(
                term in z.read(n).decode("utf-8")
                for n in z.namelist()
                if n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml"
            )
    encoding = {"utf-8-bom": "utf-8-sig"}.get(hosp["encoding"], hosp["encoding"])
    try:
        return term in path.read_bytes().decode(encoding)
    except UnicodeDecodeError:
        return False


@pytest.mark.skipif(not (SAMPLE_DIR / "ground_truth.json").exists(), reason="no shipped sample")
def test_shipped_sample():
    gt = json.loads((SAMPLE_DIR / "ground_truth.json").read_text(encoding="utf-8"))
    args = gt["generator"]["arguments"]
    assert (
        args["seed"],
        args["hospitals"],
        args["weeks"],
        args["daily_weeks"],
        args["end_date"],
    ) == (20261122, 8, 104, 8, "2026-11-22")
    assert gt["generator"]["version"] == GENERATOR_VERSION
    assert 50_000 <= gt["totals"]["cases"] <= 80_000
    assert gt["totals"]["landing_bytes"] <= 40_000_000
    readme = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    assert "MB" in readme and f"{gt['totals']['cases']:,}" in readme
    assert len(gt["hazards"]) >= 4
    hz = next(h for h in gt["hazards"] if h["pattern"]["new_term"])
    assert len(hz["hospitals"]) >= 2 and hz["n_cases"] >= 3
    term = hz["pattern"]["terms_zh"][0]
    hits_before = hits_after = 0
    for hosp in gt["hospitals"].values():
        for f in hosp["files"]:
            path = SAMPLE_DIR / f["file"]
            if not f["bytes"] or not _texts_with(path, hosp, term):
                continue
            for r in read_table(SAMPLE_DIR, f["file"], hosp)[1]:
                if term in r["narrative"] + r.get("product_name", ""):
                    if r["visit_datetime"].replace("/", "-")[:10] < hz["onset_date"]:
                        hits_before += 1
                    else:
                        hits_after += 1
    assert hits_before == 0 and hits_after >= 3
    on_disk = sum(p.stat().st_size for p in SAMPLE_DIR.rglob("*") if p.is_file())
    assert on_disk <= 40_000_000


def test_contract_fields_are_the_columns(net):
    _, gt, _ = net
    names = [f.name for f in FIELDS]
    for hosp in gt["hospitals"].values():
        assert set(hosp["canonical_columns"]) <= set(names)
        assert {f.name for f in FIELDS if f.required} <= set(hosp["canonical_columns"])
        assert [canonical_field(h) for h in hosp["columns"]] == hosp["canonical_columns"]


# ----------------------------------------------------------------------------- issue 16, probe 13


def test_probe13_short_network_uses_fewer_daily_weeks(tmp_path):
    """``sentinel sample generate --hospitals 3 --weeks 6`` (as the help suggests) failed on
    main: "daily_weeks must be between 0 and weeks". The default now adapts; an explicit value
    that does not fit names both flags."""
    out = tmp_path / "short"
    runner = CliRunner()
    result = runner.invoke(
        app, ["generate", "--out", str(out), "--hospitals", "3", "--weeks", "6", "--scale", "0.1"]
    )
    assert result.exit_code == 0, result.output
    gt = json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))
    assert gt["generator"]["arguments"]["daily_weeks"] == 6
    assert (out / "arrivals.csv").exists()
    result = runner.invoke(
        app,
        ["generate", "--out", str(tmp_path / "bad"), "--weeks", "6", "--daily-weeks", "8"],
    )
    assert result.exit_code == 2
    assert "--daily-weeks (8)" in result.output and "--weeks (6)" in result.output


def test_arrival_manifest_lists_every_file_at_its_intended_time(net):
    """arrivals.csv: every landing file once, with its SHA-256; daily files the morning after
    their date (09:30 China time), the weekly sender's on the Wednesday after their week."""
    from sentinel_tools.sample.generator import late_senders

    from pipeline.intake.arrivals import read_manifest

    out, gt, _ = net
    listed = {a.relpath: a for a in read_manifest(out / "arrivals.csv")}
    files = {
        p.relative_to(out / "landing").as_posix(): p
        for p in (out / "landing").rglob("*")
        if p.is_file()
    }
    assert set(listed) == set(files)
    selected = [h for h in refdata.hospital_list() if h.code in gt["hospitals"]]
    weekly = late_senders(selected, {s["hospital"] for s in gt["silent_periods"]})
    for relpath, arrival in listed.items():
        assert arrival.sha256 == hashlib.sha256(files[relpath].read_bytes()).hexdigest()
        match = re.search(r"_(\d{8})(_v2|_resend)?\.", relpath)
        if not match or "neiss" in relpath:
            continue
        day = datetime.strptime(match.group(1), "%Y%m%d")
        received = datetime.fromisoformat(arrival.received_at)
        if arrival.hospital_code in weekly:
            assert received.weekday() == 2 and 3 <= (received - day).days <= 10, relpath
        else:
            assert (received - day).days == 1 and received.hour in (1, 10, 11), relpath
