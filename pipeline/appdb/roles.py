"""The roles of Sentinel's users and what each is called in zh and en."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"  # approves notices and warnings
    CODER = "coder"
    RECALL_OFFICER = "recall_officer"
    COORDINATOR = "coordinator"
    HOSPITAL_CLERK = "hospital_clerk"  # bound to exactly one hospital

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(value.strip().lower().replace("-", "_"))
        except ValueError:
            from pipeline.appdb.errors import InvalidInput

            raise InvalidInput(
                "role",
                "unknown role {value}; one of: {choices}",
                "未知角色 {value}；可选：{choices}",
                value=value,
                choices=", ".join(r.value for r in cls),
            ) from None


ALL_ROLES: frozenset[Role] = frozenset(Role)

ROLE_LABELS: dict[Role, dict[str, str]] = {
    Role.ADMIN: {"en": "Administrator", "zh": "系统管理员"},
    Role.ANALYST: {"en": "Risk analyst", "zh": "风险分析员"},
    Role.SUPERVISOR: {"en": "Supervisor", "zh": "审核主管"},
    Role.CODER: {"en": "Coder", "zh": "编码员"},
    Role.RECALL_OFFICER: {"en": "Recall officer", "zh": "召回官员"},
    Role.COORDINATOR: {"en": "Network coordinator", "zh": "网络协调员"},
    Role.HOSPITAL_CLERK: {"en": "Hospital clerk", "zh": "医院数据员"},
}


def role_label(role: Role | str, lang: str) -> str:
    return ROLE_LABELS[Role(role)].get(lang, ROLE_LABELS[Role(role)]["en"])
