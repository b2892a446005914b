"""Airflow's task-log server, bound to 127.0.0.1 unless told otherwise.

Airflow 3.3 starts a small log server next to each worker (``airflow celery worker``), the
LocalExecutor scheduler and the triggerer, so that the API server can show task logs that live
on another machine. That server always listens on every interface (``[logging]
worker_log_server_port``, no host setting). Sentinel runs those components with
``--skip-serve-logs`` and this script instead: the same application
(``airflow.utils.serve_logs.log_server``, which only serves files under the log folder to
requests signed with ``[api] secret_key``), on the address given here.

    python scripts/airflow_log_server.py [--host 127.0.0.1] [--port PORT]

``--port`` defaults to ``[logging] worker_log_server_port`` (8793); use ``--host 0.0.0.0`` (or
the worker's address) only when the API server runs on another machine and cannot read the log
folder itself. Needs the worker's Airflow environment (``AIRFLOW_HOME``/``AIRFLOW_CONFIG``, the
same ``[api] secret_key`` as the API server).
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    ap.add_argument("--port", type=int, help="default: [logging] worker_log_server_port")
    args = ap.parse_args(argv)

    import uvicorn
    from airflow.configuration import conf

    port = args.port or conf.getint("logging", "worker_log_server_port")
    uvicorn.run(
        "airflow.utils.serve_logs.log_server:get_app",
        factory=True,
        host=args.host,
        port=port,
        log_level=conf.get("logging", "uvicorn_logging_level", fallback="info").lower(),
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
