"""Risk notice, consumer safety warning and recall referral drafted from a confirmed signal.

Each document is first built as plain data (title, key facts, sections of paragraphs, bullets
and tables) in Chinese or English, then rendered by two generic templates: HTML with jinja2
autoescape, and Markdown where every inserted value goes through ``md_escape`` (the
environment's ``finalize``), so hostile text from a narrative or a brand field shows as text in
both.

Every document covers the signal's whole evidence window (onset week to the week drafted) and
says so; counts are over every case of that window. The consumer safety warning is written for
consumers: the product, the hazard in plain words, what to do; it names only brands and models
that a completed follow-up verified, and never a machine label (hazard-pattern label, detector
term). Who may draft, and when, is ``pipeline.notices.workflow``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipeline.errors import BadInput
from pipeline.escaping import md_escape
from pipeline.evidence.bundle import Bundle
from pipeline.reporting import explain
from pipeline.reporting.risk import suggested_risk_level

KINDS = ("risk-notice", "safety-warning", "recall-referral")
LANGS = ("zh", "en")
TEMPLATE_DIR = Path(__file__).with_name("templates")


class NoticeRefused(BadInput):
    """The signal is not confirmed (or the warning lacks its follow-up): no document may be
    drafted."""


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[object]] = field(default_factory=list)


@dataclass
class Document:
    kind: str
    lang: str
    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    sections: list[Section]
    footer: str


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# ---- facts shared by the three documents ---------------------------------------------------


def _period(bundle: Bundle) -> tuple[str, str]:
    """The evidence window's first and last day (the signal's onset week to its week)."""
    window = bundle.window
    if window:
        return window["from_date"], window["to_date"]
    r = bundle.request
    return str(r.get("date_from", "")), str(r.get("date_to", ""))


def _window_text(bundle: Bundle, lang: str) -> str:
    window = bundle.window
    if not window:
        start, end = _period(bundle)
        return f"{start} – {end}"
    if lang == "zh":
        return (
            f"{window['from_week']}（{window['from_date']}起）至 {window['to_week']}"
            f"（{window['to_date']}止）"
        )
    return (
        f"{window['from_week']} ({window['from_date']}) to {window['to_week']} "
        f"({window['to_date']})"
    )


def _age_text(case: dict, lang: str) -> str:
    return explain.age_text(case.get("age"), case.get("age_unit"), lang)


def _n_en(n: int, one: str, many: str) -> str:
    return explain.plural(n, one, many)


def _years(case: dict) -> float | None:
    if _missing(case.get("age")):
        return None
    unit = case.get("age_unit") or "years"
    age = float(case["age"])
    return age if unit == "years" else age / 12 if unit == "months" else age / 365.25


def _product_seen(bundle: Bundle) -> dict[str, list[tuple[str, int]]]:
    seen = {}
    for column in ("product_name", "brand", "model", "batch", "barcode"):
        values = [
            str(v).strip() for v in bundle.cases[column] if not _missing(v) and str(v).strip()
        ]
        seen[column] = sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0]))
    return seen


def _top_labels(bundle: Bundle, column: str, codeset: str, lang: str, n: int = 3) -> str:
    counts = bundle.cases[column].dropna().value_counts()
    total = int(counts.sum())
    if not total:
        return ""
    sep = "，" if lang == "zh" else ", "
    return sep.join(
        f"{bundle.label(codeset, code, lang)} ({count})" for code, count in counts.head(n).items()
    )


def _terms(bundle: Bundle) -> list[str]:
    if bundle.members.empty:
        return []
    terms = bundle.members[bundle.members["alert_type"].isin(("new_term", "category_term"))]
    return sorted({str(t) for t in terms["term"].dropna()})


def _hazard(bundle: Bundle, lang: str) -> str:
    """The hazard for regulators: category, the automatic hazard-pattern labels and new terms
    (named as such), main injuries and body regions."""
    category = bundle.category_name(lang) or (bundle.signal or {}).get("category") or ""
    patterns = [p.get("label_zh" if lang == "zh" else "label_en") for p in bundle.patterns]
    terms = _terms(bundle)
    nature = _top_labels(bundle, "injury_nature", "injury_nature", lang)
    body = _top_labels(bundle, "body_region", "body_region", lang)
    if lang == "zh":
        text = f"{category}相关伤害"
        if patterns:
            text += f"（系统自动归纳的伤害模式：{'；'.join(p for p in patterns if p)}）"
        if terms:
            text += f"；叙述中新出现的词语：{'、'.join(f'“{t}”' for t in terms)}"
        if nature:
            text += f"。主要伤害性质：{nature}"
        if body:
            text += f"；主要受伤部位：{body}"
        return text + "。"
    text = f"Injuries involving {category}"
    if patterns:
        text += f" (automatic hazard pattern: {'; '.join(p for p in patterns if p)})"
    if terms:
        text += "; new terms in the narratives: " + ", ".join(f"\u201c{t}\u201d" for t in terms)
    if nature:
        text += f". Main injuries: {nature}"
    if body:
        text += f"; body regions: {body}"
    return text + "."


def _top_codes(bundle: Bundle, column: str, n: int) -> list[str]:
    counts = bundle.cases[column].dropna().value_counts()
    counts = counts[~counts.index.isin(["other", "unknown", "multiple"])]
    return [str(code) for code in counts.head(n).index]


def _consumer_hazard(bundle: Bundle, lang: str) -> str:
    """The hazard in plain words for consumers: how people were hurt and where on the body,
    from the cases' coded mechanism, injury and body region (no machine label)."""
    causes = (
        [bundle.label("cause", c, lang) for c in _top_codes(bundle, "cause", 2)]
        if ("cause" in bundle.cases.columns)
        else []
    )
    natures = [
        bundle.label("injury_nature", c, lang) for c in _top_codes(bundle, "injury_nature", 2)
    ]
    bodies = [bundle.label("body_region", c, lang) for c in _top_codes(bundle, "body_region", 2)]
    if lang == "zh":
        hurt = "、".join(dict.fromkeys(causes + natures)) or "受伤"
        text = f"使用中发生的伤害主要是{hurt}"
        if bodies:
            text += f"，多伤及{'和'.join(bodies)}"
        return text + "。"
    hurt = ", ".join(dict.fromkeys(x.lower() for x in causes + natures)) or "injuries"
    text = f"The injuries were mainly {hurt}"
    if bodies:
        text += f", most often to the {' and '.join(b.lower() for b in bodies)}"
    return text + "."


