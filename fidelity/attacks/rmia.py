"""RMIA for next-item recommenders (Zarifzadeh et al., ICML 2024), offline, ``scores`` threat.

For an observation x = (s, s', t) of the adversary, the target's likelihood of x is the
probability ``p_T(x) = p_T(s' | s, t)`` it gives to the true next song. The attack works
in three steps.

1. **Likelihood ratio against the references.** ``R`` reference models of the target's
   kind are trained on paired random halves of the adversary's users, exactly as in the
   reference attack (:func:`fidelity.attacks.reference.reference_models`). For x, the OUT
   references are those that did not see x's user, and the *offline* approximation of
   the marginal likelihood is ``Pr(x) = ((1 + a) p_OUT(x) + (1 - a)) / 2``, with
   ``p_OUT(x)`` the mean OUT probability (of probabilities, not of logs). Then
   ``LR(x) = p_T(x) / Pr(x)``. ``a`` in [0, 1] says how far the IN likelihood stands
   above the OUT one (``a = 1``: ``Pr(x) = p_OUT(x)``).
2. **Pairwise comparison with a population.** For population observations z that the
   adversary knows are outside the target's training data, ``LR(z)`` is computed the
   same way (the same target, the OUT references of a random adversary user, so that
   ``LR(z)`` is distributed as ``LR(x)`` of a non-member). The score of x is the fraction
   of z it dominates by a factor ``gamma``: ``#{z : LR(x) / LR(z) > gamma} / |Z|`` (ties
   count one half). For a non-member and ``gamma = 1`` the score is uniform on (0, 1)
   whatever the target, which is what makes it comparable across targets and users.
3. **Users.** A group of observations (a user, or a pseudo-user of at most N
   observations) is scored by the Stouffer combination of its observations' scores,
   ``sum(Phi^-1(score)) / sqrt(n)``, which is standard normal for a non-member group of
   independent observations of any size ``n``, so one threshold serves short and long
   users alike (``aggregate="mean"`` averages the scores instead).

**Which data play z.** ``population``, when given, is a table of observations of people
that neither provider holds; :func:`population_observations` takes them from the data
the split was made from (the users in neither A nor T's training data). They stand for
data the adversary can know to be outside the target's training set in practice:
sessions recorded after the target's model was published, or a public listening data
set. In the emulation they are drawn from the same shuffled population as A's users, so
a non-member's observations and z are exchangeable, and none of them is in D_T by
construction. Half of the population users are z; the other half (never compared with
themselves) give the adversary a null distribution of group scores under the *real*
target for threshold calibration (:mod:`fidelity.attacks.calibration`). Without a
population, z are the adversary's own observations: in ``split-history`` mode none of
them is a training observation (A's sessions of a common user are never T's), so this is
honest there; in ``shared`` mode an unknown fraction of them (the membership prior) are
D_T's, which only lowers the scores of everyone alike (a member in Z dominates more
than a non-member would); the result's ``extra["population_outside"]`` says which case
applies.

**Choosing ``a`` and ``gamma`` without the ground truth.** Each reference model in turn
plays the target on the adversary's own data: its IN users are known members, the
references of the *other* pairs give every observation the same number of OUT
references, and z are the population (or, without one, the adversary's observations
that this reference did not see). The pair ``(a, gamma)`` with the best user-level AUC
averaged over these pseudo-targets is kept (the paper chooses ``a`` this way; ties go
to the largest ``a``, then the smallest ``gamma``). In ``split-history`` mode the
references still saw whole users, so this game is a ``shared`` one (a pseudo-member's
observations are the pseudo-target's training data) and the choice favours memorisation.

**No label-only variant.** Under ``label``/``topk`` the target's "likelihood" of x is 0
or 1 (the true song is or is not in the answer), so ``LR(x)`` is 0 for every miss and
``1 / Pr(hit)`` for a hit: misses carry no evidence at all and the pairwise test
collapses to a weighted hit count. The reference attack's label-only score (target hit
minus the OUT references' hit rate) keeps the evidence of misses, so a label-only RMIA
would be a weaker copy of it, and none is offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fidelity._validation import (
    RandomStateLike,
    check_choice,
    check_fraction,
    check_positive_int,
    seed_sequence,
)
from fidelity.attacks.pairwise import (
    A_GRID,
    GAMMA_GRID,
    Queries,
    choose_parameters,
    log_likelihood_ratio,
    matched_out,
    pairwise_scores,
    transform,
    user_patterns,
)
from fidelity.attacks.reference import AdversaryModels, adversary_bank
from fidelity.attacks.registry import AttackOption, AttackSpec, register_attack
from fidelity.attacks.results import AttackResult, AttackSignals, summarise
from fidelity.attacks.threats import check_list_length, check_threat
from fidelity.data.tables import Observations
from fidelity.metrics import user_scores
from fidelity.split import ProviderSplit, pseudo_user_codes

__all__ = [
    "AGGREGATES",
    "A_GRID",
    "GAMMA_GRID",
    "RMIASignals",
    "log_likelihood_ratio",
    "pairwise_scores",
    "population_observations",
    "prepare_rmia",
    "rmia_attack",
]

AGGREGATES = ("stouffer", "mean")
"""Ways to combine the observation scores of a group (user or pseudo-user)."""


@dataclass(frozen=True, eq=False)
class RMIASignals(AttackSignals):
    """RMIA's per-observation scores, and a population null for threshold calibration.

    ``observation_scores`` are the pairwise scores in (0, 1); ``values`` what a group
    aggregates (their probits for ``aggregate="stouffer"``).

    Attributes
    ----------
    aggregate : {"stouffer", "mean"}
    null_values : ndarray of float64 or None
        ``values`` of the calibration population's observations (scored by the real
        target against the same z); ``None`` without a population.
    null_user : ndarray of int64 or None
        User code of each calibration observation (rows grouped by user).
    """

    aggregate: str = "stouffer"
    null_values: np.ndarray | None = None
    null_user: np.ndarray | None = None

    def _combine(self, values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        uniq, sums = user_scores(values, groups, how="sum")
        _, counts = user_scores(values, groups, how="count")
        return uniq, sums / (np.sqrt(counts) if self.aggregate == "stouffer" else counts)

    def score_users(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stouffer combination (or mean) of the observation scores of each group."""
        return self._combine(self.values, groups)

    def null_scores(self, max_observations: int | None = None) -> np.ndarray | None:
        """Group scores of the calibration population (known non-members of the target).

        Parameters
        ----------
        max_observations : int, optional
            Cut every population user into pseudo-users of at most this many
            observations (the rule of :func:`fidelity.split.pseudo_user_codes`), as the
            adversary's users are cut for the session-length curve.

        Returns
        -------
        ndarray of float64 or None
            One score per calibration group; ``None`` when the attack had no population.
        """
        if self.null_values is None or self.null_user is None:
            return None
        groups = self.null_user
        if max_observations is not None:
            groups = pseudo_user_codes(groups, max_observations)[0]
        return self._combine(self.null_values, groups)[1]


