"""Sentinel: product-injury surveillance pipeline (plain library, no Airflow imports)."""

__version__ = "0.1.0"
