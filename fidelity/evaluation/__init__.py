"""Evaluate scenarios with attacks: one row per scenario and attack, and studies built on it.

- :func:`evaluate`: one scenario, a list of attacks, one :class:`Evaluation` (its rows are
  the results table's);
- :func:`compare_attacks`: attacks x threat models x target sizes;
- :func:`evaluate_mitigations`: leakage against accuracy, per mitigation;
- :func:`session_curve`: leakage against session length and the attack-validated safe
  session size; :func:`signal_information`: I(M; S), the model-aware information.
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
    "MITIGATION_COLUMNS",
    "RESULT_COLUMNS",
    "SCENARIO_COLUMNS",
    "AttackRequest",
    "Evaluation",
    "SessionCurve",
    "SignalInformation",
    "ValidatedSafeSize",
    "as_requests",
    "compare_attacks",
    "default_session_grid",
    "evaluate",
    "evaluate_mitigations",
    "scenario_seed",
    "session_curve",
    "signal_information",
]
