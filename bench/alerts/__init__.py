"""Alert evaluation against a sample network's ground truth (``python -m bench.alerts``)."""
