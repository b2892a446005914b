"""Configuration in one place: paths and secrets, read from the environment.

Nothing else in the library reads environment variables; callers build a ``Settings`` (usually
``Settings.from_env()``) and pass it down.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from pipeline.errors import ConfigError

__all__ = [
    "PSEUDONYM_KEY_ENV",
    "REPO_ROOT",
    "SAMPLE_DIR",
    "ConfigError",
    "IntakeLimits",
    "PasswordCost",
    "Settings",
    "SmtpSettings",
    "WebSettings",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO_ROOT / "data" / "sample"
PSEUDONYM_KEY_ENV = "SENTINEL_PSEUDONYM_KEY"
DEFAULT_LOCK_TIMEOUT = 120.0  # seconds a writer waits for another writer before "busy"
DEFAULT_SNAPSHOTS = 3  # published snapshots kept (the current one and two before it)
# Great Expectations Data Docs: the sites of this many latest ingest runs (or DAG stage tasks)
# are kept under <home>/data_docs/runs/; older ones are removed. 0 keeps every run.
DEFAULT_DATA_DOCS_RUNS = 200
APP_DB_ENV = "SENTINEL_APP_DB"


def _env_int(env: dict[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _env_bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be 1/0 (true/false), got {raw!r}")


@dataclass(frozen=True)
class PasswordCost:
    """argon2id cost of new password hashes. The default is RFC 9106's low-memory profile
    (about 0.14 s a hash on the development machine); tests lower it through the environment
    (``SENTINEL_PASSWORD_TIME_COST`` / ``_MEMORY_KIB`` / ``_PARALLELISM``), production keeps it."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4

    @classmethod
    def from_env(cls, env: dict[str, str]) -> PasswordCost:
        cost = cls(
            time_cost=_env_int(env, "SENTINEL_PASSWORD_TIME_COST", 3),
            memory_kib=_env_int(env, "SENTINEL_PASSWORD_MEMORY_KIB", 65536, minimum=8),
            parallelism=_env_int(env, "SENTINEL_PASSWORD_PARALLELISM", 4),
        )
        if cost.memory_kib < 8 * cost.parallelism:
            raise ConfigError("SENTINEL_PASSWORD_MEMORY_KIB must be at least 8 x the parallelism")
        return cost


# Cheap enough for test suites; never for real accounts.
TEST_PASSWORD_COST = PasswordCost(time_cost=1, memory_kib=64, parallelism=1)


@dataclass(frozen=True)
class SmtpSettings:
    """Outgoing e-mail for notifications (docs/web.md). No host: notifications are not sent."""

    host: str | None = None
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    username: str | None = None
    password: str | None = None
    sender: str = "sentinel@localhost"
    timeout: float = 10.0

    @classmethod
    def from_env(cls, env: dict[str, str]) -> SmtpSettings:
        security = (env.get("SENTINEL_SMTP_SECURITY") or "starttls").strip().lower()
        if security not in ("starttls", "ssl", "none"):
            raise ConfigError(
                f"SENTINEL_SMTP_SECURITY must be starttls, ssl or none, got {security!r}"
            )
        default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
        return cls(
            host=(env.get("SENTINEL_SMTP_HOST") or "").strip() or None,
            port=_env_int(env, "SENTINEL_SMTP_PORT", default_port),
            security=security,
            username=env.get("SENTINEL_SMTP_USER") or None,
            password=env.get("SENTINEL_SMTP_PASSWORD") or None,
            sender=(env.get("SENTINEL_SMTP_FROM") or "").strip() or "sentinel@localhost",
        )


