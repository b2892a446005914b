from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_server import Server  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server.make(
        tmp_path_factory.mktemp("api") / "home",
        SENTINEL_API_RATE_PER_MINUTE="40",
        SENTINEL_API_MAX_UPLOAD_MB="1",
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
