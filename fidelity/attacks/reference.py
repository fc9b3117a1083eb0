"""Reference-calibrated attack: offline LiRA for recommenders (Carlini et al. 2022).

A hit may come from good generalisation rather than membership (the paper says so).
The adversary therefore trains ``R`` reference recommenders of the target's kind on
random halves of **its own** users, so for each of its users it knows which references
did *not* see that user (the OUT references). For every observation o = (s, s', t) it
compares the target with the OUT references on the same query:

- ``scores`` threat (likelihood ratio): ``log p_T(s'|s,t) - mean_out log p_ref(s'|s,t)``
  (``calibration="mean"``), or a Gaussian LiRA score on logits,
  ``(logit p_T - mu_out) / sigma_s`` with ``sigma_s`` the spread of the OUT references'
  logits pooled over the observations of query song s (``calibration="gaussian"``; a
  per-observation variance from R/2 references is too noisy, hence the pooling, as LiRA
  does with few shadow models);
- ``label`` / ``topk`` threats (label-only variant): ``hit_T - mean_out hit_ref``, the
  target's hit minus the OUT references' hit rate on the same observation (references
  answer with the same list length ``k``).

A user's score is the mean over its observations. References are trained in disjoint
pairs (each user is OUT of at least ``R // 2`` of them) and see only adversary data;
queries are deduplicated inside the recommenders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from tqdm.auto import tqdm

from fidelity._validation import (
    RandomStateLike,
    check_choice,
    check_positive_int,
    seed_model,
    seed_sequence,
)
from fidelity.attacks.registry import AttackOption, AttackSpec, register_attack
from fidelity.attacks.results import AttackResult, AttackSignals, summarise
from fidelity.attacks.threats import (
    THREATS,
    ModelOutputs,
    as_template,
    check_list_length,
    check_threat,
    model_outputs,
    with_entropy,
)
from fidelity.data.tables import Observations
from fidelity.recommenders import Recommender
from fidelity.split import ProviderSplit, paired_user_sets

CALIBRATIONS = ("mean", "gaussian")


@dataclass(frozen=True, eq=False)
class AdversaryModels:
    """Models of the target's kind fitted on paired halves of the adversary's users.

    The reference attack calls them references, the shadow attack shadows: one set can
    serve both (the session-length curve shares it), and their answers on the adversary's
    observations are computed once per threat model.

    Attributes
    ----------
    models : tuple of Recommender
    sets : tuple of ndarray
        The adversary users each model was trained on.
    inside : ndarray of bool, shape (n_models, n_adversary_observations)
        ``inside[j, i]``: observation ``i``'s user was in model ``j``'s training data.
    """

    models: tuple[Recommender, ...]
    sets: tuple[np.ndarray, ...]
    inside: np.ndarray
    _outputs: dict[tuple, ModelOutputs] = field(default_factory=dict, repr=False)

    def outputs(
        self, j: int, obs: Observations, threat: str, k: int, *, entropy: bool = False
    ) -> ModelOutputs:
        """Model ``j``'s answers on ``obs`` (the adversary's data) under ``threat`` (cached)."""
        if not entropy and (j, threat, k, True) in self._outputs:
            return self._outputs[(j, threat, k, True)]  # a superset of what is asked
        key = (j, threat, k, entropy)
        lean = (j, threat, k, False)
        if key not in self._outputs and entropy and threat == "scores" and lean in self._outputs:
            # the reference attack cached these without entropy: add it (the shadow attack)
            self._outputs[key] = with_entropy(self.models[j], obs, self._outputs[lean])
        if key not in self._outputs:
            self._outputs[key] = model_outputs(self.models[j], obs, threat, k, entropy=entropy)
        return self._outputs[key]


def fit_adversary_models(
    split: ProviderSplit,
    template: Recommender,
    *,
    n_models: int,
    size: int | None,
    random_state: RandomStateLike,
    show_progress: bool = False,
) -> AdversaryModels:
    """Fit ``n_models`` clones of ``template`` on paired random halves of A's users."""
    ss = seed_sequence(random_state)
    split_seed, *model_seeds = ss.spawn(n_models + 1)
    rng = np.random.default_rng(split_seed)
    sets = paired_user_sets(split.adversary_users, n_models, size, rng)
    adv = split.adversary
    models, inside = [], np.zeros((n_models, len(adv)), dtype=bool)
    for j in tqdm(range(n_models), disable=not show_progress, desc="reference models"):
        mask = np.isin(adv.user, sets[j])
        models.append(seed_model(clone(template), model_seeds[j]).fit(adv.take(mask)))
        inside[j] = mask
    return AdversaryModels(tuple(models), tuple(sets), inside)


