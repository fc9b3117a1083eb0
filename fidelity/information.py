"""MI(H;O) between data holder and observation, Fano bound and safe session size.

``MI(H;O) = H(H) + sum_h Pr[h] sum_o Pr[o|h] log2 Pr[h|o]`` in bits (docs/concepts.md), with
``Pr[o|h]`` from sparse histograms of each holder's observation values (by default the
pair (s, s')) and ``H(H) = h2(prior)``: 1 bit at the default prior 0.5 (the paper's
"1 +"), the binary entropy of the prior otherwise.

The plug-in estimate is biased upwards when values are many and samples few. Besides
the optional Miller-Madow correction, :func:`mutual_information` gives a permutation
null and a bootstrap interval that both move **whole users** (never single
observations, which are dependent within a session): the permutation shuffles the
holder labels over the pooled (holder, user) units, keeping the number of units per
holder; the bootstrap resamples users with replacement within each holder.

Reading the result: ``mi`` measures how distinguishable the *empirical*
histograms of A and T are (what a model memorising D_T could expose; it gives the
paper's conservative session size); ``mi - null_mean`` is the part not explained by
finite samples from one population.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from fidelity._validation import RandomStateLike, check_choice, check_fraction, spawn_generators
from fidelity._validation import warn as _warn
from fidelity.core import (
    binary_entropy,
    count_keys,
    joint_counts_sorting,
    mi_from_counts,
    miller_madow_bias,
    unique_inverse,
    unit_counts,
)
from fidelity.data.tables import Observations
from fidelity.histograms import DEFAULT_FEATURES, ObservationHistogram, encode_features

__all__ = [
    "MIEstimate",
    "ObservationHistogram",
    "SafeSessionSize",
    "fano_min_observations",
    "mutual_information",
    "mutual_information_from_counts",
    "safe_session_size",
]

CORRECTIONS = (None, "miller-madow")
NULL_P_VALUE = 0.05


def _check_prior(prior: float) -> float:
    value = check_fraction("prior", prior)
    if not 0.0 < value < 1.0:
        raise ValueError(f"prior must be in (0, 1) (Pr[H = adversary]); got {prior!r}")
    return value


def _check_count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0; got {value!r}")
    return int(value)


def _estimate(counts_a: np.ndarray, counts_t: np.ndarray, prior: float, correction) -> float:
    value = max(mi_from_counts(counts_a, counts_t, prior), 0.0)  # plug-in MI >= 0 exactly
    if correction == "miller-madow":
        value += miller_madow_bias(counts_a, counts_t, prior)
    return value


def mutual_information_from_counts(
    counts_a: np.ndarray,
    counts_t: np.ndarray,
    *,
    prior: float = 0.5,
    correction: str | None = None,
) -> float:
    """MI(H;O) in bits from aligned per-value counts of the adversary and the target.

    Parameters
    ----------
    counts_a, counts_t : array-like of non-negative numbers, shape (m,)
        Counts of each observation value in D_A and D_T (same value order).
    prior : float
        ``Pr[H = A]`` in (0, 1); ``H(H) = h2(prior)``.
    correction : {None, "miller-madow"}
        ``None``: the plug-in formula exactly; ``"miller-madow"`` adds the
        Miller-Madow term (:func:`fidelity.core.miller_madow_bias`; may be negative).

    Returns
    -------
    float
    """
    check_choice("correction", correction, CORRECTIONS)
    prior = _check_prior(prior)
    ca = np.asarray(counts_a, dtype=np.float64)
    ct = np.asarray(counts_t, dtype=np.float64)
    for name, arr in (("counts_a", ca), ("counts_t", ct)):
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D; got shape {arr.shape}")
        if not np.isfinite(arr).all() or (arr < 0).any():
            raise ValueError(f"{name} must hold finite non-negative counts")
        if arr.sum() <= 0:
            raise ValueError(f"{name} must hold at least one observation; got total 0")
    if ca.shape != ct.shape:
        raise ValueError(f"counts_a and counts_t must be aligned; got {ca.shape} and {ct.shape}")
    return _estimate(ca, ct, prior, correction)


@dataclass(frozen=True, eq=False)
class MIEstimate:
    """An estimate of MI(H;O) in bits with its user-level null and bootstrap interval.

    Attributes
    ----------
    mi : float
        The chosen estimate: ``corrected`` when a correction was asked, else ``plugin``.
    plugin : float
        Plug-in MI (the formula of docs/concepts.md).
    corrected : float
        Miller-Madow corrected MI (may be negative); always computed, whatever ``correction``.
    correction : str or None
    n_adversary, n_target : int
        Observations of each holder.
    n_users_adversary, n_users_target : int
        Resampling units (users) of each holder.
    n_values : int
        Distinct observation values present in A or T.
    null_mean, null_std, p_value : float or None
        User-level permutation null of ``mi`` and ``(1 + #{null >= mi}) / (1 + n)``.
    ci_low, ci_high : float or None
        Percentile bootstrap interval of ``mi`` (users resampled within each holder).
        Resampling users with replacement leaves fewer distinct users, so the replicates
        carry a larger finite-sample bias than ``mi``: when that bias dominates (many
        values, few users) the interval can sit above ``mi``. Its upper limit is then
        conservative for :func:`safe_session_size`; compare ``bootstrap_mean`` with ``mi``.
    bootstrap_mean : float or None
        Mean of the bootstrap replicates.
    n_permutations, n_bootstrap : int
    confidence : float
    prior : float
    features : tuple of str
    null_distribution, bootstrap_distribution : ndarray or None
        The replicates (not in :meth:`to_dict`).
    """

    mi: float
    plugin: float
    corrected: float | None
    correction: str | None
    n_adversary: int
    n_target: int
    n_users_adversary: int
    n_users_target: int
    n_values: int
    null_mean: float | None
    null_std: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    bootstrap_mean: float | None
    n_permutations: int
    n_bootstrap: int
    confidence: float
    prior: float
    features: tuple[str, ...]
    null_distribution: np.ndarray | None = field(default=None, repr=False)
    bootstrap_distribution: np.ndarray | None = field(default=None, repr=False)

    @property
    def above_null(self) -> bool | None:
        """True when ``mi`` exceeds its permutation null (p < 0.05 and mi > null mean).

        None when no permutation null was computed.
        """
        if self.n_permutations == 0 or self.p_value is None or self.null_mean is None:
            return None
        return bool(self.p_value < NULL_P_VALUE and self.mi > self.null_mean)

    @property
    def mi_above_null(self) -> float | None:
        """``mi - null_mean``: the part of the MI not explained by finite samples."""
        return None if self.null_mean is None else self.mi - self.null_mean

    def to_dict(self) -> dict[str, object]:
        """Scalars only (features joined with '+')."""
        out: dict[str, object] = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("null_distribution", "bootstrap_distribution", "features")
        }
        out["features"] = "+".join(self.features)
        out["above_null"] = self.above_null
        return out


def _n_distinct(codes: np.ndarray) -> int:
    """Number of distinct codes: runs when sorted (rows grouped by user), else a hash count."""
    if len(codes) and bool(np.all(codes[1:] >= codes[:-1])):
        return 1 + int(np.count_nonzero(codes[1:] != codes[:-1]))
    return len(count_keys(codes.view(np.uint64))[0])


def _units(obs: Observations, unit: str) -> tuple[np.ndarray, int]:
    uniq, inverse = unique_inverse(getattr(obs, unit))
    return inverse, len(uniq)


def mutual_information(
    adversary: Observations,
    target: Observations,
    *,
    prior: float = 0.5,
    features: Sequence[str] = DEFAULT_FEATURES,
    timing_bins: int | Sequence[float] | dict[str, int | Sequence[float] | None] | None = None,
    correction: str | None = None,
    n_permutations: int = 0,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    unit: str = "user",
    random_state: RandomStateLike = None,
    show_progress: bool = False,
) -> MIEstimate:
    """Estimate MI(H;O) between the data holder (A or T) and one observation, in bits.

    Parameters
    ----------
    adversary, target : Observations
        D_A and D_T (same item vocabulary and timing columns).
    prior : float
        ``Pr[H = A]`` in (0, 1); default 0.5 (``H(H) = 1`` bit).
    features : sequence of str
        Columns that make an observation value: ``"item"``, ``"next_item"`` and/or timing
        column names (see :func:`fidelity.histograms.encode_features` for ``timing_bins``).
    timing_bins : None, int, sequence of float, or dict
        Binning of timing features: None uses non-negative integer values as they are;
        an int gives that many equal-width bins over the pooled range; a sequence gives
        explicit bin edges; a dict maps a timing name to one of these.
    correction : {None, "miller-madow"}
        Bias correction of the chosen estimate ``mi`` (``plugin`` is always reported).
    n_permutations : int
        Size of the user-level permutation null (0: none).
    n_bootstrap : int
        Number of user-level bootstrap resamples for the interval (0: none).
    confidence : float
        Level of the bootstrap percentile interval, in (0, 1).
    unit : {"user", "session"}
        Resampling unit: whole users (default) or whole sessions.
    random_state : int, Generator, SeedSequence or None
    show_progress : bool
        Progress bar over permutations and bootstrap resamples.

    Returns
    -------
    MIEstimate
    """
    for name, obs in (("adversary", adversary), ("target", target)):
        if not isinstance(obs, Observations):
            raise TypeError(f"{name} must be an Observations table; got {type(obs).__name__}")
        if len(obs) == 0:
            raise ValueError(f"{name} must hold at least one observation; got 0")
    prior = _check_prior(prior)
    check_choice("correction", correction, CORRECTIONS)
    check_choice("unit", unit, ("user", "session"))
    n_permutations = _check_count("n_permutations", n_permutations)
    n_bootstrap = _check_count("n_bootstrap", n_bootstrap)
    conf = check_fraction("confidence", confidence)
    if not 0.0 < conf < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")

    encoded = encode_features(adversary, target, features=features, timing_bins=timing_bins)
    keys_a, keys_t = encoded.keys(compact=True)
    n_a, n_t = len(keys_a), len(keys_t)
    if n_permutations == 0 and n_bootstrap == 0:
        # lean path: sort the (own, temporary) keys in place and count runs
        _, counts_a, counts_t = joint_counts_sorting(keys_a, keys_t, overwrite=True)
        m = len(counts_a)
        n_units_a = _n_distinct(getattr(adversary, unit))
        n_units_t = _n_distinct(getattr(target, unit))
    else:
        units_a, n_units_a = _units(adversary, unit)
        units_t, n_units_t = _units(target, unit)
        uniq, key_index = unique_inverse(np.concatenate([keys_a, keys_t]))
        obs_unit = np.concatenate([units_a, units_t + n_units_a])
        holder = np.repeat(np.array([0, 1], dtype=np.int64), [n_units_a, n_units_t])
        ones = np.ones(n_units_a + n_units_t, dtype=np.int64)
        m = len(uniq)
        counts_a, counts_t = unit_counts(key_index, obs_unit, holder, ones, m)
    del keys_a, keys_t
    plugin = max(mi_from_counts(counts_a, counts_t, prior), 0.0)
    # The Miller-Madow value costs one pass over the counts: always reported; ``correction``
    # only chooses which estimate ``mi`` (and so the null and the interval) refers to.
    corrected = plugin + miller_madow_bias(counts_a, counts_t, prior)
    mi = corrected if correction == "miller-madow" else plugin

    gen_perm, gen_boot = spawn_generators(random_state, 2)
    bar = tqdm(total=n_permutations + n_bootstrap, disable=not show_progress, desc="MI(H;O)")
    null = None
    if n_permutations:
        null = np.empty(n_permutations)
        for r in range(n_permutations):
            c = unit_counts(key_index, obs_unit, gen_perm.permutation(holder), ones, m)
            null[r] = _estimate(c[0], c[1], prior, correction)
            bar.update()
    boot = None
    if n_bootstrap:
        boot = np.empty(n_bootstrap)
        for r in range(n_bootstrap):
            weights = np.concatenate(
                [
                    np.bincount(gen_boot.integers(0, n_units_a, n_units_a), minlength=n_units_a),
                    np.bincount(gen_boot.integers(0, n_units_t, n_units_t), minlength=n_units_t),
                ]
            )
            c = unit_counts(key_index, obs_unit, holder, weights, m)
            boot[r] = _estimate(c[0], c[1], prior, correction)
            bar.update()
    bar.close()
    alpha = (1.0 - conf) / 2.0
    return MIEstimate(
        mi=float(mi),
        plugin=float(plugin),
        corrected=float(corrected),
        correction=correction,
        n_adversary=n_a,
        n_target=n_t,
        n_users_adversary=n_units_a,
        n_users_target=n_units_t,
        n_values=m,
        null_mean=None if null is None else float(null.mean()),
        null_std=None if null is None else float(null.std(ddof=1)) if len(null) > 1 else 0.0,
        p_value=None if null is None else float((1 + np.sum(null >= mi)) / (1 + len(null))),
        ci_low=None if boot is None else float(np.quantile(boot, alpha)),
        ci_high=None if boot is None else float(np.quantile(boot, 1.0 - alpha)),
        bootstrap_mean=None if boot is None else float(boot.mean()),
        n_permutations=n_permutations,
        n_bootstrap=n_bootstrap,
        confidence=conf,
        prior=prior,
        features=encoded.features,
        null_distribution=null,
        bootstrap_distribution=boot,
    )


def _check_success(success: float | None) -> float | None:
    if success is None:
        return None
    value = check_fraction("success", success)
    if not 0.5 < value <= 1.0:
        raise ValueError(f"success must be a probability in (0.5, 1]; got {success!r}")
    return value


def fano_min_observations(mi: float, *, success: float | None = None, prior: float = 0.5) -> float:
    """Fano lower bound on the observations an adversary needs to tell A from T.

    ``N >= (H(H) - h2(1 - success)) / MI`` with ``H(H) = h2(prior)`` (1 bit at the
    default prior), i.e. ``1 / MI`` for ``success=None`` and a balanced prior.

    Parameters
    ----------
    mi : float
        MI(H;O) in bits per observation.
    success : float, optional
        Target success probability in (0.5, 1]; None means ``h2(1 - success) = 0``.
    prior : float
        ``Pr[H = A]`` in (0, 1).

    Returns
    -------
    float
        The bound; ``inf`` when ``mi <= 0``; 0 when the numerator is <= 0 (the prior
        alone already reaches ``success``).
    """
    value = float(mi)
    if math.isnan(value):
        raise ValueError("mi must be a number; got NaN")
    p = _check_success(success)
    entropy = binary_entropy(_check_prior(prior))
    numerator = entropy - (binary_entropy(1.0 - p) if p is not None else 0.0)
    if value <= 0:
        return math.inf
    return max(numerator, 0.0) / value


@dataclass(frozen=True, eq=False)
class SafeSessionSize:
    """Largest number of observations per user below the Fano bound.

    Attributes
    ----------
    size : int or None
        Largest integer N strictly below ``bound`` (``ceil(bound) - 1``, so a bound of
        exactly 4 gives 3; never below 0); None when the bound is infinite (MI <= 0).
    bound : float
        :func:`fano_min_observations` of ``mi_used``.
    mi_used : float
        The MI the bound comes from: the upper bootstrap limit when the estimate has an
        interval (conservative), else the estimate itself.
    success : float or None
    estimate : MIEstimate or None
    """

    size: int | None
    bound: float
    mi_used: float
    success: float | None
    estimate: MIEstimate | None = field(default=None, repr=False)

    @property
    def unbounded(self) -> bool:
        """True when MI <= 0, so no finite session size reaches the bound."""
        return self.size is None

    def __int__(self) -> int:
        if self.size is None:
            raise OverflowError("the safe session size is unbounded (MI <= 0)")
        return self.size

    def to_dict(self) -> dict[str, object]:
        """Size, bound, MI used, success and the MI estimate's own fields (``mi_*``)."""
        out: dict[str, object] = {
            "safe_session_size": self.size,
            "bound": self.bound,
            "mi_used": self.mi_used,
            "success": self.success,
        }
        if self.estimate is not None:
            out.update(
                {
                    f"mi_{k}" if not k.startswith("mi") else k: v
                    for k, v in self.estimate.to_dict().items()
                }
            )
        return out


def safe_session_size(
    estimate: MIEstimate | float, *, success: float | None = None
) -> SafeSessionSize:
    """Largest session size N below the Fano bound (see :func:`fano_min_observations`).

    Parameters
    ----------
    estimate : MIEstimate or float
        An MI estimate in bits. With an ``MIEstimate``, its upper bootstrap limit is used
        when present (conservative) and its prior sets ``H(H)``; a
        :class:`~fidelity.FidelityWarning` is emitted when its MI is not above its
        permutation null (p-value >= 0.05 or mi <= null mean).
    success : float, optional
        Target adversary success probability in (0.5, 1].

    Returns
    -------
    SafeSessionSize
    """
    if isinstance(estimate, MIEstimate):
        mi_used = estimate.ci_high if estimate.ci_high is not None else estimate.mi
        prior = estimate.prior
        if estimate.above_null is False:
            _warn(
                f"MI(H;O) = {estimate.mi:.4g} bits is not above its user-level permutation "
                f"null (mean {estimate.null_mean:.4g}, p = {estimate.p_value:.3g}): the safe "
                "session size reflects finite-sample differences, not a population difference"
            )
        est: MIEstimate | None = estimate
    elif isinstance(estimate, (int, float, np.floating, np.integer)) and not isinstance(
        estimate, bool
    ):
        mi_used, prior, est = float(estimate), 0.5, None
    else:
        raise TypeError(f"estimate must be an MIEstimate or a float; got {type(estimate).__name__}")
    bound = fano_min_observations(mi_used, success=success, prior=prior)
    size = None if math.isinf(bound) else max(math.ceil(bound) - 1, 0)
    return SafeSessionSize(
        size=size,
        bound=bound,
        mi_used=float(mi_used),
        success=_check_success(success),
        estimate=est,
    )
