"""Match-attack rates (both conventions), per-user scores and user-level ROC summaries.

Two rate conventions, clearly named (see docs/concepts.md):

- ``"paper"``: TP, FP, TN, FN as fractions of *all* adversary observations (they sum
  to 1); the TP curve saturates at the recommender's accuracy when every user is common.
- ``"standard"``: TPR = TP / (TP + FN), FPR = FP / (FP + TN), precision and accuracy.

User-level summaries (:func:`roc_summary`) use scikit-learn's ``roc_curve`` and
``roc_auc_score`` on per-user scores (:func:`user_scores`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve
from tqdm.auto import tqdm

from fidelity._display import DisplayMixin
from fidelity._validation import (
    RandomStateLike,
    as_1d_bool,
    check_choice,
    check_fraction,
    check_random_state,
    check_same_length,
)
from fidelity.core import (
    confusion_counts,
    run_aggregate,
    segment_count,
    segment_sum,
    unique_inverse,
)

CONVENTIONS = ("paper", "standard")


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else math.nan


@dataclass(frozen=True)
class AttackRates(DisplayMixin):
    """Outcome of the match attack over observations.

    Attributes
    ----------
    convention : {"paper", "standard"}
    n_observations : int
    n_tp, n_fp, n_tn, n_fn : int
        Raw counts (a hit is a guess "member").
    tp, fp, tn, fn : float or None
        Paper convention only: the counts as fractions of all observations (sum to 1).
    tpr, fpr, precision, accuracy : float or None
        Standard convention only; NaN where the denominator is 0 (e.g. TPR with no member).
    """

    convention: str
    n_observations: int
    n_tp: int
    n_fp: int
    n_tn: int
    n_fn: int
    tp: float | None = None
    fp: float | None = None
    tn: float | None = None
    fn: float | None = None
    tpr: float | None = None
    fpr: float | None = None
    precision: float | None = None
    accuracy: float | None = None

    def summary(self) -> str:
        """One sentence: the rates of the convention, in words."""
        n = self.n_observations
        if self.convention == "paper":
            return (
                f"Over {n} adversary observations (paper convention, fractions of all of "
                f"them): TP {self.tp:.3f}, FP {self.fp:.3f}, TN {self.tn:.3f}, FN {self.fn:.3f}."
            )
        return (
            f"Over {n} adversary observations: a hit flags {self.tpr:.3f} of the members' "
            f"observations (TPR) and {self.fpr:.3f} of the non-members' (FPR); precision "
            f"{self.precision:.3f}."
        )

    def to_dict(self) -> dict[str, object]:
        """The convention, the counts and the rates of the chosen convention."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def attack_rates(hits: np.ndarray, member: np.ndarray, *, convention: str = "paper") -> AttackRates:
    """Rates of the match attack from per-observation hits and ground-truth membership.

    Parameters
    ----------
    hits : array-like of bool, shape (n,)
        Whether the target's recommendation matched the observed next item.
    member : array-like of bool, shape (n,)
        Whether the observation's user is a member of the target's training data.
    convention : {"paper", "standard"}
        ``"paper"``: fractions of all observations; ``"standard"``: TPR/FPR/precision/accuracy.

    Returns
    -------
    AttackRates
    """
    check_choice("convention", convention, CONVENTIONS)
    hits_arr = as_1d_bool("hits", hits)
    member_arr = as_1d_bool("member", member)
    n = check_same_length(hits=hits_arr, member=member_arr)
    if n == 0:
        raise ValueError("hits must hold at least one observation; got an empty array")
    tp, fp, tn, fn = (int(c) for c in confusion_counts(hits_arr, member_arr))
    counts = {"n_observations": n, "n_tp": tp, "n_fp": fp, "n_tn": tn, "n_fn": fn}
    if convention == "paper":
        return AttackRates("paper", **counts, tp=tp / n, fp=fp / n, tn=tn / n, fn=fn / n)
    return AttackRates(
        "standard",
        **counts,
        tpr=_ratio(tp, tp + fn),
        fpr=_ratio(fp, fp + tn),
        precision=_ratio(tp, tp + fp),
        accuracy=(tp + tn) / n,
    )


