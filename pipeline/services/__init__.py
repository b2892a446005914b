"""Services: one small API per stage that the CLI, the DAGs and the web application all call.

Each module is a handful of plain functions taking :class:`~pipeline.config.Settings` (and a
``progress`` callback where the work is long). A service opens and closes its warehouse session
(:mod:`pipeline.storage.session`: ``writer`` for anything that writes, ``reader`` for the
published snapshot) and calls the library modules below it, which take a connection. Errors a
user can act on are :class:`~pipeline.errors.SentinelError` subclasses; the callers turn them
into a one-line message (CLI), a failed task (DAG) or a page (web).

Modules: ``intake``, ``coding``, ``clustering``, ``detection``, ``reporting``, ``triage``,
``notices``, ``evidence``, ``network``, ``db``, ``privacy`` (de-identify a file before
sharing it), ``accounts`` (users and sign-in, in the application database).
"""
