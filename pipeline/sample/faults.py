"""Realistic faults injected into the sample extracts, each recorded for the ground truth.

Whole-file faults come first (a file missing a required column, a 0-byte file, random bytes named
.csv, a file naming another hospital, a header-only file, byte-identical resends), then
corrections and voids, then row faults (bad codes, impossible dates and ages, missing required
values, invalid case ids), everyday data-entry errors, identifiers typed into narratives and
duplicate rows. Faults are placed mostly in the daily-file period; hazard cases are never touched.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.detection.isoweek import format_iso_week
from pipeline.sample import refdata
from pipeline.sample.generator import Context, OutFile, Row

FILE_REJECTED = (
    "missing_column",
    "empty_file",
    "garbage_file",
    "wrong_hospital_file",
    "header_only",
)


@dataclass(eq=False)
class Fault:
    type: str
    hospital: str
    file: OutFile | None
    row: Row | None
    field: str | None
    value: str | None
    expected: str
    description: str
    extra: dict = field(default_factory=dict)


def _label(f: OutFile, codeset: str, code: str, ctx: Context) -> str:
    return ctx.labels[codeset][code] if f.style.labels == "zh" else code


def _other_hospital(code: str) -> str:
    prod = [h.code for h in refdata.hospital_list() if not h.is_test]
    i = prod.index(code) if code in prod else -1
    for k in range(1, len(prod) + 1):
        cand = prod[(i + k) % len(prod)]
        if cand != code:
            return cand
    return "ZZ999"


class _Picker:
    def __init__(self, ctx: Context, files_by_hosp: dict[str, list[OutFile]], rnd: random.Random):
        self.ctx = ctx
        self.files = files_by_hosp
        self.rnd = rnd
        self.protected: set[int] = set()  # id() of files that must stay byte-stable

    def hosp(self, k: int):
        return self.ctx.selected[k % len(self.ctx.selected)]

    def candidate_files(
        self, code: str, *, kind: str = "daily", min_rows: int = 1
    ) -> list[OutFile]:
        out = []
        for f in self.files[code]:
            if f.kind != kind or f.file_fault or id(f) in self.protected:
                continue
            if len(f.rows) < min_rows:
                continue
            out.append(f)
        return out

    def file(
        self, k: int, *, kind: str = "daily", min_rows: int = 3, has_next: bool = False
    ) -> OutFile | None:
        for attempt in range(len(self.ctx.selected)):
            h = self.hosp(k + attempt)
            cands = self.candidate_files(h.code, kind=kind, min_rows=min_rows)
            if has_next:  # the next day's file exists and can take late cases
                names = {g.name for g in self.candidate_files(h.code, kind=kind)}
                cands = [f for f in cands if _next_name(f) in names]
            if cands:
                return self.rnd.choice(cands)
        return None

    def row(self, k: int, *, kind: str = "daily", pred=None) -> tuple[OutFile, Row] | None:
        for attempt in range(len(self.ctx.selected)):
            h = self.hosp(k + attempt)
            cands = self.candidate_files(h.code, kind=kind)
            self.rnd.shuffle(cands)
            for f in cands:
                rows = [
                    r
                    for r in f.rows
                    if r.tag == "new"
                    and not r.faulted
                    and not r.case["_hazard"]
                    and (pred is None or pred(f, r))
                ]
                if rows:
                    r = self.rnd.choice(rows)
                    r.faulted = True
                    return f, r
        return None


def _next_name(f: OutFile) -> str:
    return f"{f.hosp.code}_{(f.day + timedelta(days=1)):%Y%m%d}.{f.ext}" if f.day else ""


def _stem(f: OutFile) -> str:
    return f.name.rsplit(".", 1)[0]


def _fix_copy(f: OutFile, suffix: str) -> OutFile:
    return OutFile(
        f.hosp,
        f.style,
        f"{_stem(f)}_{suffix}.{f.ext}",
        "fix",
        f.day,
        rows=[Row(r.case, dict(r.values), r.tag) for r in f.rows],
        columns=list(f.columns),
    )


def inject_faults(
    ctx: Context, files_by_hosp: dict[str, list[OutFile]], rnd: random.Random
) -> list[Fault]:
    pk = _Picker(ctx, files_by_hosp, rnd)
    faults: list[Fault] = []
    added: dict[str, list[OutFile]] = {code: [] for code in files_by_hosp}

    # --- silent hospital -------------------------------------------------------------------
    for code, (s0, s1) in sorted(ctx.silent.items()):
        weeks = sorted(
            {
                format_iso_week(d)
                for d in (s0 + timedelta(days=i) for i in range((s1 - s0).days + 1))
            }
        )
        faults.append(
            Fault(
                "silent_period",
                code,
                None,
                None,
                None,
                None,
                "no_files",
                f"no files at all from {s0} to {s1} (two ISO weeks); cases of those "
                "weeks were never sent",
                {"weeks": weeks, "start": s0.isoformat(), "end": s1.isoformat()},
            )
        )

    # --- whole-file faults -----------------------------------------------------------------
    f = pk.file(2)
    if f:
        fix = _fix_copy(f, "v2")
        f.columns = [c for c in f.columns if c != "sex"]
        f.kind, f.file_fault = "fault", "missing_column"
        added[f.hosp.code].append(fix)
        faults.append(
            Fault(
                "missing_column",
                f.hosp.code,
                f,
                None,
                "sex",
                None,
                "file_rejected",
                "required column sex is missing from the header; the clerk resent a fixed file",
                {"resent_as": fix.relpath},
            )
        )
    f = pk.file(3)
    if f:
        fix = _fix_copy(f, "v2")
        f.rows, f.raw = [], b""
        f.kind, f.file_fault = "fault", "empty_file"
        added[f.hosp.code].append(fix)
        faults.append(
            Fault(
                "empty_file",
                f.hosp.code,
                f,
                None,
                None,
                "",
                "file_rejected",
                "0-byte file (export interrupted); the clerk resent it",
                {"resent_as": fix.relpath},
            )
        )
    f = pk.file(7)
    if f:
        fix = _fix_copy(f, "v2")
        junk = bytearray(rnd.randbytes(3000))
        for i in range(0, len(junk), 97):
            junk[i] = 0xFF  # never valid UTF-8 nor GB18030
        f.rows, f.raw = [], bytes(junk)
        f.kind, f.file_fault = "fault", "garbage_file"
        added[f.hosp.code].append(fix)
        faults.append(
            Fault(
                "garbage_file",
                f.hosp.code,
                f,
                None,
                None,
                f"<{len(junk)} random bytes>",
                "file_rejected",
                "undecodable random bytes named .csv/.xlsx; resent",
                {"resent_as": fix.relpath},
            )
        )
    f = pk.file(6)
    if f:
        fix = _fix_copy(f, "v2")
        other = _other_hospital(f.hosp.code)
        for r in f.rows:
            r.values["hospital_code"] = other
        f.kind, f.file_fault = "fault", "wrong_hospital_file"
        added[f.hosp.code].append(fix)
        faults.append(
            Fault(
                "wrong_hospital_file",
                f.hosp.code,
                f,
                None,
                "hospital_code",
                other,
                "file_rejected",
                f"every row names hospital {other}, not the sender "
                f"{f.hosp.code} (wrong HIS export profile); resent with the right code",
                {"resent_as": fix.relpath},
            )
        )
    f = pk.file(5, has_next=True)
    if f:
        nxt = next((g for g in files_by_hosp[f.hosp.code] if g.name == _next_name(f)), None)
        if nxt is not None and not nxt.file_fault:
            nxt.rows.extend(f.rows)
            moved = len(f.rows)
            f.rows = []
            f.kind, f.file_fault = "fault", "header_only"
            faults.append(
                Fault(
                    "header_only",
                    f.hosp.code,
                    f,
                    None,
                    None,
                    None,
                    "file_rejected",
                    "header row only, no data rows (the HIS query returned nothing); the "
                    f"{moved} cases of that day arrive late in {nxt.name}",
                    {"rows": 0, "late_cases_in": nxt.relpath},
                )
            )
    for k in (0, 4):
        f = pk.file(k)
        if f:
            pk.protected.add(id(f))
            resend = OutFile(
                f.hosp,
                f.style,
                f"{_stem(f)}_resend.{f.ext}",
                "resend",
                f.day,
                columns=list(f.columns),
                copy_of=f,
            )
            added[f.hosp.code].append(resend)
            faults.append(
                Fault(
                    "resend_duplicate",
                    f.hosp.code,
                    resend,
                    None,
                    None,
                    None,
                    "duplicate_file",
                    f"byte-identical copy of {f.name} sent again",
                    {"original": f.relpath},
                )
            )

    # --- corrections and voids -------------------------------------------------------------
    for i, h in enumerate(ctx.selected):
        if "report_type" not in ctx.styles[h.code].columns():
            continue
        for n_corr, tag in ((0, "correction"), (1, "correction"), (2, "void")):
            _correction(ctx, pk, files_by_hosp, h.code, tag, faults, i * 3 + n_corr)

    # --- row faults --------------------------------------------------------------------------
    def product_case(_f: OutFile, r: Row) -> bool:
        return bool(r.case["_cat"]) and "product_category" in r.values

    def has_injury(_f: OutFile, r: Row) -> bool:
        return bool(r.values.get("injury_datetime"))

    def set_value(f: OutFile, r: Row, name: str, value: str) -> None:
        r.values[name] = value

    end = ctx.end
    row_plan = [
        (
            "bad_enum",
            0,
            "cause",
            lambda f, r: "摔跤" if f.style.labels == "zh" else "slip",
            None,
            "cause value is not in the cause code set",
        ),
        ("bad_enum", 1, "sex", lambda f, r: "X", None, "sex value is not in the sex code set"),
        (
            "bad_enum",
            2,
            "severity",
            lambda f, r: "危重" if f.style.labels == "zh" else "critical",
            None,
            "severity value is not in the severity code set",
        ),
        (
            "unknown_category",
            3,
            "product_category",
            lambda f, r: "ZZ99",
            product_case,
            "product category ZZ99 does not exist in the taxonomy",
        ),
        (
            "retired_category",
            0,
            "product_category",
            lambda f, r: "EL90",
            product_case,
            "product category EL90 was retired on 2023-12-31 (split into EL03/EL04)",
        ),
        (
            "bad_region",
            4,
            "residence_region",
            lambda f, r: "999999",
            None,
            "999999 is not a valid GB/T 2260 region code",
        ),
        (
            "bad_region",
            5,
            "residence_region",
            lambda f, r: f.hosp.region[:5],
            None,
            "region code has only 5 digits",
        ),
        (
            "future_visit",
            2,
            "visit_datetime",
            lambda f, r: datetime.combine(
                end + timedelta(days=45), r.case["_visit"].time()
            ).strftime(f.style.date_fmt),
            None,
            "visit date is in the future (after the file was received)",
        ),
        (
            "injury_after_visit",
            3,
            "injury_datetime",
            lambda f, r: (r.case["_visit"] + timedelta(hours=3)).strftime(f.style.date_fmt),
            has_injury,
            "injury time is 3 hours after the visit time",
        ),
        ("unparseable_date", 1, "visit_datetime", _feb30, None, "February 30th does not exist"),
        ("impossible_age", 0, "age", lambda f, r: "-1", None, "negative age"),
        ("impossible_age", 1, "age", lambda f, r: "150", None, "age 150 years"),
        ("impossible_age", 2, "age", lambda f, r: "999", None, "age 999 (HIS placeholder)"),
        (
            "impossible_age",
            4,
            "age",
            lambda f, r: "400",
            None,
            "400 days: exceeds the contract maximum of 120 for the age value",
        ),
        ("missing_required", 0, "sex", lambda f, r: "", None, "required value sex is blank"),
        ("missing_required", 5, "narrative", lambda f, r: "", None, "required narrative is blank"),
        (
            "missing_required",
            6,
            "visit_datetime",
            lambda f, r: "",
            None,
            "required visit_datetime is blank",
        ),
        (
            "bad_case_id",
            7,
            "case_id",
            lambda f, r: f"{r.values['case_id']}/补 #",
            None,
            "case id contains characters outside [A-Za-z0-9_-]",
        ),
    ]
    for ftype, k, name, value_fn, pred, desc in row_plan:
        got = pk.row(k, pred=pred)
        if not got:
            continue
        f, r = got
        value = value_fn(f, r)
        set_value(f, r, name, value)
        extra = {}
        if ftype == "impossible_age":
            unit = "days" if value == "400" else "years"
            r.values["age_unit"] = _label(f, "age_unit", unit, ctx)
            extra["age_unit"] = r.values["age_unit"]
        faults.append(Fault(ftype, f.hosp.code, f, r, name, value, "row_rejected", desc, extra))
    # a few in the backfill history too
    for ftype, k, name, value_fn, desc in (
        ("bad_region", 1, "residence_region", lambda f, r: "000000", "000000 is not a region code"),
        (
            "bad_enum",
            2,
            "outcome",
            lambda f, r: "回家" if f.style.labels == "zh" else "home",
            "outcome value is not in the outcome code set",
        ),
    ):
        got = pk.row(k, kind="backfill")
        if got:
            f, r = got
            value = value_fn(f, r)
            set_value(f, r, name, value)
            faults.append(Fault(ftype, f.hosp.code, f, r, name, value, "row_rejected", desc))

    # --- everyday data-entry errors: a low background rate, higher at community hospitals -----
    for i, h in enumerate(ctx.selected):
        n_daily = sum(len(f.rows) for f in files_by_hosp[h.code] if f.kind == "daily")
        rate = ERROR_RATE.get(h.type, 0.003)
        for _ in range(round(n_daily * rate)):
            got = pk.row(i, pred=lambda f, r: r.case["hospital_code"] == f.hosp.code)
            if not got:
                break
            f, r = got
            ftype, name, value, desc = _everyday_error(f, r, rnd, h.type)
            r.values[name] = value
            faults.append(Fault(ftype, f.hosp.code, f, r, name, value, "row_rejected", desc))

    # --- identifiers typed into narratives -----------------------------------------------------
    for i, h in enumerate(ctx.selected):
        n_daily = sum(len(f.rows) for f in files_by_hosp[h.code] if f.kind == "daily")
        for kind, n in (("daily", max(1, round(n_daily * 0.005))), ("backfill", 1)):
            for _ in range(n):
                got = pk.row(
                    i,
                    kind=kind,
                    pred=lambda f, r: (
                        bool(r.values.get("patient_phone"))
                        and bool(r.values.get("patient_name"))
                        and bool(r.values.get("narrative"))
                        and r.case["hospital_code"] == f.hosp.code
                    ),
                )
                if not got:
                    break
                f, r = got
                _pii(f, r, rnd, faults)

    # --- duplicate rows ------------------------------------------------------------------------
    for k, kind in ((1, "daily"), (4, "daily"), (0, "backfill")):
        got = pk.row(k, kind=kind)
        if got:
            f, r = got
            dup = Row(r.case, dict(r.values), "duplicate", faulted=True)
            f.rows.append(dup)
            faults.append(
                Fault(
                    "duplicate_row",
                    f.hosp.code,
                    f,
                    dup,
                    "case_id",
                    r.values["case_id"],
                    "duplicate_row",
                    "the same case (same case_id, identical values) appears twice in this file",
                    {"first_row": r},
                )
            )

    for code, extra_files in added.items():
        files_by_hosp[code].extend(extra_files)
        files_by_hosp[code].sort(key=lambda x: x.name)
    return faults


ERROR_RATE = {"children": 0.002, "general_tertiary": 0.003, "community": 0.015}


def _everyday_error(
    f: OutFile, r: Row, rnd: random.Random, htype: str
) -> tuple[str, str, str, str]:
    zh = f.style.labels == "zh"
    pool = [
        (
            3 if htype == "community" else 1,
            "missing_required",
            "narrative",
            "",
            "required narrative left blank",
        ),
        (2, "missing_required", "sex", "", "required value sex left blank"),
        (1, "missing_required", "cause", "", "required value cause left blank"),
        (
            3 if htype == "community" else 1,
            "bad_region",
            "residence_region",
            f.hosp.region[:5],
            "region code has only 5 digits",
        ),
        (1, "bad_enum", "cause", "摔伤" if zh else "fell", "free-text cause instead of a code"),
        (1, "impossible_age", "age", "999", "age 999 (HIS placeholder for unknown)"),
    ]
    _, ftype, name, value, desc = rnd.choices(pool, weights=[p[0] for p in pool])[0]
    return ftype, name, value, desc


def _feb30(f: OutFile, r: Row) -> str:
    v = r.case["_visit"]
    sep = "/" if "/" in f.style.date_fmt else "-"
    return f"{v.year}{sep}02{sep}30 {v:%H:%M}"


def _pii(f: OutFile, r: Row, rnd: random.Random, faults: list[Fault]) -> None:
    name, tel = r.values["patient_name"], r.values["patient_phone"]
    idno = r.values.get("patient_id_number", "")
    narrative = r.values["narrative"]
    if r.case["_lang"] == "zh":
        options = [
            (f"患者{name}，电话{tel}，", [name, tel], "prefix"),
            (f"（联系人：{name}，{tel}）", [name, tel], "suffix"),
            (f"家属电话{tel}。", [tel], "suffix"),
        ]
        if idno:
            options.append((f"患者{name}，身份证号{idno}，", [name, idno], "prefix"))
    else:
        options = [
            (f"PT PHONE {tel}. ", [tel], "prefix"),
            (f" CONTACT {name} {tel}", [name, tel], "suffix"),
        ]
        if idno:
            options.append((f" ID {idno}", [idno], "suffix"))
    text, ids, where = rnd.choice(options)
    r.values["narrative"] = text + narrative if where == "prefix" else narrative + text
    faults.append(
        Fault(
            "pii_in_narrative",
            f.hosp.code,
            f,
            r,
            "narrative",
            ids[-1],
            "redacted",
            "patient identifiers typed into the narrative; must be removed or "
            "pseudonymised before storage",
            {"identifiers": ids, "match": "contains"},
        )
    )


def _correction(
    ctx: Context,
    pk: _Picker,
    files_by_hosp: dict[str, list[OutFile]],
    code: str,
    tag: str,
    faults: list[Fault],
    k: int,
) -> None:
    rnd = pk.rnd
    files = [f for f in files_by_hosp[code] if f.kind == "daily" and not f.file_fault and f.day]
    by_day = {f.day: f for f in files}
    originals = [
        f
        for f in files
        if f.kind == "daily" and id(f) not in pk.protected and f.day <= ctx.end - timedelta(days=2)
    ]
    rnd.shuffle(originals)
    for orig in originals:
        later = [
            by_day[orig.day + timedelta(days=d)]
            for d in range(1, 6)
            if orig.day + timedelta(days=d) in by_day
            and id(by_day[orig.day + timedelta(days=d)]) not in pk.protected
        ]
        rows = [r for r in orig.rows if r.tag == "new" and not r.faulted and not r.case["_hazard"]]
        if not later or not rows:
            continue
        r = rnd.choice(rows)
        target = rnd.choice(later)
        new = Row(r.case, dict(r.values), tag, faulted=True)
        new.values["report_type"] = _label(target, "report_type", tag, ctx)
        if tag == "void":
            fld, value, old = (
                "report_type",
                new.values["report_type"],
                r.values.get("report_type", ""),
            )
            desc = (
                f"voids case {r.values['case_id']} sent in {orig.name} "
                "(registered twice in the HIS)"
            )
        else:
            fld, value, old = _correct_field(ctx, target, r, rnd)
            new.values[fld] = value
            desc = f"corrects {fld} of case {r.values['case_id']} sent in {orig.name}"
        r.faulted = True  # keep the original clean
        target.rows.append(new)
        faults.append(
            Fault(
                tag,
                code,
                target,
                new,
                fld,
                value,
                tag,
                desc,
                {"original_file": orig.relpath, "original_row": r, "old_value": old},
            )
        )
        return


def _correct_field(ctx: Context, f: OutFile, r: Row, rnd: random.Random) -> tuple[str, str, str]:
    c = r.case
    opts = []
    if c["severity"] in ("mild", "moderate"):
        opts.append("severity")
    if c["outcome"] in ("treated_released", "observed"):
        opts.append("outcome")
    if c["_cat"] and not r.values.get("product_category") and "product_category" in r.values:
        opts.append("product_category")
    if c["age_unit"] == "years" and c["age"] >= 18:
        opts.append("age")
    fld = rnd.choice(opts) if opts else "severity"
    old = r.values.get(fld, "")
    if fld == "severity":
        value = _label(f, "severity", "moderate" if c["severity"] == "mild" else "severe", ctx)
    elif fld == "outcome":
        value = _label(f, "outcome", "admitted", ctx)
    elif fld == "product_category":
        value = c["_cat"]
    else:
        value = str(int(c["age"]) + rnd.choice((-10, 10, 1, -1)))
    return fld, value, old
