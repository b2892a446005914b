"""Evidence-pack tests run on the session's ``small_network`` (tests/conftest.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if "evidence_helpers" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "evidence_helpers", Path(__file__).with_name("evidence_helpers.py")
    )
    assert _spec and _spec.loader
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["evidence_helpers"] = _module
    _spec.loader.exec_module(_module)
