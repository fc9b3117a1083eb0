"""MI(H;O) of one scenario's providers, with the timing channel attributed.

By default the observation value is (s, s') plus the timing features the target model
reads (a model that uses the skip flag can leak through it), and the information is
attributed: MI of (s, s'), MI of (s, s', t) and the part the timing adds
(:func:`fidelity.timing_mi.timing_attribution`). The Fano size follows the one rule of
:func:`fidelity.information.safe_session_size` (no bound from an MI that cannot be told
from 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from fidelity._display import DisplayMixin
from fidelity._validation import RandomStateLike
from fidelity.information import MIEstimate, SafeSessionSize, mutual_information, safe_session_size
from fidelity.split import ProviderSplit
from fidelity.timing_mi import TimingAttribution, timing_attribution

__all__ = ["MI_COLUMNS", "DataInformation", "data_information"]

MI_COLUMNS = (
    "mi",
    "mi_estimator",
    "mi_features",
    "mi_plugin",
    "mi_corrected",
    "mi_null_mean",
    "mi_null_std",
    "mi_p_value",
    "mi_above_null",
    "mi_ci_low",
    "mi_ci_high",
    "mi_items",
    "mi_timing",
    "mi_timing_p_value",
    "fano_bound",
    "safe_session_size",
    "fano_no_bound",
)
"""Columns of a results row that come from :meth:`DataInformation.row`."""


@dataclass(frozen=True, eq=False)
class DataInformation(DisplayMixin):
    """MI(H;O) between D_A and D_T, its timing attribution and its Fano size.

    Attributes
    ----------
    estimate : MIEstimate
        MI of the full observation value (with the timing the model uses, if any).
    attribution : TimingAttribution or None
        (s, s') vs (s, s', t); None when the model reads no timing.
    fano : SafeSessionSize
        The paper's data-only safe session size (or no bound).
    """

    estimate: MIEstimate
    attribution: TimingAttribution | None
    fano: SafeSessionSize

    def summary(self) -> str:
        """One or two sentences."""
        est = self.estimate
        text = f"MI(H;O) = {est.mi:.4g} bits ({est.estimator}, over {'+'.join(est.features)}); " + (
            self.fano.describe() if self.fano.size is not None else str(self.fano.no_bound)
        )
        if self.attribution is not None:
            text += f" The timing features add {self.attribution.difference:.4g} bits."
        return text

    def to_dict(self) -> dict[str, Any]:
        """The row's MI columns."""
        return self.row()

    def row(self) -> dict[str, Any]:
        """The MI columns of a results row (:data:`MI_COLUMNS`)."""
        est = self.estimate
        att = self.attribution
        return {
            "mi": est.mi,
            "mi_estimator": est.estimator,
            "mi_features": "+".join(est.features),
            "mi_plugin": est.plugin,
            "mi_corrected": est.corrected,
            "mi_null_mean": est.null_mean,
            "mi_null_std": est.null_std,
            "mi_p_value": est.p_value,
            "mi_above_null": est.above_null,
            "mi_ci_low": est.ci_low,
            "mi_ci_high": est.ci_high,
            "mi_items": est.mi if att is None else att.items.mi,
            "mi_timing": 0.0 if att is None else att.difference,
            "mi_timing_p_value": None if att is None else att.difference_p_value,
            "fano_bound": self.fano.bound,
            "safe_session_size": math.nan if self.fano.size is None else self.fano.size,
            "fano_no_bound": self.fano.no_bound,
        }


def data_information(
    split: ProviderSplit,
    timing: tuple[str, ...] = (),
    *,
    n_permutations: int | None = None,
    n_bootstrap: int = 0,
    success: float | None = None,
    random_state: RandomStateLike = None,
) -> DataInformation:
    """Measure MI(H;O) of ``split`` over (s, s') and the ``timing`` features given.

    Parameters
    ----------
    split : ProviderSplit
    timing : tuple of str
        Timing features to include (the ones the target reads: ``model.timing_used_``).
    n_permutations, n_bootstrap : int
        User-level null and bootstrap sizes (see :func:`fidelity.information.mutual_information`).
    success : float, optional
        Success probability of the Fano size (default: the paper's 1/MI).
    random_state : int, Generator, SeedSequence or None

    Returns
    -------
    DataInformation
    """
    adv, tgt = split.adversary, split.target
    attribution = None
    if timing:
        attribution = timing_attribution(
            adv,
            tgt,
            timing=timing,
            n_permutations=n_permutations,
            n_bootstrap=n_bootstrap,
            random_state=random_state,
        )
        estimate = attribution.with_timing
    else:
        estimate = mutual_information(
            adv, tgt, n_permutations=n_permutations, n_bootstrap=n_bootstrap,
            random_state=random_state,
        )  # fmt: skip
    # the reading is reported in the row (mi_above_null, fano_no_bound): no warning
    fano = safe_session_size(estimate, success=success, warn_at_null=False)
    return DataInformation(estimate, attribution, fano)
