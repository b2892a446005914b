"""Constants shared by the application-database tests (a module with a unique name: test
folders have no __init__.py, so a shared ``conftest`` import would be ambiguous)."""

from __future__ import annotations

from pipeline.appdb.audit import Actor

REGISTRY = {"GZ001", "SH001", "BJ001"}
SYSTEM = Actor(None, "os:test", "cli")
