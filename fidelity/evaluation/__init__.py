"""Evaluate scenarios with attacks: one row per scenario and attack, and studies built on it.

- :func:`evaluate`: one scenario, a list of attacks, one :class:`Evaluation` (its rows are
  the results table's);
- :func:`compare_attacks`: attacks x threat models x target sizes;
- :func:`evaluate_mitigations`: leakage against accuracy, per mitigation;
- :func:`session_curve`: leakage against session length and the attack-validated safe
  session size; :func:`signal_information`: I(M; S), the model-aware information.
- :func:`user_risk`: which users an attack exposes, with their features, and
  :func:`exposure_counts`, the "users most exposed" counts.
"""

from fidelity.evaluation.comparisons import (
    COMPARISON_COLUMNS,
    MITIGATION_COLUMNS,
    compare_attacks,
    evaluate_mitigations,
    scenario_seed,
)
from fidelity.evaluation.evaluate import (
    RESULT_COLUMNS,
    SCENARIO_COLUMNS,
    AttackRequest,
    Evaluation,
    as_requests,
    evaluate,
)
from fidelity.evaluation.risk import (
    FEATURES,
    RISK_COLUMNS,
    UserRisk,
    exposure_counts,
    membership_probability,
    read_user_risk,
    user_features,
    user_risk,
)
from fidelity.evaluation.session_curve import (
    CURVE_COLUMNS,
    DEFAULT_TOLERANCE,
    SessionCurve,
    ValidatedSafeSize,
    default_session_grid,
    session_curve,
)
from fidelity.evaluation.signal_information import SignalInformation, signal_information

__all__ = [
    "COMPARISON_COLUMNS",
    "CURVE_COLUMNS",
    "DEFAULT_TOLERANCE",
    "FEATURES",
    "MITIGATION_COLUMNS",
    "RESULT_COLUMNS",
    "RISK_COLUMNS",
    "SCENARIO_COLUMNS",
    "AttackRequest",
    "Evaluation",
    "SessionCurve",
    "SignalInformation",
    "UserRisk",
    "ValidatedSafeSize",
    "as_requests",
    "compare_attacks",
    "default_session_grid",
    "evaluate",
    "evaluate_mitigations",
    "exposure_counts",
    "membership_probability",
    "read_user_risk",
    "scenario_seed",
    "session_curve",
    "signal_information",
    "user_features",
    "user_risk",
]
