"""``create_app(settings)``: the Sentinel web application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from pipeline import reference
from pipeline.appdb import schema
from pipeline.appdb.db import AppDB
from pipeline.appdb.models import utcnow
from pipeline.config import Settings
from pipeline.storage.session import Snapshots
from pipeline.web import api, errors
from pipeline.web.headers import SecurityHeaders
from pipeline.web.jobs import Jobs
from pipeline.web.policy import check_policy
from pipeline.web.routes import (
    account,
    admin_users,
    approvals,
    cases,
    coding,
    evidence,
    hospitals,
    network,
    notifications,
    session,
    signals,
)
from pipeline.web.state import Clock, WebState, load_secret

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings, clock: Clock | None = None, db: AppDB | None = None) -> FastAPI:
    """The app for this configuration. The application database must be at the newest schema
    (``sentinel web`` upgrades it first); ``clock`` (naive UTC) is for tests."""
    database = db or AppDB.from_settings(settings)
    schema.require_current(database.url)
    app = FastAPI(
        title="Sentinel",
        docs_url=None,  # no API explorer on the web app (the submission API brings its own)
        redoc_url=None,
        openapi_url=None,
    )
    app.state.web = WebState(
        settings=settings,
        db=database,
        clock=clock or utcnow,
        secret=load_secret(settings),
        hospitals=reference.load_hospitals(settings.hospital_registry),
        snapshots=Snapshots(settings),
        jobs=Jobs(),
    )
    database.hasher.verify(None, "")  # the timing-equaliser hash, made before the first sign-in
    for router in (
        session.router,
        account.router,
        admin_users.router,
        hospitals.router,
        cases.router,
        coding.router,
        signals.router,
        approvals.router,
        evidence.router,
        network.router,
        notifications.router,
    ):
        app.include_router(router)
    runtime = api.install(app, settings, database)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    errors.install(app)
    upload_bytes = settings.web.upload_max_mb * 1024 * 1024 + 64 * 1024  # file + form fields
    api_bytes = settings.api_max_upload_bytes + api.MULTIPART_OVERHEAD
    app.add_middleware(
        SecurityHeaders,
        on_error=errors.render_unexpected,
        body_limit=lambda path: (
            api_bytes
            if path in api.UPLOAD_PATHS
            else upload_bytes
            if path.endswith("/upload")
            else None
        ),
        on_too_large=api.too_large_response,
    )
    app.router.on_startup.append(runtime.worker.start)
    app.router.on_shutdown.append(runtime.worker.stop)
    check_policy(app.routes)
    return app
