"""Run one command as a child process with a time bound; its wall time and its own peak RSS.

The peak RSS is the child's ``ru_maxrss`` as reported by ``wait4`` for that child alone (not
``RUSAGE_CHILDREN`` of the benchmark, which would carry the largest earlier child over). A
command that outlives its bound is killed with its whole process group and reported as a
timeout, so the benchmark cannot hang.
"""

from __future__ import annotations

import os
import signal
import subprocess
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


def run_measured(
    label: str, cmd: list[str], env: dict[str, str], timeout: float, cwd: Path | None = None
) -> Run:
    """Run ``cmd``; kill it (and its children) after ``timeout`` seconds."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=out, stderr=err, start_new_session=True
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
        out.seek(0)
        err.seek(0)
        return Run(
            label=label,
            seconds=seconds,
            peak_mb=usage.ru_maxrss / 1024.0,  # Linux reports KiB
            returncode=returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )
