"""Shadow-model attack (Shokri et al. 2017) for recommenders.

The adversary trains ``S`` shadow recommenders on random subsets of its own users, so
it knows which of its users each shadow saw (members) and which it did not. For every
(shadow, user) pair it computes per-user features of the shadow's answers on that
user's observations, under the same threat model as the target's answers:

- always: top-1/top-k hit rate, hit count, log of the number of observations;
- ``topk`` and ``scores``: mean rank of the true next song (clipped at ``k`` for topk);
- ``scores``: mean, minimum and standard deviation of the log-probability of the true
  next song and mean entropy of the answer distributions.

A scikit-learn classifier (``StandardScaler`` + ``LogisticRegression`` by default, or
``HistGradientBoostingClassifier``) learns member vs non-member on these rows and is
then applied to the same features of the **target's** answers for A's users; its
member probability is the user score.

Shadows are not the target: they are trained on more (or fewer) users, or, in the mimic
attack, on another algorithm, so the *level* of a feature (a hit rate of 0.4 vs 0.2)
does not transfer. By default (``per_model=True``) every feature is therefore
standardised over A's users within each model (each shadow, and the target), so the
classifier learns how a member stands out among the users of one model. On the planted
synthetic case this raised the mimic attack under ``scores`` from an AUC of 0.56 to 1.0;
pass ``per_model=False`` for the raw features. The attack scores users only, so the
observation-level rates of its result are NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from tqdm.auto import tqdm

from fidelity._validation import (
    RandomStateLike,
    check_choice,
    check_positive_int,
    int_seed,
    seed_model,
    seed_sequence,
)
from fidelity.attacks.reference import AdversaryModels, check_adversary_models
from fidelity.attacks.registry import AttackOption, AttackSpec, register_attack
from fidelity.attacks.results import AttackResult, AttackSignals, summarise
from fidelity.attacks.threats import (
    THREATS,
    ModelOutputs,
    as_template,
    check_list_length,
    check_threat,
    model_outputs,
)
from fidelity.metrics import user_scores
from fidelity.recommenders import Recommender
from fidelity.split import ProviderSplit, paired_user_sets

CLASSIFIERS = ("logistic", "gradient_boosting")

MAX_TRAINING_ROWS = 60_000
"""At most this many (shadow, group) rows train the attack classifier (a seeded random
subset when a grouping into short pseudo-users gives more)."""


def user_features(outputs: ModelOutputs, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-group feature matrix of a model's answers (groups sorted, one row each).

    Parameters
    ----------
    outputs : ModelOutputs
        The model's answers on every adversary observation.
    groups : ndarray of int64
        Group (user or pseudo-user) code of each observation.

    Returns
    -------
    groups_unique : ndarray of int64
    features : ndarray of float64, shape (n_groups, n_features)
    """
    users, hit_rate = user_scores(outputs.hit, groups, how="mean")
    _, count = user_scores(outputs.hit, groups, how="count")
    cols = [hit_rate, hit_rate * count, np.log(count)]
    if outputs.rank is not None:
        cols.append(user_scores(outputs.rank, groups, how="mean")[1])
    if outputs.log_p is not None:
        mean = user_scores(outputs.log_p, groups, how="mean")[1]
        sq = user_scores(outputs.log_p**2, groups, how="mean")[1]
        cols += [mean, np.sqrt(np.maximum(sq - mean**2, 0.0)), _segment_min(outputs.log_p, groups)]
    if outputs.entropy is not None:
        cols.append(user_scores(outputs.entropy, groups, how="mean")[1])
    return users, np.column_stack(cols)


