"""fidelity: measure fidelity leakage of recommender systems.

A provider (the adversary) queries a competitor's recommender (the target) with its
own users' listening data; matches between the recommendation and what the user
really played next reveal which users the target was trained on. fidelity emulates
both providers from one data set, measures the leakage (match attack, stronger
attacks, MI(H;O)) and gives the largest safe session size.

The main names are available at the top level and imported on first use, so that
``import fidelity`` stays fast (numba, scikit-learn and implicit load only when needed).
"""

from __future__ import annotations

import importlib
from importlib import metadata as _metadata
from typing import Any

from fidelity._warnings import FidelityWarning

# The distribution's name on PyPI (``pip install fidelity-leakage``; the import name is
# ``fidelity``). The version is written only in pyproject.toml and read from the metadata.
_DISTRIBUTION = "fidelity-leakage"

try:
    __version__ = _metadata.version(_DISTRIBUTION)
except _metadata.PackageNotFoundError:  # pragma: no cover - a source tree never installed
    __version__ = "0+unknown"

_LAZY = {
    # tables (pandas loads on first use)
    "Observations": "fidelity.data.tables",
    "Sessions": "fidelity.data.tables",
    # data
    "make_sessions": "fidelity.data",
    "load_mssd": "fidelity.data",
    "load_sessions": "fidelity.data",
    "load_interactions": "fidelity.data",
    "paper_filter": "fidelity.data",
    "keep_top_items": "fidelity.data",
    "calibration_stats": "fidelity.data",
    # split
    "split_providers": "fidelity.split",
    "ProviderSplit": "fidelity.split",
    # recommenders
    "Recommender": "fidelity.recommenders",
    "RandomForestRecommender": "fidelity.recommenders",
    "ImplicitRecommender": "fidelity.recommenders",
    "MarkovRecommender": "fidelity.recommenders",
    "PopularityRecommender": "fidelity.recommenders",
    "make_recommender": "fidelity.recommenders",
    "cross_validate": "fidelity.recommenders",
    # metrics and information
    "attack_rates": "fidelity.metrics",
    "roc_summary": "fidelity.metrics",
    "mutual_information": "fidelity.information",
    "fano_min_observations": "fidelity.information",
    "safe_session_size": "fidelity.information",
    "estimate_safe_session_size": "fidelity.safe_session",
    # attacks, experiments, output
    "match_attack": "fidelity.attacks",
    "run_attack": "fidelity.attacks",
    "reference_attack": "fidelity.attacks",
    "shadow_attack": "fidelity.attacks",
    "mimic_attack": "fidelity.attacks",
    "ATTACKS": "fidelity.attacks",
    "register_attack": "fidelity.attacks",
    "AttackSpec": "fidelity.attacks",
    # scenarios and evaluation
    "Scenario": "fidelity.scenario",
    "fit_target": "fidelity.scenario",
    "AttackRequest": "fidelity.evaluation",
    "evaluate": "fidelity.evaluation",
    "compare_attacks": "fidelity.evaluation",
    "evaluate_mitigations": "fidelity.evaluation",
    "session_curve": "fidelity.evaluation",
    # auditing a model trained outside fidelity (fidelity.audit.audit)
    "AuditResult": "fidelity.audit",
    "audit_split": "fidelity.audit",
    "adapt_model": "fidelity.recommenders",
    "SweepGrid": "fidelity.experiment",
    "run_sweep": "fidelity.experiment",
    "reproduce": "fidelity.pipeline",
    "write_report": "fidelity.report",
}

# Subpackages reachable as attributes without their own import (``fidelity.audit.audit``).
_SUBMODULES = ("audit",)

__all__ = [
    "FidelityWarning",
    "Observations",
    "Sessions",
    "__version__",
    *sorted(_LAZY),
    *_SUBMODULES,
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"fidelity.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fidelity' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))