def _verified(bundle: Bundle) -> dict[str, list[str]]:
    """Brands, models and batches that a completed follow-up verified on a case where the
    product caused or contributed to the injury."""
    follow = bundle.followups
    out: dict[str, list[str]] = {"brand": [], "model": [], "batch": []}
    if follow.empty:
        return out
    done = follow[
        follow["result_id"].notna() & follow["product_role"].isin(("caused", "contributed"))
    ]
    for key in out:
        values = [str(v).strip() for v in done[f"{key}_verified"] if not _missing(v)]
        out[key] = sorted({v for v in values if v})
    return out


def _outcomes(bundle: Bundle) -> dict[str, int]:
    """Counts over every case of the evidence window."""
    cases = bundle.cases
    return {
        "cases": len(cases),
        "severe": int((cases["severity"] == "severe").sum()),
        "admitted": int(cases["outcome"].isin(["admitted", "transferred"]).sum()),
        "died": int((cases["outcome"] == "died").sum()),
        "children": sum(
            1 for c in cases.to_dict("records") if (y := _years(c)) is not None and y < 14
        ),
    }


def _confirmation(bundle: Bundle) -> dict:
    confirms = bundle.triage[bundle.triage["decision"] == "confirm"]
    return confirms.iloc[-1].to_dict() if not confirms.empty else {}