@dataclass(frozen=True)
class WebSettings:
    """Sign-in, session and lockout rules of the web application (docs/web.md)."""

    session_idle_minutes: int = 30  # a session unused this long ends
    session_max_hours: int = 12  # and none lives longer than this, used or not
    login_max_failures: int = 5  # consecutive wrong passwords before an account locks
    login_lockout_minutes: int = 15
    login_window_minutes: int = 15  # throttling window for failures by client address
    login_max_per_address: int = 30  # failures from one address within the window
    cookie_secure: bool = True  # Secure cookies; browsers keep them on http://127.0.0.1 too
    secret_key: str | None = None  # signs the sign-in form token; None: <home>/secrets/web-secret
    forwarded_allow_ips: str = "127.0.0.1"  # proxies trusted for X-Forwarded-For / -Proto
    password_cost: PasswordCost = field(default_factory=PasswordCost)
    upload_max_mb: int = 20  # a clerk's dry-run upload
    page_size: int = 50  # rows per page of case search results
    export_max_rows: int = 200_000  # rows of one CSV / XLSX export

    @classmethod
    def from_env(cls, env: dict[str, str]) -> WebSettings:
        return cls(
            session_idle_minutes=_env_int(env, "SENTINEL_SESSION_IDLE_MINUTES", 30),
            session_max_hours=_env_int(env, "SENTINEL_SESSION_MAX_HOURS", 12),
            login_max_failures=_env_int(env, "SENTINEL_LOGIN_MAX_FAILURES", 5),
            login_lockout_minutes=_env_int(env, "SENTINEL_LOGIN_LOCKOUT_MINUTES", 15),
            login_window_minutes=_env_int(env, "SENTINEL_LOGIN_WINDOW_MINUTES", 15),
            login_max_per_address=_env_int(env, "SENTINEL_LOGIN_MAX_PER_ADDRESS", 30),
            cookie_secure=_env_bool(env, "SENTINEL_COOKIE_SECURE", True),
            secret_key=env.get("SENTINEL_WEB_SECRET") or None,
            forwarded_allow_ips=env.get("SENTINEL_FORWARDED_ALLOW_IPS", "127.0.0.1"),
            password_cost=PasswordCost.from_env(env),
            upload_max_mb=_env_int(env, "SENTINEL_WEB_UPLOAD_MAX_MB", 20),
            export_max_rows=_env_int(env, "SENTINEL_WEB_EXPORT_MAX_ROWS", 200_000),
        )


MIB = 1 << 20


@dataclass(frozen=True)
class ApiSettings:
    """The hospital submission API (docs/intake.md, "API for hospital IT")."""

    rate_per_minute: int = 120  # SENTINEL_API_RATE_PER_MINUTE: requests per token per minute
    token_days: int = 365  # SENTINEL_API_TOKEN_DAYS: default lifetime of a new token
    max_upload_mb: int = 0  # SENTINEL_API_MAX_UPLOAD_MB; 0: the intake file limit
    # The embedded ingest worker's batches: a batch closes at this many files, or when its
    # oldest file has waited this long (receipts are published at the end of each batch).
    batch_files: int = 128  # SENTINEL_API_BATCH_FILES
    batch_wait_ms: int = 1000  # SENTINEL_API_BATCH_WAIT_MS (0: start at once)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> ApiSettings:
        return cls(
            rate_per_minute=_env_int(env, "SENTINEL_API_RATE_PER_MINUTE", 120),
            token_days=_env_int(env, "SENTINEL_API_TOKEN_DAYS", 365),
            max_upload_mb=_env_int(env, "SENTINEL_API_MAX_UPLOAD_MB", 0, minimum=0),
            batch_files=_env_int(env, "SENTINEL_API_BATCH_FILES", 128),
            batch_wait_ms=_env_int(env, "SENTINEL_API_BATCH_WAIT_MS", 1000, minimum=0),
        )


INGEST_TRIGGERS = ("worker", "airflow")


