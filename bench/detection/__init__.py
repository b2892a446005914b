"""Detection benchmark (see run.py)."""
