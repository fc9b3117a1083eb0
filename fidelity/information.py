"""MI(H;O) between data holder and observation, with its user-level null and interval.

``MI(H;O) = H(H) + sum_h Pr[h] sum_o Pr[o|h] log2 Pr[h|o]`` in bits (docs/concepts.md), with
``Pr[o|h]`` from sparse histograms of each holder's observation values (by default the
pair (s, s'); timing features can be added, see ``features``) and ``H(H) = h2(prior)``:
1 bit at the default prior 0.5 (the paper's "1 +"), the binary entropy of the prior
otherwise.

Two readings, both reported by :func:`mutual_information`:

- ``plugin``: the formula on the empirical histograms. It measures how distinguishable the
  *empirical* A and T histograms are (what a model memorising D_T could expose). It is
  biased upwards (the MI is convex in the two distributions), and at the paper's sizes
  almost all of it is finite-sample effect.
- ``mi``: the chosen ``estimator`` of the population MI, the quantity the Fano bound
  speaks about. The default, ``"coverage-adjusted"``, is ``(plugin - null mean) / C``:
  the plug-in minus the mean of its user-level permutation null (exactly unbiased when A
  and T come from one population), divided by the Good-Turing coverage ``C`` of the
  pooled counts (values seen once carry no evidence of a difference; dividing by the
  mass of the values seen more than once extrapolates the difference measured on them
  to the rest). It was chosen by the ground-truth simulation of
  ``benchmarks/bench_mi_estimators.py`` (see ``benchmarks/README.md``), where the
  count-based estimators of :mod:`fidelity.mi_estimators` keep most of the plug-in's
  bias because sessions are dependent and most values are seen once or twice.

The permutation null and the bootstrap move **whole users** (never single observations,
which are dependent within a session); their constructions, exact under overlap, are in
:mod:`fidelity.mi_resampling`. The interval is ``mi +- z * se`` with ``se`` the standard
deviation of the estimator over user-level bootstrap resamples, clipped at 0: it always
contains ``mi``. (The percentile interval of the plug-in, used before, never contained
its own estimate: resampling users with replacement duplicates users, which inflates the
plug-in MI.) A negative corrected value is never reported as an MI: ``mi`` is clipped to
0 and ``raw`` keeps the unclipped value (``clipped`` says so).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats
from tqdm.auto import tqdm

from fidelity._validation import RandomStateLike, check_choice, check_fraction, spawn_generators
from fidelity.core import (
    count_common,
    count_keys,
    mi_from_counts,
    miller_madow_bias,
)
from fidelity.data.tables import Observations
from fidelity.fano import SafeSessionSize, fano_min_observations, safe_session_size
from fidelity.histograms import DEFAULT_FEATURES, ObservationHistogram, encode_features
from fidelity.mi_estimate import NULL_P_VALUE, MIEstimate
from fidelity.mi_estimators import (
    COUNT_ESTIMATORS,
    check_prior,
    estimate_from_counts,
    mutual_information_from_counts,
    resolve_estimator,
    sample_coverage,
)
from fidelity.mi_resampling import UserUnits

__all__ = [
    "DEFAULT_ESTIMATOR",
    "ESTIMATORS",
    "NULL_P_VALUE",
    "MIEstimate",
    "ObservationHistogram",
    "SafeSessionSize",
    "fano_min_observations",
    "mutual_information",
    "mutual_information_from_counts",
    "safe_session_size",
]

NULL_ESTIMATORS = ("null-corrected", "coverage-adjusted")
"""Estimators that need the user-level permutation null (``n_permutations >= 1``)."""
ESTIMATORS = (*COUNT_ESTIMATORS, *NULL_ESTIMATORS)
DEFAULT_ESTIMATOR = "coverage-adjusted"
DEFAULT_PERMUTATIONS = 100


def _check_count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0; got {value!r}")
    return int(value)


def _unit_overlap(
    codes_a: np.ndarray,
    codes_t: np.ndarray,
    runs: tuple[tuple[bool, np.ndarray], tuple[bool, np.ndarray]],
) -> tuple[int, int, int]:
    """Distinct units of A, of T and of both, with no sort when rows are grouped by unit.

    ``runs`` are the run values of ``codes_a`` and ``codes_t``, read in the counting
    pass (:meth:`ObservationHistogram.with_unit_runs`). Sorted codes (users or sessions
    of grouped rows, the usual case) have their distinct codes in them, and one merge
    walk over those counts the common codes; otherwise the distinct codes come from a
    hash count and are intersected.
    """
    (sorted_a, uniq_a), (sorted_t, uniq_t) = runs
    if sorted_a and sorted_t:
        return len(uniq_a), len(uniq_t), count_common(uniq_a, uniq_t)
    uniq_a, uniq_t = (
        uniq if is_sorted else count_keys(codes.view(np.uint64))[0].view(np.int64)
        for codes, uniq, is_sorted in ((codes_a, uniq_a, sorted_a), (codes_t, uniq_t, sorted_t))
    )
    return len(uniq_a), len(uniq_t), len(np.intersect1d(uniq_a, uniq_t, assume_unique=True))


def _resolve(estimator, correction, n_permutations) -> tuple[str, int]:
    if estimator is None and correction is None and n_permutations == 0:
        return "plugin", 0  # no null asked for: the documented fallback
    name = resolve_estimator(estimator, correction, ESTIMATORS, DEFAULT_ESTIMATOR)
    if n_permutations is None:
        n_permutations = DEFAULT_PERMUTATIONS if name in NULL_ESTIMATORS else 0
    n_permutations = _check_count("n_permutations", n_permutations)
    if name in NULL_ESTIMATORS and n_permutations == 0:
        raise ValueError(
            f"estimator={name!r} subtracts the permutation null: n_permutations must be "
            f">= 1 (default {DEFAULT_PERMUTATIONS}); got 0"
        )
    return name, n_permutations


def mutual_information(
    adversary: Observations,
    target: Observations,
    *,
    prior: float = 0.5,
    features: Sequence[str] = DEFAULT_FEATURES,
    timing_bins: int | Sequence[float] | dict[str, int | Sequence[float] | None] | None = None,
    estimator: str | None = None,
    correction: str | None = None,
    n_permutations: int | None = None,
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
        D_A and D_T (same item vocabulary and timing columns). A user code found in both
        is a common user (overlap).
    prior : float
        ``Pr[H = A]`` in (0, 1); default 0.5 (``H(H) = 1`` bit).
    features : sequence of str
        Columns that make an observation value: ``"item"``, ``"next_item"`` and/or timing
        column names (see :func:`fidelity.histograms.encode_features` for ``timing_bins``).
    timing_bins : None, int, sequence of float, or dict
        Binning of timing features: None uses non-negative integer values as they are;
        an int gives that many equal-width bins over the pooled range; a sequence gives
        explicit bin edges; a dict maps a timing name to one of these.
    estimator : str, optional
        One of :data:`ESTIMATORS` (see the module notes and :mod:`fidelity.mi_estimators`).
        Default :data:`DEFAULT_ESTIMATOR`, except that with ``n_permutations=0`` (no null
        asked for) and neither ``estimator`` nor ``correction`` given it is ``"plugin"``.
    correction : {None, "miller-madow"}
        Former name of ``estimator="miller-madow"``.
    n_permutations : int, optional
        Size of the user-level permutation null; default :data:`DEFAULT_PERMUTATIONS`
        for the estimators that need it, else 0 (none).
    n_bootstrap : int
        User-level bootstrap resamples for the interval (0: no interval; >= 2 needed).
    confidence : float
        Level of the interval, in (0, 1).
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
    prior = check_prior(prior)
    est_name, n_permutations = _resolve(estimator, correction, n_permutations)
    check_choice("unit", unit, ("user", "session"))
    n_bootstrap = _check_count("n_bootstrap", n_bootstrap)
    if n_bootstrap == 1:
        raise ValueError("n_bootstrap must be 0 (no interval) or >= 2; got 1")
    conf = check_fraction("confidence", confidence)
    if not 0.0 < conf < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")

    n_a, n_t = len(adversary), len(target)
    units = None
    if n_permutations == 0 and n_bootstrap == 0:
        # lean path: codes packed, range-checked and counted, and the units read, in
        # one pass (dense tables for small catalogs); units counted without sorting
        hist, *runs = ObservationHistogram.with_unit_runs(
            adversary, target, unit, features=features, timing_bins=timing_bins
        )
        counts_a, counts_t, m, used = hist.counts_a, hist.counts_t, hist.n_values, hist.features
        n_units_a, n_units_t, n_common = _unit_overlap(
            getattr(adversary, unit), getattr(target, unit), tuple(runs)
        )
    else:
        encoded = encode_features(adversary, target, features=features, timing_bins=timing_bins)
        keys_a, keys_t = encoded.keys(compact=True)
        units = UserUnits.build(keys_a, keys_t, getattr(adversary, unit), getattr(target, unit))
        del keys_a, keys_t
        counts_a, counts_t = units.counts()
        m, n_units_a, n_units_t = units.n_values, units.n_units_a, units.n_units_t
        n_common, used = units.n_common, encoded.features
    plugin = max(mi_from_counts(counts_a, counts_t, prior), 0.0)
    corrected = plugin + miller_madow_bias(counts_a, counts_t, prior)
    coverage = sample_coverage(counts_a + counts_t)

    gen_perm, gen_boot = spawn_generators(random_state, 2)
    bar = tqdm(total=n_permutations + n_bootstrap, disable=not show_progress, desc="MI(H;O)")
    null = None
    if n_permutations:
        null = np.empty(n_permutations)
        for r in range(n_permutations):
            c = units.permuted_counts(gen_perm)
            null[r] = max(mi_from_counts(c[0], c[1], prior), 0.0)
            bar.update()

    def value(ca: np.ndarray, ct: np.ndarray, plugin_mi: float | None = None) -> float:
        if plugin_mi is None:
            plugin_mi = max(mi_from_counts(ca, ct, prior), 0.0)
        if est_name in COUNT_ESTIMATORS:
            return estimate_from_counts(ca, ct, prior, est_name, plugin=plugin_mi)
        shifted = plugin_mi - float(null.mean())
        return shifted / coverage if est_name == "coverage-adjusted" and coverage > 0 else shifted

    raw = value(counts_a, counts_t, plugin)
    mi = max(raw, 0.0)
    boot = None
    se = ci_low = ci_high = None
    if n_bootstrap:
        boot = np.empty(n_bootstrap)
        for r in range(n_bootstrap):
            c = units.counts(units.bootstrap_weights(gen_boot))
            boot[r] = value(c[0], c[1])
            bar.update()
        se = float(boot.std(ddof=1))
        half = float(stats.norm.ppf(0.5 + conf / 2.0)) * se
        ci_low, ci_high = max(mi - half, 0.0), mi + half
    bar.close()
    return MIEstimate(
        mi=float(mi),
        estimator=est_name,
        raw=float(raw),
        plugin=float(plugin),
        corrected=float(max(corrected, 0.0)),
        n_adversary=n_a,
        n_target=n_t,
        n_users_adversary=n_units_a,
        n_users_target=n_units_t,
        n_common_users=int(n_common),
        n_values=m,
        coverage=float(coverage),
        null_mean=None if null is None else float(null.mean()),
        null_std=None if null is None else float(null.std(ddof=1)) if len(null) > 1 else 0.0,
        p_value=None if null is None else float((1 + np.sum(null >= plugin)) / (1 + len(null))),
        null_construction=None if units is None or null is None else units.construction,
        ci_low=None if ci_low is None else float(ci_low),
        ci_high=None if ci_high is None else float(ci_high),
        standard_error=se,
        bootstrap_mean=None if boot is None else float(boot.mean()),
        n_permutations=n_permutations,
        n_bootstrap=n_bootstrap,
        confidence=conf,
        prior=prior,
        features=used,
        null_distribution=null,
        bootstrap_distribution=boot,
    )
