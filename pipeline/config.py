"""Configuration in one place: paths and secrets, read from the environment.

Nothing else in the library reads environment variables; callers build a ``Settings`` (usually
``Settings.from_env()``) and pass it down.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO_ROOT / "data" / "sample"
PSEUDONYM_KEY_ENV = "SENTINEL_PSEUDONYM_KEY"


class ConfigError(RuntimeError):
    """A setting is missing or invalid."""


@dataclass(frozen=True)
class Settings:
    """Where Sentinel reads and writes. ``home`` holds everything the pipeline produces."""

    home: Path
    landing_dir: Path
    hospital_registry: Path | None = None  # None: the packaged registry
    pseudonym_key: str | None = None
    models_root: Path | None = None  # None: the models shipped in the repository (models/)
    lake_uri: str | None = None  # None: <home>/lake; else e.g. s3://bucket/lake (pyarrow.fs)
    failure_emails: tuple[str, ...] = ()  # who gets an e-mail when an Airflow task fails

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        home = Path(env.get("SENTINEL_HOME", REPO_ROOT / "var")).resolve()
        landing = Path(env.get("SENTINEL_LANDING", SAMPLE_DIR / "landing")).resolve()
        registry = env.get("SENTINEL_HOSPITAL_REGISTRY")
        models = env.get("SENTINEL_MODELS_DIR")
        lake_uri = (env.get("SENTINEL_LAKE_URI") or "").strip() or None
        if lake_uri and "://" not in lake_uri:
            lake_uri = str(Path(lake_uri).resolve())
        emails = tuple(
            e.strip() for e in env.get("SENTINEL_FAILURE_EMAIL", "").replace(";", ",").split(",")
        )
        return cls(
            home=home,
            landing_dir=landing,
            hospital_registry=Path(registry).resolve() if registry else None,
            pseudonym_key=env.get(PSEUDONYM_KEY_ENV) or None,
            models_root=Path(models).resolve() if models else None,
            lake_uri=lake_uri,
            failure_emails=tuple(e for e in emails if e),
        )

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def lake_dir(self) -> Path:
        """The local lake directory (the default location)."""
        return self.home / "lake"

    @property
    def lake_location(self) -> str:
        """Where the lake is: ``SENTINEL_LAKE_URI`` (a path or e.g. ``s3://bucket/lake``) or
        ``<home>/lake``; see pipeline.storage.lake."""
        return self.lake_uri or str(self.lake_dir)

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def staging_dir(self) -> Path:
        return self.home / "staging"

    @property
    def data_docs_dir(self) -> Path:
        return self.home / "data_docs"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def evidence_dir(self) -> Path:
        return self.home / "evidence"

    @property
    def models_dir(self) -> Path:
        return self.models_root or REPO_ROOT / "models"

    def require_pseudonym_key(self) -> bytes:
        """The HMAC key for patient pseudonyms; refuses to run without one."""
        if not self.pseudonym_key or len(self.pseudonym_key) < 16:
            raise ConfigError(
                f"{PSEUDONYM_KEY_ENV} must be set to a secret of at least 16 characters "
                "(see docs/operations.md); it keys the patient pseudonyms and is never committed"
            )
        return self.pseudonym_key.encode("utf-8")