def _role_text(role: object, lang: str) -> str:
    return explain.role_text(role, lang)


def _hospital_names(bundle: Bundle, lang: str) -> list[str]:
    if bundle.hospitals.empty:
        return sorted(set(bundle.cases["hospital_code"]))
    name = "name_zh" if lang == "zh" else "name_en"
    counts = bundle.cases["hospital_code"].value_counts()
    return [
        f"{h[name]} ({h['hospital_code']}, {int(counts.get(h['hospital_code'], 0))})"
        for h in bundle.hospitals.to_dict("records")
    ]


def _followup_section(bundle: Bundle, lang: str) -> Section:
    follow = bundle.followups
    section = Section(_t(lang, "追踪调查结果", "Follow-up results"))
    if follow.empty:
        section.paragraphs.append(
            _t(
                lang,
                "尚未对本信号的病例开展追踪调查。",
                "No follow-up investigation was requested.",
            )
        )
        return section
    done = follow[follow["result_id"].notna()]
    reached = int(done["reached"].fillna(False).astype(bool).sum())
    roles = Counter(done["product_role"].dropna())
    section.paragraphs.append(
        _t(
            lang,
            f"共追踪{len(follow)}例，已完成{len(done)}例，其中联系到{reached}例。",
            f"{_n_en(len(follow), 'case', 'cases')} followed up, {len(done)} completed, "
            f"{reached} reached.",
        )
    )
    if roles:
        section.paragraphs.append(
            _t(lang, "产品作用：", "Product's role: ")
            + _t(lang, "，", ", ").join(
                f"{_role_text(role, lang)} ({n})" for role, n in sorted(roles.items())
            )
        )
    section.columns = [
        _t(lang, "病例", "case"),
        _t(lang, "联系到", "reached"),
        _t(lang, "核实品牌/型号/批次", "brand / model / batch verified"),
        _t(lang, "产品作用", "product role"),
        _t(lang, "结论", "conclusion"),
    ]
    for f in follow.to_dict("records"):
        pending = _missing(f["result_id"])
        section.rows.append(
            [
                f"{f['hospital_code']}/{f['case_id']}",
                _t(lang, "待完成", "pending")
                if pending
                else (_t(lang, "是", "yes") if f["reached"] else _t(lang, "否", "no")),
                " / ".join(
                    "–" if _missing(f[k]) else str(f[k])
                    for k in ("brand_verified", "model_verified", "batch_verified")
                ),
                _role_text(f["product_role"], lang),
                "" if _missing(f["conclusion"]) else f["conclusion"],
            ]
        )
    return section


def _products_section(bundle: Bundle, lang: str, heading: str) -> Section:
    seen = _product_seen(bundle)
    names = {
        "product_name": ("产品名称", "product names"),
        "brand": ("品牌", "brands"),
        "model": ("型号", "models"),
        "batch": ("批次", "batches"),
        "barcode": ("条形码", "barcodes"),
    }
    section = Section(heading)
    category = bundle.category_name(lang)
    if category:
        section.paragraphs.append(
            _t(
                lang,
                f"产品类别：{category}（{bundle.category.get('category_code')}）",
                f"Product category: {category} ({bundle.category.get('category_code')})",
            )
        )
    for column, (zh, en) in names.items():
        values = seen[column]
        text = (
            ", ".join(f"{v} ({n})" for v, n in values[:15])
            if values
            else _t(lang, "未记录", "not recorded")
        )
        section.bullets.append(f"{_t(lang, zh, en)}: {text}")
    return section


# ---- the three documents -------------------------------------------------------------------

