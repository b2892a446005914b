"""When may a retrained product coder replace the current one?

``promotion_decision(candidate, current)`` compares two models' ``metrics.json`` and promotes only
when the candidate is not worse on *both* measures that matter (issue 20, item 4):

1. the held-out split of **coder-labelled** cases (the network's real narratives, labelled by
   its coders) - when both models report it; and
2. the **independent evaluation set** (narratives the generator never wrote), and
3. as a guard, the held-out split of all labelled cases (mostly the synthetic sample or
   hospital-coded cases).

"Not worse" means: top-1 accuracy at most ``MARGINS[...]`` below the current model's, and on the
independent set also the precision of the automatically coded cases. The margins live here and
nowhere else; the retrain DAG and the CLI call this function and record its verdict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Allowed drop, in absolute points of a share (0.005 = half a percentage point).
MARGINS = {
    "heldout_top1": 0.01,  # held-out split of all labelled cases
    "coder_top1": 0.01,  # held-out coder-labelled cases
    "independent_top1": 0.01,  # independent evaluation set
    "independent_auto_precision": 0.01,
}
INDEPENDENT = "independent"  # key of the independent set in metrics["external"]


@dataclass
class Verdict:
    promote: bool
    checks: list[dict] = field(default_factory=list)
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _measures(metrics: dict) -> dict[str, float | None]:
    test = metrics.get("test") or {}
    coder = metrics.get("coder_test") or {}
    indep = ((metrics.get("external") or {}).get(INDEPENDENT) or {}).get("overall") or {}
    return {
        "heldout_top1": test.get("top1_accuracy"),
        "coder_top1": coder.get("top1_accuracy") if coder.get("cases") else None,
        "independent_top1": indep.get("top1_accuracy"),
        "independent_auto_precision": indep.get("auto_precision"),
    }


def promotion_decision(candidate: dict, current: dict | None) -> Verdict:
    """Promote ``candidate`` over ``current`` (both ``metrics.json`` dicts) only when it is not
    worse, within ``MARGINS``, on every measure both report; a measure the candidate lacks but
    the current model reports blocks the promotion (it cannot be shown not worse)."""
    if current is None:
        return Verdict(True, [], "no current model")
    cand, curr = _measures(candidate), _measures(current)
    checks = []
    for key, margin in MARGINS.items():
        c, r = cand[key], curr[key]
        if r is None:
            checks.append(
                {
                    "measure": key,
                    "candidate": c,
                    "current": r,
                    "ok": True,
                    "note": "current model does not report it",
                }
            )
            continue
        ok = c is not None and c >= r - margin
        checks.append(
            {"measure": key, "candidate": c, "current": r, "margin": margin, "ok": bool(ok)}
        )
    failed = [c["measure"] for c in checks if not c["ok"]]
    if failed:
        return Verdict(False, checks, "worse than the current model on " + ", ".join(failed))
    return Verdict(True, checks, "not worse on any measure")
