"""Sentences and numbers about signals and alerts, in Chinese and English.

One place says what an alert's numbers mean, so the CLI, the weekly report, the documents and
the web app say it the same way: counts are integers, a count is always named with its span
("2 cases in 2026-W44", "6 cases in the 4 weeks 2026-W41 to 2026-W44"), a threshold is
explained in the terms of its method ("an alarm from 1 case this week", "at least 3 cases at 2
hospitals"), a p-value is shown only where the method has one, and detector settings are a
sentence, not a parameter dump.
"""

from __future__ import annotations

import contextlib
import json
import math

from pipeline.isoweek import add_weeks
from pipeline.reporting.labels import Labels

SERIES_METHODS = ("auto", "auto-offset", "farrington-noufaily", "farrington-noufaily-offset")
RISE_METHODS = ("auto-rise", "auto-rise-offset", "glrnb", "short-window")

METHOD_NAMES = {
    "en": {
        "auto-offset": "weekly count test (Farrington flexible, short-history fallback)",
        "auto": "weekly count test (Farrington flexible, short-history fallback)",
        "auto-rise-offset": "sustained-rise test (counts of the last 1-4 weeks)",
        "auto-rise": "sustained-rise test (counts of the last 1-4 weeks)",
        "new-pattern": "new hazard pattern",
        "prr-ic": "disproportionality (PRR and information component)",
        "new-term": "new term in the narratives",
        "category-new-term": "terms new to the category",
    },
    "zh": {
        "auto-offset": "周病例数检验（Farrington 灵活法，历史短时用短历史法）",
        "auto": "周病例数检验（Farrington 灵活法，历史短时用短历史法）",
        "auto-rise-offset": "持续上升检验（最近1-4周病例数）",
        "auto-rise": "持续上升检验（最近1-4周病例数）",
        "new-pattern": "新伤害模式",
        "prr-ic": "比例失衡分析（PRR 与信息成分）",
        "new-term": "伤害描述中的新词",
        "category-new-term": "该类别新出现的词语",
    },
}
STATUS_NAMES = {
    "en": {
        "new": "new",
        "ongoing": "ongoing",
        "reopened": "reopened",
        "quiet": "quiet",
        "resolved": "resolved",
    },
    "zh": {
        "new": "新",
        "ongoing": "持续",
        "reopened": "再次出现",
        "quiet": "暂无预警",
        "resolved": "已解除",
    },
}
DECISION_NAMES = {
    "en": {
        "confirm": "confirmed",
        "dismiss": "dismissed",
        "watch": "watching",
        None: "not triaged",
    },
    "zh": {"confirm": "已确认", "dismiss": "已排除", "watch": "观察中", None: "未研判"},
}
INVESTIGATION_NAMES = {
    "en": {
        "none": "no follow-up",
        "ordered": "follow-up ordered",
        "in_progress": "follow-up in progress",
        "complete": "follow-up complete",
    },
    "zh": {
        "none": "未随访",
        "ordered": "已安排随访",
        "in_progress": "随访进行中",
        "complete": "随访已完成",
    },
}


def number(value: object) -> float | None:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def count(value: object) -> int:
    """A count as an integer (a missing count is 0)."""
    out = number(value)
    return int(round(out)) if out is not None else 0


def fmt_expected(value: object) -> str:
    """An expected count: two significant digits below 10, one decimal above."""
    out = number(value)
    if out is None:
        return "–"
    if out == 0:
        return "0"
    if out < 10:
        return f"{out:.2g}" if out >= 0.01 else "<0.01"
    return f"{out:.1f}"


def fmt_p(value: object) -> str | None:
    """A p- or q-value as text; None where the method has none."""
    out = number(value)
    if out is None:
        return None
    return "<0.0001" if out < 1e-4 else f"{out:.2g}"


def plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def cases_en(n: int) -> str:
    return plural(n, "case", "cases")


def alarm_from(alert: dict) -> int | None:
    """The smallest count of the alert's week that raises the alarm (observed > upper)."""
    upper = number(alert.get("threshold"))
    if upper is None:
        return None
    return int(math.floor(upper)) + 1


