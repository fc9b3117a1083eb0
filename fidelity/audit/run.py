"""The audit itself: which attacks the model allows, their signals, results and curve."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fidelity._validation import check_positive_int
from fidelity.attacks import ATTACKS, AttackSignals, get_attack
from fidelity.attacks.results import summarise
from fidelity.attacks.threats import THREATS, check_list_length
from fidelity.audit.data import audit_split, join_users
from fidelity.audit.result import AuditResult
from fidelity.data.tables import Observations
from fidelity.evaluation import AttackRequest, session_curve
from fidelity.evaluation.data_information import data_information
from fidelity.evaluation.session_curve import DEFAULT_TOLERANCE
from fidelity.evaluation.signals import prepare_signals, share_models
from fidelity.recommenders import (
    RECOMMENDERS,
    Recommender,
    TopKModel,
    adapt_model,
    as_template,
    make_recommender,
)
from fidelity.scenario import FittedTarget, Scenario
from fidelity.split import ProviderSplit

__all__ = ["audit"]

# The scenario's recommender when the template is not a registered fidelity recommender:
# only the attacks that need no template go through the session curve then.
_PLACEHOLDER = "popularity"


def _registered(template: str | Recommender | None) -> tuple[str, dict[str, Any]] | None:
    """``(name, params)`` when ``template`` is a registered fidelity recommender, else None."""
    if template is None:
        return None
    if isinstance(template, str):
        return template, {}
    params = template.get_params(deep=False)
    for name in RECOMMENDERS:
        given = dict(params)
        if name in ("als", "bpr"):
            if given.pop("algorithm", None) != name:
                continue
        try:
            rebuilt = make_recommender(name, **given)
        except (TypeError, ValueError):
            continue
        try:
            same = type(rebuilt) is type(template) and rebuilt.get_params(deep=False) == params
        except ValueError:  # pragma: no cover - parameters that do not compare (arrays)
            same = False
        if same:
            return name, given
    return None


def _requests(
    threats: tuple[str, ...],
    attacks: Sequence[str] | None,
    k: int,
    options: Mapping[str, Mapping[str, Any]],
    has_template: bool,
) -> tuple[list[AttackRequest], list[str]]:
    """Every (attack, threat) the model allows, and a sentence per attack left out."""
    names = tuple(ATTACKS) if attacks is None else tuple(attacks)
    for name in names:
        get_attack(name)
    unknown = sorted(set(options) - set(ATTACKS))
    if unknown:
        raise ValueError(
            f"options must be keyed by registered attack names {list(ATTACKS)}; got {unknown}"
        )
    requests, skipped, needs_template = [], [], []
    for name in names:
        spec = get_attack(name)
        allowed = [t for t in threats if t in spec.threats]
        if not allowed:
            skipped.append(
                f"{name} (needs the {'/'.join(spec.threats)} threat model; audited: "
                f"{'/'.join(threats)})"
            )
            continue
        if spec.trains_like_target and not has_template:
            needs_template.append(name)
            continue
        for threat in allowed:
            width = check_list_length(threat, k)
            requests.append(AttackRequest(name, threat, width, dict(options.get(name, {}))))
    if needs_template:
        skipped.append(
            f"{', '.join(needs_template)} (they train models of the target's kind: pass "
            "template=, the algorithm)"
        )
    return requests, skipped


def _check_population(population: Any, split: ProviderSplit) -> None:
    """``population`` is a table of users neither in the adversary's data nor in training."""
    if not isinstance(population, Observations):
        raise TypeError(
            f"population must be a fidelity Observations table; got {type(population).__name__}"
        )
    if population.n_items != split.adversary.n_items or not np.array_equal(
        population.item_ids, split.adversary.item_ids
    ):
        raise ValueError("population must share the song vocabulary (item_ids) of the audit data")
    held = np.concatenate(
        [
            split.adversary.user_ids[split.adversary_users],
            split.target.user_ids[split.target_users],
        ]
    )
    ids = population.user_ids[population.users()]
    inside = ids[np.isin(ids, held)]
    if len(inside):
        raise ValueError(
            "population must hold people outside the audit data and the training data; "
            f"{len(inside)} of its users are in them (e.g. {inside[:3].tolist()})"
        )