def population_observations(observations: Observations, split: ProviderSplit) -> Observations:
    """Observations of the users in neither the adversary's data nor the target's training data.

    The emulation's stand-in for data the adversary knows to be outside the target's
    training set (see the module docstring).

    Parameters
    ----------
    observations : Observations
        The data ``split`` was made from.
    split : ProviderSplit

    Returns
    -------
    Observations
    """
    if not isinstance(observations, Observations):
        raise TypeError(
            f"observations must be a fidelity Observations table; got {type(observations).__name__}"
        )
    held = np.union1d(split.adversary_users, split.target_users)
    return observations.select_users(np.setdiff1d(observations.users(), held))


def _check_population(population: Any, split: ProviderSplit) -> Observations | None:
    if population is None:
        return None
    if not isinstance(population, Observations):
        raise TypeError(
            "population must be a fidelity Observations table (e.g. from "
            f"population_observations) or None; got {type(population).__name__}"
        )
    if len(population.users()) < 2:
        raise ValueError(
            "population must hold at least 2 users (half are z, half calibrate); got "
            f"{len(population.users())}"
        )
    if population.n_items != split.adversary.n_items:
        raise ValueError(
            "population must share the adversary's song vocabulary "
            f"({split.adversary.n_items} songs); got {population.n_items}"
        )
    adv_ids = split.adversary.user_ids[split.adversary_users]
    shared = np.intersect1d(population.user_ids[population.users()], adv_ids)
    if len(shared):
        raise ValueError(
            f"population must hold no adversary user; got {len(shared)} of them "
            f"(e.g. {shared[0]!r})"
        )
    return population


