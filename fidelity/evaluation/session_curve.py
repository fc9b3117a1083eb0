"""Leakage against session length, and the attack-validated safe session size.

The adversary links at most N observations to one user: each user's observations are cut
into consecutive pseudo-users of at most N (:func:`fidelity.split.pseudo_user_codes`), and
a pseudo-user is a member iff its user is. For every attack and every N of a grid,
:func:`session_curve` measures the user-level AUC, the advantage ``max(TPR - FPR)``, the
TPR at 0.1 % and 1 % FPR (each with a stratified bootstrap interval over pseudo-users)
and an empirical epsilon lower bound (:mod:`fidelity.audit_metrics`).

The expensive part of every attack (fitting references or shadows, querying the target)
is done once per scenario: each attack's per-observation signals are computed once
(:func:`fidelity.attacks.prepare_attack`) and re-aggregated per N, and attacks that train
models of the target's kind on the adversary's data share them (the shadow attack uses
the reference attack's models as its shadows). The whole curve costs about one attack run.

**The attack-validated safe session size** is the largest N such that, at N and at every
smaller N, the upper confidence bound of every attack's advantage is at or below
``tolerance``. It is 0 when one observation is already too many, and "at least N_max"
when nothing broke up to the longest history. Between the last safe grid point and the
first broken one every integer is evaluated, so the size is exact, and it is reported with
the attack and the N that decide it and the metrics at N and N + 1. A finite sample limits
what can be validated: a score that carries no signal still reaches an advantage of about
``1.36 sqrt(1/n_members + 1/n_nonmembers)`` (the two-sample Kolmogorov-Smirnov quantile,
the ``advantage_null_floor`` column); when that floor is above the tolerance the size is
limited by the data, not broken by a leak, and the verdict says so.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from fidelity._display import DisplayMixin
from fidelity._validation import check_positive_int
from fidelity.attacks import AttackSignals, attacks_for, get_attack, prepare_attack
from fidelity.audit_metrics import METRICS, audit_metrics
from fidelity.data.tables import Observations
from fidelity.evaluation.data_information import DataInformation, data_information
from fidelity.evaluation.evaluate import AttackRequest, as_requests, default_options
from fidelity.evaluation.signal_information import SignalInformation, signal_information
from fidelity.information import SafeSessionSize
from fidelity.scenario import FittedTarget, Scenario, fit_target
from fidelity.split import ProviderSplit, pseudo_user_codes

__all__ = [
    "CURVE_COLUMNS",
    "DEFAULT_TOLERANCE",
    "SessionCurve",
    "ValidatedSafeSize",
    "check_session_grid",
    "check_tolerance",
    "default_session_grid",
    "session_curve",
]

DEFAULT_TOLERANCE = 0.1
"""Default tolerance on the attacker advantage max(TPR - FPR)."""

CURVE_COLUMNS = (
    "attack",
    "threat",
    "n",
    "on_grid",
    "n_groups",
    "n_members",
    "n_nonmembers",
    *(col for metric in METRICS for col in (metric, f"{metric}_ci_low", f"{metric}_ci_high")),
    "epsilon_lower_bound",
    "advantage_null_floor",
)
"""Columns of :attr:`SessionCurve.curve`, one row per (attack, N)."""

_SHARED_MODEL_OPTIONS = {"n_references", "reference_size", "n_shadows", "shadow_size"}


def default_session_grid(max_length: int, n_points: int = 8) -> tuple[int, ...]:
    """Roughly geometric session sizes from 1 to ``max_length`` (both included)."""
    max_length = check_positive_int("max_length", max_length)
    n_points = check_positive_int("n_points", n_points)
    if max_length <= n_points:
        return tuple(range(1, max_length + 1))
    grid = np.unique(np.round(np.geomspace(1, max_length, n_points)).astype(np.int64))
    return tuple(int(n) for n in grid)


def check_session_grid(grid: Sequence[int]) -> tuple[int, ...]:
    """Validate a grid of session sizes: a non-empty sequence of integers >= 1 (sorted)."""
    if isinstance(grid, (str, bytes)) or not isinstance(grid, Sequence | np.ndarray):
        raise TypeError(f"grid must be a sequence of integers >= 1; got {grid!r}")
    if len(grid) == 0:
        raise ValueError("grid must hold at least one session size N >= 1; got an empty grid")
    out = set()
    for n in grid:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
            raise ValueError(f"grid: every session size must be an integer >= 1; got {n!r}")
        if n < 1:
            raise ValueError(f"grid: every session size must be an integer >= 1; got {n!r}")
        out.add(int(n))
    return tuple(sorted(out))


def check_tolerance(tolerance: float) -> float:
    """Validate the advantage tolerance: a number in (0, 1)."""
    try:
        value = float(tolerance)
    except (TypeError, ValueError):
        raise TypeError(f"tolerance must be a number in (0, 1); got {tolerance!r}") from None
    if not 0.0 < value < 1.0 or isinstance(tolerance, bool):
        raise ValueError(f"tolerance must be in (0, 1) (an advantage); got {tolerance!r}")
    return value


@dataclass(frozen=True)
class ValidatedSafeSize(DisplayMixin):
    """The largest session size no attack of the curve breaks.

    Attributes
    ----------
    size : int
        The validated size N (0: even one observation is too many).
    at_least : bool
        True when no attack broke up to ``n_max``: the size is "at least ``n_max``".
    n_max : int
        The largest N measured.
    tolerance : float
        The advantage tolerance.
    decided_by : str or None
        ``"<attack> (<threat>)"`` that broke at ``size + 1`` (None when ``at_least``).
    broken_at : int or None
        ``size + 1``, the first N whose upper advantage bound exceeds the tolerance.
    limited_by_data : bool
        At ``broken_at`` the deciding attack's advantage estimate is within what a
        signal-free score reaches with these numbers of users (the null floor): the size is
        limited by the amount of data, not shown to be broken by a leak.
    at_size, at_next : dict
        The deciding attack's metrics at ``size`` and at ``size + 1`` (empty when absent).
    """

    size: int
    at_least: bool
    n_max: int
    tolerance: float
    decided_by: str | None = None
    broken_at: int | None = None
    limited_by_data: bool = False
    at_size: dict[str, Any] = field(default_factory=dict)
    at_next: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``"12"``, ``"0"`` or ``"at least 19"``."""
        return f"at least {self.size}" if self.at_least else str(self.size)

    def summary(self) -> str:
        """One or two plain sentences."""
        tol = f"{self.tolerance:g}"
        if self.at_least:
            return (
                f"No attack reaches an advantage above {tol} (upper confidence bound) up to "
                f"{self.n_max} observations per user: the safe session size is at least "
                f"{self.n_max}."
            )
        nxt = self.at_next
        head = (
            f"The attack-validated safe session size is {self.size}: with {self.broken_at} "
            f"observation{'s' if self.broken_at != 1 else ''} per user the {self.decided_by} "
            "attack's advantage is "
            f"{nxt.get('advantage', float('nan')):.3f} (upper bound "
            f"{nxt.get('advantage_ci_high', float('nan')):.3f} > {tol})."
        )
        if self.limited_by_data:
            head += (
                " That is within what a signal-free score reaches with these numbers of users "
                f"({nxt.get('advantage_null_floor', float('nan')):.3f}): more users are needed "
                "to validate a larger size."
            )
        return head

    def to_dict(self) -> dict[str, Any]:
        """Scalars: size, label, decision, and the deciding metrics at N and N + 1."""
        out: dict[str, Any] = {
            "validated_safe_size": self.size,
            "validated_at_least": self.at_least,
            "validated_label": self.label,
            "n_max": self.n_max,
            "tolerance": self.tolerance,
            "decided_by": self.decided_by,
            "broken_at": self.broken_at,
            "limited_by_data": self.limited_by_data,
        }
        for prefix, metrics in (("at_size", self.at_size), ("at_next", self.at_next)):
            for key in ("auc", "advantage", "advantage_ci_high", "advantage_null_floor"):
                if key in metrics:
                    out[f"{prefix}_{key}"] = metrics[key]
        return out