MEASURES = {
    "serious": (
        [
            "责令停止销售并召回涉及的品牌、型号和批次；",
            "通知生产者和进口商，移交缺陷产品召回管理机构；",
            "发布消费者安全警示；",
            "按适用标准开展监督抽查。",
        ],
        [
            "Withdrawal from the market and recall from consumers of the brands, models "
            "and batches involved;",
            "notify the manufacturer and importer and refer to the recall office;",
            "publish a consumer safety warning;",
            "targeted sampling inspection against the applicable standard.",
        ],
    ),
    "high": (
        [
            "通知生产者和进口商并要求采取纠正措施；",
            "开展针对性监督抽查，评估是否需要召回；",
            "发布消费者安全警示。",
        ],
        [
            "Notify the manufacturer and importer and require corrective action;",
            "targeted sampling inspection; assess the need for a recall;",
            "publish a consumer safety warning.",
        ],
    ),
    "medium": (
        ["通知生产者；", "纳入下一轮监督抽查计划；", "向消费者提供安全使用信息，继续监测。"],
        [
            "Notify the manufacturer;",
            "include in the next sampling-inspection plan;",
            "inform consumers on safe use and keep monitoring.",
        ],
    ),
    "low": (
        ["继续监测，暂不建议采取市场措施。"],
        ["Keep monitoring; no market measure proposed at this stage."],
    ),
}
LEVEL_NAMES = {
    "serious": ("严重风险", "serious risk"),
    "high": ("高风险", "high risk"),
    "medium": ("中风险", "medium risk"),
    "low": ("低风险", "low risk"),
}


def _common_facts(bundle: Bundle, lang: str) -> list[tuple[str, str]]:
    signal = bundle.signal or {}
    confirm = _confirmation(bundle)
    facts = [
        (_t(lang, "信号编号", "Signal"), f"{signal.get('signal_id')} ({signal.get('week')})"),
        (
            _t(lang, "产品类别", "Product category"),
            f"{bundle.category_name(lang)} ({signal.get('category') or '–'})",
        ),
        (_t(lang, "证据时间范围", "Evidence window"), _window_text(bundle, lang)),
    ]
    if confirm:
        facts.append(
            (
                _t(lang, "确认", "Confirmed"),
                f"{confirm['actor']}, {str(confirm['recorded_at'])[:10]}",
            )
        )
    return facts


def _evidence_paragraph(bundle: Bundle, lang: str) -> str:
    o = _outcomes(bundle)
    hospitals = int(bundle.cases["hospital_code"].nunique())
    window = _window_text(bundle, lang)
    return _t(
        lang,
        f"{window}：{o['cases']}例病例，来自{hospitals}家哨点医院；重度{o['severe']}例，"
        f"住院或转院{o['admitted']}例，死亡{o['died']}例，14岁以下儿童{o['children']}例。",
        f"{window}: {_n_en(o['cases'], 'case', 'cases')} from "
        f"{_n_en(hospitals, 'sentinel hospital', 'sentinel hospitals')}; {o['severe']} severe, "
        f"{o['admitted']} admitted or transferred, {_n_en(o['died'], 'death', 'deaths')}, "
        f"{_n_en(o['children'], 'child', 'children')} under 14.",
    )


def _why_bullets(bundle: Bundle, lang: str) -> list[str]:
    """One sentence per member alert of the signal's latest alerting week."""
    if bundle.members.empty:
        return []
    latest = bundle.members[bundle.members["week"] == bundle.members["week"].iloc[0]]
    return [str(a[f"why_{lang}"]) for a in latest.to_dict("records")]


