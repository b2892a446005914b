"""The hospital submission API, ``/api/v1`` (issue 19), for hospitals' systems (a token) and the
clerks' web upload page (the signed-in session, CSRF-checked; see ``policy.BearerRule``): wiring to
``pipeline.services.api_submissions`` (receive, status, list), ``pipeline.services.intake``
(the dry run) and the app's single ingest worker. Every route declares ``api_token()``; errors
are JSON in the token's language (or Accept-Language): ``{"error": {"status", "code",
"message", "lang"}}``. The OpenAPI schema of these routes is ``/api/openapi.json``, described
for people at ``/api/docs`` (a server-rendered page: no script from a CDN).
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import hashlib
import html
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from pipeline.config import Settings
from pipeline.services import api_submissions, intake
from pipeline.services.airflow_trigger import AirflowTrigger
from pipeline.services.api_submissions import ApiProblem, IngestWorker
from pipeline.web.context import ApiCtx, Ctx
from pipeline.web.i18n import DEFAULT_LANG, Translator
from pipeline.web.policy import api_token, public

PREFIX = "/api/v1"
CHUNK = 1 << 16
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file
RAW_TYPES = frozenset(
    {
        "application/octet-stream",
        "text/csv",
        "text/plain",
        "text/tab-separated-values",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel",
    }
)
UPLOAD_PATHS = frozenset({f"{PREFIX}/submissions", f"{PREFIX}/validate"})

router = APIRouter()


class RateLimiter:
    """Requests per sender (a token, a signed-in clerk) in a sliding minute (per process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[object, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self._lock = threading.Lock()

    def hit(self, sender: object, now: float | None = None) -> int:
        """0 if admitted, else the seconds to wait (Retry-After)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits[sender]
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(1, int(hits[0] + 60 - now + 0.999))
            hits.append(now)
            return 0


@dataclass
class ApiRuntime:
    """What the API holds for the app's lifetime (``app.state.api``)."""

    worker: IngestWorker | AirflowTrigger  # SENTINEL_INGEST_TRIGGER
    limiter: RateLimiter
    schema: dict = field(default_factory=dict)


def error_body(status: int, code: str, lang: str) -> dict:
    t = Translator(lang)
    return {
        "error": {"status": status, "code": code, "message": t(f"api.error.{code}"), "lang": t.lang}
    }


def api_error_response(request: Request, status: int, code: str, headers=None) -> JSONResponse:  # type: ignore[no-untyped-def]
    lang = getattr(request.state, "api_lang", None) or DEFAULT_LANG
    return JSONResponse(error_body(status, code, lang), status_code=status, headers=headers)


def too_large_response(scope) -> JSONResponse:  # type: ignore[no-untyped-def]
    """413 before reading a body whose Content-Length is over the limit (no token checked
    yet: the language is the Accept-Language one)."""
    from pipeline.web.i18n import negotiate  # noqa: PLC0415

    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    lang = negotiate(headers.get("accept-language")) or DEFAULT_LANG
    return JSONResponse(error_body(413, "too_large", lang), status_code=413)


# ---- receiving a body ---------------------------------------------------------------------


async def _body(request: Request, filename: str | None) -> tuple[str, AsyncIterator[bytes]]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=8)
        except Exception:
            raise ApiProblem(400, "bad_request") from None
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiProblem(400, "no_file")

        async def parts() -> AsyncIterator[bytes]:
            while chunk := await upload.read(CHUNK):
                yield chunk

        return api_submissions.check_name(upload.filename), parts()
    if ctype in RAW_TYPES:
        return api_submissions.check_name(filename), request.stream()
    raise ApiProblem(415, "unsupported_media_type")


async def _receive_to_file(
    request: Request, ctx: ApiCtx, filename: str | None
) -> tuple[str, Path, str, int]:
    settings: Settings = ctx.state.settings
    name, chunks = await _body(request, filename)
    limit = settings.api_max_upload_bytes
    temp = api_submissions.temp_upload(settings, ctx.hospital)
    digest, size = hashlib.sha256(), 0
    try:
        with temp.open("xb") as handle:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ApiProblem(413, "too_large")
                digest.update(chunk)
                handle.write(chunk)
        if size == 0:
            raise ApiProblem(400, "empty")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return name, temp, digest.hexdigest(), size


async def _receive_to_memory(
    request: Request, ctx: ApiCtx, filename: str | None
) -> tuple[str, bytes]:
    name, chunks = await _body(request, filename)
    limit = ctx.state.settings.api_max_upload_bytes
    data = bytearray()
    async for chunk in chunks:
        data += chunk
        if len(data) > limit:
            raise ApiProblem(413, "too_large")
    if not data:
        raise ApiProblem(400, "empty")
    return name, bytes(data)


ERRORS = {
    400: {"description": "Malformed request (no file, bad file name, empty body, bad date)"},
    401: {"description": "Missing, unknown, revoked or expired token"},
    404: {"description": "No such submission of this hospital"},
    413: {"description": "Body over the size limit"},
    415: {"description": "Unsupported content type or file extension"},
    429: {"description": "Over the token's rate limit; see Retry-After"},
}


@router.post(
    f"{PREFIX}/submissions",
    status_code=202,
    summary="Send a file (multipart field `file`, or the raw body with ?filename=)",
    responses={k: v for k, v in ERRORS.items() if k != 404}
    | {409: {"description": "Idempotency-Key or file name already used for other bytes"}},
)
async def create_submission(
    request: Request,
    filename: str | None = Query(None, description="File name, for a raw body"),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
    ctx: ApiCtx = api_token(),
) -> JSONResponse:
    name, temp, sha, size = await _receive_to_file(request, ctx, filename)
    accepted = await run_in_threadpool(
        api_submissions.accept,
        ctx.state.settings,
        ctx.state.db,
        ctx.sender,
        name,
        temp,
        sha,
        size,
        idempotency_key,
    )
    runtime: ApiRuntime = request.app.state.api
    if accepted.created:
        runtime.worker.submit(accepted.submission_id)
    url = f"{PREFIX}/submissions/{accepted.submission_id}"
    return JSONResponse(
        {
            "submission_id": accepted.submission_id,
            "status_url": url,
            "received_at": accepted.received_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "sha256": sha,
            "size_bytes": size,
            "file_name": name,
            "new": accepted.created,
            "duplicate_of": accepted.duplicate_of,
        },
        status_code=202,
        headers={"Location": url},
    )


@router.get(
    f"{PREFIX}/submissions/{{submission_id}}",
    summary="Status history and receipt",
    responses=ERRORS,
)
def get_submission(submission_id: str, ctx: ApiCtx = api_token()) -> JSONResponse:
    body = api_submissions.status(ctx.state.settings, ctx.state.db, ctx.hospital, submission_id)
    return JSONResponse(body)


@router.get(f"{PREFIX}/submissions", summary="This hospital's submissions", responses=ERRORS)
def list_submissions(
    since: str | None = Query(None, description="ISO date or time (UTC): received at or after"),
    ctx: ApiCtx = api_token(),
) -> JSONResponse:
    when = None
    if since:
        try:
            when = dt.datetime.fromisoformat(since.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ApiProblem(400, "bad_since") from None
        if when.tzinfo is not None:
            when = when.astimezone(dt.UTC).replace(tzinfo=None)
    items = api_submissions.list_submissions(ctx.state.db, ctx.hospital, when)
    return JSONResponse({"hospital_code": ctx.hospital, "submissions": items})


@router.post(
    f"{PREFIX}/validate",
    summary="Dry run: the receipt ingest would give (nothing stored)",
    responses={k: v for k, v in ERRORS.items() if k != 404},
)
async def validate(
    request: Request,
    filename: str | None = Query(None, description="File name, for a raw body"),
    ctx: ApiCtx = api_token(),
) -> JSONResponse:
    name, data = await _receive_to_memory(request, ctx, filename)
    # A clerk on the web page reads the receipt in the page's language (as the server-side
    # dry run); a system gets the file's header language (as `sentinel validate`).
    lang = None if ctx.token is not None else ctx.lang
    receipt = await run_in_threadpool(
        functools.partial(intake.dry_run_data, lang=lang),
        name,
        data,
        ctx.hospital,
        ctx.state.settings,
    )
    return JSONResponse(receipt)


@router.get("/api/openapi.json", include_in_schema=False)
def openapi(request: Request, ctx: Ctx = public()) -> JSONResponse:
    return JSONResponse(request.app.state.api.schema)


@router.get("/api/docs", include_in_schema=False)
def docs(request: Request, ctx: Ctx = public()) -> HTMLResponse:
    schema = request.app.state.api.schema
    rows = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            codes = ", ".join(sorted(op.get("responses", {})))
            rows.append(
                f"<tr><td><code>{html.escape(method.upper())}</code></td>"
                f"<td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(op.get('summary', ''))}</td><td>{html.escape(codes)}</td></tr>"
            )
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Sentinel submission API</title></head><body><h1>Sentinel submission API</h1>"
        "<p>Authorization: <code>Bearer &lt;token&gt;</code> (issued by "
        "<code>sentinel tokens issue</code>). Schema: "
        '<a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3).</p>'
        "<table><tr><th>method</th><th>path</th><th>what</th><th>statuses</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
    return HTMLResponse(body)


def install(app: FastAPI, settings: Settings, db) -> ApiRuntime:  # type: ignore[no-untyped-def]
    app.include_router(router)
    runtime = ApiRuntime(
        worker=api_submissions.make_trigger(settings, db),
        limiter=RateLimiter(settings.api.rate_per_minute),
    )
    api_routes = [r for r in app.routes if isinstance(r, APIRoute) and r.path.startswith(PREFIX)]
    runtime.schema = get_openapi(
        title="Sentinel submission API",
        version="1",
        description="Hospitals' systems send extracts and read their receipts (docs/intake.md).",
        routes=api_routes,
    )
    runtime.schema.setdefault("components", {})["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer"}
    }
    runtime.schema["security"] = [{"bearer": []}]
    app.state.api = runtime
    return runtime