def _rise_window(alert: dict) -> int:
    try:
        return int(json.loads(alert.get("params") or "{}").get("rise_window", 4))
    except (TypeError, ValueError):
        return 4


def _n_cases(alert: dict) -> int:
    if alert.get("case_keys") is not None:
        return len(json.loads(alert.get("case_keys") or "[]"))
    return count(alert.get("n_cases"))


def case_span(alert: dict) -> tuple[int, str, str]:
    """(number of the alert's cases, first week, last week): a sustained-rise or new-pattern
    alert holds the cases of its window, the others those of its week."""
    n = _n_cases(alert)
    week = alert["week"]
    if alert.get("method") in RISE_METHODS or alert.get("alert_type") == "new_pattern":
        return n, add_weeks(week, -(_rise_window(alert) - 1)), week
    if alert.get("alert_type") == "disproportionality":
        window = 8
        with contextlib.suppress(TypeError, ValueError):
            window = int(json.loads(alert.get("params") or "{}").get("dispro_window", 8))
        return n, add_weeks(week, -(window - 1)), week
    return n, week, week


def _span_text(n: int, first: str, last: str, lang: str) -> str:
    if first == last:
        return f"{last} {n} 例" if lang == "zh" else f"{cases_en(n)} in {last}"
    if lang == "zh":
        return f"{first} 至 {last} 共 {n} 例"
    return f"{cases_en(n)} in the weeks {first} to {last}"


def alert_sentence(alert: dict, lang: str, labels: Labels | None = None) -> str:
    """Why one alert fired, in one or two sentences."""
    method = str(alert.get("method") or "")
    name = METHOD_NAMES[lang].get(method, method)
    subject = subject_label(alert, labels, lang) if labels else str(alert.get("subject"))
    observed = count(alert.get("observed"))
    week = alert["week"]
    n, first, last = case_span(alert)
    p, q = fmt_p(alert.get("pvalue")), fmt_p(alert.get("qvalue"))
    stats = ""
    if p is not None:
        p_part = f"p < {p[1:]}" if p.startswith("<") else f"p = {p}"
        q_part = "" if q is None else (f"q < {q[1:]}" if q.startswith("<") else f"q = {q}")
        stats = (
            f"（{p_part}" + (f"，{q_part}" if q_part else "") + "）"
            if lang == "zh"
            else f" ({p_part}" + (f", {q_part}" if q_part else "") + ")"
        )
    if method in SERIES_METHODS + RISE_METHODS:
        start = alarm_from(alert)
        expected = fmt_expected(alert.get("expected"))
        if lang == "zh":
            text = (
                f"{name}：{subject} 在 {week} 有 {observed} 例，期望 {expected} 例；"
                f"本周达到 {start} 例即报警{stats}。"
            )
            if method in RISE_METHODS and first != last:
                text += f"持续上升窗口 {first} 至 {week} 共 {n} 例。"
            return text
        text = (
            f"{name[0].upper() + name[1:]}: {subject} had {cases_en(observed)} in {week} against "
            f"{expected} expected; the alarm starts at {cases_en(start or 0)} this week{stats}."
        )
        if method in RISE_METHODS and first != last:
            text += f" The rise window {first} to {week} holds {cases_en(n)}."
        return text
    hospitals = count(alert.get("n_hospitals"))
    if method == "new-pattern":
        if lang == "zh":
            return (
                f"新伤害模式 {subject}：{_span_text(n, first, last, lang)}，来自 {hospitals} 家医院"
                "（新模式需在最近4周内至少3例、至少2家医院，且占该类别病例的20%以上）。"
            )
        return (
            f"New hazard pattern {subject}: {_span_text(n, first, last, lang)} at "
            f"{plural(hospitals, 'hospital', 'hospitals')} (a new pattern needs at least 3 cases "
            "at 2 hospitals in the last 4 weeks and 20% of its category's cases)."
        )
    if method in ("new-term", "category-new-term"):
        raw = str(alert.get("term") or alert.get("subject") or "")
        words = [t for t in raw.split(", ") if t] if method == "category-new-term" else [raw]
        term = ("、" if lang == "zh" else ", ").join(f"“{t}”" for t in words)
        where = (
            ""
            if method == "new-term"
            else (
                f"（{labels.category_name(alert.get('category'), lang)}）"
                if labels and lang == "zh"
                else f" ({labels.category_name(alert.get('category'), lang)})"
                if labels
                else ""
            )
        )
        if lang == "zh":
            return (
                f"{term}{where}在 {week} 出现在 {hospitals} 家医院的 {n} 例病例描述中，"
                "此前104周从未出现（规则：至少3例、至少2家医院）。"
            )
        return (
            f"{term}{where} {'appears' if len(words) == 1 else 'appear'} in {cases_en(n)} at "
            f"{plural(hospitals, 'hospital', 'hospitals')} in {week} and in no narrative of "
            "the previous 104 weeks (rule: at least 3 cases at 2 hospitals)."
        )
    if method == "prr-ic":
        expected = fmt_expected(alert.get("expected"))
        if lang == "zh":
            return (
                f"比例失衡：{subject} 在 {first} 至 {last} 有 {observed} 例，按其他类别的比例期望 "
                f"{expected} 例（PRR ≥ 2、χ² ≥ 4、IC025 > 0），且占比较前一年显著上升{stats}。"
            )
        return (
            f"Disproportionality: {subject} had {cases_en(observed)} in the weeks {first} to "
            f"{last} against {expected} expected from the other categories (PRR ≥ 2, "
            f"chi² ≥ 4, IC025 > 0), a significant rise on the year before{stats}."
        )
    if lang == "zh":
        return f"{name}：{subject}，{_span_text(n, first, last, lang)}。"
    return f"{name}: {subject}, {_span_text(n, first, last, lang)}."