def _segment_min(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    uniq, inverse = np.unique(groups, return_inverse=True)
    out = np.full(len(uniq), np.inf)
    np.minimum.at(out, inverse, values)
    return out


def make_classifier(name: str, random_state: RandomStateLike) -> Pipeline:
    """The attack classifier ``name`` (one of :data:`CLASSIFIERS`), in a pipeline."""
    check_choice("classifier", name, CLASSIFIERS)
    if name == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return make_pipeline(
        StandardScaler(),
        HistGradientBoostingClassifier(max_iter=100, random_state=int_seed(random_state)),
    )


def standardise(features: np.ndarray) -> np.ndarray:
    """Z-score every column over the rows (users) of one model (constant columns -> 0)."""
    std = features.std(axis=0)
    return (features - features.mean(axis=0)) / np.where(std > 0, std, 1.0)


@dataclass(frozen=True, eq=False)
class ShadowSignals(AttackSignals):
    """Shadow models' and the target's answers on every adversary observation.

    Scoring a grouping (users, or pseudo-users of at most N observations) builds the
    per-group features of every shadow and of the target, fits the attack classifier on
    the shadows' rows (a group is a shadow member when its user was in that shadow's
    training set; at most :data:`MAX_TRAINING_ROWS` of them) and returns its member
    probability for the target's groups.
    """

    shadow_outputs: tuple[ModelOutputs, ...] = ()
    shadow_inside: tuple[np.ndarray, ...] = ()  # per shadow: observation's user was in it
    target_outputs: ModelOutputs | None = None
    classifier: str = "logistic"
    per_model: bool = True
    classifier_seed: np.random.SeedSequence | None = None

    def score_users(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Classifier member probability of each group (see the class docstring)."""
        xs, ys = [], []
        for outputs, inside in zip(self.shadow_outputs, self.shadow_inside, strict=True):
            _, feats = user_features(outputs, groups)
            xs.append(standardise(feats) if self.per_model else feats)
            ys.append(user_scores(inside, groups, how="mean")[1] > 0.5)
        users, x_target = user_features(self.target_outputs, groups)
        if self.per_model:
            x_target = standardise(x_target)
        seed = np.random.SeedSequence(
            self.classifier_seed.entropy, spawn_key=self.classifier_seed.spawn_key
        )
        x, y = np.vstack(xs), np.concatenate(ys)
        if len(y) > MAX_TRAINING_ROWS:  # short pseudo-users: many rows, one classifier
            rng = np.random.default_rng(seed.spawn(1)[0])
            keep = np.sort(rng.choice(len(y), MAX_TRAINING_ROWS, replace=False))
            x, y = x[keep], y[keep]
        clf = make_classifier(self.classifier, seed).fit(x, y)
        return users, clf.predict_proba(x_target)[:, 1]


def check_shadow_options(
    attack: str, threat: str, k: int, n_shadows: int, classifier: str
) -> tuple[str, int, int]:
    """Validated ``(threat, k, n_shadows)`` of a shadow-trained attack (shadow, mimic)."""
    threat = check_threat(attack, threat, THREATS)
    k = check_list_length(threat, k)
    n_shadows = check_positive_int("n_shadows", n_shadows, minimum=2)
    check_choice("classifier", classifier, CLASSIFIERS)
    return threat, k, n_shadows


def shadow_signals(
    split: ProviderSplit,
    model: Any,
    fit_shadow: Callable[[np.ndarray, int], Recommender] | None,
    *,
    attack: str,
    threat: str,
    k: int,
    n_shadows: int,
    shadow_size: int | None,
    classifier: str,
    per_model: bool,
    seeds: tuple[np.random.SeedSequence, np.random.SeedSequence, np.random.SeedSequence],
    show_progress: bool,
    extra: dict[str, float],
    adversary_models: AdversaryModels | None = None,
) -> ShadowSignals:
    """Fit ``fit_shadow``'s shadows on paired user sets and query them and the target.

    ``seeds`` are the shadow user sets', the classifier's and the bootstrap's seeds
    (shadow and mimic attacks). With ``adversary_models`` (models of the target's kind
    already fitted on paired user sets of this split, e.g. the reference attack's), those
    are the shadows and nothing is fitted.
    """
    set_seed, clf_seed, boot_seed = seeds
    adv = split.adversary
    outputs, inside = [], []
    if adversary_models is not None:
        bank = check_adversary_models(adversary_models, split)
        for j in range(len(bank.models)):
            outputs.append(bank.outputs(j, adv, threat, k, entropy=True))
            inside.append(bank.inside[j])
        extra = {**extra, "n_shadows": len(bank.models)}
    else:
        sets = paired_user_sets(
            split.adversary_users, n_shadows, shadow_size, np.random.default_rng(set_seed)
        )
        for j in tqdm(range(n_shadows), disable=not show_progress, desc="shadow models"):
            shadow = fit_shadow(sets[j], j)
            outputs.append(model_outputs(shadow, adv, threat, k, entropy=True))
            inside.append(np.isin(adv.user, sets[j]))
    return ShadowSignals(
        attack=attack,
        threat=threat,
        k=k,
        user_score=f"{classifier}_probability",
        observation_scores=None,
        bootstrap_seed=boot_seed,
        extra=extra,
        shadow_outputs=tuple(outputs),
        shadow_inside=tuple(inside),
        target_outputs=model_outputs(model, adv, threat, k, entropy=True),
        classifier=classifier,
        per_model=per_model,
        classifier_seed=clf_seed,
    )


def prepare_shadow(
    split: ProviderSplit,
    model: Any,
    *,
    recommender: str | Recommender,
    recommender_params: dict[str, Any] | None = None,
    threat: str = "label",
    k: int = 10,
    n_shadows: int = 4,
    shadow_size: int | None = None,
    classifier: str = "logistic",
    per_model: bool = True,
    adversary_models: AdversaryModels | None = None,
    random_state: RandomStateLike = None,
    show_progress: bool = False,
) -> ShadowSignals:
    """The shadow attack's signals (see :func:`shadow_attack`).

    ``adversary_models`` (optional): models of the target's kind already fitted on paired
    halves of this split's adversary users (e.g. the reference attack's) serve as the
    shadows.
    """
    threat, k, n_shadows = check_shadow_options("shadow", threat, k, n_shadows, classifier)
    template = as_template(recommender, recommender_params)
    set_seed, clf_seed, boot_seed, *seeds = seed_sequence(random_state).spawn(3 + n_shadows)
    adv = split.adversary

    def fit_shadow(in_users: np.ndarray, j: int) -> Recommender:
        return seed_model(clone(template), seeds[j]).fit(adv.select_users(in_users))

    return shadow_signals(
        split,
        model,
        fit_shadow,
        attack="shadow",
        threat=threat,
        k=k,
        n_shadows=n_shadows,
        shadow_size=shadow_size,
        classifier=classifier,
        per_model=per_model,
        seeds=(set_seed, clf_seed, boot_seed),
        show_progress=show_progress,
        extra={"n_shadows": n_shadows},
        adversary_models=adversary_models,
    )


def shadow_attack(
    split: ProviderSplit,
    model: Any,
    *,
    recommender: str | Recommender,
    recommender_params: dict[str, Any] | None = None,
    threat: str = "label",
    k: int = 10,
    n_shadows: int = 4,
    shadow_size: int | None = None,
    classifier: str = "logistic",
    per_model: bool = True,
    n_bootstrap: int = 0,
    random_state: RandomStateLike = None,
    show_progress: bool = False,
) -> AttackResult:
    """Shadow-model membership attack (Shokri et al.) against a fitted target.

    Parameters
    ----------
    split : ProviderSplit
    model : Recommender
        The fitted target model.
    recommender : str or Recommender
        Algorithm of the shadows (the target's, as far as the adversary knows it): a name
        for :func:`~fidelity.recommenders.make_recommender` or an unfitted template.
    recommender_params : dict, optional
    threat : {"label", "topk", "scores"}
        What the adversary sees of the target's (and shadows') answers.
    k : int
        List length under ``topk`` (``label`` uses 1).
    n_shadows : int, default 4
        Shadow models (in disjoint pairs, so each user is a non-member of at least half).
    shadow_size : int, optional
        Users per shadow (default: half of A's users).
    classifier : {"logistic", "gradient_boosting"}
        Attack classifier (always behind a ``StandardScaler``).
    per_model : bool, default True
        Standardise features within each model (see the module docstring).
    n_bootstrap : int
    random_state : int, Generator, SeedSequence or None
    show_progress : bool

    Returns
    -------
    AttackResult
        ``attack="shadow"``, user score = the classifier's member probability; the
        observation-level rates are NaN (the attack scores users only).
    """
    signals = prepare_shadow(
        split,
        model,
        recommender=recommender,
        recommender_params=recommender_params,
        threat=threat,
        k=k,
        n_shadows=n_shadows,
        shadow_size=shadow_size,
        classifier=classifier,
        per_model=per_model,
        random_state=random_state,
        show_progress=show_progress,
    )
    return summarise(signals, split, n_bootstrap=n_bootstrap)


SHADOW_OPTIONS = (
    AttackOption("n_shadows", int, "shadow models S (>= 2)", flag="--shadows"),
    AttackOption("shadow_size", int, "users per shadow model (default: half)"),
    AttackOption("classifier", str, "attack classifier", choices=CLASSIFIERS),
    AttackOption("per_model", bool, "standardise features within each model", cli=False),
)
"""Options shared by the attacks trained on shadow models (shadow, mimic)."""

SPEC = register_attack(
    AttackSpec(
        name="shadow",
        prepare=prepare_shadow,
        threats=THREATS,
        options=(
            *SHADOW_OPTIONS,
            AttackOption(
                "adversary_models",
                AdversaryModels,
                "shadows already fitted on this split (Python only)",
                cli=False,
            ),
        ),
        trains_like_target=True,
        description="shadow models of the target's kind and a member/non-member classifier",
    ),
    replace=True,
)

__all__ = [
    "CLASSIFIERS",
    "ShadowSignals",
    "make_classifier",
    "prepare_shadow",
    "shadow_attack",
    "user_features",
]