def user_scores(
    values: np.ndarray, users: np.ndarray, *, how: str = "sum"
) -> tuple[np.ndarray, np.ndarray]:
    """Aggregate per-observation values (hits, target scores, ...) by user.

    Parameters
    ----------
    values : array-like of float or bool, shape (n,)
    users : array-like of int, shape (n,)
        Global user codes (any non-negative range, e.g. up to 10^8): they are compacted
        with a hash-based unique before aggregating.
    how : {"sum", "mean", "count"}
        ``"sum"`` (e.g. hit count), ``"mean"`` (e.g. hit rate) or ``"count"``.

    Returns
    -------
    users_unique : ndarray of int64
        Sorted user codes present.
    scores : ndarray of float64
        The aggregate of each user in ``users_unique``.
    """
    check_choice("how", how, ("sum", "mean", "count"))
    vals = np.asarray(values)
    if vals.ndim != 1:
        raise ValueError(f"values must be 1-D; got shape {vals.shape}")
    if vals.dtype != np.bool_ and not np.issubdtype(vals.dtype, np.integer):
        if not np.issubdtype(vals.dtype, np.floating):
            raise TypeError(f"values must be numeric or boolean; got dtype {vals.dtype}")
        vals = vals.astype(np.float64, copy=False)
        if not np.isfinite(vals).all():
            raise ValueError("values must be finite; got NaN or infinite values")
    users_arr = np.asarray(users)
    if users_arr.ndim != 1 or (users_arr.size and not np.issubdtype(users_arr.dtype, np.integer)):
        raise TypeError(f"users must be 1-D integer codes; got {users_arr.dtype} {users_arr.shape}")
    check_same_length(values=vals, users=users_arr)
    users_arr = users_arr.astype(np.int64, copy=False)
    runs = run_aggregate(vals, users_arr)  # rows grouped by user: one pass, no inverse
    if runs is not None:
        uniq, sums, counts = runs
    else:
        uniq, inverse = unique_inverse(users_arr)
        sums = segment_sum(vals, inverse, len(uniq))
        counts = segment_count(inverse, len(uniq))
    if how == "count":
        return uniq, counts.astype(np.float64)
    if how == "sum":
        return uniq, sums
    return uniq, sums / counts


def _level_name(level: float) -> str:
    return f"tpr_at_{level * 100:g}pct_fpr"


@dataclass(frozen=True, eq=False)
class ROCSummary(DisplayMixin):
    """User-level ROC summary of an attack score.

    Attributes
    ----------
    fpr, tpr, thresholds : ndarray
        Full ROC curve (``sklearn.metrics.roc_curve`` with ``drop_intermediate=False``).
    auc : float
        ``sklearn.metrics.roc_auc_score``.
    advantage : float
        Attacker advantage ``max(TPR - FPR)``.
    advantage_threshold : float
        Score threshold (``score >= threshold`` means "member") reaching the advantage.
    tpr_at_fpr : dict of float to float
        For each level, the largest TPR with FPR <= level (LiRA style).
    ppv : float
        Positive predictive value at the advantage threshold for membership prior ``prior``:
        ``prior * TPR / (prior * TPR + (1 - prior) * FPR)`` (NaN if nothing is flagged).
    prior : float
        Membership prior used for ``ppv`` (default: the observed fraction of members).
    n_members, n_nonmembers : int
    ci : dict of str to (float, float)
        Percentile bootstrap intervals (over users) for ``auc``, ``advantage`` and each
        ``tpr_at_*`` key; empty when ``n_bootstrap == 0``.
    n_bootstrap : int
    confidence : float
    """

    fpr: np.ndarray = field(repr=False)
    tpr: np.ndarray = field(repr=False)
    thresholds: np.ndarray = field(repr=False)
    auc: float
    advantage: float
    advantage_threshold: float
    tpr_at_fpr: dict[float, float]
    ppv: float
    prior: float
    n_members: int
    n_nonmembers: int
    ci: dict[str, tuple[float, float]]
    n_bootstrap: int
    confidence: float

    def summary(self) -> str:
        """One or two sentences: AUC and advantage (with intervals), TPR at the lowest FPR."""
        ci = self.ci.get("auc")
        auc = f"AUC {self.auc:.3f}" + (
            f" ({self.confidence:.0%} CI [{ci[0]:.3f}, {ci[1]:.3f}])" if ci else ""
        )
        text = (
            f"Over {self.n_members} members and {self.n_nonmembers} non-members the score "
            f"reaches {auc} (0.5 is chance) and an advantage max(TPR - FPR) of "
            f"{self.advantage:.3f}."
        )
        if self.tpr_at_fpr:
            level = min(self.tpr_at_fpr)
            text += f" At {level:.1%} FPR it finds {self.tpr_at_fpr[level]:.1%} of the members."
        return text

    def to_dict(self) -> dict[str, float | int]:
        """Flat scalars: auc, advantage, tpr_at_<x>pct_fpr, ppv, prior, counts, CI bounds."""
        out: dict[str, float | int] = {"auc": self.auc, "advantage": self.advantage}
        for level, value in self.tpr_at_fpr.items():
            out[_level_name(level)] = value
        out.update(
            ppv=self.ppv,
            prior=self.prior,
            advantage_threshold=self.advantage_threshold,
            n_members=self.n_members,
            n_nonmembers=self.n_nonmembers,
        )
        for key, (low, high) in self.ci.items():
            out[f"{key}_ci_low"] = low
            out[f"{key}_ci_high"] = high
        return out


