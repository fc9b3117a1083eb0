"""The model-aware reading: how much one observation's attack signal says about membership.

Beside MI(H;O), which looks at the data only, ``I(M; S)`` is the mutual information
between the membership M of an adversary observation's user and the attack's signal S on
that observation (its per-observation evidence: a hit, a log-likelihood ratio ...). The
signal is binned (its distinct values when few, else quantile bins of the pooled signal)
and the information is estimated exactly like MI(H;O), by
:func:`fidelity.information.mutual_information` with members and non-members as the two
"holders", whole users resampled and permuted, at a balanced membership prior (so that it
is comparable with the advantage, which ignores the prior).

**Its Fano size.** If a user's N observations gave independent signals given M, then
``I(M; S_1..S_N) <= N I(M; S)`` and Fano's inequality says an adversary needs
``N >= (1 - h2(1 - p)) / I(M; S)`` to reach success probability ``p``. With
``p = (1 + tolerance) / 2`` (the success that an advantage of ``tolerance`` gives at a
balanced prior), the largest N below that bound is the model-aware Fano size. Real
observations of one user are not independent given M (a user's taste makes all of its
observations easy or hard to predict, a memorised user is memorised throughout), so the
measured curve can break at a smaller N: the session-length curve is the measurement,
this is the bound that holds only under independence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fidelity._display import DisplayMixin
from fidelity._validation import RandomStateLike
from fidelity.attacks import AttackSignals
from fidelity.data.tables import Observations
from fidelity.information import fano_min_observations, mutual_information
from fidelity.split import ProviderSplit

__all__ = ["MAX_BINS", "SignalInformation", "signal_bins", "signal_information"]

MAX_BINS = 16
"""Quantile bins of a continuous signal."""


@dataclass(frozen=True)
class SignalInformation(DisplayMixin):
    """I(M; S) of one attack's per-observation signal and its Fano size.

    Attributes
    ----------
    attack, threat : str
    mi : float
        The estimate of I(M; S) in bits (the information module's default estimator).
    plugin : float
        Its plug-in value.
    null_mean, p_value : float or None
        User-level permutation null (None without permutations).
    n_bins : int
        Values of the binned signal.
    success : float
        Success probability of the Fano size.
    fano_bound : float
        ``(1 - h2(1 - success)) / mi`` (inf when ``mi <= 0``).
    fano_size : int or None
        Largest N below the bound; None when the information is 0 (no bound).
    """

    attack: str
    threat: str
    mi: float
    plugin: float
    null_mean: float | None
    p_value: float | None
    n_bins: int
    success: float
    fano_bound: float
    fano_size: int | None

    def summary(self) -> str:
        """One sentence."""
        head = (
            f"One observation's {self.attack} ({self.threat}) signal carries "
            f"{self.mi:.4g} bits about membership"
        )
        if self.fano_size is None:
            return head + "; it gives no Fano bound."
        if self.fano_size == 0:
            return (
                f"{head}: even if observations were independent, Fano's bound would not keep "
                f"the adversary's success below {self.success:g} for a single observation."
            )
        return (
            f"{head}; if observations were independent, Fano's bound would keep the "
            f"adversary's success below {self.success:g} for up to {self.fano_size} "
            "observation(s) per user."
        )

    def to_dict(self) -> dict[str, object]:
        """All fields."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def signal_bins(signal: np.ndarray, max_bins: int = MAX_BINS) -> np.ndarray:
    """Integer codes of a per-observation signal: its values when few, else quantile bins."""
    values = np.asarray(signal, dtype=np.float64)
    uniq, codes = np.unique(values, return_inverse=True)
    if len(uniq) <= max_bins:
        return codes.reshape(-1).astype(np.int64)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, max_bins + 1)[1:-1]))
    return np.searchsorted(edges, values, side="right").astype(np.int64)


def _table(obs: Observations, codes: np.ndarray, rows: np.ndarray, n_codes: int) -> Observations:
    return Observations(
        user=obs.user[rows],
        session=obs.session[rows],
        item=codes[rows],
        next_item=np.zeros(int(rows.sum()), dtype=np.int64),
        timing=np.zeros((int(rows.sum()), 0), dtype=np.float32),
        timing_names=(),
        item_ids=np.arange(n_codes),
        user_ids=obs.user_ids,
        session_ids=obs.session_ids,
    )


def signal_information(
    split: ProviderSplit,
    signals: AttackSignals,
    *,
    success: float = 0.55,
    n_permutations: int | None = None,
    random_state: RandomStateLike = None,
) -> SignalInformation:
    """Estimate I(M; S) for ``signals`` on ``split`` and its Fano size at ``success``.

    Parameters
    ----------
    split : ProviderSplit
        The split the signals were computed on (membership of the adversary's users).
    signals : AttackSignals
        An attack's signals with per-observation evidence.
    success : float, default 0.55
        Success probability of the Fano size (0.55: an advantage of 0.1).
    n_permutations : int
        User-level permutation null.
    random_state : int, Generator, SeedSequence or None

    Returns
    -------
    SignalInformation
    """
    if signals.observation_scores is None:
        raise ValueError(
            f"the {signals.attack} attack has no per-observation signal (it scores users only)"
        )
    adv = split.adversary
    codes = signal_bins(signals.observation_scores)
    n_codes = int(codes.max()) + 1 if len(codes) else 1
    member = split.member_mask
    if member.all() or not member.any():
        raise ValueError("the split must hold both member and non-member observations")
    estimate = mutual_information(
        _table(adv, codes, member, n_codes),
        _table(adv, codes, ~member, n_codes),
        features=("item",),
        prior=0.5,
        n_permutations=n_permutations,
        random_state=random_state,
    )
    bound = fano_min_observations(max(estimate.mi, 0.0), success=success)
    size = None if math.isinf(bound) else max(math.ceil(bound) - 1, 0)
    return SignalInformation(
        attack=signals.attack,
        threat=signals.threat,
        mi=float(estimate.mi),
        plugin=float(estimate.plugin),
        null_mean=estimate.null_mean,
        p_value=estimate.p_value,
        n_bins=n_codes,
        success=float(success),
        fano_bound=float(bound),
        fano_size=size,
    )