def risk_notice(bundle: Bundle, lang: str) -> Document:
    risk = suggested_risk_level(bundle.cases, bundle.lead or {})
    level_zh, level_en = LEVEL_NAMES.get(risk["level"], (risk["level"], risk["level"]))
    evidence = Section(_t(lang, "证据摘要", "Evidence summary"))
    evidence.paragraphs.append(_evidence_paragraph(bundle, lang))
    why = _why_bullets(bundle, lang)
    if why:
        evidence.paragraphs.append(_t(lang, "预警依据：", "Why it was raised:"))
        evidence.paragraphs += why
    evidence.bullets = _hospital_names(bundle, lang)
    risk_section = Section(
        _t(
            lang,
            "风险等级（欧盟Safety Gate方法，建议）",
            "Risk level (EU Safety Gate method, suggested)",
        ),
        paragraphs=[
            _t(lang, f"建议风险等级：{level_zh}。", f"Suggested risk level: {level_en}."),
            risk["rationale_zh" if lang == "zh" else "rationale_en"],
            _t(
                lang,
                "可能性为基于监测证据的估计，须由风险评估人员确认。",
                "The probability is a proxy from surveillance "
                "evidence; a risk assessor confirms it.",
            ),
        ],
    )
    zh_measures, en_measures = MEASURES.get(risk["level"], MEASURES["low"])
    sections = [
        Section(_t(lang, "危害", "Hazard"), paragraphs=[_hazard(bundle, lang)]),
        _products_section(bundle, lang, _t(lang, "涉及产品", "Products involved")),
        evidence,
        risk_section,
        Section(
            _t(lang, "建议措施", "Recommended measures"),
            bullets=zh_measures if lang == "zh" else en_measures,
        ),
        _followup_section(bundle, lang),
    ]
    return Document(
        "risk-notice",
        lang,
        _t(
            lang,
            f"产品伤害风险通报：{bundle.category_name(lang)}",
            f"Product injury risk notice: {bundle.category_name(lang)}",
        ),
        _t(lang, "供市场监管部门使用", "For market surveillance authorities"),
        _common_facts(bundle, lang)
        + [(_t(lang, "建议风险等级", "Suggested risk"), level_zh if lang == "zh" else level_en)],
        sections,
        _footer(bundle, lang),
    )


def safety_warning(bundle: Bundle, lang: str) -> Document:
    o = _outcomes(bundle)
    start, end = _period(bundle)
    name = bundle.category_name(lang) or _t(lang, "该类产品", "this product")
    what = Section(_t(lang, "发生了什么", "What happened"))
    if lang == "zh":
        text = (
            f"{start}至{end}，我们的伤害监测医院接诊了{o['cases']}名因{name}受伤的人"
            + (f"，其中{o['children']}名是儿童" if o["children"] else "")
            + (f"。{o['admitted']}人需要住院治疗" if o["admitted"] else "")
            + (f"，{o['died']}人死亡" if o["died"] else "")
            + "。"
        )
    else:
        text = (
            f"Between {start} and {end}, hospitals in our injury monitoring network treated "
            f"{_n_en(o['cases'], 'person', 'people')} injured by {name}"
            + (
                f", {o['children']} of them {'a child' if o['children'] == 1 else 'children'}"
                if o["children"]
                else ""
            )
            + (
                f". {_n_en(o['admitted'], 'person', 'people')} needed hospital care"
                if o["admitted"]
                else ""
            )
            + (f" and {_n_en(o['died'], 'person', 'people')} died" if o["died"] else "")
            + "."
        )
    what.paragraphs = [text, _consumer_hazard(bundle, lang)]
    products = Section(_t(lang, "涉及的产品", "Products involved"))
    verified = _verified(bundle)
    for key, (zh, en) in (
        ("brand", ("品牌", "Brands")),
        ("model", ("型号", "Models")),
        ("batch", ("批次", "Batches")),
    ):
        if verified[key]:
            products.bullets.append(f"{_t(lang, zh, en)}: " + ", ".join(verified[key][:10]))
    if not products.bullets:
        products.paragraphs.append(
            _t(
                lang,
                f"所有{name}都可能涉及；具体品牌和型号尚未经调查核实。",
                f"Any {name} may be concerned; no brand or model has been verified by an "
                "investigation yet.",
            )
        )
    else:
        products.paragraphs.append(
            _t(
                lang,
                "以上品牌、型号和批次已由追踪调查核实。",
                "These brands, models and batches were verified by follow-up investigations.",
            )
        )
    advice = Section(_t(lang, "您应该怎么做", "What you should do"))
    advice.bullets = [
        _t(
            lang,
            f"检查家中是否有上面列出的{name}。如有，请停止使用，等待生产者或监管部门的进一步说明。",
            f"Check whether you have a {name} listed above. If you do, stop using it until the "
            "manufacturer or the authorities tell you it is safe.",
        ),
        _t(
            lang,
            "严格按照说明书使用，不要改装产品或拆除安全装置。",
            "Follow the instructions; do not modify the product or remove safety parts.",
        ),
    ]
    if o["children"]:
        advice.bullets.append(
            _t(
                lang,
                "把产品放在儿童接触不到的地方，使用时不要让儿童单独在旁。",
                "Keep the product out of children's reach and never leave "
                "children alone with it while it is in use.",
            )
        )
    advice.bullets += [
        _t(lang, "如有人受伤，请立即就医。", "If someone is injured, get medical help at once."),
        _t(
            lang,
            "发现不安全的产品或相关伤害，请拨打12315投诉举报电话。",
            "Report unsafe products and injuries to the 12315 consumer hotline.",
        ),
    ]
    return Document(
        "safety-warning",
        lang,
        _t(lang, f"消费者安全警示：{name}", f"Consumer safety warning: {name}"),
        _t(lang, "请注意使用安全", "Please read and share"),
        [],
        [what, products, advice],
        _footer(bundle, lang),
    )


