"""The grid of a sweep and its configurations (one configuration = one results row)."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from fidelity._validation import check_choice, check_fraction, check_positive_int
from fidelity.attacks import ATTACKS, THREATS, get_attack
from fidelity.evaluation import DEFAULT_TOLERANCE, AttackRequest
from fidelity.evaluation.session_curve import check_session_grid, check_tolerance
from fidelity.mitigations import parse_mitigation
from fidelity.recommenders import RECOMMENDERS, make_recommender
from fidelity.scenario import Scenario, check_seed
from fidelity.split import MODES

__all__ = ["CONFIG_COLUMNS", "SweepConfig", "SweepGrid"]

CONFIG_COLUMNS = (
    "overlap",
    "target_size",
    "recommender",
    "seed",
    "attack",
    "threat",
    "k",
    "mode",
    "mitigation",
)


@dataclass(frozen=True)
class SweepConfig:
    """One configuration of a sweep (one row of the results table): a scenario and an attack."""

    overlap: float
    target_size: int | None
    recommender: str
    seed: int
    attack: str = "match"
    threat: str = "label"
    k: int = 1
    mode: str = "shared"
    mitigation: str = "none"

    @property
    def config_id(self) -> str:
        """Stable short hash of the configuration (names its row file).

        Without a mitigation (``"none"``) the hash is the one of the configuration
        without the ``mitigation`` field, so rows of older sweeps are still resumed.
        """
        data = asdict(self)
        if data["mitigation"] == "none":
            del data["mitigation"]
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def scenario(
        self, recommender_params: Mapping[str, Mapping[str, Any]] | None = None
    ) -> Scenario:
        """The :class:`~fidelity.scenario.Scenario` of this row (parameters per recommender)."""
        params = dict((recommender_params or {}).get(self.recommender, {}))
        return Scenario(
            overlap=self.overlap,
            target_size=self.target_size,
            recommender=self.recommender,
            seed=self.seed,
            mode=self.mode,
            mitigation=self.mitigation,
            recommender_params=params,
        )

    def request(self) -> AttackRequest:
        """The attack of this row."""
        return AttackRequest(self.attack, self.threat, self.k)


def _as_tuple(name: str, value: Any) -> tuple[Any, ...]:
    if isinstance(value, (str, int, float)) or value is None:
        value = (value,)
    value = tuple(value)
    if not value:
        raise ValueError(f"grid {name} must not be empty")
    return value


@dataclass(frozen=True)
class SweepGrid:
    """The grid of a sweep and the measurement options shared by its configurations.

    Every name (recommender, attack, threat model, mitigation) and seed is checked when
    the grid is built, so a bad grid fails before any configuration runs.

    Parameters
    ----------
    overlaps : tuple of float
        Fractions of A's users that T also has.
    target_sizes : tuple of int or None
        Numbers of T's users used to train m_T (``None``: all of T).
    recommenders : tuple of str
        Names for :func:`fidelity.recommenders.make_recommender`.
    seeds : tuple of int
        One repetition per seed (non-negative integers).
    attacks : tuple of str
        Registered attack names (``"match"`` is the paper's; see :mod:`fidelity.attacks`).
    threats : tuple of str
        Threat models (``"label"``, ``"topk"``, ``"scores"``); every attack must support
        every threat model of the grid.
    k : int
        List length for the ``topk`` threat model.
    mode : {"shared", "split-history"}
        Provider split mode.
    mitigations : tuple of str
        Mitigation settings (``"none"``, ``"chunk:N"``, ``"topk:K"``, ``"noise:L"``,
        ``"train:F"``; see :mod:`fidelity.mitigations`).
    recommender_params : mapping
        Keyword parameters per recommender name, e.g. ``{"random_forest": {"n_estimators": 20}}``.
    n_permutations, n_bootstrap : int
        Permutation-null and bootstrap sizes of the MI estimate (whole users resampled).
    validated_size : bool, default False
        Also give each row the attack-validated safe session size of its scenario
        (:func:`fidelity.evaluation.session_curve` on the row's fitted target, every
        registered attack of ``session_threat``); columns ``validated_safe_size``,
        ``validated_at_least``, ``validated_by``, ``validated_limited_by_data``.
    session_threat : str, default "scores"
        Threat model of those attacks.
    session_tolerance : float, default 0.1
        Advantage tolerance of the validated size.
    session_grid : tuple of int, optional
        Session sizes N of the curve (default: roughly geometric up to the longest history).
    """

    overlaps: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    target_sizes: tuple[int | None, ...] = (500, 1000, 2000, 4000)
    recommenders: tuple[str, ...] = ("random_forest",)
    seeds: tuple[int, ...] = (0,)
    attacks: tuple[str, ...] = ("match",)
    threats: tuple[str, ...] = ("label",)
    k: int = 1
    mode: str = "shared"
    mitigations: tuple[str, ...] = ("none",)
    recommender_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    n_permutations: int = 20
    n_bootstrap: int = 20
    validated_size: bool = False
    session_threat: str = "scores"
    session_tolerance: float = DEFAULT_TOLERANCE
    session_grid: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        names = ("overlaps", "target_sizes", "recommenders", "seeds", "attacks", "threats")
        for name in (*names, "mitigations"):
            object.__setattr__(self, name, _as_tuple(name, getattr(self, name)))
        for c in self.overlaps:
            if isinstance(c, bool):
                raise TypeError(f"overlaps must hold numbers in [0, 1]; got {c!r}")
            check_fraction("overlaps", c)
        for size in self.target_sizes:
            if size is not None:
                check_positive_int("target_sizes", size)
        for rec in self.recommenders:
            check_choice("recommenders", rec, tuple(RECOMMENDERS))
        for seed in self.seeds:
            check_seed("seeds", seed)
        for threat in self.threats:
            check_choice("threats", threat, THREATS)
        for attack in self.attacks:
            check_choice("attacks", attack, tuple(ATTACKS))
            missing = [t for t in self.threats if t not in get_attack(attack).threats]
            if missing:
                raise ValueError(
                    f"threats: the {attack} attack does not support {missing}; it supports "
                    f"{list(get_attack(attack).threats)}"
                )
        check_choice("mode", self.mode, MODES)
        object.__setattr__(
            self, "mitigations", tuple(parse_mitigation(m).name for m in self.mitigations)
        )
        check_positive_int("k", self.k)
        check_positive_int("n_permutations", self.n_permutations, minimum=0)
        check_positive_int("n_bootstrap", self.n_bootstrap, minimum=0)
        if not isinstance(self.validated_size, bool):
            raise TypeError(f"validated_size must be True or False; got {self.validated_size!r}")
        check_choice("session_threat", self.session_threat, THREATS)
        object.__setattr__(self, "session_tolerance", check_tolerance(self.session_tolerance))
        if self.session_grid is not None:
            object.__setattr__(self, "session_grid", check_session_grid(self.session_grid))
        if not isinstance(self.recommender_params, Mapping):
            raise TypeError(
                "recommender_params must map recommender names to parameter mappings; got "
                f"{type(self.recommender_params).__name__}"
            )
        for name, params in self.recommender_params.items():
            check_choice("recommender_params", name, tuple(RECOMMENDERS))
            if not isinstance(params, Mapping):
                raise TypeError(
                    f"recommender_params[{name!r}] must map parameter names to values; got "
                    f"{type(params).__name__} {params!r}"
                )
            try:  # a parameter the recommender does not take fails now, not after a sweep
                make_recommender(name, **params)
            except TypeError as err:
                raise TypeError(f"recommender_params[{name!r}]: {err}") from None
        object.__setattr__(
            self, "recommender_params", {k: dict(v) for k, v in self.recommender_params.items()}
        )

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> SweepGrid:
        """Read a grid from a TOML file whose keys are this class's fields.

        ``target_sizes`` may contain ``"all"`` for ``None``; recommender parameters go in
        tables ``[recommender_params.<name>]``.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"grid file {str(path)!r} does not exist")
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"grid file {str(path)!r} is not valid TOML: {err}") from None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"grid file {str(path)!r}: unknown key(s) {unknown}; allowed: {sorted(known)}"
            )
        if "target_sizes" in data and isinstance(data["target_sizes"], list):
            data["target_sizes"] = [None if s == "all" else s for s in data["target_sizes"]]
        try:
            return cls(**data)
        except (ValueError, TypeError) as err:
            raise type(err)(f"grid file {str(path)!r}: {err}") from None

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (for reports and ``results.json``)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    def configs(self) -> list[SweepConfig]:
        """All configurations, in a fixed order (the order of the results table)."""
        return [
            SweepConfig(
                float(c), size, rec, int(seed), attack, threat, self.k, self.mode, mitigation
            )
            for mitigation, rec, attack, threat, seed, c, size in itertools.product(
                self.mitigations,
                self.recommenders,
                self.attacks,
                self.threats,
                self.seeds,
                self.overlaps,
                self.target_sizes,
            )
        ]

    def scenarios(self) -> list[tuple[Scenario, list[SweepConfig]]]:
        """The distinct scenarios of the grid, each with its configurations (grid order).

        Configurations that differ only in the attack, threat model or ``k`` share one
        scenario: its target is fitted once and every attack runs against it.
        """
        groups: dict[Scenario, list[SweepConfig]] = {}
        for config in self.configs():
            groups.setdefault(config.scenario(self.recommender_params), []).append(config)
        return list(groups.items())


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value
