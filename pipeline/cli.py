"""The ``sentinel`` command line: the same library calls the Airflow DAGs make.

Each stage owns a Typer sub-app in its own package (``pipeline/<stage>/cli.py``); this module
only mounts them, so ``sentinel --help`` stays fast and every stage is usable without Airflow.
"""

from __future__ import annotations

import typer

from pipeline.accounts_cli import register as register_accounts
from pipeline.alerts.cli import register as register_alerts
from pipeline.coding.cli import register as register_coding
from pipeline.detection.cli import app as detection_app
from pipeline.detection.cli import detect_series
from pipeline.docs_cli import app as docs_app
from pipeline.intake.cli import register as register_intake
from pipeline.network_cli import app as network_app
from pipeline.reporting.cli import register as register_reporting
from pipeline.sample.cli import app as sample_app
from pipeline.triage.cli import register as register_triage
from pipeline.web_cli import register as register_web

app = typer.Typer(
    name="sentinel",
    help="Sentinel: product-injury surveillance. Intake, validation, storage, coding, "
    "detection and reporting for the sentinel-hospital network.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(sample_app, name="sample")
app.add_typer(docs_app, name="docs")
app.add_typer(network_app, name="network")
register_intake(app)
register_alerts(app)
register_triage(app)  # alerts, followup, notice, evidence-pack
register_coding(app)  # model, coding, patterns
register_reporting(app)  # report weekly|quarterly
app.add_typer(detection_app, name="detection")
app.command("detect-series")(detect_series)  # the everyday name, also under `detection`
register_accounts(app)  # appdb, users, audit
register_web(app)  # web


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