def _check_gamma(gamma: Any) -> float | None:
    if gamma is None:
        return None
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.integer, np.floating)):
        raise TypeError(f"gamma must be a float > 0 or None; got {gamma!r}")
    if not np.isfinite(gamma) or gamma <= 0:
        raise ValueError(f"gamma must be a float > 0 or None; got {gamma!r}")
    return float(gamma)


def prepare_rmia(
    split: ProviderSplit,
    model: Any,
    *,
    recommender: str | Any,
    recommender_params: dict[str, Any] | None = None,
    threat: str = "scores",
    k: int = 10,
    n_references: int = 4,
    reference_size: int | None = None,
    offline_a: float | None = None,
    gamma: float | None = None,
    aggregate: str = "stouffer",
    population: Observations | None = None,
    adversary_models: AdversaryModels | None = None,
    random_state: RandomStateLike = None,
    show_progress: bool = False,
) -> RMIASignals:
    """RMIA's per-observation scores (see :func:`rmia_attack`).

    ``adversary_models`` (optional): references already fitted on this split (e.g. by the
    reference attack, with which RMIA then shares them); their number replaces
    ``n_references``.
    """
    threat = check_threat("rmia", threat, ("scores",))
    k = check_list_length(threat, k)
    n_references = check_positive_int("n_references", n_references, minimum=2)
    if offline_a is not None:
        offline_a = check_fraction("offline_a", offline_a)
    gamma = _check_gamma(gamma)
    check_choice("aggregate", aggregate, AGGREGATES)
    population = _check_population(population, split)
    # the reference attack spawns (references, bootstrap) from the same seed: with one
    # random_state both attacks train the same references and share the ROC bootstrap
    ref_seed, boot_seed, pop_seed = seed_sequence(random_state).spawn(3)
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
    refs, inside, n_references = list(bank.models), bank.inside, len(bank.models)
    adv = split.adversary
    rng = np.random.default_rng(pop_seed)

    def probs(m: Any, obs: Observations) -> np.ndarray:
        return np.asarray(m.score_next(obs.item, obs.timing, obs.next_item), dtype=np.float64)

    z_obs = cal_obs = None
    patterns = user_patterns(inside, adv.user)
    if population is not None:
        pop_users = rng.permutation(population.users())
        half = len(pop_users) // 2
        z_obs = population.select_users(np.sort(pop_users[:half]))
        cal_obs = population.select_users(np.sort(pop_users[half:]))
    q = Queries(
        p_target=probs(model, adv),
        p_refs=np.stack([probs(r, adv) for r in refs]),
        out=~inside,
        pz_target=None if z_obs is None else probs(model, z_obs),
        pz_refs=None if z_obs is None else np.stack([probs(r, z_obs) for r in refs]),
        z_out=None if z_obs is None else matched_out(patterns, z_obs.user, rng),
    )
    pseudo_auc = float("nan")
    if offline_a is None or gamma is None:
        a_grid = A_GRID if offline_a is None else (offline_a,)
        g_grid = GAMMA_GRID if gamma is None else (gamma,)
        offline_a, gamma, pseudo_auc = choose_parameters(
            q, inside, adv.user, aggregate, a_grid, g_grid
        )
    lx = log_likelihood_ratio(q.p_target, q.p_refs, q.out, offline_a)
    if z_obs is None:
        lz = lx
    else:
        lz = log_likelihood_ratio(q.pz_target, q.pz_refs, q.z_out, offline_a)
    scores = pairwise_scores(lx, lz, gamma)
    null_values = null_user = None
    if cal_obs is not None:
        cal_out = matched_out(patterns, cal_obs.user, rng)
        lc = log_likelihood_ratio(
            probs(model, cal_obs), np.stack([probs(r, cal_obs) for r in refs]), cal_out, offline_a
        )
        null_values = transform(pairwise_scores(lc, lz, gamma), aggregate)
        null_user = cal_obs.user
    outside = population is not None or split.mode == "split-history"
    return RMIASignals(
        attack="rmia",
        threat=threat,
        k=k,
        user_score=f"{aggregate}_rmia",
        observation_scores=scores,
        hits=scores > 0.5,
        values=transform(scores, aggregate),
        how="sum",
        bootstrap_seed=boot_seed,
        extra={
            "n_references": n_references,
            "offline_a": offline_a,
            "gamma": gamma,
            "pseudo_target_auc": pseudo_auc,
            "n_population": len(lz),
            "population_outside": float(outside),
        },
        aggregate=aggregate,
        null_values=null_values,
        null_user=null_user,
    )


