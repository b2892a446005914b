"""Reporting tests share one tiny warehouse per session: the ``tiny`` fixture of
tests/conftest.py (also used by tests/evidence), built by ``tinydata.build``."""
