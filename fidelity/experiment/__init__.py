"""Sweeps over overlap x target size x recommender x attack x seed: the paper's experiment.

Each scenario of the grid (overlap, target size, recommender, seed, mode, mitigation) is
evaluated once by :func:`fidelity.evaluation.evaluate`: the target is fitted, every attack
of the grid runs against it, and the recommender's accuracy, the attacks' rates (both
conventions) and user-level ROC numbers, and MI(H;O) with its permutation null and
bootstrap CI are measured. Results form a tidy table, one row per configuration (columns
in :data:`RESULT_COLUMNS`), written row by row to a resumable store keyed by the sweep's
fingerprint (the data's digest, the grid's measurement options and the fidelity version):
a rerun into the same folder resumes, and refuses rows that other data or settings
produced (:class:`ResumeError`).
"""

from fidelity.experiment.fingerprint import data_digest, sweep_fingerprint
from fidelity.experiment.grid import CONFIG_COLUMNS, SweepConfig, SweepGrid
from fidelity.experiment.runner import SweepInterrupted, run_config, run_scenario, run_sweep
from fidelity.experiment.store import RESULT_COLUMNS, ResumeError

__all__ = [
    "CONFIG_COLUMNS",
    "RESULT_COLUMNS",
    "ResumeError",
    "SweepConfig",
    "SweepGrid",
    "SweepInterrupted",
    "data_digest",
    "run_config",
    "run_scenario",
    "run_sweep",
    "sweep_fingerprint",
]