@dataclass(frozen=True, eq=False)
class SessionCurve(DisplayMixin):
    """Leakage against session length for one scenario, and the sizes it implies.

    Attributes
    ----------
    scenario : Scenario
    requests : tuple of AttackRequest
    curve : pandas.DataFrame
        One row per (attack, N), columns :data:`CURVE_COLUMNS` (``on_grid`` is False for
        the sizes evaluated to locate the validated size exactly).
    validated : ValidatedSafeSize
        The attack-validated safe session size (the headline).
    information : DataInformation or None
        The paper's data-only reading: MI(H;O) between D_A and D_T (over (s, s') and the
        timing the target reads, with its timing attribution) and its Fano size.
    signal_information : tuple of SignalInformation
        The model-aware reading: I(M; S) of each attack's per-observation signal and its
        Fano size (assumes independent observations).
    confidence : float
    elapsed_s : float
    signals : tuple of AttackSignals
        Each attack's per-observation signals (what the curve aggregates; not in
        :meth:`to_dict`).
    """

    scenario: Scenario
    requests: tuple[AttackRequest, ...]
    curve: pd.DataFrame = field(repr=False)
    validated: ValidatedSafeSize
    information: DataInformation | None
    signal_information: tuple[SignalInformation, ...]
    confidence: float
    elapsed_s: float
    signals: tuple[AttackSignals, ...] = field(default=(), repr=False)

    @property
    def fano(self) -> SafeSessionSize | None:
        """The data-only Fano size of MI(H;O) (None when MI was not measured)."""
        return None if self.information is None else self.information.fano

    def summary(self) -> str:
        """The validated size's verdict, then the paper's data-only reading."""
        text = self.validated.summary()
        fano = self.fano
        if fano is not None and fano.size is not None:
            text += (
                f" The paper's data-only Fano bound of MI(H;O) says {fano.size} "
                "(it bounds telling the data distributions apart, not a model's memory)."
            )
        elif fano is not None:
            text += (
                " The paper's data-only Fano bound gives no size: MI(H;O) cannot be told "
                "from 0 on these data."
            )
        return text

    def to_dict(self) -> dict[str, Any]:
        """Scalars of the validated size, the Fano readings and the scenario."""
        out = dict(self.validated.to_dict())
        out["fano_safe_session_size"] = None if self.fano is None else self.fano.size
        out["fano_bound"] = None if self.fano is None else self.fano.bound
        for info in self.signal_information:
            out[f"signal_mi_{info.attack}"] = info.mi
            out[f"signal_fano_size_{info.attack}"] = info.fano_size
        out.update({f"scenario_{k}": v for k, v in self.scenario.to_dict().items()})
        out["elapsed_s"] = self.elapsed_s
        return out

    def to_frame(self) -> pd.DataFrame:
        """The curve (one row per attack and N)."""
        return self.curve.copy()

    def attack(self, label: str) -> pd.DataFrame:
        """The curve of one attack, ``"<name> (<threat>)"`` or a name, sorted by N."""
        rows = self.curve[
            (self.curve.attack + " (" + self.curve.threat + ")" == label)
            | (self.curve.attack == label)
        ]
        return rows.sort_values("n").reset_index(drop=True)


