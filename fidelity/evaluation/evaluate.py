"""Evaluate one scenario with a list of attacks: the one evaluation every entry point uses.

:func:`evaluate` fits the scenario's target once (:func:`fidelity.scenario.fit_target`),
queries it once for the match attacks and both accuracy columns, runs every requested
attack on the same split and model with the scenario's attack stream, and measures
MI(H;O) with its null, interval and Fano bound. The sweep, ``fidelity attack``,
:func:`~fidelity.evaluation.compare_attacks`, :func:`~fidelity.evaluation.evaluate_mitigations`
and the report's ROC curves all call it, so one scenario and seed give the same numbers
everywhere. The result is an :class:`Evaluation` whose :meth:`~Evaluation.rows` are the
rows of the results table (one per attack, columns :data:`RESULT_COLUMNS`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fidelity._display import DisplayMixin
from fidelity._validation import check_positive_int
from fidelity.attacks import AttackResult, get_attack, run_attack
from fidelity.attacks.results import strongest
from fidelity.attacks.rmia import population_observations
from fidelity.attacks.threats import check_list_length, check_threat
from fidelity.data.tables import Observations
from fidelity.evaluation.data_information import MI_COLUMNS, DataInformation, data_information
from fidelity.scenario import FittedTarget, Scenario, fit_target

__all__ = [
    "RESULT_COLUMNS",
    "SCENARIO_COLUMNS",
    "AttackRequest",
    "Evaluation",
    "as_requests",
    "evaluate",
]

SCENARIO_COLUMNS = ("overlap", "target_size", "recommender", "seed", "mode", "mitigation")
"""Columns that identify the scenario of a row."""

RESULT_COLUMNS = (
    "overlap",
    "target_size",
    "recommender",
    "seed",
    "attack",
    "threat",
    "k",
    "mode",
    "mitigation",
    "n_adversary_users",
    "n_target_users",
    "n_members",
    "n_adversary_obs",
    "n_target_obs",
    "n_eligible_users",
    "n_left_out_users",
    "accuracy",
    "accuracy_holdout",
    "tp",
    "fp",
    "tn",
    "fn",
    "tpr",
    "fpr",
    "precision",
    "obs_accuracy",
    "auc",
    "advantage",
    "tpr_at_0.1pct_fpr",
    "tpr_at_1pct_fpr",
    "ppv",
    *MI_COLUMNS,
    "elapsed_s",
)
"""Columns of one evaluation row, in order (the sweep adds ``config_id``)."""


@dataclass(frozen=True)
class AttackRequest:
    """One attack to run on a scenario: its name, threat model, list length and options.

    Parameters
    ----------
    name : str
        A registered attack (:data:`fidelity.attacks.ATTACKS`).
    threat : {"label", "topk", "scores"}, default "label"
    k : int, default 1
        List length under ``topk`` (and the hit list of ``scores``); ``label`` uses 1.
    options : mapping, optional
        The attack's own options (e.g. ``{"n_references": 8}``).
    """

    name: str
    threat: str = "label"
    k: int = 1
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        spec = get_attack(self.name)
        check_threat(self.name, self.threat, spec.threats)
        check_positive_int("k", self.k)
        unknown = sorted(set(self.options) - set(spec.option_names))
        if unknown:
            raise ValueError(
                f"the {self.name} attack takes no option(s) {unknown}; its options are "
                f"{list(spec.option_names)}"
            )
        object.__setattr__(self, "options", dict(self.options))

    @property
    def label(self) -> str:
        """``"<name> (<threat>)"``, for tables and figures."""
        return f"{self.name} ({self.threat})"


def as_requests(attacks: Iterable[AttackRequest | str | tuple]) -> tuple[AttackRequest, ...]:
    """Normalise ``attacks``: requests, names (label threat) or ``(name, threat[, k])`` tuples."""
    if isinstance(attacks, (str, AttackRequest)):
        attacks = [attacks]
    out = []
    for a in attacks:
        if isinstance(a, AttackRequest):
            out.append(a)
        elif isinstance(a, str):
            out.append(AttackRequest(a))
        elif isinstance(a, tuple) and 1 <= len(a) <= 3:
            out.append(AttackRequest(*a))
        else:
            raise TypeError(
                "attacks must hold AttackRequest, attack names or (name, threat[, k]) tuples; "
                f"got {a!r}"
            )
    if not out:
        raise ValueError("attacks must name at least one attack; got none")
    return tuple(out)


@dataclass(frozen=True, eq=False)
class Evaluation(DisplayMixin):
    """Everything measured on one scenario.

    Attributes
    ----------
    scenario : Scenario
    split_summary : dict
        Sizes of the provider split (:meth:`fidelity.split.ProviderSplit.to_dict`).
    accuracy, accuracy_holdout : float
        The target's top-1 accuracy on its own training data and on the adversary's
        non-member observations.
    requests : tuple of AttackRequest
    results : tuple of AttackResult
        One per request, in order.
    information : DataInformation or None
        MI(H;O) between D_A and D_T over (s, s') and the timing the target reads, its
        timing attribution and its Fano (data-only) size (None when not measured).
    elapsed_s : float
    fitted : FittedTarget
        The split and the model (not in :meth:`rows`).
    """

    scenario: Scenario
    split_summary: dict[str, Any]
    accuracy: float
    accuracy_holdout: float
    requests: tuple[AttackRequest, ...]
    results: tuple[AttackResult, ...]
    information: DataInformation | None
    elapsed_s: float
    fitted: FittedTarget = field(repr=False)

    def result(self, name: str, threat: str | None = None) -> AttackResult:
        """The result of the first request for attack ``name`` (and ``threat``)."""
        for req, res in zip(self.requests, self.results, strict=True):
            if req.name == name and (threat is None or req.threat == threat):
                return res
        raise KeyError(f"no result for attack {name!r} threat {threat!r} in this evaluation")

    @property
    def strongest(self) -> AttackResult | None:
        """The result of highest user-level AUC (None when no attack could build a ROC)."""
        return strongest(self.results)

    def summary(self) -> str:
        """Two sentences: the target's accuracy and the strongest attack, then MI's reading."""
        sc = self.scenario
        text = (
            f"Target {sc.recommender} (overlap {sc.overlap:g}, {sc.mode}, seed {sc.seed}): "
            f"top-1 accuracy {self.accuracy:.3f} on its training data and "
            f"{self.accuracy_holdout:.3f} on held-out users"
        )
        best = self.strongest
        if best is None or best.roc is None:
            text += f"; none of the {len(self.results)} attack(s) could be scored."
        else:
            text += (
                f"; the strongest of {len(self.results)} attack(s), {best.label}, reaches AUC "
                f"{best.roc.auc:.3f} and advantage {best.roc.advantage:.3f}."
            )
        if self.information is not None:
            info = self.information
            fano = (
                f"its Fano bound allows {info.fano.size} observations per user"
                if info.fano.size is not None
                else "it gives no Fano size (it cannot be told from 0 on these data)"
            )
            text += f" The data-only MI(H;O) is {info.estimate.mi:.4g} bits: {fano}."
        return text

    def to_dict(self) -> dict[str, Any]:
        """Scalars shared by the rows (scenario, split, accuracy, MI) and the strongest attack."""
        out: dict[str, Any] = {
            key: value for key, value in self.scenario.to_dict().items() if key in SCENARIO_COLUMNS
        }
        out.update(self.split_summary)
        out["target_size"] = self.scenario.target_size
        out["accuracy"] = self.accuracy
        out["accuracy_holdout"] = self.accuracy_holdout
        best = self.strongest
        out["n_attacks"] = len(self.results)
        out["strongest_attack"] = None if best is None else best.label
        out["strongest_auc"] = np.nan if best is None else best.roc.auc  # type: ignore[union-attr]
        out["strongest_advantage"] = (
            np.nan if best is None else best.roc.advantage  # type: ignore[union-attr]
        )
        if self.information is not None:
            out.update(self.information.row())
        out["elapsed_s"] = self.elapsed_s
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One row per attack, columns :data:`RESULT_COLUMNS` (NaN where not measured)."""
        common: dict[str, Any] = {
            key: value for key, value in self.scenario.to_dict().items() if key in SCENARIO_COLUMNS
        }
        common.update(self.split_summary)
        # the scenario's target size (a mitigation may have scaled the split's)
        common["target_size"] = self.scenario.target_size
        common["accuracy"] = self.accuracy
        common["accuracy_holdout"] = self.accuracy_holdout
        if self.information is not None:
            common.update(self.information.row())
        common["elapsed_s"] = self.elapsed_s
        rows = []
        for req, result in zip(self.requests, self.results, strict=True):
            row = dict(common)
            row.update(attack=req.name, threat=req.threat, k=req.k)
            row.update({k: v for k, v in result.to_dict().items() if k in RESULT_COLUMNS})
            rows.append({col: row.get(col, np.nan) for col in RESULT_COLUMNS})
        return rows

    def to_frame(self) -> pd.DataFrame:
        """:meth:`rows` as a table."""
        frame = pd.DataFrame(self.rows(), columns=list(RESULT_COLUMNS))
        frame["target_size"] = frame["target_size"].astype("Int64")
        return frame


def default_options(
    request: AttackRequest, observations: Observations, fitted: FittedTarget
) -> dict[str, Any]:
    """The request's options, plus what the emulation knows and an attack can take.

    An attack that takes ``population`` (observations known to be outside the target's
    training data, e.g. RMIA) gets the users in neither the adversary's data nor the
    target's (:func:`fidelity.attacks.rmia.population_observations`): in a real audit, data
    collected after the target's model was published, or a public data set.
    """
    options = dict(request.options)
    if "population" in get_attack(request.name).option_names and "population" not in options:
        population = population_observations(observations, fitted.split)
        if len(population.users()) >= 2:  # one half plays z, the other calibrates
            options["population"] = population
    return options


def _hit_rate(top1: np.ndarray, next_item: np.ndarray) -> float:
    """Top-1 accuracy of given answers (NaN when there is no observation)."""
    return float(np.mean(top1 == next_item)) if len(top1) else float("nan")


def evaluate(
    observations: Observations,
    scenario: Scenario,
    attacks: Sequence[AttackRequest | str | tuple] = ("match",),
    *,
    n_permutations: int = 0,
    n_bootstrap: int = 0,
    attack_bootstrap: int = 0,
    measure_mi: bool = True,
    fitted: FittedTarget | None = None,
    show_progress: bool = False,
) -> Evaluation:
    """Evaluate ``scenario`` on ``observations`` with every attack in ``attacks``.

    Parameters
    ----------
    observations : Observations
        The data both providers are emulated from.
    scenario : Scenario
    attacks : sequence of AttackRequest, str or (name, threat[, k])
        The attacks to run on the one fitted target; default the match attack (label).
    n_permutations, n_bootstrap : int
        Permutation-null and bootstrap sizes of the MI estimate (whole users resampled;
        see :func:`fidelity.information.mutual_information` for the estimators that need
        a null).
    attack_bootstrap : int
        Bootstrap resamples over users for every attack's ROC intervals.
    measure_mi : bool, default True
        Measure MI(H;O) over (s, s') and the timing features the target reads, its timing
        attribution and its Fano size (False leaves those columns NaN).
    fitted : FittedTarget, optional
        The scenario's fitted target when the caller already has it (it must be
        ``fit_target(observations, scenario)``).
    show_progress : bool
        Progress bars of the attacks' model training.

    Returns
    -------
    Evaluation
    """
    requests = as_requests(attacks)
    start = time.perf_counter()
    if fitted is None:
        fitted = fit_target(observations, scenario)
    elif fitted.scenario != scenario:
        raise ValueError("fitted must be the fitted target of this scenario")
    split, model = fitted.split, fitted.model
    adv, tgt = split.adversary, split.target

    # One query of the target for the match attacks and both accuracy columns (the model
    # evaluates each distinct (song, timing) query once).
    width = max([1] + [check_list_length(r.threat, r.k) for r in requests if r.name == "match"])
    answers = model.recommend(
        np.concatenate([adv.item, tgt.item]), np.concatenate([adv.timing, tgt.timing]), k=width
    )
    adv_answers = answers[: len(adv)]
    adv_top1, tgt_top1 = adv_answers[:, 0], answers[len(adv) :, 0]
    non_member = ~split.member_mask
    accuracy = _hit_rate(tgt_top1, tgt.next_item)
    accuracy_holdout = _hit_rate(adv_top1[non_member], adv.next_item[non_member])

    results = []
    for req in requests:
        options = default_options(req, observations, fitted)
        if req.name == "match" and "recommendations" not in options:
            options["recommendations"] = adv_answers
        results.append(
            run_attack(
                req.name,
                split,
                model,
                threat=req.threat,
                k=req.k,
                recommender=scenario.recommender,
                recommender_params=dict(scenario.recommender_params),
                n_bootstrap=attack_bootstrap,
                random_state=fitted.attack_seed,
                show_progress=show_progress,
                **options,
            )
        )

    information = None
    if measure_mi:
        information = data_information(
            split,
            getattr(model, "timing_used_", ()),
            n_permutations=n_permutations,
            n_bootstrap=n_bootstrap,
            random_state=fitted.mi_seed,
        )
    return Evaluation(
        scenario=scenario,
        split_summary=split.to_dict(),
        accuracy=accuracy,
        accuracy_holdout=accuracy_holdout,
        requests=requests,
        results=tuple(results),
        information=information,
        elapsed_s=time.perf_counter() - start,
        fitted=fitted,
    )
