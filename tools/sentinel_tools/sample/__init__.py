"""Deterministic sample sentinel network: hospital extracts with hazards, faults and ground truth.

``generate_network(out_dir, seed=..., hospitals=8, weeks=104, ...)`` writes the landing files,
``ground_truth.json``, ``ground_truth_cases.csv`` and ``README.md``; ``sentinel_tools.sample.cli.app``
is the ``sentinel sample`` Typer sub-app.
"""

from __future__ import annotations

from sentinel_tools.sample.generator import GENERATOR_VERSION, generate_network

__all__ = ["GENERATOR_VERSION", "generate_network"]
