"""``python -m pipeline.cli``: the same as the ``sentinel`` command."""

from pipeline.cli import main

main()
