"""The session-length figure: leakage against N, one line per attack, the sizes marked."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullLocator

from fidelity._validation import check_choice
from fidelity.plots._style import _axes, _colors, _finish

__all__ = ["plot_session_curve"]

_YLABEL = {
    "advantage": "attacker advantage max(TPR - FPR)",
    "auc": "user-level ROC AUC",
    "tpr_at_1pct_fpr": "TPR at 1% FPR",
    "tpr_at_0.1pct_fpr": "TPR at 0.1% FPR",
}


def _metric_panel(ax, table, metric: str, labels: list[str], colors: list) -> None:
    for label, color in zip(labels, colors, strict=True):
        rows = table[table["_label"] == label].sort_values("n")
        x = rows["n"].to_numpy(float)
        y = rows[metric].to_numpy(float)
        low = rows[f"{metric}_ci_low"].to_numpy(float)
        high = rows[f"{metric}_ci_high"].to_numpy(float)
        ax.fill_between(x, low, high, color=color, alpha=0.18, linewidth=0)
        ax.plot(x, y, marker="o", markersize=3.5, color=color, label=label)
    ax.set_xscale("log", base=2)
    ticks = np.unique(table.loc[table["on_grid"].astype(bool), "n"].to_numpy(int))
    ax.set_xticks(ticks, [str(n) for n in ticks])
    ax.xaxis.set_minor_locator(NullLocator())


def plot_session_curve(
    curve: Any,
    *,
    metrics: tuple[str, ...] = ("advantage", "auc"),
    title: str = "Leakage against session length",
) -> Figure:
    """Advantage and AUC against N (observations linked to a user), one line per attack.

    Each line has its confidence band over pseudo-users. The advantage panel marks the
    tolerance (dashed), the attack-validated safe session size (solid, green) and, when
    known, the paper's data-only Fano size of MI(H;O) and the model-aware Fano size of
    the strongest attack signal's I(M; S) (dotted).

    Parameters
    ----------
    curve : SessionCurve
        From :func:`fidelity.evaluation.session_curve`.
    metrics : tuple of str
        Panels, among ``"advantage"``, ``"auc"``, ``"tpr_at_1pct_fpr"``, ``"tpr_at_0.1pct_fpr"``.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    for name in ("curve", "validated"):
        if not hasattr(curve, name):
            raise TypeError(
                f"curve must be a SessionCurve (from fidelity.evaluation.session_curve); got "
                f"{type(curve).__name__}"
            )
    if not metrics:
        raise ValueError("metrics must name at least one panel")
    for metric in metrics:
        check_choice("metrics", metric, tuple(_YLABEL))
    table = curve.curve.assign(_label=curve.curve["attack"] + " (" + curve.curve["threat"] + ")")
    table = table[table["auc"].notna()]
    labels = list(dict.fromkeys(table["_label"]))
    colors = _colors(len(labels), ordered=False)
    fig = Figure(figsize=(6.4 * len(metrics), 4.4), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    validated = curve.validated
    for ax, metric in zip(axes, metrics, strict=True):
        _axes(ax)
        _metric_panel(ax, table, metric, labels, colors)
        handles = [Line2D([], [], color=c, marker="o", markersize=3.5, label=lab)
                   for lab, c in zip(labels, colors, strict=True)]  # fmt: skip
        if metric == "advantage":
            ax.axhline(validated.tolerance, color="0.3", linestyle="--", linewidth=1)
            handles.append(Line2D([], [], color="0.3", linestyle="--",
                                  label=f"tolerance {validated.tolerance:g}"))  # fmt: skip
            if validated.size >= 1:
                ax.axvline(validated.size, color="tab:green", linewidth=1.6)
            handles.append(Line2D([], [], color="tab:green", linewidth=1.6,
                                  label=f"validated safe size: {validated.label}"))  # fmt: skip
            _mark_fano(ax, curve, handles)
        if metric == "auc":
            ax.axhline(0.5, color="0.6", linestyle=":", linewidth=1)
        _finish(
            ax,
            "N: observations linked to one (pseudo-)user (log scale)",
            _YLABEL[metric],
            title if ax is axes[0] else f"{_YLABEL[metric]} against N",
            handles=handles if metric == "advantage" else None,
        )
    return fig


def _mark_fano(ax, curve: Any, handles: list) -> None:
    """Dotted lines at the paper's Fano size and the model-aware one (when finite)."""
    lo, hi = ax.get_xlim()
    fano = getattr(curve, "fano", None)
    if fano is not None and fano.size is not None and fano.size >= 1:
        n = min(max(fano.size, lo), hi)
        ax.axvline(n, color="tab:purple", linestyle=":", linewidth=1.4)
        handles.append(Line2D([], [], color="tab:purple", linestyle=":",
                              label=f"data-only Fano size (paper): {fano.size}"))  # fmt: skip
    elif fano is not None:
        handles.append(Line2D([], [], color="tab:purple", linestyle=":",
                              label="data-only Fano size (paper): no bound"))  # fmt: skip
    infos = [i for i in getattr(curve, "signal_information", ()) if i.fano_size is not None]
    if infos:
        best = max(infos, key=lambda i: i.mi)
        n = min(max(best.fano_size, lo), hi)
        ax.axvline(max(n, lo), color="tab:brown", linestyle=":", linewidth=1.4)
        handles.append(
            Line2D([], [], color="tab:brown", linestyle=":",
                   label=f"model-aware Fano size ({best.attack}): {best.fano_size}")
        )  # fmt: skip
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom=min(0.0, float(np.nanmin(ax.get_ylim()))))
