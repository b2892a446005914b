"""Weekly aberration detection: pure functions, no Airflow, no database.

Modelled on R's ``surveillance`` package: one algorithm per module, one interface
(:mod:`pipeline.detection.base`), a name registry (:data:`METHODS`). See docs/detection.md.
"""

from pipeline.detection.base import (
    DEFAULT_ALPHA,
    RESULT_COLUMNS,
    DetectionInputError,
    Detector,
)
from pipeline.detection.disproportionality import disproportionality
from pipeline.detection.ears import ears_c1, ears_c2, ears_c3
from pipeline.detection.fallback import auto, short_history
from pipeline.detection.farrington import (
    FarringtonSettings,
    farrington_flexible,
    farrington_noufaily,
    farrington_original,
)
from pipeline.detection.glrnb import glrnb
from pipeline.detection.multiple_testing import bh_qvalues, bh_reject
from pipeline.detection.new_terms import new_terms
from pipeline.detection.registry import (
    METHODS,
    detect_panel,
    detect_panel_frame,
    detect_series,
    get_method,
)
from pipeline.detection.series import WeeklySeries

__all__ = [
    "DEFAULT_ALPHA",
    "METHODS",
    "RESULT_COLUMNS",
    "DetectionInputError",
    "Detector",
    "WeeklySeries",
    "FarringtonSettings",
    "auto",
    "bh_qvalues",
    "bh_reject",
    "detect_panel",
    "detect_panel_frame",
    "detect_series",
    "disproportionality",
    "ears_c1",
    "ears_c2",
    "ears_c3",
    "farrington_flexible",
    "farrington_noufaily",
    "farrington_original",
    "get_method",
    "glrnb",
    "new_terms",
    "short_history",
]