def recall_referral(bundle: Bundle, lang: str, pack: dict | None = None) -> Document:
    signal = bundle.signal or {}
    o = _outcomes(bundle)
    serious = bundle.cases[bundle.cases["outcome"].isin(["admitted", "transferred", "died"])]
    harms = Section(
        _t(lang, "住院和死亡病例", "Admissions and deaths"),
        paragraphs=[
            _t(
                lang,
                f"{_window_text(bundle, lang)}共{o['cases']}例：住院或转院{o['admitted']}例，"
                f"死亡{o['died']}例。",
                f"{_window_text(bundle, lang)}: {_n_en(o['cases'], 'case', 'cases')}, "
                f"{o['admitted']} admitted or transferred, {_n_en(o['died'], 'death', 'deaths')}.",
            )
        ],
        columns=[
            _t(lang, "病例", "case"),
            _t(lang, "就诊日期", "visit date"),
            _t(lang, "年龄", "age"),
            _t(lang, "性别", "sex"),
            _t(lang, "结局", "outcome"),
            _t(lang, "伤害", "injury"),
        ],
    )
    for c in serious.to_dict("records"):
        harms.rows.append(
            [
                f"{c['hospital_code']}/{c['case_id']}",
                str(c["visit_date"]),
                _age_text(c, lang),
                bundle.label("sex", c["sex"], lang),
                bundle.label("outcome", c["outcome"], lang),
                bundle.label("injury_nature", c["injury_nature"], lang),
            ]
        )
    evidence = Section(_t(lang, "证据清单", "List of evidence"))
    if pack:
        evidence.bullets.append(
            _t(lang, "证据包", "Evidence pack") + f": {pack['pack_id']} "
            f"(manifest.json SHA-256 {pack['manifest_sha256']}; "
            + _t(lang, "核验：", "verify: ")
            + f"sentinel evidence-pack verify {pack['pack_id']})"
        )
    else:
        evidence.bullets.append(
            _t(
                lang,
                f"证据包尚未生成：sentinel evidence-pack --signal {signal.get('signal_id')}",
                f"Evidence pack not built yet: sentinel evidence-pack --signal "
                f"{signal.get('signal_id')}",
            )
        )
    evidence.bullets += [
        _t(
            lang,
            f"去标识化病例清单{o['cases']}例及伤害经过叙述",
            f"De-identified list of {o['cases']} cases with their narratives",
        ),
        _t(
            lang,
            f"数据来源：{len(bundle.provenance.get('submissions', []))}份医院报送文件（含SHA-256校验值）",
            f"Provenance: {len(bundle.provenance.get('submissions', []))} hospital submissions "
            "(with SHA-256 checksums)",
        ),
        _t(
            lang,
            "检测方法："
            + "、".join(sorted(set(bundle.members.get("method", pd.Series(dtype=str))))),
            "Detectors: "
            + ", ".join(sorted(set(bundle.members.get("method", pd.Series(dtype=str))))),
        ),
    ]
    hospitals = Section(_t(lang, "哨点医院", "Hospitals"), bullets=_hospital_names(bundle, lang))
    return Document(
        "recall-referral",
        lang,
        _t(
            lang,
            f"缺陷产品召回线索移送：{bundle.category_name(lang)}",
            f"Recall referral: {bundle.category_name(lang)}",
        ),
        _t(lang, "移送缺陷产品召回管理机构", "To the recall office"),
        _common_facts(bundle, lang) + [(_t(lang, "病例数", "Cases"), str(o["cases"]))],
        [
            _products_section(
                bundle,
                lang,
                _t(
                    lang,
                    "产品（所见品牌、型号、批次、条形码）",
                    "Product (brands, models, batches, barcodes seen)",
                ),
            ),
            Section(_t(lang, "危害", "Hazard"), paragraphs=[_hazard(bundle, lang)]),
            harms,
            hospitals,
            _followup_section(bundle, lang),
            evidence,
        ],
        _footer(bundle, lang),
    )


