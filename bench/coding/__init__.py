"""Product-coding benchmark: `python -m bench.coding` (see run.py)."""
