"""Emulate the two providers and fit the target's model for one sweep configuration.

One place for the steps every evaluation of a configuration starts with, so that a
sweep row (:func:`fidelity.experiment.run_config`), the report's ROC curves
(:func:`fidelity.pipeline.roc_curves`), ``fidelity attack`` and
:func:`fidelity.attacks.evaluate_mitigations` draw the same split and grow the same
model for the same configuration and seed:

1. ``SeedSequence(config.seed).spawn(4)`` gives independent streams for the split, the
   model, the MI estimate and the attack;
2. the configuration's mitigation prepares the data (e.g. ``chunk``) and the target size;
3. :func:`fidelity.split.split_providers` emulates A and T (the split stream ignores
   overlap and target size, so one seed gives one user shuffle and nested targets);
4. the recommender is built with the grid's parameters, seeded from the model stream,
   wrapped by the mitigation, and fitted on D_T.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from fidelity._validation import seed_model
from fidelity.data.tables import Observations
from fidelity.split import ProviderSplit, split_providers

if TYPE_CHECKING:  # pragma: no cover
    from fidelity.experiment import SweepConfig
    from fidelity.recommenders.base import Recommender


@dataclass(frozen=True)
class FittedTarget:
    """The emulated providers, the target's fitted model and the remaining seed streams.

    Attributes
    ----------
    split : ProviderSplit
        D_A, D_T and the ground-truth membership.
    model : Recommender
        The target's model m_T, fitted on ``split.target`` (wrapped by the mitigation).
    params : dict
        The recommender parameters used.
    mi_seed, attack_seed : numpy.random.SeedSequence
        Streams for the MI estimate and for the attack.
    """

    split: ProviderSplit
    model: Recommender
    params: dict[str, Any]
    mi_seed: np.random.SeedSequence
    attack_seed: np.random.SeedSequence


def fit_target(
    observations: Observations,
    config: SweepConfig,
    recommender_params: Mapping[str, Mapping[str, Any]] | None = None,
) -> FittedTarget:
    """Split ``observations`` into A and T for ``config`` and fit the target's model.

    Parameters
    ----------
    observations : Observations
        The data both providers are emulated from.
    config : SweepConfig
        Overlap, target size, recommender, seed, mode and mitigation are used.
    recommender_params : mapping, optional
        Parameters per recommender name (as :attr:`SweepGrid.recommender_params`).

    Returns
    -------
    FittedTarget
    """
    from fidelity.attacks.mitigations import parse_mitigation
    from fidelity.recommenders import make_recommender

    split_seed, model_seed, mi_seed, attack_seed = np.random.SeedSequence(config.seed).spawn(4)
    mitigation = parse_mitigation(config.mitigation)
    data, target_size = mitigation.prepare(observations, config.target_size)
    split = split_providers(
        data,
        overlap=config.overlap,
        target_size=target_size,
        mode=config.mode,
        random_state=split_seed,
    )
    params = dict((recommender_params or {}).get(config.recommender, {}))
    model = seed_model(make_recommender(config.recommender, **params), model_seed)
    model = mitigation.wrap(model, random_state=int(model_seed.generate_state(2)[1] >> 1))
    model.fit(split.target)
    return FittedTarget(split, model, params, mi_seed, attack_seed)