def _member_of_groups(split: ProviderSplit, parent: np.ndarray) -> np.ndarray:
    """Membership of each pseudo-user from its user's."""
    return split.members[np.searchsorted(split.adversary_users, parent)]


class _Aggregator:
    """Scores every attack's signals on the pseudo-users of one N; caches the cut."""

    def __init__(self, split, labelled, n_bootstrap, confidence, seed):
        self.split, self.labelled = split, labelled
        self.n_bootstrap, self.confidence, self.seed = n_bootstrap, confidence, seed
        self.rows: dict[tuple[str, int], dict[str, Any]] = {}

    def evaluate(self, n: int, on_grid: bool) -> list[dict[str, Any]]:
        codes, parent = pseudo_user_codes(self.split.adversary.user, n)
        members = _member_of_groups(self.split, parent)
        out = []
        for j, (label, request, signals) in enumerate(self.labelled):
            if (label, n) in self.rows:
                out.append(self.rows[(label, n)])
                continue
            groups, scores = signals.score_users(codes)
            member = members[groups]
            row: dict[str, Any] = {
                "attack": request.name,
                "threat": request.threat,
                "n": n,
                "on_grid": on_grid,
                "n_groups": len(groups),
            }
            if 0 < member.sum() < len(member):
                metrics = audit_metrics(
                    scores,
                    member,
                    n_bootstrap=self.n_bootstrap,
                    confidence=self.confidence,
                    random_state=np.random.SeedSequence([self.seed, 11, j, n]),
                )
                row.update(metrics.to_dict())
            self.rows[(label, n)] = row
            out.append(row)
        return out


