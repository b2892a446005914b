"""Bilingual labels: UI strings of the reports and names from the reference tables."""

from __future__ import annotations

import duckdb
import pandas as pd

LANGS = ("zh", "en")


class Labels:
    """Category, code, hospital and region names in one language (falls back to the code)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        def table(name: str) -> pd.DataFrame:
            return con.execute(f"SELECT * FROM {name}").df()

        taxonomy, codesets, hospitals = (
            table("ref_taxonomy"),
            table("ref_codesets"),
            table("ref_hospitals"),
        )
        self.category = {
            lang: dict(
                zip(
                    taxonomy.get("category_code", []), taxonomy.get(f"name_{lang}", []), strict=True
                )
            )
            for lang in LANGS
        }
        self.family = {
            lang: dict(
                zip(
                    taxonomy.get("category_code", []),
                    taxonomy.get(f"family_{lang}", []),
                    strict=True,
                )
            )
            for lang in LANGS
        }
        self.family_of = dict(
            zip(taxonomy.get("category_code", []), taxonomy.get("family_code", []), strict=True)
        )
        self.family_name = {
            lang: dict(
                zip(
                    taxonomy.get("family_code", []), taxonomy.get(f"family_{lang}", []), strict=True
                )
            )
            for lang in LANGS
        }
        self.codes = {
            lang: {
                (c, k): v
                for c, k, v in zip(
                    codesets.get("codeset", []),
                    codesets.get("code", []),
                    codesets.get(f"label_{lang}", []),
                    strict=True,
                )
            }
            for lang in LANGS
        }
        self.hospital = {
            lang: dict(
                zip(
                    hospitals.get("hospital_code", []),
                    hospitals.get(f"name_{lang}", []),
                    strict=True,
                )
            )
            for lang in LANGS
        }
        # City names by the first four digits of a GB/T 2260 code (from the registry).
        self.city = {
            lang: {
                str(r)[:4]: n
                for r, n in zip(
                    hospitals.get("region_code", []), hospitals.get(f"city_{lang}", []), strict=True
                )
            }
            for lang in LANGS
        }
        self.patterns: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
        for pid, en, zh in con.execute(
            "SELECT pattern_id, label_en, label_zh FROM hazard_patterns"
        ).fetchall():
            self.patterns["en"][pid], self.patterns["zh"][pid] = en, zh

    def category_name(self, code: object, lang: str) -> str:
        if not isinstance(code, str) or not code:
            return "—"
        name = self.category[lang].get(code)
        return f"{code} {name}" if name else code

    def code(self, codeset: str, value: object, lang: str) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return "—"
        return self.codes[lang].get((codeset, str(value)), str(value))

    def hospital_name(self, code: str, lang: str) -> str:
        return self.hospital[lang].get(code, code)

    def region_name(self, region: object, lang: str) -> str:
        if not isinstance(region, str) or len(region) < 4:
            return "—"
        city = self.city[lang].get(region[:4])
        return f"{city} ({region[:4]}00)" if city else f"{region[:4]}00"

    def pattern_name(self, pattern_id: object, lang: str) -> str:
        if not isinstance(pattern_id, str):
            return "—"
        return self.patterns[lang].get(pattern_id, pattern_id)

    def subject(self, alert: dict, lang: str) -> str:
        """A readable subject for any alert type (unknown types show their raw subject)."""
        kind, category = alert.get("alert_type"), alert.get("category")
        if kind == "category":
            return self.category_name(category, lang)
        if kind in ("pattern", "new_pattern"):
            return (
                f"{self.category_name(category, lang)} · "
                f"{self.pattern_name(alert.get('pattern_id'), lang)}"
            )
        if kind == "category_region":
            return (
                f"{self.category_name(category, lang)} @ "
                f"{self.region_name(alert.get('region'), lang)}"
            )
        if kind == "disproportionality":
            pair = str(alert.get("subject", "")).partition(" x ")[2]
            dimension, _, level = pair.partition("=")
            value = (
                AGE_GROUPS[lang].get(level, level)
                if dimension == "age_group"
                else self.code(dimension, level, lang)
            )
            return (
                f"{self.category_name(category, lang)} × "
                f"{UI[lang].get('dim_' + dimension, dimension)} = {value}"
            )
        if kind == "new_term":
            term = alert.get("term") or alert.get("subject")
            return f"“{term}”" + (f" ({self.category_name(category, lang)})" if category else "")
        return str(alert.get("subject") or "")


UI: dict[str, dict[str, str]] = {
    "en": {
        "title": "Weekly product-injury hazard report",
        "week": "Week",
        "data_as_of": "Data as of",
        "period": "Period",
        "summary": "Alerts of the week",
        "rank": "Rank",
        "alert": "Alert",
        "type": "Type",
        "subject": "Subject",
        "status": "Status",
        "observed": "Observed",
        "expected": "Expected",
        "threshold": "Threshold",
        "pvalue": "p-value",
        "qvalue": "q-value",
        "hospitals": "Hospitals",
        "regions": "Regions (residence)",
        "severe": "Severe",
        "admitted": "Admitted/transferred",
        "died": "Died",
        "risk": "Suggested risk",
        "triage": "Triage",
        "no_alerts": "No alert this week.",
        "resolved": "Resolved this week",
        "why": "Why it fired",
        "method": "Method",
        "score": "Score",
        "trend": "Trend",
        "severity_mix": "Severity",
        "outcome_mix": "Outcome",
        "age_mix": "Age",
        "top_terms": "Top terms",
        "examples": "Example narratives (de-identified)",
        "provisional": "Provisional: waiting for coder review",
        "provisional_note": "Cases a coder has not yet confirmed, shown in the pattern of the "
        "model's top suggestion. Not counted: they are in no case count, breakdown, chart or "
        "detection of this signal until a coder resolves them.",
        "provisional_count": "{n} provisional cases waiting for coder review ({shown} shown).",
        "provisional_none": "No provisional case waiting for coder review.",
        "suggested": "Suggested category",
        "pattern": "Pattern",
        "similarity": "Similarity",
        "reason_low_confidence": "low confidence",
        "reason_unknown_product_name": "unknown product name",
        "reason_model_disagrees": "model disagrees with the hospital's code",
        "evidence": "Evidence pack",
        "decision": "Current triage decision",
        "no_decision": "Not triaged yet.",
        "followups": "Follow-up investigations",
        "no_followups": "No follow-up requested.",
        "case": "Case",
        "due": "Due",
        "reached": "Reached",
        "product_role": "Product role",
        "verified": "Verified product",
        "conclusion": "Conclusion",
        "health": "Monitoring-site supervision",
        "hospital": "Hospital",
        "cases": "Cases",
        "median_lag": "Median lag (days)",
        "within_1d": "≤1 day",
        "within_7d": "≤7 days",
        "completeness": "Completeness",
        "rejection": "Rejected rows",
        "files_rejected": "Files rejected",
        "narrative_len": "Narrative length (median)",
        "short": "Too short",
        "templated": "Templated",
        "agreement": "Code agreement",
        "silent": "Went silent",
        "never_reported": "Registered but never reported",
        "none": "none",
        "last_received": "Last file",
        "last_visit": "Last visit",
        "days_silent": "Days silent",
        "date": "Date",
        "age_sex": "Age/sex",
        "product": "Product",
        "narrative": "Narrative",
        "rationale": "Rationale",
        "contents": "Contents",
        "actor": "By",
        "reason": "Reason",
        "health_note": "Window: {from_week} to {to_week} ({from} to {to}): cases by visit day, "
        "files by the local day they were received; lag from the visit to the case's first "
        "receipt (hospital local time). Production hospitals only. Flagged cells miss their "
        "target (≤7 days ≥ 90%, completeness ≥ 80%, rejected rows ≤ 5%, too short "
        "≤ 10%, templated ≤ 20%, code agreement ≥ 80%).",
        "window_cases": "Cases (window)",
        "files_received": "Files rejected / received",
        "rows_quarantined": "Rows quarantined / received",
        "network_row": "Network ({n} hospitals reporting)",
        "quarantine_rules": "Quarantined rows by rule",
        "rule": "Rule",
        "rows": "Rows",
        "test_hospitals": "Test hospitals (left out of every figure)",
        "header_note": "production hospitals; test hospitals are not counted",
        "pattern_label": "Hazard pattern",
        "method_note": "Detector and parameters",
        "generated_for": "Sentinel product-injury surveillance",
        "level_serious": "serious",
        "level_high": "high",
        "level_medium": "medium",
        "level_low": "low",
        "status_new": "new",
        "status_ongoing": "ongoing",
        "status_resolved": "resolved",
        "type_category": "category",
        "type_pattern": "hazard pattern",
        "type_category_region": "category × city",
        "type_disproportionality": "disproportionality",
        "type_new_term": "new term",
        "type_new_pattern": "new pattern",
        "dim_injury_nature": "injury",
        "dim_severity": "severity",
        "dim_body_region": "body region",
        "dim_age_group": "age",
        "fired_series": "{observed:g} cases against {expected} expected; the alarm threshold "
        "was {threshold} ({method}).",
        "fired_other": "{observed:g} cases; threshold {threshold} ({method}).",
        "not_available": "n/a",
        "case_count": "{n} cases",
    },
    "zh": {
        "title": "产品伤害风险周报",
        "week": "周次",
        "data_as_of": "数据截至",
        "period": "时间范围",
        "summary": "本周预警",
        "rank": "排序",
        "alert": "预警",
        "type": "类型",
        "subject": "对象",
        "status": "状态",
        "observed": "实际数",
        "expected": "期望数",
        "threshold": "阈值",
        "pvalue": "p值",
        "qvalue": "q值",
        "hospitals": "医院",
        "regions": "地区（常住地）",
        "severe": "重度",
        "admitted": "住院/转院",
        "died": "死亡",
        "risk": "建议风险等级",
        "triage": "研判",
        "no_alerts": "本周无预警。",
        "resolved": "本周解除的预警",
        "why": "预警依据",
        "method": "方法",
        "score": "得分",
        "trend": "趋势",
        "severity_mix": "严重程度",
        "outcome_mix": "结局",
        "age_mix": "年龄",
        "top_terms": "高频特征词",
        "examples": "病例描述示例（已去标识化）",
        "provisional": "待编码员复核的暂定病例",
        "provisional_note": "编码员尚未确认的病例，按模型首选类别暂列于最相近的伤害模式。不计入："
        "在编码员复核之前，不计入本信号的任何病例数、分布、图表或检测。",
        "provisional_count": "待编码员复核的暂定病例 {n} 例（列出 {shown} 例）。",
        "provisional_none": "无待编码员复核的暂定病例。",
        "suggested": "建议类别",
        "pattern": "伤害模式",
        "similarity": "相似度",
        "reason_low_confidence": "置信度低",
        "reason_unknown_product_name": "产品名称未知",
        "reason_model_disagrees": "模型与医院编码不一致",
        "evidence": "证据包",
        "decision": "当前研判结论",
        "no_decision": "尚未研判。",
        "followups": "随访调查",
        "no_followups": "未申请随访。",
        "case": "病例",
        "due": "截止日期",
        "reached": "已联系",
        "product_role": "产品作用",
        "verified": "核实的产品信息",
        "conclusion": "结论",
        "health": "哨点医院监测质量",
        "hospital": "医院",
        "cases": "病例数",
        "median_lag": "报告延迟中位数（天）",
        "within_1d": "1天内",
        "within_7d": "7天内",
        "completeness": "关键字段完整率",
        "rejection": "拒收行比例",
        "files_rejected": "拒收文件",
        "narrative_len": "描述长度中位数",
        "short": "过短",
        "templated": "模板化",
        "agreement": "编码一致率",
        "silent": "停止报告的医院",
        "never_reported": "已登记但从未报告的医院",
        "none": "无",
        "last_received": "最近文件",
        "last_visit": "最近就诊",
        "days_silent": "停报天数",
        "date": "日期",
        "age_sex": "年龄/性别",
        "product": "产品",
        "narrative": "伤害经过",
        "rationale": "依据",
        "contents": "目录",
        "actor": "研判人",
        "reason": "理由",
        "health_note": "统计窗口：{from_week} 至 {to_week}（{from} 至 {to}）：病例按就诊日期，"
        "文件按接收日期（当地时间）统计；报告延迟为就诊至病例首次接收的时间（医院当地时间）。"
        "仅统计正式哨点医院。标记的单元格未达到目标"
        "（7天内报告 ≥ 90%，完整率 ≥ 80%，拒收行 ≤ 5%，过短 ≤ 10%，"
        "模板化 ≤ 20%，编码一致率 ≥ 80%）。",
        "window_cases": "病例数（窗口内）",
        "files_received": "拒收文件 / 接收文件",
        "rows_quarantined": "隔离行 / 接收行",
        "network_row": "全网（{n}家医院报告）",
        "quarantine_rules": "按规则统计的隔离行",
        "rule": "规则",
        "rows": "行数",
        "test_hospitals": "测试医院（不计入任何统计）",
        "header_note": "正式哨点医院；测试医院不计入",
        "pattern_label": "伤害模式",
        "method_note": "检测方法与参数",
        "generated_for": "Sentinel 产品伤害监测",
        "level_serious": "严重",
        "level_high": "高",
        "level_medium": "中",
        "level_low": "低",
        "status_new": "新",
        "status_ongoing": "持续",
        "status_resolved": "解除",
        "type_category": "产品类别",
        "type_pattern": "伤害模式",
        "type_category_region": "类别×城市",
        "type_disproportionality": "比例失衡",
        "type_new_term": "新词",
        "type_new_pattern": "新模式",
        "dim_injury_nature": "伤害性质",
        "dim_severity": "严重程度",
        "dim_body_region": "部位",
        "dim_age_group": "年龄组",
        "fired_series": "实际 {observed:g} 例，期望 {expected} 例；报警阈值 {threshold}（{method}）。",
        "fired_other": "实际 {observed:g} 例；阈值 {threshold}（{method}）。",
        "not_available": "无",
        "case_count": "{n} 例",
    },
}
AGE_GROUPS = {
    "en": {
        "infant": "<1",
        "toddler": "1-4",
        "child": "5-14",
        "adult": "15-64",
        "older": "65+",
        "unknown": "unknown",
    },
    "zh": {
        "infant": "<1岁",
        "toddler": "1-4岁",
        "child": "5-14岁",
        "adult": "15-64岁",
        "older": "65岁+",
        "unknown": "未知",
    },
}
