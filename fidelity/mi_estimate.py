"""The result type of an MI(H;O) estimate: :class:`MIEstimate` (see :mod:`fidelity.information`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fidelity._display import DisplayMixin
from fidelity.mi_estimators import (
    COUNT_ESTIMATORS,
    check_prior,
    estimate_from_counts,
    resolve_estimator,
    sample_coverage,
)

__all__ = ["NULL_P_VALUE", "MIEstimate"]

NULL_P_VALUE = 0.05
"""Level below which the plug-in MI is called above its permutation null."""


@dataclass(frozen=True, eq=False)
class MIEstimate(DisplayMixin):
    """An estimate of MI(H;O) in bits with its user-level null and bootstrap interval.

    Attributes
    ----------
    mi : float
        The estimate of ``estimator``, clipped to >= 0 (an MI is never negative).
    estimator : str
        One of :data:`ESTIMATORS`.
    raw : float
        The unclipped value of ``estimator`` (may be negative for corrected estimators).
    plugin : float
        Plug-in MI (the formula of docs/concepts.md): the empirical reading.
    corrected : float
        Miller-Madow corrected MI, clipped to >= 0 (always computed).
    n_adversary, n_target : int
        Observations of each holder.
    n_users_adversary, n_users_target, n_common_users : int
        Resampling units (users or sessions) of each holder, and those in both.
    n_values : int
        Distinct observation values present in A or T.
    coverage : float
        Good-Turing coverage ``1 - f1 / N`` of the pooled counts.
    null_mean, null_std, p_value : float or None
        Permutation null of the **plug-in** MI (the test statistic, whatever the
        estimator) and ``p = (1 + #{null >= plugin}) / (1 + n_permutations)``.
    null_construction : str or None
        ``"exclusive"``, ``"subset"`` or ``"none"`` (:mod:`fidelity.mi_resampling`).
    ci_low, ci_high : float or None
        ``mi -+ z * standard_error`` clipped at 0 (``z`` the normal quantile of
        ``confidence``); always ``ci_low <= mi <= ci_high``.
    standard_error : float or None
        Standard deviation of the estimator over the user-level bootstrap resamples.
    bootstrap_mean : float or None
        Mean of the bootstrap replicates (of the estimator, unclipped).
    n_permutations, n_bootstrap : int
    confidence : float
    prior : float
    features : tuple of str
    null_distribution, bootstrap_distribution : ndarray or None
        The replicates (not in :meth:`to_dict`).
    """

    mi: float
    estimator: str
    raw: float
    plugin: float
    corrected: float
    n_adversary: int
    n_target: int
    n_users_adversary: int
    n_users_target: int
    n_common_users: int
    n_values: int
    coverage: float
    null_mean: float | None
    null_std: float | None
    p_value: float | None
    null_construction: str | None
    ci_low: float | None
    ci_high: float | None
    standard_error: float | None
    bootstrap_mean: float | None
    n_permutations: int
    n_bootstrap: int
    confidence: float
    prior: float
    features: tuple[str, ...]
    null_distribution: np.ndarray | None = field(default=None, repr=False)
    bootstrap_distribution: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def from_counts(
        cls,
        counts_a: np.ndarray,
        counts_t: np.ndarray,
        *,
        prior: float = 0.5,
        estimator: str | None = None,
        correction: str | None = None,
        n_users_adversary: int,
        n_users_target: int,
        n_common_users: int = 0,
        features: tuple[str, ...] = ("item", "next_item"),
    ) -> MIEstimate:
        """An estimate from merged counts alone (no users: no null, no interval).

        ``estimator`` is one of the count-based estimators
        (:data:`fidelity.mi_estimators.COUNT_ESTIMATORS`, default ``"plugin"``);
        ``correction`` is its former name.
        """
        name = resolve_estimator(estimator, correction, COUNT_ESTIMATORS, "plugin")
        prior = check_prior(prior)
        ca = np.asarray(counts_a, dtype=np.float64)
        ct = np.asarray(counts_t, dtype=np.float64)
        raw = estimate_from_counts(ca, ct, prior, name)
        return cls(
            mi=max(raw, 0.0),
            estimator=name,
            raw=float(raw),
            plugin=estimate_from_counts(ca, ct, prior, "plugin"),
            corrected=max(estimate_from_counts(ca, ct, prior, "miller-madow"), 0.0),
            n_adversary=int(ca.sum()),
            n_target=int(ct.sum()),
            n_users_adversary=int(n_users_adversary),
            n_users_target=int(n_users_target),
            n_common_users=int(n_common_users),
            n_values=int(np.count_nonzero((ca + ct) > 0)),
            coverage=sample_coverage(ca + ct),
            null_mean=None,
            null_std=None,
            p_value=None,
            null_construction=None,
            ci_low=None,
            ci_high=None,
            standard_error=None,
            bootstrap_mean=None,
            n_permutations=0,
            n_bootstrap=0,
            confidence=0.95,
            prior=prior,
            features=tuple(features),
        )

    @property
    def correction(self) -> str | None:
        """Former name of the estimator: ``"miller-madow"`` for that estimator, else None."""
        return "miller-madow" if self.estimator == "miller-madow" else None

    @property
    def clipped(self) -> bool:
        """True when the estimator's value was negative and ``mi`` was clipped to 0."""
        return self.raw < 0

    @property
    def above_null(self) -> bool | None:
        """True when the plug-in MI exceeds its permutation null (p < 0.05, plug-in > mean).

        None when no permutation null was computed.
        """
        if self.n_permutations == 0 or self.p_value is None or self.null_mean is None:
            return None
        return bool(self.p_value < NULL_P_VALUE and self.plugin > self.null_mean)

    @property
    def mi_above_null(self) -> float | None:
        """``plugin - null_mean``: the part of the plug-in MI not explained by finite samples."""
        return None if self.null_mean is None else self.plugin - self.null_mean

    @property
    def distinguishable_from_zero(self) -> bool | None:
        """False when the MI is not above its null, its interval reaches 0, or it is 0.

        True when it is above its null and (if an interval was computed) the interval's
        lower limit is above 0; None when no null was computed and nothing says False.
        """
        if self.mi <= 0 or self.above_null is False:
            return False
        if self.ci_low is not None and self.ci_low <= 0:
            return False
        return None if self.above_null is None else True

    def summary(self) -> str:
        """One or two sentences: the estimate, its interval, and how it stands to its null."""
        text = (
            f"MI(H;O) = {self.mi:.4g} bits ({self.estimator} estimate over "
            f"{'+'.join(self.features)}, {self.n_adversary} adversary and {self.n_target} "
            "target observations)"
        )
        if self.ci_low is not None and self.ci_high is not None:
            text += f", {self.confidence:.0%} interval [{self.ci_low:.4g}, {self.ci_high:.4g}]"
        text += "."
        if self.above_null is None:
            return text + " No permutation null was computed."
        verdict = "above" if self.above_null else "not above"
        return text + (
            f" The plug-in MI {self.plugin:.4g} is {verdict} its user-level permutation null "
            f"(mean {self.null_mean:.4g}, p = {self.p_value:.3g})."
        )

    def to_dict(self) -> dict[str, object]:
        """Scalars only (features joined with '+'), with ``above_null``, ``clipped`` and
        ``distinguishable_from_zero``."""
        out: dict[str, object] = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("null_distribution", "bootstrap_distribution", "features")
        }
        out["features"] = "+".join(self.features)
        out["above_null"] = self.above_null
        out["clipped"] = self.clipped
        out["distinguishable_from_zero"] = self.distinguishable_from_zero
        return out
