"""One experiment's configuration and the one place where its target is built.

A :class:`Scenario` says how the two providers are emulated and how the target's model is
built: overlap, target size, recommender (and its parameters), split mode, mitigation and
seed. :func:`fit_target` is the only function of the package that makes a provider split
and fits a target, so a sweep row, ``fidelity attack``, the attack comparisons, the
mitigation tables, the session-length curve and the report's ROC curves all draw the same
split and grow the same model for the same scenario:

1. ``SeedSequence(scenario.seed).spawn(4)`` gives independent streams for the split, the
   model, the MI estimate and the attacks;
2. the mitigation prepares the data (``chunk``) and the target size (``chunk``, ``train``);
3. :func:`fidelity.split.split_providers` emulates A and T (the split stream ignores
   overlap and target size, so one seed gives one user shuffle and nested targets);
4. the recommender is built with the scenario's parameters, seeded from the model stream,
   wrapped by the mitigation, and fitted on D_T.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fidelity._validation import check_choice, check_fraction, check_positive_int, seed_model
from fidelity.data.tables import Observations
from fidelity.mitigations import parse_mitigation
from fidelity.recommenders import RECOMMENDERS, Recommender, make_recommender
from fidelity.split import MODES, ProviderSplit, split_providers

__all__ = ["FittedTarget", "Scenario", "fit_target"]

_STREAMS = ("split", "model", "mi", "attack")


def check_seed(name: str, value: Any) -> int:
    """A seed given as a plain non-negative integer (bools and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Scenario:
    """The configuration of one experiment (everything but the data and the attacks).

    Parameters
    ----------
    overlap : float in [0, 1], default 0.5
        Fraction of A's users that T also has.
    target_size : int or None, default None
        T's users used to train the target (``None``: all of T's pool).
    recommender : str, default "random_forest"
        A name of :data:`fidelity.recommenders.RECOMMENDERS`.
    seed : int, default 0
        The root of every random stream of the scenario.
    mode : {"shared", "split-history"}, default "shared"
        How a common user's observations are shared (see :func:`fidelity.split_providers`).
    mitigation : str, default "none"
        A setting of :func:`fidelity.mitigations.parse_mitigation` (canonicalised).
    recommender_params : mapping, optional
        Keyword parameters of the recommender.
    """

    overlap: float = 0.5
    target_size: int | None = None
    recommender: str = "random_forest"
    seed: int = 0
    mode: str = "shared"
    mitigation: str = "none"
    recommender_params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "overlap", check_fraction("overlap", self.overlap))
        if self.target_size is not None:
            check_positive_int("target_size", self.target_size)
            object.__setattr__(self, "target_size", int(self.target_size))
        check_choice("recommender", self.recommender, tuple(RECOMMENDERS))
        object.__setattr__(self, "seed", check_seed("seed", self.seed))
        check_choice("mode", self.mode, MODES)
        object.__setattr__(self, "mitigation", parse_mitigation(self.mitigation).name)
        if not isinstance(self.recommender_params, Mapping):
            raise TypeError(
                "recommender_params must be a mapping of keyword parameters; got "
                f"{type(self.recommender_params).__name__}"
            )
        object.__setattr__(self, "recommender_params", dict(self.recommender_params))

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def key(self) -> str:
        """A stable text form of every field (parameters included), for grouping and hashing."""
        return json.dumps(self.to_dict(), sort_keys=True, default=str)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (``recommender_params`` as a dict)."""
        return {
            "overlap": self.overlap,
            "target_size": self.target_size,
            "recommender": self.recommender,
            "seed": self.seed,
            "mode": self.mode,
            "mitigation": self.mitigation,
            "recommender_params": dict(self.recommender_params),
        }

    def streams(self) -> dict[str, np.random.SeedSequence]:
        """Fresh seed streams of the split, the model, the MI estimate and the attacks.

        Each call builds new ``SeedSequence`` objects, so spawning from one (as the attacks
        do) never changes what another caller draws.
        """
        return dict(zip(_STREAMS, np.random.SeedSequence(self.seed).spawn(4), strict=True))


@dataclass(frozen=True, eq=False)
class FittedTarget:
    """The emulated providers and the target's fitted model of one scenario.

    Attributes
    ----------
    scenario : Scenario
    split : ProviderSplit
        D_A, D_T and the ground-truth membership.
    model : Recommender
        The target's model m_T, fitted on ``split.target`` (wrapped by the mitigation).
    """

    scenario: Scenario
    split: ProviderSplit
    model: Recommender

    @property
    def params(self) -> dict[str, Any]:
        """The recommender parameters used."""
        return dict(self.scenario.recommender_params)

    @property
    def mi_seed(self) -> np.random.SeedSequence:
        """A fresh copy of the MI estimate's stream."""
        return self.scenario.streams()["mi"]

    @property
    def attack_seed(self) -> np.random.SeedSequence:
        """A fresh copy of the attacks' stream (the same for every attack of the scenario)."""
        return self.scenario.streams()["attack"]


def fit_target(observations: Observations, scenario: Scenario) -> FittedTarget:
    """Split ``observations`` into A and T as ``scenario`` says and fit the target's model.

    Parameters
    ----------
    observations : Observations
        The data both providers are emulated from.
    scenario : Scenario

    Returns
    -------
    FittedTarget
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a fidelity Scenario; got {type(scenario).__name__}")
    streams = scenario.streams()
    mitigation = parse_mitigation(scenario.mitigation)
    data, target_size = mitigation.prepare(observations, scenario.target_size, scenario.mode)
    split = split_providers(
        data,
        overlap=scenario.overlap,
        target_size=target_size,
        mode=scenario.mode,
        random_state=streams["split"],
    )
    model_seed = streams["model"]
    model = seed_model(
        make_recommender(scenario.recommender, **scenario.recommender_params), model_seed
    )
    model = mitigation.wrap(model, random_state=int(model_seed.generate_state(2)[1] >> 1))
    model.fit(split.target)
    return FittedTarget(scenario, split, model)
