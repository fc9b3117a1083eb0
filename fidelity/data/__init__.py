"""Typed session data, loaders, the paper's filters and the synthetic generator."""

from fidelity.data.filters import keep_top_items, paper_filter
from fidelity.data.loaders import (
    MOVIELENS_100K_NAMES,
    MSSD_CATEGORIES,
    MSSD_COLUMNS,
    MSSD_TIMING_COLUMNS,
    load_interactions,
    load_mssd,
    load_sessions,
)
from fidelity.data.stats import CalibrationStats, calibration_stats, row_identifying_timing
from fidelity.data.synthetic import calibration_table, make_sessions
from fidelity.data.synthetic_mssd import write_mssd_parquet
from fidelity.data.tables import Observations, Sessions

__all__ = [
    "MOVIELENS_100K_NAMES",
    "MSSD_CATEGORIES",
    "MSSD_COLUMNS",
    "MSSD_TIMING_COLUMNS",
    "CalibrationStats",
    "Observations",
    "Sessions",
    "calibration_stats",
    "calibration_table",
    "keep_top_items",
    "load_interactions",
    "load_mssd",
    "load_sessions",
    "make_sessions",
    "paper_filter",
    "row_identifying_timing",
    "write_mssd_parquet",
]
