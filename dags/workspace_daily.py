"""workspace_daily: what the web workspace asks of the pipeline each day.

- ``packs``: builds the evidence packs recall officers requested on the web and that the web
  app's own background worker did not build (it was restarted, its queue was full); reads the
  published snapshot only, never the warehouse writer;
- ``notify``: e-mails each user what they chose to hear about (new top signals, follow-ups due
  within 2 working days, receipts of their hospital's files, approvals waiting), once per item,
  in the user's language, through the SMTP server of ``SENTINEL_SMTP_*`` (docs/web.md). Without
  a configured server it sends nothing and says so; a re-run sends nothing twice.

Runs every morning at 08:30 China time; on demand too (nothing depends on the logical date).
"""

from __future__ import annotations

import logging

import pendulum
from _common import DEFAULT_ARGS, fail_fast
from airflow.sdk import dag, task

log = logging.getLogger("sentinel.dags.workspace_daily")


@dag(
    dag_id="workspace_daily",
    description="Build requested evidence packs and send the users' e-mail notifications",
    schedule="30 8 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["sentinel", "web"],
    doc_md=__doc__,
)
def workspace_daily():
    @task
    def packs() -> list[int]:
        """Build the pending evidence-pack requests (from the published snapshot)."""
        from pipeline.config import Settings
        from pipeline.errors import SentinelError
        from pipeline.services import accounts, evidence

        settings = Settings.from_env()
        try:
            db = accounts.open_appdb(settings)
        except SentinelError as exc:
            raise fail_fast(exc) from exc
        try:
            built = evidence.build_requested(settings, db)
        finally:
            db.dispose()
        log.info("built %d requested evidence pack(s)", len(built))
        return built

    @task
    def notify() -> dict:
        """Send what is due to each user who asked for it (nothing twice)."""
        from pipeline.appdb.models import utcnow
        from pipeline.config import Settings
        from pipeline.errors import ConfigError, SentinelError
        from pipeline.services import accounts, notifications

        settings = Settings.from_env()
        db = accounts.open_appdb(settings)
        try:
            if not settings.smtp.host:
                messages, _ = notifications.notify(settings, db, utcnow(), dry_run=True)
                log.warning("SENTINEL_SMTP_HOST not set: %d message(s) not sent", len(messages))
                return {"due": len(messages), "sent": 0}
            try:
                _messages, outcome = notifications.notify(settings, db, utcnow())
            except ConfigError as exc:
                raise fail_fast(exc) from exc
            except SentinelError as exc:
                raise fail_fast(exc) from exc
        finally:
            db.dispose()
        if outcome.failed:  # retried by Airflow; what was sent stays sent
            raise RuntimeError(f"{len(outcome.failed)} e-mail(s) failed: {outcome.failed[0][1]}")
        return {"sent": len(outcome.sent), "sent_before": outcome.skipped}

    packs() >> notify()


workspace_daily()
