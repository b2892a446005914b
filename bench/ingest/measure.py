"""Run one command as a child process with a time bound; its wall time and its own peak RSS.

The peak RSS is the command's ``ru_maxrss`` (with its waited-for children) as seen by a small
launcher process that starts it: Linux carries a process's resident size at fork over into the
child's ``ru_maxrss``, so a command forked straight from the benchmark (hundreds of MB after
generating the extracts) would report at least the benchmark's size; and ``RUSAGE_CHILDREN`` of
the benchmark itself would carry the largest earlier child over. A command that outlives its
bound is killed with its whole process group and reported as a timeout, so the benchmark cannot
hang.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Run:
    label: str
    seconds: float
    peak_mb: float
    returncode: int | None  # None: killed at the time bound
    stdout: str
    stderr: str
    extra: dict = field(default_factory=dict)

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "seconds": round(self.seconds, 3),
            "peak_mb": round(self.peak_mb, 1),
            "returncode": self.returncode,
            "timed_out": self.timed_out,
            "extra": self.extra,
            "stderr_tail": self.stderr[-2000:] if self.returncode else "",
        }


# Runs argv[2:], then writes its own RUSAGE_CHILDREN peak (KiB) and exit code to argv[1].
_LAUNCHER = (
    "import json, resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "open(sys.argv[1], 'w').write(json.dumps({'code': code, 'peak_kib': peak}))\n"
    "sys.exit(code if 0 <= code < 256 else 1)\n"
)


def run_measured(
    label: str, cmd: list[str], env: dict[str, str], timeout: float, cwd: Path | None = None
) -> Run:
    """Run ``cmd``; kill it (and its children) after ``timeout`` seconds."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as tmp,
    ):
        report = Path(tmp) / "usage.json"
        launcher = [sys.executable, "-c", _LAUNCHER, str(report), *cmd]
        started = time.monotonic()
        proc = subprocess.Popen(
            launcher, env=env, cwd=cwd, stdout=out, stderr=err, start_new_session=True
        )
        returncode: int | None = None
        usage = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() - started > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                _, _, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.monotonic() - started
        proc.returncode = returncode if returncode is not None else -9  # already reaped
        peak_kib = usage.ru_maxrss  # the launcher's own: an upper bound, used after a timeout
        if returncode is not None and report.exists():
            measured = json.loads(report.read_text())
            peak_kib, returncode = measured["peak_kib"], measured["code"]
        out.seek(0)
        err.seek(0)
        return Run(
            label=label,
            seconds=seconds,
            peak_mb=peak_kib / 1024.0,  # Linux reports KiB
            returncode=returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )
