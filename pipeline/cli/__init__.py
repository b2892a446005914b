"""The ``sentinel`` command line: one module per area mounts its commands here.

CLI modules hold wiring only: parse options, call a service (:mod:`pipeline.services`), print.
Service imports sit inside the commands because importing a service loads its stage (pandas,
DuckDB, scikit-learn, Great Expectations): ``sentinel --help`` stays fast (about 0.5 s; see
docs/operations.md for the measurement).

Errors: a :class:`~pipeline.errors.SentinelError` becomes one line on stderr in the user's
language (``--lang``, else ``SENTINEL_LANG``, else the locale: ``LC_ALL`` / ``LC_MESSAGES`` /
``LANG`` starting with ``zh`` gives Chinese) and the error's exit code (docs/operations.md);
anything else is a bug: one line plus "run with --debug for the traceback", exit code 70.
``--debug`` shows every traceback.

Command groups of other distributions are mounted from the entry-point group ``sentinel.cli``
(the developer tools declare ``sample``), so a worker without them simply lacks those commands.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from pipeline.cli import (
    accounts,
    coding,
    db,
    detection,
    docs,
    evidence,
    intake,
    network,
    notices,
    privacy,
    reporting,
    tokens,
    triage,
    web,
)
from pipeline.errors import EXIT_CODES, SentinelError, internal_error_message

LANGS = ("zh", "en")


def default_lang(env: dict[str, str] | None = None) -> str:
    """The user's language: SENTINEL_LANG, else the locale (zh_* gives Chinese), else English."""
    env = dict(os.environ if env is None else env)
    chosen = env.get("SENTINEL_LANG", "").strip().lower()
    if chosen in LANGS:
        return chosen
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "").strip().lower()
        if value:
            return "zh" if value.startswith("zh") else "en"
    return "en"


class SentinelGroup(TyperGroup):
    """The root group: every error of every command ends here as one line and an exit code."""

    def invoke(self, ctx: typer.Context) -> object:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):  # exit codes and usage errors
            raise
        except SentinelError as exc:
            if ctx.meta.get("sentinel.debug"):
                raise
            lang = ctx.meta.get("sentinel.lang") or default_lang()
            prefix = "错误：" if lang == "zh" else "error: "
            typer.echo(prefix + exc.user_message(lang), err=True)
            ctx.exit(exc.exit_code)
        except Exception as exc:
            if ctx.meta.get("sentinel.debug"):
                raise
            lang = ctx.meta.get("sentinel.lang") or default_lang()
            typer.echo(internal_error_message(exc, lang), err=True)
            ctx.exit(EXIT_CODES["internal"])
        return None


app = typer.Typer(
    name="sentinel",
    cls=SentinelGroup,
    help="Sentinel: product-injury surveillance. Intake, validation, storage, coding, "
    "detection and reporting for the sentinel-hospital network.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of any error."),
    lang: str = typer.Option(
        None, "--lang", help="Language of error messages: zh or en (default: from the locale)."
    ),
) -> None:
    """Sentinel: product-injury surveillance for the sentinel-hospital network."""
    if lang is not None and lang not in LANGS:
        raise typer.BadParameter("--lang must be zh or en")
    ctx.meta["sentinel.debug"] = debug
    ctx.meta["sentinel.lang"] = lang or default_lang()


for _module in (
    intake,
    network,
    coding,
    detection,
    reporting,
    triage,
    notices,
    evidence,
    docs,
    db,
    accounts,
    tokens,
    web,
    tokens,
    privacy,
):
    _module.register(app)

# Command groups of other distributions (sentinel_tools: `sample`), when installed.
for _entry in entry_points(group="sentinel.cli"):
    app.add_typer(_entry.load(), name=_entry.name)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