def alert_brief(alert: dict) -> dict:
    """Numbers of one alert for a table row: the week's count, its expected value and the
    alarm start where the method has them, and the case span."""
    method = str(alert.get("method") or "")
    n, first, last = case_span(alert)
    series = method in SERIES_METHODS + RISE_METHODS
    return {
        "week_count": count(alert.get("observed")) if series else None,
        "expected": fmt_expected(alert.get("expected")) if series else None,
        "alarm_from": alarm_from(alert) if series else None,
        "cases": n,
        "span": first if first == last else f"{first}..{last}",
        "pvalue": fmt_p(alert.get("pvalue")),
        "qvalue": fmt_p(alert.get("qvalue")),
    }


def settings_sentence(params: dict, lang: str) -> str:
    """The stored detector settings (``alerts.params``) as a sentence."""
    if not params:
        return ""
    method = params.get("method", "auto-offset")
    rise = params.get("rise_method")
    alpha = params.get("alpha")
    fdr = params.get("fdr")
    scope = params.get("fdr_scope", "all")
    version = params.get("version")
    if lang == "zh":
        text = f"周检验 {method}"
        if rise and rise != "none":
            text += f" 与持续上升检验 {rise}（窗口 {params.get('rise_window', 4)} 周）"
        text += f"，每个序列单侧显著性水平 α = {alpha}"
        text += f"，Benjamini–Hochberg 错误发现率 {fdr}（{'全部序列' if scope == 'all' else '按序列类型'}）"
        text += (
            f"；新模式：最近 {params.get('new_pattern_window', 4)} 周至少 "
            f"{params.get('new_pattern_min_cases', 3)} 例、{params.get('new_pattern_min_hospitals', 2)} 家医院；"
            f"新词：此前 {params.get('new_term_history', 104)} 周未出现，至少 "
            f"{params.get('new_term_min_cases', 3)} 例、{params.get('new_term_min_hospitals', 2)} 家医院"
        )
        return text + (f"（检测版本 {version}）。" if version else "。")
    text = f"Weekly test {method}"
    if rise and rise != "none":
        text += f" and sustained-rise test {rise} (window {params.get('rise_window', 4)} weeks)"
    text += f", one-sided alpha {alpha} per series"
    text += (
        f", Benjamini-Hochberg false-discovery rate {fdr} "
        f"({'across all series' if scope == 'all' else 'within each kind of series'})"
    )
    text += (
        f"; new patterns: at least {params.get('new_pattern_min_cases', 3)} cases at "
        f"{params.get('new_pattern_min_hospitals', 2)} hospitals in "
        f"{params.get('new_pattern_window', 4)} weeks; new terms: absent for "
        f"{params.get('new_term_history', 104)} weeks, at least "
        f"{params.get('new_term_min_cases', 3)} cases at "
        f"{params.get('new_term_min_hospitals', 2)} hospitals"
    )
    return text + (f" (detector version {version})." if version else ".")