@dataclass(frozen=True)
class IngestTrigger:
    """What starts ingestion when the submission API accepts a file (docs/intake.md, "How the
    single DuckDB writer stays single"). ``worker``: the web app's own ingest thread (default,
    no scheduler needed). ``airflow``: a run of the ``ingest_daily`` DAG for the file's
    hospital through Airflow 3's REST API (``POST /api/v2/dags/{dag_id}/dagRuns``, with a JWT
    from ``POST /auth/token``); the web app then never writes the warehouse."""

    mode: str = "worker"  # SENTINEL_INGEST_TRIGGER
    airflow_url: str = ""  # SENTINEL_AIRFLOW_API_URL, e.g. http://127.0.0.1:8080
    airflow_username: str = ""  # SENTINEL_AIRFLOW_USERNAME
    airflow_password: str = field(default="", repr=False)  # SENTINEL_AIRFLOW_PASSWORD(_FILE)
    airflow_dag_id: str = "ingest_daily"  # SENTINEL_AIRFLOW_DAG_ID
    airflow_timeout: float = 10.0  # SENTINEL_AIRFLOW_TIMEOUT (seconds per request)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> IngestTrigger:
        mode = env.get("SENTINEL_INGEST_TRIGGER", "").strip().lower() or "worker"
        if mode not in INGEST_TRIGGERS:
            raise ConfigError(
                f"SENTINEL_INGEST_TRIGGER must be one of {', '.join(INGEST_TRIGGERS)}, got {mode!r}"
            )
        password = env.get("SENTINEL_AIRFLOW_PASSWORD", "")
        password_file = env.get("SENTINEL_AIRFLOW_PASSWORD_FILE", "").strip()
        if password_file and not password:
            try:
                password = Path(password_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"SENTINEL_AIRFLOW_PASSWORD_FILE {password_file}: {exc.strerror}"
                ) from None
        url = env.get("SENTINEL_AIRFLOW_API_URL", "").strip().rstrip("/")
        if mode == "airflow" and not url.startswith(("http://", "https://")):
            raise ConfigError(
                "SENTINEL_INGEST_TRIGGER=airflow needs SENTINEL_AIRFLOW_API_URL "
                f"(http:// or https://), got {url!r}"
            )
        return cls(
            mode=mode,
            airflow_url=url,
            airflow_username=env.get("SENTINEL_AIRFLOW_USERNAME", "").strip(),
            airflow_password=password,
            airflow_dag_id=env.get("SENTINEL_AIRFLOW_DAG_ID", "").strip() or "ingest_daily",
            airflow_timeout=_number(env, "SENTINEL_AIRFLOW_TIMEOUT", 10.0, float),
        )