def rmia_attack(
    split: ProviderSplit,
    model: Any,
    *,
    recommender: str | Any,
    recommender_params: dict[str, Any] | None = None,
    threat: str = "scores",
    k: int = 10,
    n_references: int = 4,
    reference_size: int | None = None,
    offline_a: float | None = None,
    gamma: float | None = None,
    aggregate: str = "stouffer",
    population: Observations | None = None,
    n_bootstrap: int = 0,
    random_state: RandomStateLike = None,
    show_progress: bool = False,
) -> AttackResult:
    """RMIA (relative membership inference, offline) against a fitted target recommender.

    Parameters
    ----------
    split : ProviderSplit
        Adversary data and ground-truth membership (the attack reads only ``adversary``
        and ``adversary_users``).
    model : Recommender
        The fitted target, queried for probabilities (``scores`` threat).
    recommender : str or Recommender
        The target's algorithm (the references'), a name or an unfitted template.
    recommender_params : dict, optional
    threat : {"scores"}
        The only threat model (see the module docstring on label-only).
    k : int
        Unused by the score (kept for the common signature).
    n_references : int, default 4
        Reference models ``R``; choosing ``a``/``gamma`` needs ``R >= 3``.
    reference_size : int, optional
        Users per reference (default: half of the adversary's users).
    offline_a : float in [0, 1], optional
        The offline parameter ``a``; ``None`` chooses it on the pseudo-targets.
    gamma : float > 0, optional
        The dominance factor; ``None`` chooses it on the pseudo-targets.
    aggregate : {"stouffer", "mean"}
        How a group's observation scores are combined.
    population : Observations, optional
        Observations the adversary knows are outside the target's training data
        (:func:`population_observations` in an emulation); see the module docstring for
        what is used without it.
    n_bootstrap : int
        Bootstrap resamples over users for the ROC confidence intervals.
    random_state : int, Generator, SeedSequence or None
    show_progress : bool

    Returns
    -------
    AttackResult
        ``attack="rmia"``; ``extra`` holds ``offline_a``, ``gamma``, the pseudo-target AUC
        they were chosen with, ``n_population`` and ``population_outside``.
    """
    signals = prepare_rmia(
        split,
        model,
        recommender=recommender,
        recommender_params=recommender_params,
        threat=threat,
        k=k,
        n_references=n_references,
        reference_size=reference_size,
        offline_a=offline_a,
        gamma=gamma,
        aggregate=aggregate,
        population=population,
        random_state=random_state,
        show_progress=show_progress,
    )
    return summarise(signals, split, n_bootstrap=n_bootstrap)


SPEC = register_attack(
    AttackSpec(
        name="rmia",
        prepare=prepare_rmia,
        threats=("scores",),
        options=(
            AttackOption("n_references", int, "reference models R (>= 2)", flag="--references"),
            AttackOption("reference_size", int, "users per reference model (default: half)"),
            AttackOption("offline_a", float, "RMIA offline a in [0, 1] (default: chosen)"),
            AttackOption("gamma", float, "RMIA dominance factor > 0 (default: chosen)"),
            AttackOption("aggregate", str, "RMIA user combination", choices=AGGREGATES),
            AttackOption(
                "adversary_models",
                AdversaryModels,
                "references already fitted on this split (Python only)",
                cli=False,
            ),
            AttackOption(
                "population",
                Observations,
                "observations known outside the target's training data (Python only)",
                cli=False,
            ),
        ),
        trains_like_target=True,
        description="RMIA: pairwise likelihood ratios against population samples (offline)",
    ),
    replace=True,
)
