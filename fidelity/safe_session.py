"""A provider's self-evaluation: how long may a linkable session be?

The paper proposes that a provider emulate an adversary and a target from its own
data (two disjoint sets of ``n`` users each), measure MI(H;O) between them at
increasing ``n``, fit how MI falls with ``n`` and extrapolate to the full size of
its data. The Fano bound of the extrapolated MI gives the largest safe session
size. :func:`estimate_safe_session_size` does exactly this and returns the curve it
came from, the power-law fit and a confidence interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from fidelity._display import DisplayMixin
from fidelity._validation import (
    RandomStateLike,
    check_positive_int,
    seed_sequence,
    warn,
)
from fidelity.data.tables import Observations
from fidelity.information import mutual_information, safe_session_size
from fidelity.split import disjoint_user_sets


@dataclass(frozen=True, eq=False)
class SafeSessionEstimate(DisplayMixin):
    """The extrapolated safe session size and the curve it came from.

    Attributes
    ----------
    sizes : ndarray of int
        Users per emulated provider at each measured point.
    mi, mi_std : ndarray of float
        Mean and standard deviation over repeats of the plug-in MI(H;O) (bits).
    mi_corrected : ndarray of float
        Mean Miller-Madow corrected MI at each size.
    null_mean : ndarray of float
        Mean user-level permutation-null MI at each size (NaN without permutations).
    mi_runs : ndarray, shape (n_sizes, n_repeats)
        Every plug-in measurement.
    slope, intercept : float
        Power-law fit ``log MI = intercept + slope * log n`` (natural logs).
    full_size : int
        The size extrapolated to.
    mi_full, mi_full_low, mi_full_high : float
        Extrapolated MI and its confidence interval at ``full_size``.
    safe_session_size : int or None
        Largest N below the Fano bound of ``mi_full``; None when MI gives no bound
        (see ``no_bound``).
    safe_session_size_low, safe_session_size_high : int or None
        The same from ``mi_full_high`` (conservative) and ``mi_full_low``.
    success : float or None
        Adversary success probability the bound was computed for (None: 1/MI).
    confidence : float
        Level of the interval.
    no_bound : str or None
        Why MI gives no bound (no measured MI above 0 at two sizes or more), else None.
    """

    sizes: np.ndarray
    mi: np.ndarray
    mi_std: np.ndarray
    mi_corrected: np.ndarray
    null_mean: np.ndarray
    mi_runs: np.ndarray
    slope: float
    intercept: float
    full_size: int
    mi_full: float
    mi_full_low: float
    mi_full_high: float
    safe_session_size: int | None
    safe_session_size_low: int | None
    safe_session_size_high: int | None
    success: float | None
    confidence: float
    no_bound: str | None = None

    def predict(self, sizes: np.ndarray) -> np.ndarray:
        """MI predicted by the power-law fit at ``sizes``."""
        return np.exp(self.intercept + self.slope * np.log(np.asarray(sizes, dtype=float)))

    def summary(self) -> str:
        """One or two sentences: the extrapolated MI and the safe size it gives."""
        head = (
            f"MI(H;O) measured at {len(self.sizes)} provider sizes and extrapolated to "
            f"{self.full_size} users is {self.mi_full:.4g} bits ({self.confidence:.0%} "
            f"interval [{self.mi_full_low:.4g}, {self.mi_full_high:.4g}])"
        )
        if self.safe_session_size is None:
            reason = str(self.no_bound or "MI gives no bound")
            return f"{head}; {reason.rstrip('.')}."
        low = self.safe_session_size_low
        return (
            f"{head}: its Fano bound gives a safe session size of {self.safe_session_size} "
            f"observations ({low if low is not None else 'no bound'} from the upper MI limit)."
        )

    def to_frame(self) -> pd.DataFrame:
        """The measured curve: one row per size."""
        return pd.DataFrame(
            {
                "size": self.sizes,
                "mi": self.mi,
                "mi_std": self.mi_std,
                "mi_corrected": self.mi_corrected,
                "mi_null_mean": self.null_mean,
                "mi_fit": self.predict(self.sizes),
            }
        )

    def to_dict(self) -> dict[str, float | int | list[float] | None]:
        """Summary for JSON output (``safe_session_size`` key included)."""
        return {
            "safe_session_size": self.safe_session_size,
            "safe_session_size_low": self.safe_session_size_low,
            "safe_session_size_high": self.safe_session_size_high,
            "mi_full": self.mi_full,
            "mi_full_low": self.mi_full_low,
            "mi_full_high": self.mi_full_high,
            "full_size": self.full_size,
            "slope": self.slope,
            "intercept": self.intercept,
            "success": self.success,
            "confidence": self.confidence,
            "no_bound": self.no_bound,
            "sizes": self.sizes.tolist(),
            "mi": self.mi.tolist(),
        }


def default_sizes(n_users: int, n_points: int = 6) -> np.ndarray:
    """Geometric grid of provider sizes from ``min(50, n/8)`` up to half the users."""
    top = n_users // 2
    low = max(2, min(50, top // 8))
    if top < 4:
        raise ValueError(f"observations must hold at least 8 users; got {n_users}")
    return np.unique(np.geomspace(low, top, n_points).astype(np.int64))


def estimate_safe_session_size(
    observations: Observations,
    *,
    sizes: np.ndarray | list[int] | None = None,
    full_size: int | None = None,
    n_repeats: int = 5,
    n_permutations: int = 10,
    success: float | None = None,
    confidence: float = 0.95,
    random_state: RandomStateLike = None,
    show_progress: bool = True,
) -> SafeSessionEstimate:
    """Estimate the largest safe session size from one provider's own data.

    For each size ``n`` in ``sizes`` and each repeat, two disjoint random sets of
    ``n`` users play the adversary and the target (overlap 0) and the plug-in
    MI(H;O) between their observations is measured. ``log MI`` is regressed on
    ``log n`` (a power law) and extrapolated to ``full_size``; the interval is the
    regression's confidence interval for the mean at that point (Student t).

    Parameters
    ----------
    observations : Observations
        The provider's own data.
    sizes : sequence of int, optional
        Users per emulated provider; default :func:`default_sizes`.
    full_size : int, optional
        Size to extrapolate to; default the number of users in ``observations``.
    n_repeats : int
        Random splits per size (at least 1; 2 or more sizes x repeats are needed).
    n_permutations : int
        User-level permutation null per measurement (0 to skip).
    success : float, optional
        Adversary success probability for the Fano bound (default: 1/MI).
    confidence : float
        Level of the interval.
    random_state : int, Generator, SeedSequence or None
        Seed; the same seed gives the same numbers.
    show_progress : bool
        Show a progress bar.

    Returns
    -------
    SafeSessionEstimate
    """
    n_users = observations.n_users
    sizes = default_sizes(n_users) if sizes is None else np.unique(np.asarray(sizes, np.int64))
    if len(sizes) < 2:
        raise ValueError(f"sizes must hold at least 2 distinct sizes to fit a curve; got {sizes}")
    if sizes.min() < 1 or 2 * sizes.max() > n_users:
        raise ValueError(
            f"sizes must be in [1, {n_users // 2}] (two disjoint sets of users); got "
            f"{sizes.tolist()}"
        )
    n_repeats = check_positive_int("n_repeats", n_repeats)
    full_size = n_users if full_size is None else check_positive_int("full_size", full_size)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")

    users = observations.users()
    streams = seed_sequence(random_state).spawn(len(sizes) * n_repeats)
    runs = np.empty((len(sizes), n_repeats))
    corrected = np.empty_like(runs)
    nulls = np.full_like(runs, np.nan)
    with tqdm(total=runs.size, desc="safe session", unit="split", disable=not show_progress) as bar:
        for i, n in enumerate(sizes):
            for r in range(n_repeats):
                split_seed, mi_seed = streams[i * n_repeats + r].spawn(2)
                a_users, t_users = disjoint_user_sets(users, n, np.random.default_rng(split_seed))
                est = mutual_information(
                    observations.select_users(a_users),
                    observations.select_users(t_users),
                    n_permutations=n_permutations,
                    random_state=mi_seed,
                )
                runs[i, r], corrected[i, r] = est.plugin, est.corrected
                if n_permutations:
                    nulls[i, r] = est.null_mean
                bar.update(1)

    # A power law is fitted to the positive measurements only: an MI of 0 (e.g. a single
    # song) has no logarithm, and flooring it at the smallest float made the fit
    # extrapolate to ~1e-308 bits, hence a 308-digit "safe" size.
    positive = runs.ravel() > 0
    x = np.repeat(np.log(sizes.astype(float)), n_repeats)[positive]
    y = np.log(runs.ravel()[positive])
    if len(np.unique(x)) < 2:
        return _no_bound_estimate(sizes, runs, corrected, nulls, full_size, success, confidence)
    fit = stats.linregress(x, y)
    x0 = np.log(full_size)
    dof = len(x) - 2
    if dof > 0:
        resid = y - (fit.intercept + fit.slope * x)
        s = np.sqrt(resid @ resid / dof)
        se = s * np.sqrt(1 / len(x) + (x0 - x.mean()) ** 2 / ((x - x.mean()) ** 2).sum())
        half = stats.t.ppf(0.5 + confidence / 2, dof) * se
    else:
        half = np.inf
    log_mi = fit.intercept + fit.slope * x0
    mi_full, mi_low, mi_high = (float(np.exp(log_mi + d)) for d in (0.0, -half, half))
    if fit.slope >= 0:
        warn(
            f"MI does not fall with the provider size (fitted slope {fit.slope:.3f} >= 0); "
            "the extrapolation is not meaningful"
        )
    size, size_low, size_high = (
        safe_session_size(v, success=success).size for v in (mi_full, mi_high, mi_low)
    )
    return SafeSessionEstimate(
        **_measured(sizes, runs, corrected, nulls),
        slope=float(fit.slope),
        intercept=float(fit.intercept),
        full_size=full_size,
        mi_full=mi_full,
        mi_full_low=mi_low,
        mi_full_high=mi_high,
        safe_session_size=size,
        safe_session_size_low=size_low,
        safe_session_size_high=size_high,
        success=success,
        confidence=confidence,
    )


def _measured(sizes, runs, corrected, nulls) -> dict[str, object]:
    """The fields of an estimate that summarise the measured sizes' repeats."""
    return {
        "sizes": sizes,
        "mi": runs.mean(axis=1),
        "mi_std": runs.std(axis=1, ddof=1) if runs.shape[1] > 1 else np.zeros(len(sizes)),
        "mi_corrected": corrected.mean(axis=1),
        "null_mean": nulls.mean(axis=1),
        "mi_runs": runs,
    }


def _no_bound_estimate(sizes, runs, corrected, nulls, full_size, success, confidence):
    """The estimate when fewer than two sizes measured an MI above 0: no bound from MI."""
    return SafeSessionEstimate(
        **_measured(sizes, runs, corrected, nulls),
        slope=float("nan"),
        intercept=float("nan"),
        full_size=full_size,
        mi_full=0.0,
        mi_full_low=0.0,
        mi_full_high=0.0,
        safe_session_size=None,
        safe_session_size_low=None,
        safe_session_size_high=None,
        success=success,
        confidence=confidence,
        no_bound=(
            "no bound from MI: MI(H;O) is 0 at all but at most one of the measured sizes "
            f"(largest measured MI {float(runs.max()):.4g} bits), so no power law can be "
            "fitted and the Fano bound gives no safe session size"
        ),
    )
