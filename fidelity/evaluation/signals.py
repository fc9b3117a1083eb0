"""Every attack's signals on one fitted target, once, with the models they can share.

The session-length curve and the audit both prepare each requested attack's signals once
and summarise them at many session sizes. Preparing is the costly part (reference and
shadow models are trained there), so a later attack reuses the models an earlier one
fitted, unless its request sizes its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tqdm.auto import tqdm

from fidelity.attacks import AttackSignals, get_attack, prepare_attack
from fidelity.data.tables import Observations
from fidelity.evaluation.evaluate import AttackRequest, default_options
from fidelity.scenario import FittedTarget

__all__ = ["SHARED_MODEL_OPTIONS", "prepare_signals", "share_models"]

# Options through which a request asks for its own reference or shadow models instead of
# reusing those an earlier attack fitted.
SHARED_MODEL_OPTIONS = {"n_references", "reference_size", "n_shadows", "shadow_size"}


def share_models(shared: dict[str, Any], request: AttackRequest, signals: AttackSignals) -> None:
    """Offer the models ``signals`` fitted to later attacks, unless ``request`` sized them.

    A request that sets one of :data:`SHARED_MODEL_OPTIONS` fitted models of its own
    size; they are not shared. Models already in ``shared`` stay (the first wins).
    """
    if not (SHARED_MODEL_OPTIONS & set(request.options)):
        for name, value in signals.artifacts.items():
            shared.setdefault(name, value)


def prepare_signals(
    requests: Sequence[AttackRequest],
    observations: Observations,
    fitted: FittedTarget,
    *,
    recommender: Any,
    recommender_params: dict[str, Any] | None,
    shared: dict[str, Any] | None = None,
    show_progress: bool = False,
) -> list[AttackSignals]:
    """Every request's signals once, on ``fitted``'s split and model, with shared models.

    A later attack reuses the reference or shadow models an earlier one fitted (through
    ``shared``, which collects each result's artifacts), unless its request sets one of
    the options that size those models. The seeds are the scenario's attack stream, so
    :func:`session_curve` and :func:`fidelity.audit.audit` give the same signals.

    Parameters
    ----------
    requests : sequence of AttackRequest
    observations : Observations
        The data the scenario was built from (RMIA's population comes from it).
    fitted : FittedTarget
    recommender, recommender_params
        The algorithm the attacks that train models of the target's kind use.
    shared : dict, optional
        Models already fitted (updated in place with the new ones).
    show_progress : bool, default False

    Returns
    -------
    list of AttackSignals, in the order of ``requests``
    """
    shared = {} if shared is None else shared
    signals = []
    for request in tqdm(requests, disable=not show_progress, desc="attack signals"):
        options = default_options(request, observations, fitted)
        spec = get_attack(request.name)
        for name, value in shared.items():
            if name in spec.option_names and not (SHARED_MODEL_OPTIONS & set(options)):
                options.setdefault(name, value)
        result = prepare_attack(
            request.name,
            fitted.split,
            fitted.model,
            threat=request.threat,
            k=request.k,
            recommender=recommender,
            recommender_params=recommender_params,
            random_state=fitted.attack_seed,
            show_progress=show_progress,
            **options,
        )
        share_models(shared, request, result)
        signals.append(result)
    return signals
