"""Routers of the web application, one module per area; each route declares its rule."""