def reference_models(
    split: ProviderSplit,
    template: Recommender,
    *,
    n_models: int,
    size: int | None,
    random_state: RandomStateLike,
    show_progress: bool = False,
) -> tuple[list[Recommender], np.ndarray]:
    """Fit ``n_models`` clones of ``template`` on paired random halves of A's users.

    Returns
    -------
    models : list of Recommender
    inside : ndarray of bool, shape (n_models, n_adversary_observations)
        ``inside[j, i]``: observation ``i``'s user was in model ``j``'s training data.
    """
    bank = fit_adversary_models(
        split,
        template,
        n_models=n_models,
        size=size,
        random_state=random_state,
        show_progress=show_progress,
    )
    return list(bank.models), bank.inside


def adversary_bank(
    split: ProviderSplit,
    adversary_models: AdversaryModels | None,
    recommender: Any,
    recommender_params: dict[str, Any] | None,
    *,
    n_models: int,
    size: int | None,
    random_state: RandomStateLike,
    show_progress: bool = False,
) -> AdversaryModels:
    """The reference models of an attack: ``adversary_models`` checked, or fitted anew.

    Models another attack already fitted on this split are checked against it and used
    as they are (their number replaces ``n_models``); otherwise ``n_models`` models of
    the target's kind (``recommender``) are fitted on paired user sets.
    """
    if adversary_models is not None:
        return check_adversary_models(adversary_models, split)
    return fit_adversary_models(
        split,
        as_template(recommender, recommender_params),
        n_models=n_models,
        size=size,
        random_state=random_state,
        show_progress=show_progress,
    )


def check_adversary_models(bank: AdversaryModels, split: ProviderSplit) -> AdversaryModels:
    """Check that ``bank`` was fitted on this split's adversary data."""
    if not isinstance(bank, AdversaryModels):
        raise TypeError(f"adversary_models must be AdversaryModels; got {type(bank).__name__}")
    if bank.inside.shape[1] != len(split.adversary) or len(bank.models) < 2:
        raise ValueError(
            "adversary_models must hold at least 2 models fitted on this split's adversary "
            f"data ({len(split.adversary)} observations); got {len(bank.models)} model(s) over "
            f"{bank.inside.shape[1]} observations"
        )
    return bank


