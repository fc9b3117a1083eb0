"""Evaluate scenarios with attacks: one row per scenario and attack, and studies built on it.

- :func:`evaluate`: one scenario, a list of attacks, one :class:`Evaluation` (its rows are
  the results table's);
- :func:`compare_attacks`: attacks x threat models x target sizes;
- :func:`evaluate_mitigations`: leakage against accuracy, per mitigation.
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

__all__ = [
    "COMPARISON_COLUMNS",
    "MITIGATION_COLUMNS",
    "RESULT_COLUMNS",
    "SCENARIO_COLUMNS",
    "AttackRequest",
    "Evaluation",
    "as_requests",
    "compare_attacks",
    "evaluate",
    "evaluate_mitigations",
    "scenario_seed",
]
