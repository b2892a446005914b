"""Sentinel's web application (FastAPI + Jinja2 + htmx, served locally, zh/en).

``create_app(settings)`` builds the app; ``sentinel web`` serves it with uvicorn. Every route
declares who may use it (``pipeline.web.policy``); the app refuses to start with a route that
does not. This package is on top of the layers, beside ``pipeline.cli``: it calls services and
``pipeline.appdb``; nothing imports it.
"""

from pipeline.web.app import create_app

__all__ = ["create_app"]
