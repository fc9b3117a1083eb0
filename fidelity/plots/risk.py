"""Per-user risk against the users' features: are the outliers the ones at risk?

Input is a :class:`~fidelity.evaluation.UserRisk` (or its table). Each panel puts a
feature (number of observations, mean popularity of the songs, share of transitions no
other user plays) on the x axis and the membership probability (or another column) on
the y axis: members and non-members as points, and the mean of each feature quantile as
a line, so a rising line says that users far out on that feature are more exposed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fidelity._validation import check_columns, check_positive_int
from fidelity.evaluation import FEATURES, UserRisk
from fidelity.plots._style import _axes, _colors, _finish

__all__ = ["plot_user_risk", "plot_user_risk_panels"]

_FEATURE_LABELS = {
    "n_observations": "observations of the user",
    "mean_popularity": "mean popularity of its next songs (share of others' plays)",
    "unseen_share": "share of its transitions no other user plays",
}
_Y_LABELS = {
    "membership_probability": "P(member | score), true prior",
    "score": "attack score",
    "rank": "rank (1 = most exposed)",
}


def _table(risk: UserRisk | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if isinstance(risk, UserRisk):
        return risk.table, f"{risk.attack} ({risk.threat})"
    if isinstance(risk, pd.DataFrame):
        return risk, "attack"
    raise TypeError(f"risk must be a UserRisk or a DataFrame; got {type(risk).__name__}")


def plot_user_risk(
    risk: UserRisk | pd.DataFrame,
    feature: str = "unseen_share",
    *,
    y: str = "membership_probability",
    n_bins: int = 10,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """One feature against the per-user risk.

    Parameters
    ----------
    risk : UserRisk or pandas.DataFrame
        A risk table (:func:`fidelity.evaluation.user_risk`).
    feature : str, default "unseen_share"
        A column of the table, e.g. one of :data:`fidelity.evaluation.FEATURES`.
    y : str, default "membership_probability"
        The risk column (``"score"`` and ``"rank"`` work too).
    n_bins : int, default 10
        Quantile bins of ``feature`` for the mean line (fewer when values tie).
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Points: non-members (grey) and members (colour); line: mean ``y`` per bin; the
        x axis is logarithmic for the number of observations when it spans a decade.
    """
    table, name = _table(risk)
    check_columns("plot_user_risk", [feature, y, "member"], list(table.columns))
    n_bins = check_positive_int("n_bins", n_bins)
    fig, ax = _axes(ax)
    x = table[feature].to_numpy(np.float64)
    v = table[y].to_numpy(np.float64)
    member = table["member"].to_numpy(bool)
    member_color, line_color = _colors(2, ordered=False)
    ax.scatter(x[~member], v[~member], s=6, color="0.6", alpha=0.4, label="non-members")
    ax.scatter(x[member], v[member], s=8, color=member_color, alpha=0.7, label="members")
    if len(x):
        bins = np.zeros(len(x), dtype=np.int64)
        if np.unique(x).size > 1:
            bins = pd.qcut(x, n_bins, labels=False, duplicates="drop")
        frame = pd.DataFrame({"bin": bins, "x": x, "v": v}).groupby("bin").mean()
        ax.plot(frame["x"], frame["v"], color=line_color, marker="o", ms=4, label="bin mean")
    if feature == "n_observations" and len(x) and x.min() > 0 and x.max() >= 10 * x.min():
        ax.set_xscale("log")
    if y == "rank":
        ax.invert_yaxis()
    _finish(
        ax,
        _FEATURE_LABELS.get(feature, feature),
        _Y_LABELS.get(y, y),
        title or f"{name}: risk against {feature.replace('_', ' ')}",
    )
    return fig


def plot_user_risk_panels(
    risk: UserRisk | pd.DataFrame,
    features: Sequence[str] = FEATURES,
    *,
    y: str = "membership_probability",
    n_bins: int = 10,
) -> Figure:
    """:func:`plot_user_risk` for every feature, side by side in one figure.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per feature, in order.
    """
    features = list(features)
    if not features:
        raise ValueError("features must name at least one column; got none")
    fig = Figure(figsize=(4.6 * len(features), 4.2), layout="constrained")
    axes = fig.subplots(1, len(features), squeeze=False)[0]
    for ax, feature in zip(axes, features, strict=True):
        plot_user_risk(risk, feature, y=y, n_bins=n_bins, ax=ax, title=feature.replace("_", " "))
    for ax in axes[1:]:  # one legend is enough
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
    return fig
