"""Attack comparison figure: attacks x threat models x target sizes (from compare_attacks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fidelity._validation import check_columns
from fidelity.plots._style import _axes, _check_frame, _colors, _finish, _label

_LINESTYLES = {"label": "-", "topk": "--", "scores": ":"}


def plot_attack_comparison(
    table: pd.DataFrame,
    metric: str = "auc",
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """``metric`` against target size, one line per (attack, threat model), with CI bars.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`fidelity.evaluation.compare_attacks` (columns ``attack``,
        ``threat``, ``target_size``, ``metric`` and, when present, ``<metric>_ci_low`` /
        ``<metric>_ci_high``).
    metric : str, default "auc"
        E.g. ``"auc"``, ``"tpr_at_1pct_fpr"``, ``"advantage"``.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Colour = attack, line style = threat model (solid label, dashed topk, dotted
        scores); a dashed grey line marks chance (AUC 0.5) for ``metric="auc"``.
    """
    table = _check_frame("table", table)
    check_columns(
        "plot_attack_comparison", ["attack", "threat", "target_size", metric], list(table.columns)
    )
    fig, ax = _axes(ax)
    attacks = list(dict.fromkeys(table["attack"]))
    colors = dict(zip(attacks, _colors(len(attacks), ordered=False), strict=True))
    low, high = f"{metric}_ci_low", f"{metric}_ci_high"
    has_ci = low in table.columns and high in table.columns
    for (attack, threat), part in table.groupby(["attack", "threat"], sort=False):
        part = part.sort_values("target_size")
        xs = part["target_size"].astype(float).to_numpy()
        ys = part[metric].to_numpy(float)
        ax.plot(
            xs,
            ys,
            marker="o",
            ms=4,
            color=colors[attack],
            linestyle=_LINESTYLES.get(threat, "-."),
            label=f"{attack} / {threat}",
        )
        if has_ci:
            lo, hi = part[low].to_numpy(float), part[high].to_numpy(float)
            ok = np.isfinite(lo) & np.isfinite(hi)
            ax.vlines(xs[ok], lo[ok], hi[ok], color=colors[attack], alpha=0.5, lw=1.2)
    if metric == "auc":
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    if table["target_size"].nunique() > 1:
        ax.set_xscale("log")
    _finish(
        ax,
        "target size (users)",
        _label(metric),
        title or f"{_label(metric)} by attack and threat model",
        "attack / threat",
    )
    return fig


__all__ = ["plot_attack_comparison"]
