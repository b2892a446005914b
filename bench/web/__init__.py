"""Load benchmark of the web application (python -m bench.web)."""