@dataclass(frozen=True)
class IntakeLimits:
    """Bounds on what one hospital file may hold (docs/operations.md, "Intake limits").

    Each is checked before reading where it can be (file size, a workbook's declared unpacked
    size) and again while reading, so a hostile file is refused without being held in memory;
    a file over a limit is rejected with that limit's own rule, and a cell over
    ``max_cell_chars`` quarantines its row only. The checks apply per chunk of rows as well as
    per file (a chunked reader passes one :class:`pipeline.intake.bounds.Bounds` along).
    """

    max_file_bytes: int = 512 * MIB  # SENTINEL_MAX_FILE_MB: the file as sent
    max_unpacked_bytes: int = 1024 * MIB  # SENTINEL_MAX_UNPACKED_MB: an XLSX's parts, unpacked
    max_rows: int = 1_048_576  # SENTINEL_MAX_ROWS: data rows (Excel's own sheet limit)
    max_columns: int = 256  # SENTINEL_MAX_COLUMNS: cells in any row, header included
    max_cell_chars: int = 32_767  # SENTINEL_MAX_CELL_CHARS: characters in one cell (Excel's)
    # SENTINEL_EARLIEST_DATE: visit and injury dates before it are implausible (rule
    # date_too_early); set it to the network's start date, or the earliest history accepted.
    earliest_date: date = date(2000, 1, 1)
    # SENTINEL_CHUNK_ROWS: rows prepared and validated at a time (a large file in chunks, so
    # Great Expectations' working memory stays bounded); the outcome does not depend on it.
    chunk_rows: int = 100_000
    # SENTINEL_LOAD_MEMORY_MB: DuckDB's memory limit while the load applies staged submissions
    # (its buffers beyond it spill to <warehouse>.tmp): a large submission's versions, inserted
    # in one transaction, would otherwise stay in memory up to DuckDB's default (80% of RAM).
    # 0: DuckDB's default.
    load_memory_mb: int = 512

    @classmethod
    def from_env(cls, env: dict[str, str]) -> IntakeLimits:
        default = cls()
        raw_date = env.get("SENTINEL_EARLIEST_DATE", "").strip()
        try:
            earliest = date.fromisoformat(raw_date) if raw_date else default.earliest_date
        except ValueError:
            raise ConfigError(
                f"SENTINEL_EARLIEST_DATE must be a date YYYY-MM-DD, got {raw_date!r}"
            ) from None
        return cls(
            max_file_bytes=_env_int(env, "SENTINEL_MAX_FILE_MB", default.max_file_bytes // MIB)
            * MIB,
            max_unpacked_bytes=_env_int(
                env, "SENTINEL_MAX_UNPACKED_MB", default.max_unpacked_bytes // MIB
            )
            * MIB,
            max_rows=_env_int(env, "SENTINEL_MAX_ROWS", default.max_rows),
            max_columns=_env_int(env, "SENTINEL_MAX_COLUMNS", default.max_columns),
            max_cell_chars=_env_int(env, "SENTINEL_MAX_CELL_CHARS", default.max_cell_chars),
            earliest_date=earliest,
            chunk_rows=_env_int(env, "SENTINEL_CHUNK_ROWS", default.chunk_rows),
            load_memory_mb=_env_int(env, "SENTINEL_LOAD_MEMORY_MB", default.load_memory_mb),
        )


@dataclass(frozen=True)
class Settings:
    """Where Sentinel reads and writes. ``home`` holds everything the pipeline produces."""

    home: Path
    landing_dir: Path
    hospital_registry: Path | None = None  # None: the packaged registry
    pseudonym_key: str | None = None
    models_root: Path | None = None  # None: the models shipped in the repository (models/)
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT  # SENTINEL_LOCK_TIMEOUT
    snapshot_retention: int = DEFAULT_SNAPSHOTS  # SENTINEL_SNAPSHOTS_KEEP
    data_docs_keep_runs: int = DEFAULT_DATA_DOCS_RUNS  # SENTINEL_DATA_DOCS_KEEP_RUNS (0: all)
    app_db_url: str | None = None  # None: SQLite file <home>/app.db
    web: WebSettings = field(default_factory=WebSettings)
    lake_uri: str | None = None  # None: <home>/lake; else e.g. s3://bucket/lake (pyarrow.fs)
    failure_emails: tuple[str, ...] = ()  # who gets an e-mail when an Airflow task fails
    # labelled narratives for training the product coder: calibration.csv (confidence model)
    # and the evaluation sets (measured only); None: the repository's tests/data/coding/
    coding_data_root: Path | None = None  # SENTINEL_CODING_DATA
    intake: IntakeLimits = field(default_factory=IntakeLimits)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    ingest_trigger: IngestTrigger = field(default_factory=IngestTrigger)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        home = Path(env.get("SENTINEL_HOME", REPO_ROOT / "var")).resolve()
        landing = Path(env.get("SENTINEL_LANDING", SAMPLE_DIR / "landing")).resolve()
        registry = env.get("SENTINEL_HOSPITAL_REGISTRY")
        models = env.get("SENTINEL_MODELS_DIR")
        coding_data = env.get("SENTINEL_CODING_DATA")
        lake_uri = (env.get("SENTINEL_LAKE_URI") or "").strip() or None
        if lake_uri and "://" not in lake_uri:
            lake_uri = str(Path(lake_uri).resolve())
        emails = tuple(
            e.strip() for e in env.get("SENTINEL_FAILURE_EMAIL", "").replace(";", ",").split(",")
        )
        return cls(
            lock_timeout=_number(env, "SENTINEL_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT, float),
            snapshot_retention=_number(env, "SENTINEL_SNAPSHOTS_KEEP", DEFAULT_SNAPSHOTS, int),
            data_docs_keep_runs=_number(
                env, "SENTINEL_DATA_DOCS_KEEP_RUNS", DEFAULT_DATA_DOCS_RUNS, int, allow_zero=True
            ),
            home=home,
            landing_dir=landing,
            hospital_registry=Path(registry).resolve() if registry else None,
            pseudonym_key=env.get(PSEUDONYM_KEY_ENV) or None,
            models_root=Path(models).resolve() if models else None,
            app_db_url=env.get(APP_DB_ENV) or None,
            web=WebSettings.from_env(env),
            lake_uri=lake_uri,
            failure_emails=tuple(e for e in emails if e),
            coding_data_root=Path(coding_data).resolve() if coding_data else None,
            intake=IntakeLimits.from_env(env),
            smtp=SmtpSettings.from_env(env),
            api=ApiSettings.from_env(env),
            ingest_trigger=IngestTrigger.from_env(env),
        )

    @property
    def api_max_upload_bytes(self) -> int:
        """Largest body the submission API accepts (413 beyond)."""
        if self.api.max_upload_mb:
            return min(self.api.max_upload_mb * MIB, self.intake.max_file_bytes)
        return self.intake.max_file_bytes

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
    def lock_path(self) -> Path:
        """The writers' lock (see pipeline/storage/lock.py)."""
        return self.home / "warehouse.lock"

    @property
    def published_dir(self) -> Path:
        """Published read-only snapshots (see pipeline/storage/publish.py)."""
        return self.home / "published"

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def arrivals_dir(self) -> Path:
        """When each landing file arrived (pipeline/intake/arrivals.py): outside the landing."""
        return self.home / "arrivals"

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
    def app_database_url(self) -> str:
        """SQLAlchemy URL of the application database (users, sessions, audit log)."""
        return self.app_db_url or f"sqlite:///{self.home / 'app.db'}"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def models_dir(self) -> Path:
        return self.models_root or REPO_ROOT / "models"

    @property
    def coding_data_dir(self) -> Path:
        return self.coding_data_root or REPO_ROOT / "tests" / "data" / "coding"

    def require_pseudonym_key(self) -> bytes:
        """The HMAC key for patient pseudonyms; refuses to run without one."""
        if not self.pseudonym_key or len(self.pseudonym_key) < 16:
            raise ConfigError(
                f"{PSEUDONYM_KEY_ENV} must be set to a secret of at least 16 characters "
                "(see docs/operations.md); it keys the patient pseudonyms and is never committed",
                detail_zh=f"必须将 {PSEUDONYM_KEY_ENV} 设为至少 16 个字符的密钥（见 "
                "docs/operations.md）；它用于患者假名化，绝不提交到代码库",
            )
        return self.pseudonym_key.encode("utf-8")


def key_fingerprint(key: bytes) -> str:
    """A fingerprint of the pseudonym key, safe to store and show: an HMAC of a fixed label
    under the key (it reveals nothing about the key, and no pseudonym can be computed from it).
    The warehouse keeps it so that ingest refuses a different key (exit code 8)."""
    return hmac.new(key, b"sentinel pseudonym key fingerprint v1", hashlib.sha256).hexdigest()


def _number(
    env: dict[str, str], name: str, default: float, kind: type, allow_zero: bool = False
) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = -1
    if value < 0 or (kind is int and value < 1 and not allow_zero):
        raise ConfigError(f"{name} must be a positive number, not {raw!r}")
    return value
