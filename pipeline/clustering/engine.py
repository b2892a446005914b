"""Incremental leader clustering with stable pattern identities.

Cases are processed once, in a deterministic order (visit week, visit time, hospital, case id).
Within its product category a case joins the most similar *pattern* (cosine similarity of the
case vector to the pattern centroid >= ``threshold``) or, when an unpromoted *candidate* cluster
is more similar, that candidate; otherwise it seeds a new candidate. A candidate that reaches
``min_cases`` members is promoted to a pattern with the next id of its category
(``HA01-P001``, ``HA01-P002`` ...) and all its members take that id. A case keeps its pattern for
good (new cases move centroids but never re-assign old cases), so pattern ids are stable week
to week; a genuinely new scenario shows up as a new id. Candidates that attract no case for
``candidate_ttl_weeks`` are dropped (their cases stay unpatterned, which keeps the state small).

The whole state (frozen IDF, centroid sums, counts, membership of candidates) is saved under
``$SENTINEL_HOME/patterns/state/`` so the next refresh continues exactly where this one stopped.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from pipeline.clustering.features import Idf, Layout

STATE_VERSION = 1


@dataclass(frozen=True)
class Params:
    threshold: float = 0.35  # case-to-centroid cosine needed to join a pattern or candidate
    min_cases: int = 4  # a candidate becomes a pattern at this many cases
    merge_threshold: float | None = 0.4  # centroid cosine: a new group joins a pattern instead
    candidate_ttl_weeks: int = 13
    weights: dict[str, float] = field(default_factory=dict)


def week_index(week: str) -> int:
    """A monotone integer for an ISO week 'YYYY-Www' (gaps between years do not matter)."""
    year, w = week.split("-W")
    return int(year) * 53 + int(w)


class CategoryClusters:
    """Centroid sums of one category's patterns and candidates (rows of a growing matrix)."""

    def __init__(self, dim: int) -> None:
        self.sums = np.zeros((0, dim), dtype=np.float32)
        self.norm2 = np.zeros(0, dtype=np.float64)
        self.count = np.zeros(0, dtype=np.int64)
        self.pattern_id: list[str | None] = []
        self.first_week: list[str] = []
        self.last_week: list[str] = []
        self.members: list[list[tuple[str, str]]] = []  # candidates only
        self.alive = np.zeros(0, dtype=bool)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def _grow(self) -> None:
        cap = max(8, 2 * self.sums.shape[0])
        for name in ("sums", "norm2", "count", "alive"):
            old = getattr(self, name)
            new = np.zeros((cap, *old.shape[1:]), dtype=old.dtype)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)

    def add(self, vec: np.ndarray, key: tuple[str, str], week: str) -> int:
        if self._n == self.sums.shape[0]:
            self._grow()
        i = self._n
        self._n += 1
        self.sums[i] = vec
        self.norm2[i] = float(vec @ vec)
        self.count[i] = 1
        self.alive[i] = True
        self.pattern_id.append(None)
        self.first_week.append(week)
        self.last_week.append(week)
        self.members.append([key])
        return i

    def join(self, i: int, vec: np.ndarray, key: tuple[str, str], week: str) -> None:
        self.norm2[i] += 2.0 * float(self.sums[i] @ vec) + float(vec @ vec)
        self.sums[i] += vec
        self.count[i] += 1
        self.last_week[i] = max(self.last_week[i], week)
        self.first_week[i] = min(self.first_week[i], week)
        if self.pattern_id[i] is None:
            self.members[i].append(key)

    def similarities(self, vec: np.ndarray) -> np.ndarray:
        n = self._n
        if n == 0:
            return np.zeros(0)
        dots = self.sums[:n] @ vec
        sims = dots / np.sqrt(np.maximum(self.norm2[:n], 1e-12))
        sims[~self.alive[:n]] = -1.0
        return sims


@dataclass
class Assignment:
    hospital_code: str
    case_id: str
    pattern_id: str
    assigned_week: str
    similarity: float