def _ok(rows: list[dict[str, Any]], tolerance: float) -> bool:
    return all(row.get("advantage_ci_high", np.inf) <= tolerance for row in rows)


def _validate(agg: _Aggregator, grid: tuple[int, ...], tolerance: float) -> ValidatedSafeSize:
    """Walk the grid, then every integer between the last safe and the first broken N."""
    last_ok, first_bad = 0, None
    for n in grid:
        if _ok(agg.evaluate(n, True), tolerance):
            last_ok = n
        else:
            first_bad = n
            break
    if first_bad is None:
        return ValidatedSafeSize(size=grid[-1], at_least=True, n_max=grid[-1], tolerance=tolerance)
    for n in range(last_ok + 1, first_bad):
        if not _ok(agg.evaluate(n, False), tolerance):
            first_bad = n
            break
        last_ok = n
    bad_rows = agg.evaluate(first_bad, first_bad in grid)
    worst = max(bad_rows, key=lambda r: r.get("advantage_ci_high", np.inf))
    label = f"{worst['attack']} ({worst['threat']})"
    at_size = {}
    if last_ok >= 1:
        for row in agg.evaluate(last_ok, last_ok in grid):
            if (row["attack"], row["threat"]) == (worst["attack"], worst["threat"]):
                at_size = row
    floor = worst.get("advantage_null_floor", 1.0)
    return ValidatedSafeSize(
        size=last_ok,
        at_least=False,
        n_max=grid[-1],
        tolerance=tolerance,
        decided_by=label,
        broken_at=first_bad,
        limited_by_data=bool(worst.get("advantage", np.inf) <= max(floor, tolerance)),
        at_size=dict(at_size),
        at_next=dict(worst),
    )


def _default_requests(threat: str, k: int) -> tuple[AttackRequest, ...]:
    return tuple(AttackRequest(name, threat, k) for name in attacks_for(threat))


def _prepare_all(
    observations: Observations, fitted: FittedTarget, requests, show_progress: bool
) -> list[AttackSignals]:
    """Every attack's signals once; later attacks reuse models fitted by earlier ones."""
    scenario, split = fitted.scenario, fitted.split
    shared: dict[str, Any] = {}
    signals = []
    for request in tqdm(requests, disable=not show_progress, desc="attack signals"):
        options = default_options(request, observations, fitted)
        spec = get_attack(request.name)
        for name, value in shared.items():
            if name in spec.option_names and not (_SHARED_MODEL_OPTIONS & set(options)):
                options.setdefault(name, value)
        result = prepare_attack(
            request.name,
            split,
            fitted.model,
            threat=request.threat,
            k=request.k,
            recommender=scenario.recommender,
            recommender_params=dict(scenario.recommender_params),
            random_state=fitted.attack_seed,
            show_progress=show_progress,
            **options,
        )
        if not (_SHARED_MODEL_OPTIONS & set(request.options)):
            for name, value in result.artifacts.items():
                shared.setdefault(name, value)
        signals.append(result)
    return signals


