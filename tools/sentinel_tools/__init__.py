"""Sentinel's developer tools, a distribution of their own (``tools/pyproject.toml``).

Not production code and not installed on workers: the deterministic sample-network generator
(``sample``, also ``sentinel sample generate`` through the ``sentinel.cli`` entry point), the
NEISS crosswalk builder (``neiss_crosswalk``), the Noufaily simulation of count series
(``simulate``) and the runner of R's ``surveillance::farringtonFlexible`` (``rreference``) that
the detector tests and benchmarks compare against. These modules may import ``pipeline``; the
library never imports them.
"""