def _roc_point_stats(
    scores: np.ndarray, member: np.ndarray, levels: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, float]]:
    fpr, tpr, thr = roc_curve(member, scores, drop_intermediate=False)
    stats = {"auc": float(roc_auc_score(member, scores)), "advantage": float(np.max(tpr - fpr))}
    for level in levels:
        stats[_level_name(level)] = float(tpr[fpr <= level].max())
    return fpr, tpr, thr, stats


def roc_summary(
    scores: np.ndarray,
    member: np.ndarray,
    *,
    fpr_levels: Sequence[float] = (0.001, 0.01),
    prior: float | None = None,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    random_state: RandomStateLike = None,
    show_progress: bool = False,
) -> ROCSummary:
    """ROC, AUC, attacker advantage, TPR at low FPR and PPV of per-user attack scores.

    Parameters
    ----------
    scores : array-like of float, shape (n_users,)
        Higher means "more likely a member" (e.g. from :func:`user_scores`).
    member : array-like of bool, shape (n_users,)
        Ground truth; must contain both members and non-members.
    fpr_levels : sequence of float
        FPR levels in (0, 1] at which to report the largest TPR with FPR <= level.
    prior : float, optional
        Membership prior in (0, 1) for the PPV; default: ``mean(member)``.
    n_bootstrap : int
        Number of bootstrap resamples of users for percentile confidence intervals
        (resamples with a single class are redrawn).
    confidence : float
        Confidence level of the intervals, in (0, 1).
    random_state : int, Generator, SeedSequence or None
    show_progress : bool
        Progress bar over bootstrap resamples.

    Returns
    -------
    ROCSummary
    """
    score_arr = np.asarray(scores, dtype=np.float64)
    if score_arr.ndim != 1:
        raise ValueError(f"scores must be 1-D; got shape {score_arr.shape}")
    if not np.isfinite(score_arr).all():
        raise ValueError("scores must be finite; got NaN or infinite values")
    member_arr = as_1d_bool("member", member)
    n = check_same_length(scores=score_arr, member=member_arr)
    n_members = int(member_arr.sum())
    if n_members == 0 or n_members == n:
        raise ValueError(
            "member must contain both members (True) and non-members (False) to build a ROC; "
            f"got {n_members} member(s) out of {n}"
        )
    levels = tuple(check_fraction("fpr_levels", lv) for lv in fpr_levels)
    if any(lv <= 0 for lv in levels):
        raise ValueError(f"fpr_levels must be in (0, 1]; got {tuple(fpr_levels)!r}")
    prior_value = n_members / n if prior is None else check_fraction("prior", prior)
    if not 0.0 < prior_value < 1.0:
        raise ValueError(f"prior must be in (0, 1); got {prior!r}")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)):
        raise TypeError(f"n_bootstrap must be an integer >= 0; got {n_bootstrap!r}")
    if n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be an integer >= 0; got {n_bootstrap!r}")
    conf = check_fraction("confidence", confidence)
    if not 0.0 < conf < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")

    fpr, tpr, thr, stats = _roc_point_stats(score_arr, member_arr, levels)
    best = int(np.argmax(tpr - fpr))
    flagged = prior_value * tpr[best] + (1.0 - prior_value) * fpr[best]
    ppv = _ratio(prior_value * tpr[best], flagged)

    ci: dict[str, tuple[float, float]] = {}
    if n_bootstrap > 0:
        rng = check_random_state(random_state)
        samples: dict[str, list[float]] = {k: [] for k in stats}
        for _ in tqdm(range(int(n_bootstrap)), disable=not show_progress, desc="ROC bootstrap"):
            idx = rng.integers(0, n, n)
            while member_arr[idx].all() or not member_arr[idx].any():
                idx = rng.integers(0, n, n)
            _, _, _, boot = _roc_point_stats(score_arr[idx], member_arr[idx], levels)
            for key, value in boot.items():
                samples[key].append(value)
        alpha = (1.0 - conf) / 2.0
        for key, values in samples.items():
            low, high = np.quantile(values, [alpha, 1.0 - alpha])
            ci[key] = (float(low), float(high))

    return ROCSummary(
        fpr=fpr,
        tpr=tpr,
        thresholds=thr,
        auc=stats["auc"],
        advantage=stats["advantage"],
        advantage_threshold=float(thr[best]),
        tpr_at_fpr={lv: stats[_level_name(lv)] for lv in levels},
        ppv=ppv,
        prior=float(prior_value),
        n_members=n_members,
        n_nonmembers=n - n_members,
        ci=ci,
        n_bootstrap=int(n_bootstrap),
        confidence=conf,
    )