def session_curve(
    observations: Observations,
    scenario: Scenario,
    attacks: Sequence[AttackRequest | str | tuple] | None = None,
    *,
    threat: str = "scores",
    k: int = 10,
    grid: Sequence[int] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    confidence: float = 0.95,
    n_bootstrap: int = 200,
    measure_mi: bool = True,
    n_permutations: int | None = None,
    fitted: FittedTarget | None = None,
    show_progress: bool = False,
) -> SessionCurve:
    """Leakage against the number N of observations linked to a user, for every attack.

    Parameters
    ----------
    observations : Observations
        The data both providers are emulated from.
    scenario : Scenario
        Overlap, target size, recommender, mode, mitigation and seed of the target.
    attacks : sequence of AttackRequest, str or (name, threat[, k]), optional
        Default: every registered attack that supports ``threat`` (with list length ``k``).
    threat : {"label", "topk", "scores"}, default "scores"
        Threat model of the default attacks.
    k : int, default 10
        List length of the default attacks (``topk``, and the hits under ``scores``; at
        most the number of songs).
    grid : sequence of int, optional
        Session sizes N; default :func:`default_session_grid` up to the longest history
        at the adversary (8 roughly geometric values).
    tolerance : float in (0, 1), default 0.1
        Tolerance on the advantage for the validated size.
    confidence : float, default 0.95
        Level of the intervals (bootstrap, Clopper-Pearson).
    n_bootstrap : int, default 200
        Stratified bootstrap replicates over pseudo-users per (attack, N).
    measure_mi : bool, default True
        Also give the data-only Fano size (MI(H;O) of D_A and D_T) and the model-aware
        I(M; S) of each attack's per-observation signal.
    n_permutations : int, optional
        Permutation-null size of those MI estimates (default: the information module's,
        which its default estimator needs).
    fitted : FittedTarget, optional
        ``fit_target(observations, scenario)`` when the caller already has it.
    show_progress : bool

    Returns
    -------
    SessionCurve

    Raises
    ------
    ValueError
        An empty grid, a size that is not an integer >= 1, a tolerance outside (0, 1), or
        an attack the threat model does not allow.
    """
    start = time.perf_counter()
    tolerance = check_tolerance(tolerance)
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")
    n_bootstrap = check_positive_int("n_bootstrap", n_bootstrap, minimum=0)
    # the default attacks' lists cannot be longer than the catalogue
    requests = (
        _default_requests(threat, min(k, max(observations.n_items, 1)))
        if attacks is None
        else as_requests(attacks)
    )
    if grid is not None:
        grid = check_session_grid(grid)
    if fitted is None:
        fitted = fit_target(observations, scenario)
    elif fitted.scenario != scenario:
        raise ValueError("fitted must be the fitted target of this scenario")
    split = fitted.split
    longest = int(np.bincount(np.unique(split.adversary.user, return_inverse=True)[1]).max())
    grid = default_session_grid(longest) if grid is None else grid
    signals = _prepare_all(observations, fitted, requests, show_progress)
    labelled = [(r.label, r, s) for r, s in zip(requests, signals, strict=True)]
    agg = _Aggregator(split, labelled, n_bootstrap, confidence, scenario.seed)
    for n in tqdm(grid, disable=not show_progress, desc="session sizes"):
        agg.evaluate(n, True)
    validated = _validate(agg, grid, tolerance)
    curve = pd.DataFrame(list(agg.rows.values()), columns=list(CURVE_COLUMNS))
    curve = curve.sort_values(["attack", "threat", "n"], kind="stable").reset_index(drop=True)

    data_info = None
    info: tuple[SignalInformation, ...] = ()
    if measure_mi:
        mi_seed, info_seed = fitted.mi_seed.spawn(2)
        data_info = data_information(
            split,
            getattr(fitted.model, "timing_used_", ()),
            n_permutations=n_permutations,
            random_state=mi_seed,
        )
        info = tuple(
            signal_information(
                split,
                s,
                success=(1.0 + tolerance) / 2.0,
                n_permutations=n_permutations,
                random_state=info_seed,
            )
            for s in signals
            if s.observation_scores is not None
        )
    return SessionCurve(
        scenario=scenario,
        requests=tuple(requests),
        curve=curve,
        validated=validated,
        information=data_info,
        signal_information=info,
        confidence=float(confidence),
        elapsed_s=time.perf_counter() - start,
        signals=tuple(signals),
    )