@dataclass
class ClusterState:
    """Everything a refresh needs to continue where the previous one stopped."""

    params: Params
    idf: Idf
    layout: Layout
    categories: dict[str, CategoryClusters] = field(default_factory=dict)
    next_seq: dict[str, int] = field(default_factory=dict)
    processed_week: str | None = None
    # similarity of every candidate member when it joined (reported once promoted)
    pending_sim: dict[tuple[str, str], float] = field(default_factory=dict)

    def clusters(self, category: str) -> CategoryClusters:
        if category not in self.categories:
            self.categories[category] = CategoryClusters(self.layout.dim)
        return self.categories[category]

    def assign(
        self, category: str, key: tuple[str, str], week: str, vec: np.ndarray
    ) -> list[Assignment]:
        """Process one case; returns the assignments made (several when a candidate is
        promoted, none when the case only joined or seeded a candidate)."""
        cc = self.clusters(category)
        sims = cc.similarities(vec)
        best_p = best_c = -1
        sp_, sc_ = -1.0, -1.0
        if len(sims):
            is_pat = np.fromiter((p is not None for p in cc.pattern_id), dtype=bool, count=len(cc))
            if is_pat.any():
                ps = np.where(is_pat, sims, -2.0)
                best_p = int(np.argmax(ps))
                sp_ = float(ps[best_p])
            if (~is_pat).any():
                cs = np.where(~is_pat, sims, -2.0)
                best_c = int(np.argmax(cs))
                sc_ = float(cs[best_c])
        threshold = self.params.threshold
        if best_p >= 0 and sp_ >= threshold and sp_ >= sc_:
            cc.join(best_p, vec, key, week)
            return [Assignment(*key, cc.pattern_id[best_p], week, round(sp_, 4))]
        if best_c >= 0 and sc_ >= threshold:
            cc.join(best_c, vec, key, week)
            self.pending_sim[key] = round(sc_, 4)
            if cc.count[best_c] >= self.params.min_cases:
                return self._promote(category, cc, best_c, week)
            return []
        i = cc.add(vec, key, week)
        self.pending_sim[key] = 1.0
        if self.params.min_cases <= 1:
            return self._promote(category, cc, i, week)
        return []

    def _promote(self, category: str, cc: CategoryClusters, i: int, week: str) -> list[Assignment]:
        merge = self.params.merge_threshold
        if merge is not None:
            n = len(cc)
            pats = [j for j in range(n) if cc.pattern_id[j] is not None and cc.alive[j]]
            if pats:
                centre = cc.sums[i] / max(np.sqrt(cc.norm2[i]), 1e-12)
                sims = (cc.sums[pats] @ centre) / np.sqrt(np.maximum(cc.norm2[pats], 1e-12))
                k = int(np.argmax(sims))
                if sims[k] >= merge:
                    j = pats[k]
                    cc.norm2[j] += 2.0 * float(cc.sums[j] @ cc.sums[i]) + cc.norm2[i]
                    cc.sums[j] += cc.sums[i]
                    cc.count[j] += cc.count[i]
                    cc.first_week[j] = min(cc.first_week[j], cc.first_week[i])
                    cc.last_week[j] = max(cc.last_week[j], cc.last_week[i])
                    pid = cc.pattern_id[j]
                    out = [
                        Assignment(*key, pid, week, self.pending_sim.pop(key, 0.0))
                        for key in cc.members[i]
                    ]
                    cc.members[i] = []
                    cc.alive[i] = False
                    cc.sums[i] = 0.0
                    return out
        seq = self.next_seq.get(category, 0) + 1
        self.next_seq[category] = seq
        pid = f"{category}-P{seq:03d}"
        cc.pattern_id[i] = pid
        out = [Assignment(*key, pid, week, self.pending_sim.pop(key, 0.0)) for key in cc.members[i]]
        cc.members[i] = []
        return out

    def expire_candidates(self, week: str) -> int:
        """Drop candidates idle for more than ``candidate_ttl_weeks``; returns how many."""
        now = week_index(week)
        dropped = 0
        for cc in self.categories.values():
            for i in range(len(cc)):
                if (
                    cc.alive[i]
                    and cc.pattern_id[i] is None
                    and now - week_index(cc.last_week[i]) > self.params.candidate_ttl_weeks
                ):
                    cc.alive[i] = False
                    cc.sums[i] = 0.0
                    for key in cc.members[i]:
                        self.pending_sim.pop(key, None)
                    cc.members[i] = []
                    dropped += 1
        return dropped

    def pattern_rows(self) -> list[dict]:
        rows = []
        for category in sorted(self.categories):
            cc = self.categories[category]
            for i in range(len(cc)):
                if cc.pattern_id[i] is not None:
                    rows.append(
                        {
                            "pattern_id": cc.pattern_id[i],
                            "category_code": category,
                            "first_week": cc.first_week[i],
                            "last_week": cc.last_week[i],
                            "centroid_n": int(cc.count[i]),
                        }
                    )
        return rows

    def centroid(self, pattern_id: str) -> np.ndarray:
        category = pattern_id.rsplit("-P", 1)[0]
        cc = self.categories[category]
        i = cc.pattern_id.index(pattern_id)
        return cc.sums[i] / max(np.sqrt(cc.norm2[i]), 1e-12)

    # ---- persistence -------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write the state atomically (a temporary directory, then a rename)."""
        directory = Path(directory)
        tmp = directory.with_name(directory.name + ".tmp")
        if tmp.exists():
            for p in tmp.iterdir():
                p.unlink()
        tmp.mkdir(parents=True, exist_ok=True)
        cats = sorted(self.categories)
        sums, meta = [], []
        for category in cats:
            cc = self.categories[category]
            # dropped candidates are not saved (patterns always are)
            keep = [i for i in range(len(cc)) if cc.alive[i] or cc.pattern_id[i] is not None]
            sums.append(sp.csr_matrix(cc.sums[keep]))
            meta.append(
                {
                    "category": category,
                    "n": len(keep),
                    "norm2": cc.norm2[keep].tolist(),
                    "count": cc.count[keep].tolist(),
                    "alive": cc.alive[keep].tolist(),
                    "pattern_id": [cc.pattern_id[i] for i in keep],
                    "first_week": [cc.first_week[i] for i in keep],
                    "last_week": [cc.last_week[i] for i in keep],
                    "members": [cc.members[i] for i in keep],
                }
            )
        matrix = (
            sp.vstack(sums).tocsr()
            if sums
            else sp.csr_matrix((0, self.layout.dim), dtype=np.float32)
        )
        sp.save_npz(tmp / "centroids.npz", matrix.astype(np.float32), compressed=True)
        np.savez_compressed(
            tmp / "idf.npz",
            concepts=self.idf.concepts,
            terms=self.idf.terms,
            n_docs=np.array(self.idf.n_docs),
        )
        doc = {
            "state_version": STATE_VERSION,
            "params": asdict(self.params),
            "layout": {
                "struct_codes": self.layout.struct_codes,
                "offsets": self.layout.offsets,
                "dim": self.layout.dim,
            },
            "next_seq": self.next_seq,
            "processed_week": self.processed_week,
            "pending_sim": [[k[0], k[1], v] for k, v in sorted(self.pending_sim.items())],
            "categories": meta,
        }
        (tmp / "state.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        if directory.exists():
            old = directory.with_name(directory.name + ".old")
            if old.exists():
                for p in old.iterdir():
                    p.unlink()
                old.rmdir()
            directory.rename(old)
            tmp.rename(directory)
            for p in old.iterdir():
                p.unlink()
            old.rmdir()
        else:
            tmp.rename(directory)

    @classmethod
    def load(cls, directory: Path) -> ClusterState:
        directory = Path(directory)
        doc = json.loads((directory / "state.json").read_text(encoding="utf-8"))
        if doc["state_version"] != STATE_VERSION:
            raise ValueError(
                f"pattern state version {doc['state_version']} is not supported; "
                "rebuild with `sentinel patterns refresh --rebuild`"
            )
        lay = doc["layout"]
        layout = Layout(
            struct_codes={k: tuple(v) for k, v in lay["struct_codes"].items()},
            offsets=lay["offsets"],
            dim=lay["dim"],
        )
        idf_npz = np.load(directory / "idf.npz")
        idf = Idf(
            concepts=idf_npz["concepts"], terms=idf_npz["terms"], n_docs=int(idf_npz["n_docs"])
        )
        state = cls(
            params=Params(**doc["params"]),
            idf=idf,
            layout=layout,
            next_seq=doc["next_seq"],
            processed_week=doc["processed_week"],
            pending_sim={(h, c): v for h, c, v in doc["pending_sim"]},
        )
        matrix = sp.load_npz(directory / "centroids.npz").toarray()
        row = 0
        for meta in doc["categories"]:
            n = meta["n"]
            cc = CategoryClusters(layout.dim)
            cap = max(8, n)
            cc.sums = np.zeros((cap, layout.dim), dtype=np.float32)
            cc.sums[:n] = matrix[row : row + n]
            row += n
            cc.norm2 = np.zeros(cap)
            cc.norm2[:n] = meta["norm2"]
            cc.count = np.zeros(cap, dtype=np.int64)
            cc.count[:n] = meta["count"]
            cc.alive = np.zeros(cap, dtype=bool)
            cc.alive[:n] = meta["alive"]
            cc.pattern_id = list(meta["pattern_id"])
            cc.first_week = list(meta["first_week"])
            cc.last_week = list(meta["last_week"])
            cc.members = [[tuple(k) for k in m] for m in meta["members"]]
            cc._n = n
            state.categories[meta["category"]] = cc
        return state
