"""Product coding: a product category for every stored case.

- ``model``: the product coder (character and word n-gram TF-IDF + multinomial logistic
  regression with temperature-scaled probabilities), saved as a versioned artifact under
  ``models/<name>/<version>/``;
- ``train``: reproducible training from the warehouse (known categories only), held-out metrics,
  review threshold, model card;
- ``evaluation``: accuracy, macro-F1, calibration (ECE, reliability), threshold trade-offs;
- ``store``: the ``case_coding`` and ``coding_review`` warehouse tables, coding runs and the
  coder-review queue, and the ``coded_cases`` view that statistics read;
- ``cli``: ``sentinel model train``, ``sentinel coding run|review``, ``sentinel patterns ...``.
"""

NO_PRODUCT = "NONE"  # pseudo-category of the coder: no product involved in the injury