def _top1_accuracy(model: Recommender, split: ProviderSplit) -> tuple[float, float]:
    adv = split.adversary
    top1 = model.recommend(adv.item, adv.timing, k=1)[:, 0]
    hit = top1 == adv.next_item
    member = split.member_mask
    rate = lambda mask: float(hit[mask].mean()) if mask.any() else float("nan")  # noqa: E731
    return rate(member), rate(~member)


def audit(
    model: Any,
    members: Observations | None = None,
    non_members: Observations | None = None,
    *,
    split: ProviderSplit | None = None,
    training: Observations | None = None,
    template: Any = None,
    population: Observations | None = None,
    attacks: Sequence[str] | None = None,
    threats: Sequence[str] | None = None,
    k: int = 10,
    kind: str = "auto",
    fallback: bool = True,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    curve: bool = True,
    grid: Sequence[int] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    n_bootstrap: int = 200,
    attack_bootstrap: int = 0,
    measure_mi: bool = True,
    n_permutations: int | None = None,
    seed: int = 0,
    show_progress: bool = False,
) -> AuditResult:
    """Audit a fitted next-song model with every attack its answers allow.

    Parameters
    ----------
    model : object
        The fitted model: anything :func:`fidelity.recommenders.adapt_model` accepts
        (``recommend`` / ``score`` / ``score_next`` methods, a scikit-learn classifier with
        ``predict_proba``, a callable, or a fidelity recommender).
    members, non_members : Observations, optional
        The auditor's data: observations of users the model was trained on, and of other
        users of the same population (one song vocabulary; see :func:`audit_split`).
    split : ProviderSplit, optional
        Instead of ``members`` / ``non_members``: an already built split (its ``target`` is
        the model's training data).
    training : Observations, optional
        The model's whole training data when ``members`` is only part of it.
    template : str, Recommender, classifier or callable, optional
        The model's algorithm (:func:`fidelity.recommenders.as_template`), for the attacks
        that train models of the target's kind (reference, shadow, RMIA). Without it they
        are skipped, and the result says so.
    population : Observations, optional
        Observations of people known to be outside the training data (e.g. sessions
        recorded after the model was trained), for RMIA's population.
    attacks : sequence of str, optional
        Registered attack names (default: every registered attack).
    threats : sequence of str, optional
        Threat models to audit (default: every one the model's answers allow).
    k : int, default 10
        List length of the ``topk`` threat (and the hits under ``scores``).
    kind : {"auto", "topk", "scores"}, default "auto"
        How to read the model (``topk``: its own lists, even when it gives scores).
    fallback : bool, default True
        Songs never played in the training data get the training popularity, as in
        fidelity's recommenders (False: the model answers them).
    options : mapping of attack name to mapping, optional
        Each attack's own options, e.g. ``{"reference": {"n_references": 8}}``.
    curve : bool, default True
        Also measure leakage against session length and the attack-validated safe size
        (:func:`fidelity.evaluation.session_curve`; the attacks' signals are computed once
        for the curve and the results).
    grid, tolerance, n_bootstrap, n_permutations
        As in :func:`fidelity.evaluation.session_curve`.
    attack_bootstrap : int, default 0
        Bootstrap resamples over users of every result's ROC intervals.
    measure_mi : bool, default True
        Measure MI(H;O) between the adversary's data and the training data.
    seed : int, default 0
        Root of every random stream (the same seed gives the same numbers).
    show_progress : bool

    Returns
    -------
    AuditResult

    Raises
    ------
    TypeError
        A model, template or table of an unsupported form.
    ValueError
        Neither ``split`` nor both ``members`` and ``non_members`` (or both); a threat model
        the model's answers do not allow; inconsistent tables.
    """
    start = time.perf_counter()
    k = check_positive_int("k", k)
    if split is None:
        if members is None or non_members is None:
            raise ValueError("pass members and non_members (Observations), or split; got neither")
        split = audit_split(members, non_members, training=training)
    elif not isinstance(split, ProviderSplit):
        raise TypeError(f"split must be a fidelity ProviderSplit; got {type(split).__name__}")
    elif members is not None or non_members is not None or training is not None:
        raise ValueError("pass either split or members/non_members (and training), not both")
    adapted = adapt_model(model, split.target, kind=kind, k=k, fallback=fallback)
    model_kind = "topk" if isinstance(adapted, TopKModel) else "scores"
    allowed = ("label", "topk") if model_kind == "topk" else THREATS
    if threats is None:
        threats = allowed
    else:
        threats = tuple(dict.fromkeys(threats))
        refused = [t for t in threats if t not in allowed]
        if refused:
            raise ValueError(
                f"threats must be among those the model's answers allow {allowed!r} (it "
                f"answers with {model_kind}); got {refused!r}"
            )
    recommender = as_template(template, k=k)
    requests, skipped = _requests(
        tuple(threats), attacks, k, dict(options or {}), recommender is not None
    )
    if not requests:
        raise ValueError(f"no attack can run: {'; '.join(skipped)}")

    observations = split.adversary
    if population is not None:
        _check_population(population, split)
        observations, population = join_users(observations, population)
        observations = observations.concat(population)
    registered = _registered(recommender)
    name, params = registered if registered is not None else (_PLACEHOLDER, {})
    scenario = Scenario(
        overlap=split.overlap,
        recommender=name,
        seed=seed,
        mode=split.mode,
        recommender_params=params,
    )
    fitted = FittedTarget(scenario, split, adapted)
    attack_recommender, attack_params = (name, params) if registered else (recommender, None)

    in_curve = [
        r for r in requests if registered is not None or not get_attack(r.name).trains_like_target
    ]
    signals: dict[int, AttackSignals] = {}
    shared: dict[str, Any] = {}
    sc = None
    if curve:
        sc = session_curve(
            observations,
            scenario,
            in_curve,
            grid=grid,
            tolerance=tolerance,
            n_bootstrap=n_bootstrap,
            measure_mi=measure_mi,
            n_permutations=n_permutations,
            fitted=fitted,
            show_progress=show_progress,
        )
        for request, sig in zip(in_curve, sc.signals, strict=True):
            signals[id(request)] = sig
            share_models(shared, request, sig)
    rest = [r for r in requests if id(r) not in signals]
    computed = prepare_signals(
        rest,
        observations,
        fitted,
        recommender=attack_recommender,
        recommender_params=attack_params,
        shared=shared,
        show_progress=show_progress,
    )
    signals.update({id(r): s for r, s in zip(rest, computed, strict=True)})
    results = tuple(
        summarise(signals[id(r)], split, n_bootstrap=attack_bootstrap) for r in requests
    )
    if sc is not None and len(in_curve) < len(requests):
        skipped.append(
            "a session curve of the attacks that train models of the target's kind (the "
            "curve trains them by registered fidelity recommender name only)"
        )

    information = None
    if sc is not None:
        information = sc.information
    elif measure_mi:
        information = data_information(
            split,
            adapted.timing_used_,
            n_permutations=n_permutations,
            random_state=fitted.mi_seed.spawn(2)[0],
        )
    acc_members, acc_nonmembers = _top1_accuracy(adapted, split)
    return AuditResult(
        model_kind=model_kind,
        threats=tuple(threats),
        requests=tuple(requests),
        results=results,
        skipped=tuple(skipped),
        accuracy_members=acc_members,
        accuracy_nonmembers=acc_nonmembers,
        curve=sc,
        information=information,
        elapsed_s=time.perf_counter() - start,
        split=split,
        model=adapted,
    )
