"""``sentinel network``: the state of the sentinel network's landing zone."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.cli._common import say, settings
from pipeline.errors import NotFound
from pipeline.escaping import terminal_text

app = typer.Typer(
    help="Inspect the sentinel network (landing zone, registry).", no_args_is_help=True
)


@app.command("summary")
def summary(
    landing: Path = typer.Option(
        None,
        "--landing",
        help="Landing directory (default: $SENTINEL_LANDING or the shipped sample).",
    ),
    brief: bool = typer.Option(False, "--brief", help="One line instead of the table."),
) -> None:
    """Check the landing layout against the hospital registry and summarise each folder."""
    from pipeline.services import network

    folder, rows = network.summary(settings(), landing)
    problems = sum(not row["registered"] for row in rows)
    if brief:
        tests = sum(row["is_test"] for row in rows)
        typer.echo(
            f"landing: {len(rows)} hospital folders ({tests} test), "
            f"{sum(r['files'] for r in rows):,} files, "
            f"{sum(r['bytes'] for r in rows) / 1e6:.1f} MB, "
            + (f"{problems} NOT REGISTERED" if problems else "all registered")
        )
        if problems:
            raise typer.Exit(1)
        return
    out = Table(title=f"Landing zone {folder}")
    for column in ("hospital", "registered", "type", "files", "MB", "first file", "last file"):
        out.add_column(column)
    for row in rows:
        # Folder and file names are data: plain Text, never rich markup, control characters
        # dropped ("[red]" in a name stays "[red]").
        out.add_row(
            Text(terminal_text(row["hospital"])),
            ("yes (test)" if row["is_test"] else "yes") if row["registered"] else "NO",
            row["type"] or "-",
            str(row["files"]),
            f"{row['bytes'] / 1e6:.1f}",
            Text(terminal_text(row["first_file"])),
            Text(terminal_text(row["last_file"])),
        )
    Console(width=160).print(out)
    if problems:
        say(f"{problems} folder(s) do not match a registered hospital")
        raise typer.Exit(1)


def _pct(value: object) -> str:
    return "-" if value is None else f"{100 * float(value):.0f}%"  # type: ignore[arg-type]


def _hospital(row: dict) -> str:
    """Code and city (the registry's English names; the full name is in --json / the web)."""
    city = row.get("city_en") or ""
    return terminal_text(f"{row['hospital_code']} {city}".strip())


def _ledger_table(title: str, rows: list[dict], totals: dict | None = None) -> Table:
    from pipeline.reporting.network import HOSPITAL_COLUMNS

    out = Table(title=title)
    for key, header in HOSPITAL_COLUMNS:
        out.add_column(
            header, justify="left" if key == "hospital" else "right", no_wrap=key == "hospital"
        )
    for row in rows:
        out.add_row(
            _hospital(row),
            *["-" if row[k] is None else str(row[k]) for k, _ in HOSPITAL_COLUMNS[1:]],
        )
    if totals is not None:
        out.add_row(
            f"all {totals['hospitals']} hospitals",
            *[str(totals[k]) if k in totals else "" for k, _ in HOSPITAL_COLUMNS[1:]],
            style="bold",
        )
    return out


def _health_table(data: dict) -> Table:
    window = data["window"]
    out = Table(
        title=f"Monitoring-site supervision, {window['from_week']} to {window['to_week']} "
        f"({window['from']} to {window['to']}; cases by visit day, files by local day received)"
    )
    for header in (
        "hospital",
        "cases",
        "median lag (days)",
        "<=1 day",
        "<=7 days",
        "complete",
        "files",
        "rejected files",
        "rows in (no resends)",
        "quarantined rows",
        "rejected rows",
        "too short",
        "templated",
        "code agreement",
        "flags",
    ):
        out.add_column(
            header,
            justify="left" if header in ("hospital", "flags") else "right",
            no_wrap=header == "hospital",
        )

    def cells(row: dict) -> list[str]:
        lag = row.get("median_lag_days")
        return [
            str(row.get("cases") or 0),
            "-" if lag is None else f"{lag:.1f}",
            _pct(row.get("within_1d")),
            _pct(row.get("within_7d")),
            _pct(row.get("completeness")),
            str(row.get("files") or 0),
            str(row.get("files_rejected") or 0),
            str(row.get("rows_received") or 0),
            str(row.get("rows_quarantined") or 0),
            _pct(row.get("rejection_rate")),
            _pct(row.get("share_short")),
            _pct(row.get("share_templated")),
            _pct(row.get("agreement")),
        ]

    for row in data["hospitals"]:
        flags = ", ".join(row["flags"]) + (" WENT SILENT" if row["silent"] else "")
        out.add_row(_hospital(row), *cells(row), flags.strip(", "))
    network = data["network"]
    out.add_row(
        f"network ({network['hospitals_reporting']} reporting)",
        *cells(network),
        ", ".join(network["flags"]),
        style="bold",
    )
    return out


@app.command("report")
def report(
    week: str = typer.Option(
        None, "--week", help="Supervision week, e.g. 2026-W47 (default: last complete week)."
    ),
    brief: bool = typer.Option(False, "--brief", help="One line of totals instead of tables."),
) -> None:
    """What the warehouse holds (files, rows, cases and quarantine by hospital, all time) and
    the monitoring-site supervision figures of the four weeks ending with --week."""
    from pipeline.services import network

    config = settings()
    data = network.report(config)
    if brief:
        t = data["totals"]
        typer.echo(
            f"warehouse: {t['hospitals']} production hospitals, {t['files']:,} files "
            f"({t['rejected']:,} rejected, {t['duplicate']:,} duplicate), "
            f"{t['rows_received']:,} rows received = {t['rows_stored']:,} stored + "
            f"{t['rows_quarantined']:,} quarantined + {t['rows_duplicate']:,} duplicate; "
            f"{t['active_cases']:,} active cases; unbalanced submissions: {data['unbalanced']}"
        )
        return
    console = Console(width=200)
    console.print(
        _ledger_table(
            f"Warehouse {config.warehouse_path} (published snapshot): production hospitals",
            data["hospitals"],
            data["totals"],
        )
    )
    if data["test_hospitals"]:
        console.print(
            _ledger_table("Test hospitals (counted in no figure or total)", data["test_hospitals"])
        )
    rules = Table(title="Quarantined rows by rule (production hospitals)")
    rules.add_column("rule")
    rules.add_column("fields")
    rules.add_column("rows", justify="right")
    for rule in data["rules"]:
        rules.add_row(
            Text(terminal_text(rule["rule"])),
            Text(terminal_text(rule["fields"] or "")),
            str(rule["rows"]),
        )
    console.print(rules)
    console.print(
        f"submissions where received != stored + quarantined + duplicate: {data['unbalanced']}"
    )
    health = network.health(config, week) if data["hospitals"] else None
    if health is not None:
        console.print(_health_table(health))
        if health["silent"]:
            console.print(
                "went silent: "
                + "; ".join(
                    f"{_hospital(s)} {s['days_silent']} days (last file {s['last_received']})"
                    for s in health["silent"]
                )
            )
        if health["never_reported"]:
            console.print("registered, never reported: " + ", ".join(health["never_reported"]))
    console.print(
        f"receipts: {config.outbox_dir}\nlake: {config.lake_location}\n"
        f"data docs: {config.data_docs_dir / 'index.html'}"
    )


@app.command("health")
def health(
    week: str = typer.Option(
        None, "--week", help="Last week of the window, e.g. 2026-W47 (default: last complete)."
    ),
    weeks: int = typer.Option(4, "--weeks", help="Weeks in the window."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Monitoring-site supervision per hospital: timeliness, completeness, rejected files and
    rows, narrative quality, code agreement, silent hospitals (as in the weekly report)."""
    import json

    from pipeline.services import network

    data = network.health(settings(), week, weeks)
    if data is None:
        raise NotFound("no cases in the warehouse yet: run `sentinel ingest` first")
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, default=str))
        return
    console = Console(width=200)
    console.print(_health_table(data))
    for s in data["silent"]:
        console.print(f"went silent: {_hospital(s)}, {s['days_silent']} days")
    if data["never_reported"]:
        console.print("registered, never reported: " + ", ".join(data["never_reported"]))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="network")