def signal_title(signal: dict, members: list[dict], labels: Labels, lang: str) -> str:
    """A name for a signal: its category, with its most specific member (pattern, city,
    term) when it has one."""
    category = signal.get("category")
    base = labels.category_name(category, lang) if category else ""
    detail = None
    for kind in ("pattern", "new_pattern", "category_region", "new_term", "category_term"):
        found = next((m for m in members if m.get("alert_type") == kind), None)
        if found is None:
            continue
        if kind in ("pattern", "new_pattern"):
            detail = labels.pattern_name(found.get("pattern_id"), lang)
        elif kind == "category_region":
            detail = labels.region_name(found.get("region"), lang)
        else:
            detail = f"“{found.get('term') or found.get('subject')}”"
        break
    if not base:
        return detail or str(signal.get("anchor", ""))
    return f"{base} · {detail}" if detail else base


def window_sentence(signal: dict, lang: str) -> str:
    """The signal's evidence window and what it holds."""
    n = count(signal.get("n_cases"))
    died = count(signal.get("n_died"))
    severe = count(signal.get("n_severe"))
    admitted = count(signal.get("n_admitted"))
    hospitals = count(signal.get("n_hospitals"))
    onset, week = signal["onset_week"], signal["week"]
    if lang == "zh":
        return (
            f"{onset} 至 {week}：{n} 例，来自 {hospitals} 家医院；重度 {severe} 例，"
            f"住院或转院 {admitted} 例，死亡 {died} 例。"
        )
    return (
        f"{onset} to {week}: {cases_en(n)} at {plural(hospitals, 'hospital', 'hospitals')}; "
        f"{severe} severe, {admitted} admitted or transferred, "
        f"{plural(died, 'death', 'deaths')}."
    )


PRODUCT_ROLE_NAMES = {
    "caused": ("产品导致伤害", "the product caused the injury"),
    "contributed": ("产品促成伤害", "the product contributed"),
    "involved_not_causal": ("涉及产品但非原因", "involved, not the cause"),
    "unrelated": ("与产品无关", "unrelated to the product"),
    "undetermined": ("无法确定", "undetermined"),
}


def role_text(role: object, lang: str) -> str:
    """A follow-up's finding on the product's role, in words."""
    if role is None or (isinstance(role, float) and math.isnan(role)) or not role:
        return ""
    zh, en = PRODUCT_ROLE_NAMES.get(str(role), (str(role), str(role)))
    return zh if lang == "zh" else en


AGE_UNITS = {
    "years": ("岁", "year", "years"),
    "months": ("个月", "month", "months"),
    "days": ("天", "day", "days"),
}


def age_text(age: object, unit: object, lang: str) -> str:
    """An age as an integer with its unit: "37 years", "1 year", "8 months"; "37岁", "8个月"."""
    value = number(age)
    if value is None:
        return "年龄不详" if lang == "zh" else "age unknown"
    whole = int(value) if float(value).is_integer() else None
    shown = str(whole) if whole is not None else f"{value:g}"
    zh, one, many = AGE_UNITS.get(str(unit or "years"), (str(unit), str(unit), str(unit)))
    if lang == "zh":
        return f"{shown}{zh}"
    return f"{shown} {one if whole == 1 else many}"


def subject_label(alert: dict, labels: Labels, lang: str) -> str:
    """A readable subject for any alert (names beside codes)."""
    if alert.get("alert_type") == "category_term":
        terms = alert.get("term") or ""
        sep = "：" if lang == "zh" else ": "
        words = (
            "、".join(f"“{t}”" for t in str(terms).split(", ") if t)
            if lang == "zh"
            else (", ".join(f"“{t}”" for t in str(terms).split(", ") if t))
        )
        return f"{labels.category_name(alert.get('category'), lang)}{sep}{words}"
    return labels.subject(alert, lang)
