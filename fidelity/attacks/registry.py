"""The attack registry: a name maps to the attack, the threat models it allows, its options.

Every consumer (the sweep grid's checks, :func:`run_attack`, the evaluation, the
session-length curve, the comparisons and ``fidelity attack``'s options and help) reads
this registry, so adding an attack is one module that defines a ``prepare`` function and
one :func:`register_attack` call.

The contract of ``prepare``::

    prepare(split, model, *, threat, k, recommender, recommender_params, random_state,
            show_progress, **options) -> AttackSignals

It queries the fitted target ``model`` under ``threat`` only (and may train reference or
shadow models on the adversary's own data), and returns :class:`AttackSignals`: per
observation evidence that can be aggregated over any grouping of the adversary's
observations. A plain array of per-observation evidence is accepted too (aggregated by
the mean).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from fidelity._validation import RandomStateLike
from fidelity.attacks.results import AttackResult, AttackSignals, summarise
from fidelity.attacks.threats import LEVEL, THREATS, check_list_length, check_threat
from fidelity.recommenders import Recommender, adapt_model
from fidelity.split import ProviderSplit

__all__ = [
    "ATTACKS",
    "AttackOption",
    "AttackSpec",
    "attacks_for",
    "get_attack",
    "prepare_attack",
    "register_attack",
    "run_attack",
    "unregister_attack",
]


@dataclass(frozen=True)
class AttackOption:
    """An attack-specific keyword option (and its command-line flag).

    Attributes
    ----------
    name : str
        Keyword of the attack's ``prepare`` function (``n_references`` ...).
    type : type
        ``int``, ``float`` or ``str``: how the command line parses it.
    help : str
        One line for ``fidelity attack --help``.
    flag : str, optional
        Command-line flag (default ``--`` + name with dashes); attacks may share a flag
        when they share the option.
    choices : tuple, optional
        Allowed values (the command line checks them).
    cli : bool
        Offered on the command line (False for Python-only options such as arrays).
    """

    name: str
    type: type
    help: str
    flag: str | None = None
    choices: tuple[Any, ...] | None = None
    cli: bool = True

    @property
    def cli_flag(self) -> str:
        """The flag on the command line."""
        return self.flag or "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class AttackSpec:
    """One registered attack.

    Attributes
    ----------
    name : str
    prepare : callable
        Computes the attack's signals (see the module docstring).
    threats : tuple of str
        Threat models the attack supports (a subset of ``("label", "topk", "scores")``).
    options : tuple of AttackOption
        Its own keyword options.
    trains_like_target : bool
        The attack trains models of the target's kind, so ``recommender`` (the target's
        algorithm, as the adversary knows it) is required.
    description : str
        One line, shown in ``fidelity attack --help``.
    """

    name: str
    prepare: Callable[..., AttackSignals | np.ndarray]
    threats: tuple[str, ...] = THREATS
    options: tuple[AttackOption, ...] = ()
    trains_like_target: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"an attack needs a non-empty str name; got {self.name!r}")
        bad = [t for t in self.threats if t not in THREATS]
        if bad or not self.threats:
            raise ValueError(f"attack {self.name!r}: threats must be a subset of {THREATS}")
        object.__setattr__(self, "threats", tuple(self.threats))
        object.__setattr__(self, "options", tuple(self.options))

    @property
    def option_names(self) -> tuple[str, ...]:
        """Names of its own keyword options."""
        return tuple(o.name for o in self.options)


_REGISTRY: dict[str, AttackSpec] = {}


class _AttackView(Mapping[str, AttackSpec]):
    """Read-only, live view of the registry: iterates over the names in registration order."""

    def __getitem__(self, name: str) -> AttackSpec:
        return _REGISTRY[name]

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(_REGISTRY))

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __repr__(self) -> str:
        return f"ATTACKS{tuple(_REGISTRY)!r}"


ATTACKS: Mapping[str, AttackSpec] = _AttackView()
"""Registered attacks by name (a live read-only mapping; iterating gives the names)."""


def register_attack(spec: AttackSpec, *, replace: bool = False) -> AttackSpec:
    """Add ``spec`` to the registry (``replace=True`` to overwrite a name); returns it."""
    if not isinstance(spec, AttackSpec):
        raise TypeError(f"spec must be an AttackSpec; got {type(spec).__name__}")
    if spec.name in _REGISTRY and not replace:
        raise ValueError(f"an attack named {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def unregister_attack(name: str) -> None:
    """Remove the attack called ``name`` (for tests and plug-ins)."""
    get_attack(name)
    del _REGISTRY[name]


def get_attack(name: str) -> AttackSpec:
    """The registered attack called ``name``; the error lists the known names."""
    if name not in _REGISTRY:
        raise ValueError(f"attack must be one of {tuple(_REGISTRY)!r}; got {name!r}")
    return _REGISTRY[name]


def attacks_for(threat: str) -> tuple[str, ...]:
    """Names of the registered attacks that support ``threat``."""
    check_threat("attacks_for", threat)
    return tuple(name for name, spec in _REGISTRY.items() if threat in spec.threats)


def strongest_threat(spec: AttackSpec) -> str:
    """The most revealing threat model an attack supports."""
    return max(spec.threats, key=LEVEL.__getitem__)


def prepare_attack(
    name: str,
    split: ProviderSplit,
    model: Any,
    *,
    threat: str = "label",
    k: int = 1,
    recommender: str | None = None,
    recommender_params: dict[str, Any] | None = None,
    random_state: RandomStateLike = None,
    show_progress: bool = False,
    **options: Any,
) -> AttackSignals:
    """Compute the signals of attack ``name`` against ``model`` (the expensive stage).

    Validates the name, the threat model, the options and ``recommender`` against the
    registry entry, then calls the attack's ``prepare``. A ``model`` that is not a fidelity
    :class:`~fidelity.recommenders.Recommender` (a duck-typed model, a scikit-learn
    classifier, a callable) is first adapted on ``split.target``
    (:func:`fidelity.recommenders.adapt_model`), so it gets the same ranking, ties and
    fallback under every threat model its answers allow.

    Raises
    ------
    ValueError
        Unknown attack or option, a threat model the attack does not allow, or a missing
        ``recommender`` for an attack that trains models of the target's kind.
    """
    spec = get_attack(name)
    threat = check_threat(name, threat, spec.threats)
    k = check_list_length(threat, k)
    unknown = sorted(set(options) - set(spec.option_names))
    if unknown:
        raise ValueError(
            f"the {name} attack takes no option(s) {unknown}; its options are "
            f"{list(spec.option_names)}"
        )
    if spec.trains_like_target and recommender is None:
        raise ValueError(
            f"the {name} attack trains models of the target's kind: pass recommender= "
            "(a name of fidelity.recommenders.RECOMMENDERS, or an unfitted template); got None"
        )
    if not isinstance(model, Recommender):
        model = adapt_model(model, split.target, k=max(k, 1))
    signals = spec.prepare(
        split,
        model,
        threat=threat,
        k=k,
        recommender=recommender,
        recommender_params=recommender_params,
        random_state=random_state,
        show_progress=show_progress,
        **options,
    )
    if isinstance(signals, AttackSignals):
        return signals
    evidence = np.asarray(signals, dtype=np.float64)
    if evidence.shape != (len(split.adversary),):
        raise ValueError(
            f"the {name} attack's prepare must return AttackSignals or one score per adversary "
            f"observation (shape ({len(split.adversary)},)); got shape {evidence.shape}"
        )
    return AttackSignals(
        attack=name,
        threat=threat,
        k=k,
        user_score="mean_evidence",
        observation_scores=evidence,
        hits=evidence > 0,
        bootstrap_seed=random_state,
    )


def run_attack(
    name: str,
    split: ProviderSplit,
    model: Any,
    *,
    threat: str = "label",
    k: int = 1,
    recommender: str | None = None,
    recommender_params: dict[str, Any] | None = None,
    n_bootstrap: int = 0,
    random_state: RandomStateLike = None,
    show_progress: bool = False,
    **options: Any,
) -> AttackResult:
    """Run the registered attack called ``name`` against ``model``.

    Parameters
    ----------
    name : str
        A name of :data:`ATTACKS`.
    split : ProviderSplit
        Adversary data and ground-truth membership.
    model : Recommender or any model :func:`fidelity.recommenders.adapt_model` accepts
        The fitted target.
    threat : {"label", "topk", "scores"}
    k : int
        List length under ``topk`` (``label`` uses 1).
    recommender, recommender_params
        The target's algorithm as the adversary knows it: required by attacks that train
        models of the target's kind (``reference``, ``shadow``); ignored by the others.
    n_bootstrap : int
        Bootstrap resamples over users for the ROC confidence intervals.
    random_state : int, Generator, SeedSequence or None
    show_progress : bool
    **options
        The attack's own options (see ``ATTACKS[name].options``).

    Returns
    -------
    AttackResult
    """
    signals = prepare_attack(
        name,
        split,
        model,
        threat=threat,
        k=k,
        recommender=recommender,
        recommender_params=recommender_params,
        random_state=random_state,
        show_progress=show_progress,
        **options,
    )
    return summarise(signals, split, n_bootstrap=n_bootstrap)
