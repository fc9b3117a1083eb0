"""The Fano bound and the safe session size: one rule from an MI estimate to a size.

With N independent observations, an adversary needs ``N >= (H(H) - h2(1 - success)) / MI``
observations to tell A's and T's distributions apart (docs/concepts.md).
:func:`safe_session_size` turns an MI, or an :class:`~fidelity.information.MIEstimate`,
into the largest N below that bound, or into **no bound from MI** when the MI is not
distinguishable from zero (not above its user-level permutation null, or an interval
reaching 0, or an MI of 0): a finite-sample MI near 0 would otherwise give an absurdly
large size. The API, the sweep and the self-evaluation all use this one rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from fidelity._display import DisplayMixin
from fidelity._validation import check_fraction
from fidelity._validation import warn as _warn
from fidelity.core import binary_entropy
from fidelity.mi_estimate import MIEstimate
from fidelity.mi_estimators import check_prior

__all__ = ["SafeSessionSize", "fano_min_observations", "no_bound_statement", "safe_session_size"]


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
    entropy = binary_entropy(check_prior(prior))
    numerator = entropy - (binary_entropy(1.0 - p) if p is not None else 0.0)
    if value <= 0:
        return math.inf
    return max(numerator, 0.0) / value


@dataclass(frozen=True, eq=False)
class SafeSessionSize(DisplayMixin):
    """Largest number of observations per user below the Fano bound, or no bound from MI.

    Attributes
    ----------
    size : int or None
        Largest integer N strictly below ``bound`` (``ceil(bound) - 1``, so a bound of
        exactly 4 gives 3; never below 0); None when MI gives no bound (``no_bound``).
    bound : float
        :func:`fano_min_observations` of ``mi_used``; ``inf`` when there is no bound.
    mi_used : float
        The MI the bound comes from: the upper limit of the estimate's interval when it
        has one (conservative), else the estimate itself.
    success : float or None
    no_bound : str or None
        Why MI gives no bound (a sentence for people), None when it gives one.
    estimate : MIEstimate or None
    """

    size: int | None
    bound: float
    mi_used: float
    success: float | None
    no_bound: str | None = None
    estimate: MIEstimate | None = field(default=None, repr=False)

    @property
    def unbounded(self) -> bool:
        """True when MI gives no bound (``size`` is None)."""
        return self.size is None

    def __int__(self) -> int:
        if self.size is None:
            raise OverflowError(f"no safe session size: {self.no_bound}")
        return self.size

    def describe(self) -> str:
        """One line for people: the size and the MI it came from, or the no-bound statement."""
        if self.size is None:
            return str(self.no_bound)
        return (
            f"safe session size from MI: {self.size} observations (Fano bound "
            f"{self.bound:.4g} from MI(H;O) = {self.mi_used:.4g} bits)"
        )

    def summary(self) -> str:
        """One or two sentences: the Fano size and what it bounds, or why there is none."""
        if self.size is None:
            text = str(self.no_bound)
            return text if text.endswith(".") else text + "."
        goal = (
            "tell the two data distributions apart"
            if self.success is None
            else f"tell the data distributions apart with success probability {self.success:g}"
        )
        return (
            f"The paper's data-only Fano bound allows {self.size} observations per user: an "
            f"adversary needs at least {self.bound:.4g} to {goal} (MI(H;O) = "
            f"{self.mi_used:.4g} bits). It bounds telling distributions apart, not what a model "
            "memorises."
        )

    def to_dict(self) -> dict[str, object]:
        """Size, bound, MI used, success, the no-bound statement and the estimate (``mi_*``)."""
        out: dict[str, object] = {
            "safe_session_size": self.size,
            "bound": self.bound,
            "mi_used": self.mi_used,
            "success": self.success,
            "no_bound": self.no_bound,
        }
        if self.estimate is not None:
            out.update(
                {
                    f"mi_{k}" if not k.startswith("mi") else k: v
                    for k, v in self.estimate.to_dict().items()
                }
            )
        return out


def no_bound_statement(estimate: MIEstimate | float) -> str | None:
    """Why ``estimate`` gives no bound from MI, or None when it gives one.

    An MI gives no bound when it is 0, not above its user-level permutation null
    (p >= 0.05), or when its interval reaches 0.
    """
    if not isinstance(estimate, MIEstimate):
        value = float(estimate)
        if value > 0:
            return None
        return (
            f"no bound from MI: MI(H;O) = {value:.4g} bits, so no number of observations "
            "reaches the Fano bound"
        )
    reasons = []
    if estimate.mi <= 0:
        reasons.append(f"the {estimate.estimator} estimate is 0")
    if estimate.above_null is False:
        reasons.append(
            f"the plug-in MI {estimate.plugin:.4g} is not above its user-level permutation "
            f"null (mean {estimate.null_mean:.4g}, p = {estimate.p_value:.3g})"
        )
    if estimate.ci_low is not None and estimate.ci_low <= 0 and estimate.mi > 0:
        reasons.append(
            f"its {estimate.confidence:.0%} interval [{estimate.ci_low:.4g}, "
            f"{estimate.ci_high:.4g}] reaches 0"
        )
    if not reasons:
        return None
    return (
        f"no bound from MI: MI(H;O) = {estimate.mi:.4g} bits ({estimate.estimator}) is not "
        f"distinguishable from 0 ({'; '.join(reasons)}). The data do not tell the adversary's "
        "observations from the target's, so the Fano bound gives no safe session size; "
        "rely on the attack-validated size."
    )


def _check_mi_value(estimate: object) -> float:
    if isinstance(estimate, bool) or not isinstance(
        estimate, (int, float, np.floating, np.integer)
    ):
        raise TypeError(
            f"estimate must be an MIEstimate or a number of bits >= 0; got "
            f"{type(estimate).__name__}"
        )
    value = float(estimate)
    if math.isnan(value) or value < 0:
        raise ValueError(f"estimate must be an MI in bits, a number >= 0; got {estimate!r}")
    return value


def safe_session_size(
    estimate: MIEstimate | float, *, success: float | None = None, warn_at_null: bool = True
) -> SafeSessionSize:
    """Largest session size N below the Fano bound, or no bound from MI.

    The one rule from an MI to a size (used by the API and the sweep): an MI that is not
    distinguishable from zero (0, not above its permutation null, or with an interval
    reaching 0) gives ``size=None`` and a ``no_bound`` statement, never a huge integer;
    a :class:`~fidelity.FidelityWarning` carries the statement when the MI is not above
    its null.
    Otherwise the bound comes from the interval's upper limit when there is one (the
    conservative end), else from the estimate, with the estimate's prior setting ``H(H)``.

    Parameters
    ----------
    estimate : MIEstimate or float
        An MI estimate, or an MI in bits (>= 0; a float carries no null or interval, so
        only 0 gives no bound).
    success : float, optional
        Target adversary success probability in (0.5, 1].
    warn_at_null : bool, default True
        Emit the warning when the MI is not above its null (callers that report the
        reading themselves, such as the results rows, turn it off).

    Returns
    -------
    SafeSessionSize

    Raises
    ------
    ValueError
        When ``estimate`` is a negative number or NaN (an MI is never negative).
    """
    p = _check_success(success)
    if isinstance(estimate, MIEstimate):
        mi_used = estimate.ci_high if estimate.ci_high is not None else estimate.mi
        prior, est = estimate.prior, estimate
    else:
        mi_used, prior, est = _check_mi_value(estimate), 0.5, None
    reason = no_bound_statement(estimate if est is not None else mi_used)
    if warn_at_null and est is not None and est.above_null is False:
        _warn(reason)
    if reason is not None:
        return SafeSessionSize(
            size=None, bound=math.inf, mi_used=float(mi_used), success=p, no_bound=reason,
            estimate=est,
        )  # fmt: skip
    bound = fano_min_observations(mi_used, success=p, prior=prior)
    return SafeSessionSize(
        size=max(math.ceil(bound) - 1, 0),
        bound=bound,
        mi_used=float(mi_used),
        success=p,
        estimate=est,
    )