def _n(value: object, digits: int = 0) -> str:
    return "–" if value is None or _missing(value) else f"{float(value):.{digits}f}"


def _p(value: object) -> str:
    return "–" if value is None or _missing(value) else f"{float(value):.2g}"


def _footer(bundle: Bundle, lang: str) -> str:
    return _t(
        lang,
        "本文件由Sentinel产品伤害监测系统根据已确认的信号生成，不含患者身份信息。"
        f"数据截至{bundle.provenance.get('data_as_of') or '–'}。",
        "Generated by Sentinel product-injury surveillance from a confirmed signal; it holds "
        f"no patient identifiers. Data as of {bundle.provenance.get('data_as_of') or '–'}.",
    )


BUILDERS = {
    "risk-notice": risk_notice,
    "safety-warning": safety_warning,
    "recall-referral": recall_referral,
}


# ---- rendering -----------------------------------------------------------------------------


def _html_env():  # type: ignore[no-untyped-def]
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _markdown_env():  # type: ignore[no-untyped-def]
    # finalize runs on every {{ value }}: nothing reaches the Markdown unescaped.
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=False,
        finalize=md_escape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(document: Document, fmt: str) -> str:
    if fmt == "html":
        return _html_env().get_template("document.html.j2").render(doc=document)
    if fmt == "md":
        return _markdown_env().get_template("document.md.j2").render(doc=document)
    raise ValueError(f"unknown format {fmt!r}")


def check_request(kinds: tuple[str, ...], langs: tuple[str, ...]) -> None:
    for kind in kinds:
        if kind not in KINDS:
            raise BadInput(f"unknown document kind {kind!r} (one of {', '.join(KINDS)})")
    for lang in langs:
        if lang not in LANGS:
            raise BadInput(f"unknown language {lang!r} (zh or en)")


def render_documents(
    bundle: Bundle,
    kind: str,
    langs: tuple[str, ...] = LANGS,
    pack: dict | None = None,
) -> list[tuple[str, str, str]]:
    """(lang, fmt, text) of one kind of document in every language, HTML and Markdown;
    ``pack``: the evidence pack the referral cites (``pack_id``, ``manifest_sha256``)."""
    check_request((kind,), langs)
    out = []
    for lang in langs:
        document = (
            recall_referral(bundle, lang, pack)
            if kind == "recall-referral"
            else BUILDERS[kind](bundle, lang)
        )
        for fmt in ("html", "md"):
            out.append((lang, fmt, render(document, fmt)))
    return out
