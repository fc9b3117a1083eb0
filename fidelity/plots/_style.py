"""Shared style of fidelity figures: axes creation, labels with units, colours."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

LABELS = {
    "target_size": "target size (users/sessions in m_T's training set)",
    "overlap": "overlap c (fraction of A's users also at T)",
    "tp": "TP (fraction of all adversary observations)",
    "fp": "FP (fraction of all adversary observations)",
    "tpr": "TPR = TP / (TP + FN) (observation level)",
    "fpr": "FPR = FP / (FP + TN) (observation level)",
    "mi": "MI(H;O) estimate (bits)",
    "mi_plugin": "MI(H;O) plug-in (bits)",
    "mi_corrected": "MI(H;O) Miller-Madow corrected (bits)",
    "accuracy": "top-1 accuracy of m_T (in-sample)",
    "accuracy_holdout": "top-1 accuracy of m_T (held-out non-members)",
    "auc": "user-level ROC AUC",
    "advantage": "attacker advantage max(TPR - FPR)",
    "tpr_at_1pct_fpr": "user-level TPR at 1% FPR",
    "tpr_at_0.1pct_fpr": "user-level TPR at 0.1% FPR",
    "ppv": "PPV at the true membership prior",
    "safe_session_size": "safe session size (observations)",
}


def _axes(ax: Axes | None, figsize: tuple[float, float] = (6.4, 4.4)) -> tuple[Figure, Axes]:
    """Return (root figure, axes), creating a constrained-layout figure when ``ax`` is None."""
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        ax = fig.add_subplot()
    else:
        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes or None; got {type(ax).__name__}")
        fig = ax.get_figure()
        while not isinstance(fig, Figure):  # a SubFigure: climb to the root figure
            fig = fig.get_figure()
    ax.grid(True, which="major", alpha=0.3, linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=9)
    return fig, ax


def _finish(
    ax: Axes,
    xlabel: str,
    ylabel: str,
    title: str,
    legend_title: str | None = None,
    handles: list | None = None,
) -> None:
    ax.set_xlabel(xlabel, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=10)
    ax.set_title(title, fontsize=11)
    if handles is not None:
        ax.legend(handles=handles, title=legend_title, fontsize=8, title_fontsize=8)
    elif ax.get_legend_handles_labels()[0]:
        ax.legend(title=legend_title, fontsize=8, title_fontsize=8)


def _colors(n: int, *, ordered: bool = True) -> list:
    """``n`` colours: viridis for ordered values (overlaps), tab10 for categories."""
    from matplotlib import colormaps

    if not ordered and n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    cmap = colormaps["viridis"]
    return [cmap(x) for x in (np.linspace(0.0, 0.85, n) if n > 1 else [0.35])]


def _label(column: str) -> str:
    return LABELS.get(column, column)


def _check_frame(name: str, table: Any) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame; got {type(table).__name__}")
    return table
