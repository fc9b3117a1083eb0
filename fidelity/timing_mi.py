"""The timing channel of MI(H;O): how much of the leakage the timing features carry.

A recommender m(s, t) sees the timing data t of the current song (skip flag, pause, hour
of day...), so an observation is o = (s, s', t), not only the pair (s, s').
:func:`timing_attribution` measures MI(H; s, s') and MI(H; s, s', t) with the same
estimator, the **same** user-level permutations and the same bootstrap resamples, and
reports the difference: the part of the MI that the timing features add. Its null and
interval come from the paired replicates, so the difference is tested for itself (a
finer observation value always raises the plug-in MI; what matters is whether it raises
it more than finite samples from one population do).

Timing columns that are not small non-negative integers are binned by
:func:`timing_bins_for` (pooled quantiles), so the histograms stay sparse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from fidelity._display import DisplayMixin
from fidelity._validation import RandomStateLike, check_positive_int, seed_sequence
from fidelity.data.tables import Observations
from fidelity.histograms import ITEM_FEATURES, BinSpec
from fidelity.information import mutual_information
from fidelity.mi_estimate import MIEstimate

__all__ = ["MAX_INTEGER_LEVELS", "TimingAttribution", "timing_attribution", "timing_bins_for"]

MAX_INTEGER_LEVELS = 32
"""Integer-valued timing columns with at most this many values are used as they are."""


def timing_bins_for(
    adversary: Observations,
    target: Observations,
    timing: Sequence[str],
    *,
    n_bins: int = 4,
) -> dict[str, BinSpec]:
    """The binning of each timing feature for MI(H;O) (a dict for ``timing_bins``).

    A column holding non-negative integers with at most :data:`MAX_INTEGER_LEVELS`
    values (flags, hour of day) is used as it is (``None``); any other column gets
    ``n_bins`` bins between the pooled quantiles ``1/n_bins, 2/n_bins, ...`` (equal
    frequencies; repeated edges are dropped, so a column with few values gets fewer bins).

    Parameters
    ----------
    adversary, target : Observations
    timing : sequence of str
        Timing column names present in both tables.
    n_bins : int
        Bins of a continuous column (>= 2).

    Returns
    -------
    dict
        Timing name -> None or a tuple of bin edges.
    """
    n_bins = check_positive_int("n_bins", n_bins, minimum=2)
    out: dict[str, BinSpec] = {}
    for name in timing:
        for which, obs in (("adversary", adversary), ("target", target)):
            if name not in obs.timing_names:
                raise ValueError(
                    f"timing: {name!r} is not a timing column of {which}; its columns: "
                    f"{list(obs.timing_names)!r}"
                )
        pooled = np.concatenate(
            [obs.timing[:, obs.timing_names.index(name)] for obs in (adversary, target)]
        ).astype(np.float64)
        if not np.isfinite(pooled).all():
            raise ValueError(f"timing feature {name!r} holds NaN or infinite values")
        integer = bool((pooled >= 0).all() and (pooled == np.round(pooled)).all())
        if integer and len(np.unique(pooled)) <= MAX_INTEGER_LEVELS:
            out[name] = None
            continue
        edges = np.unique(np.quantile(pooled, np.arange(1, n_bins) / n_bins))
        out[name] = tuple(float(e) for e in edges) if len(edges) else (float(pooled[0]),)
    return out


@dataclass(frozen=True, eq=False)
class TimingAttribution(DisplayMixin):
    """MI(H; s, s'), MI(H; s, s', t) and the part the timing features add.

    Attributes
    ----------
    timing : tuple of str
        The timing features added to (s, s').
    timing_bins : dict
        Their binning (:func:`timing_bins_for` or the one given).
    items, with_timing : MIEstimate
        The two estimates (same estimator, permutations and resamples).
    difference : float
        ``with_timing.mi - items.mi`` (bits; may be negative for a corrected estimator).
    plugin_difference : float
        ``with_timing.plugin - items.plugin`` (>= 0: a finer value never lowers it).
    difference_null_mean : float or None
        Mean of the plug-in difference over the paired permutations.
    difference_p_value : float or None
        ``(1 + #{null difference >= plugin_difference}) / (1 + n_permutations)``.
    difference_ci_low, difference_ci_high : float or None
        ``difference -+ z * se`` with ``se`` over the paired bootstrap resamples (not
        clipped: the difference of two MIs can be negative).
    """

    timing: tuple[str, ...]
    timing_bins: dict[str, BinSpec]
    items: MIEstimate
    with_timing: MIEstimate
    difference: float
    plugin_difference: float
    difference_null_mean: float | None
    difference_p_value: float | None
    difference_ci_low: float | None
    difference_ci_high: float | None

    @property
    def timing_above_null(self) -> bool | None:
        """True when the timing features add more than their null (p < 0.05)."""
        if self.difference_p_value is None or self.difference_null_mean is None:
            return None
        return bool(
            self.difference_p_value < 0.05 and self.plugin_difference > self.difference_null_mean
        )

    def summary(self) -> str:
        """One or two sentences: what (s, s') carries and what the timing features add."""
        text = (
            f"MI(H;O) is {self.items.mi:.4g} bits over (s, s') and {self.with_timing.mi:.4g} "
            f"bits with {'+'.join(self.timing)}: the timing adds {self.difference:.4g} bits."
        )
        above = self.timing_above_null
        if above is None:
            return text + " No permutation null was computed for the difference."
        verdict = "more" if above else "no more"
        return text + (
            f" That is {verdict} than its permutation null (plug-in difference "
            f"{self.plugin_difference:.4g}, null mean {self.difference_null_mean:.4g}, "
            f"p = {self.difference_p_value:.3g})."
        )

    def to_dict(self) -> dict[str, object]:
        """Flat scalars: ``mi_items``, ``mi_with_timing``, ``mi_timing`` (the difference), ..."""
        return {
            "timing": "+".join(self.timing),
            "estimator": self.items.estimator,
            "mi_items": self.items.mi,
            "mi_with_timing": self.with_timing.mi,
            "mi_timing": self.difference,
            "mi_timing_ci_low": self.difference_ci_low,
            "mi_timing_ci_high": self.difference_ci_high,
            "mi_items_plugin": self.items.plugin,
            "mi_with_timing_plugin": self.with_timing.plugin,
            "mi_timing_plugin": self.plugin_difference,
            "mi_timing_null_mean": self.difference_null_mean,
            "mi_timing_p_value": self.difference_p_value,
            "timing_above_null": self.timing_above_null,
            "mi_items_above_null": self.items.above_null,
            "mi_with_timing_above_null": self.with_timing.above_null,
            "mi_items_p_value": self.items.p_value,
            "mi_with_timing_p_value": self.with_timing.p_value,
        }


def timing_attribution(
    adversary: Observations,
    target: Observations,
    *,
    timing: Sequence[str] | None = None,
    timing_bins: Mapping[str, BinSpec] | None = None,
    n_bins: int = 4,
    estimator: str | None = None,
    n_permutations: int | None = None,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    prior: float = 0.5,
    unit: str = "user",
    random_state: RandomStateLike = None,
) -> TimingAttribution:
    """Attribute MI(H;O) to the pair (s, s') and to the timing features.

    Parameters
    ----------
    adversary, target : Observations
    timing : sequence of str, optional
        Timing features to add (e.g. the ones the target model uses); default every
        timing column the two tables share.
    timing_bins : dict, optional
        Binning per timing name (see :func:`fidelity.information.mutual_information`);
        default :func:`timing_bins_for` with ``n_bins``.
    n_bins : int
        Bins of a continuous timing column when ``timing_bins`` is not given.
    estimator, n_permutations, n_bootstrap, confidence, prior, unit
        As in :func:`fidelity.information.mutual_information`, for both estimates.
    random_state : int, Generator, SeedSequence or None
        One seed for both estimates, so they use the same permutations and resamples.

    Returns
    -------
    TimingAttribution
    """
    shared = [n for n in adversary.timing_names if n in target.timing_names]
    names = () if isinstance(timing, str) else tuple(shared if timing is None else timing)
    if not names:
        raise ValueError(
            f"timing must be a non-empty sequence of timing column names (shared: {shared!r}); "
            f"got {timing!r}"
        )
    for name in names:
        if name in ITEM_FEATURES or name not in shared:
            raise ValueError(
                f"timing: {name!r} is not a timing column of both tables; shared: {shared!r}"
            )
    bins = (
        timing_bins_for(adversary, target, names, n_bins=n_bins)
        if timing_bins is None
        else dict(timing_bins)
    )
    # one int seed for both calls: the same permutations and bootstrap resamples
    seed = int(seed_sequence(random_state).generate_state(1, dtype=np.uint64)[0])
    common = {
        "prior": prior,
        "estimator": estimator,
        "n_permutations": n_permutations,
        "n_bootstrap": n_bootstrap,
        "confidence": confidence,
        "unit": unit,
    }
    items = mutual_information(
        adversary, target, features=ITEM_FEATURES, random_state=seed, **common
    )
    full = mutual_information(
        adversary,
        target,
        features=(*ITEM_FEATURES, *names),
        timing_bins=bins,
        random_state=seed,
        **common,
    )
    null_mean = p_value = low = high = None
    plugin_diff = full.plugin - items.plugin
    if items.null_distribution is not None:
        null_diff = full.null_distribution - items.null_distribution
        null_mean = float(null_diff.mean())
        p_value = float((1 + np.sum(null_diff >= plugin_diff)) / (1 + len(null_diff)))
    difference = full.mi - items.mi
    if items.bootstrap_distribution is not None:
        se = float((full.bootstrap_distribution - items.bootstrap_distribution).std(ddof=1))
        half = float(stats.norm.ppf(0.5 + full.confidence / 2.0)) * se
        low, high = difference - half, difference + half
    return TimingAttribution(
        timing=names,
        timing_bins=bins,
        items=items,
        with_timing=full,
        difference=float(difference),
        plugin_difference=float(plugin_diff),
        difference_null_mean=null_mean,
        difference_p_value=p_value,
        difference_ci_low=low,
        difference_ci_high=high,
    )