def _out_mean(values: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Mean over references of ``values`` (R x n) where ``out`` is True."""
    return (values * out).sum(axis=0) / out.sum(axis=0)


def _logit(log_p: np.ndarray) -> np.ndarray:
    p = np.exp(log_p)
    return log_p - np.log(np.maximum(1.0 - p, 1e-12))


def _gaussian_evidence(
    target: np.ndarray, refs: np.ndarray, out: np.ndarray, items: np.ndarray
) -> np.ndarray:
    """LiRA z-score with a variance pooled per query song (and a global floor)."""
    n_out = out.sum(axis=0)
    mu = _out_mean(refs, out)
    sq = (((refs - mu) ** 2) * out).sum(axis=0)
    dof = np.maximum(n_out - 1, 0).astype(np.float64)
    n_items = int(items.max()) + 1 if len(items) else 1
    num = np.bincount(items, weights=sq, minlength=n_items)
    den = np.bincount(items, weights=dof, minlength=n_items)
    global_var = sq.sum() / max(dof.sum(), 1.0)
    floor = max(global_var * 0.1, 1e-6)
    var = np.where(den > 0, num / np.maximum(den, 1.0), global_var)
    sigma = np.sqrt(np.maximum(var, floor))[items]
    return (target - mu) / sigma


def prepare_reference(
    split: ProviderSplit,
    model: Any,
    *,
    recommender: str | Recommender,
    recommender_params: dict[str, Any] | None = None,
    threat: str = "scores",
    k: int = 10,
    n_references: int = 4,
    reference_size: int | None = None,
    calibration: str = "mean",
    adversary_models: AdversaryModels | None = None,
    random_state: RandomStateLike = None,
    show_progress: bool = False,
) -> AttackSignals:
    """The reference attack's per-observation evidence (see :func:`reference_attack`).

    ``adversary_models`` (optional) are references already fitted on this split (their
    number replaces ``n_references``); the signals carry the models they used under
    ``artifacts["adversary_models"]`` so that another attack can share them.
    """
    threat = check_threat("reference", threat, THREATS)
    k = check_list_length(threat, k)
    n_references = check_positive_int("n_references", n_references, minimum=2)
    check_choice("calibration", calibration, CALIBRATIONS)
    if calibration == "gaussian" and threat != "scores":
        raise ValueError(
            f"calibration='gaussian' needs the 'scores' threat model; got threat={threat!r}"
        )
    ref_seed, boot_seed = seed_sequence(random_state).spawn(2)
    bank = adversary_bank(
        split,
        adversary_models,
        recommender,
        recommender_params,
        n_models=n_references,
        size=reference_size,
        random_state=ref_seed,
        show_progress=show_progress,
    )
    n_references = len(bank.models)
    adv = split.adversary
    out = ~bank.inside
    target = model_outputs(model, adv, threat, k)
    ref_out = [bank.outputs(j, adv, threat, k) for j in range(len(bank.models))]
    if threat == "scores":
        ref_log_p = np.stack([o.log_p for o in ref_out])
        if calibration == "mean":
            evidence = target.log_p - _out_mean(ref_log_p, out)
        else:
            evidence = _gaussian_evidence(_logit(target.log_p), _logit(ref_log_p), out, adv.item)
        user_score = f"mean_llr_{calibration}"
    else:
        ref_hits = np.stack([o.hit for o in ref_out]).astype(np.float64)
        evidence = target.hit.astype(np.float64) - _out_mean(ref_hits, out)
        user_score = "mean_calibrated_hit"
    return AttackSignals(
        attack="reference",
        threat=threat,
        k=k,
        user_score=user_score,
        observation_scores=evidence,
        hits=evidence > 0,
        bootstrap_seed=boot_seed,
        extra={"n_references": n_references},
        artifacts={"adversary_models": bank},
    )


def reference_attack(
    split: ProviderSplit,
    model: Any,
    *,
    recommender: str | Recommender,
    recommender_params: dict[str, Any] | None = None,
    threat: str = "scores",
    k: int = 10,
    n_references: int = 4,
    reference_size: int | None = None,
    calibration: str = "mean",
    n_bootstrap: int = 0,
    random_state: RandomStateLike = None,
    show_progress: bool = False,
) -> AttackResult:
    """Reference-calibrated (offline LiRA) membership attack against a fitted target.

    Parameters
    ----------
    split : ProviderSplit
        Adversary data and ground-truth membership.
    model : Recommender
        The fitted target model.
    recommender : str or Recommender
        The target's algorithm: a name for :func:`~fidelity.recommenders.make_recommender`
        (with ``recommender_params``) or an unfitted template that is cloned.
    recommender_params : dict, optional
        Parameters of the references (the target's, as far as the adversary knows them).
    threat : {"label", "topk", "scores"}
        ``scores``: likelihood-ratio evidence; ``label``/``topk``: label-only variant.
    k : int
        List length under ``topk`` (``label`` uses 1).
    n_references : int, default 4
        Number of reference models ``R`` (at least 2).
    reference_size : int, optional
        Users per reference (default: half of the adversary's users).
    calibration : {"mean", "gaussian"}
        Under ``scores``: difference to the OUT mean, or the Gaussian LiRA z-score.
    n_bootstrap : int
        Bootstrap resamples over users for the ROC confidence intervals.
    random_state : int, Generator, SeedSequence or None
    show_progress : bool

    Returns
    -------
    AttackResult
        ``attack="reference"``; observation-level guesses are ``evidence > 0``.
    """
    signals = prepare_reference(
        split,
        model,
        recommender=recommender,
        recommender_params=recommender_params,
        threat=threat,
        k=k,
        n_references=n_references,
        reference_size=reference_size,
        calibration=calibration,
        random_state=random_state,
        show_progress=show_progress,
    )
    return summarise(signals, split, n_bootstrap=n_bootstrap)


SPEC = register_attack(
    AttackSpec(
        name="reference",
        prepare=prepare_reference,
        threats=THREATS,
        options=(
            AttackOption("n_references", int, "reference models R (>= 2)", flag="--references"),
            AttackOption("reference_size", int, "users per reference model (default: half)"),
            AttackOption(
                "calibration", str, "scores threat: OUT mean or Gaussian", choices=CALIBRATIONS
            ),
            AttackOption(
                "adversary_models",
                AdversaryModels,
                "references already fitted on this split (Python only)",
                cli=False,
            ),
        ),
        trains_like_target=True,
        description="offline LiRA: the target's likelihood against OUT reference models",
    ),
    replace=True,
)

__all__ = [
    "CALIBRATIONS",
    "AdversaryModels",
    "adversary_bank",
    "fit_adversary_models",
    "prepare_reference",
    "reference_attack",
    "reference_models",
]
