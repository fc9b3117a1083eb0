"""ROC curves, MI estimates with their null, the safe-session curve and trade-off plots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from fidelity._validation import check_columns
from fidelity.plots._style import _axes, _check_frame, _colors, _finish, _label


# --------------------------------------------------------------------------- ROC
def _roc_arrays(name: str, curve: Any) -> tuple[np.ndarray, np.ndarray, float | None]:
    if isinstance(curve, tuple) and len(curve) == 2:
        fpr, tpr, auc = curve[0], curve[1], None
    elif hasattr(curve, "fpr") and hasattr(curve, "tpr"):
        fpr, tpr, auc = curve.fpr, curve.tpr, getattr(curve, "auc", None)
    else:
        raise TypeError(
            f"plot_roc: curve {name!r} must have .fpr and .tpr or be a (fpr, tpr) "
            f"tuple; got {type(curve).__name__}"
        )
    fpr, tpr = np.asarray(fpr, dtype=float), np.asarray(tpr, dtype=float)
    if fpr.ndim != 1 or fpr.shape != tpr.shape or fpr.size == 0:
        raise ValueError(
            f"plot_roc: curve {name!r} needs 1-D fpr and tpr of the same non-zero "
            f"length; got shapes {fpr.shape} and {tpr.shape}"
        )
    for arr, what in ((fpr, "fpr"), (tpr, "tpr")):
        if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
            raise ValueError(f"plot_roc: curve {name!r}: {what} must be finite and in [0, 1]")
    auc = None if auc is None or not np.isfinite(float(auc)) else float(auc)
    return fpr, tpr, auc


def plot_roc(
    curves: Mapping[str, Any],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    min_rate: float | None = None,
) -> Figure:
    """User-level ROC curves on log-log axes, with the chance diagonal.

    Parameters
    ----------
    curves : mapping of str to ROC
        Name -> object with ``fpr`` and ``tpr`` arrays (and optionally ``auc``, shown in the
        legend), e.g. ``fidelity.metrics.ROCSummary``, or a ``(fpr, tpr)`` tuple.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when None.
    title : str, optional
        Replaces the automatic title.
    min_rate : float, optional
        Lower limit of both axes. Default: ``min(1e-3, smallest positive rate)``, i.e. down to
        about 1/n when there are more than 1000 users on a side. Rates of 0 are drawn at this
        limit (they cannot appear on a log axis).

    Returns
    -------
    matplotlib.figure.Figure
        The axes holds one line per curve plus the chance diagonal (the last line).
    """
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError(
            f"plot_roc: curves must be a non-empty mapping of name -> ROC curve; got {curves!r}"
        )
    arrays = {str(k): _roc_arrays(str(k), v) for k, v in curves.items()}
    if min_rate is None:
        positive = [a[a > 0].min() for f, t, _ in arrays.values() for a in (f, t) if (a > 0).any()]
        min_rate = min([1e-3, *positive])
    elif not 0 < float(min_rate) < 1:
        raise ValueError(f"plot_roc: min_rate must be in (0, 1); got {min_rate!r}")
    lo = float(min_rate)
    fig, ax = _axes(ax, figsize=(5.2, 5.0))
    for color, (name, (fpr, tpr, auc)) in zip(
        _colors(len(arrays), ordered=False), arrays.items(), strict=True
    ):
        order = np.lexsort((tpr, fpr))
        label = name if auc is None else f"{name} (AUC = {auc:.3f})"
        ax.plot(
            np.clip(fpr[order], lo, 1),
            np.clip(tpr[order], lo, 1),
            lw=1.6,
            color=color,
            label=label,
            drawstyle="steps-post",
        )
    ax.plot([lo, 1], [lo, 1], ls="--", lw=1, color="0.5", label="chance (TPR = FPR)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, 1)
    ax.set_ylim(lo, 1)
    _finish(
        ax,
        "false positive rate (non-member users flagged)",
        "true positive rate (member users found)",
        title or "User-level ROC (log-log)",
    )
    return fig


# --------------------------------------------------------------------------- MI estimates
_EST_FIELDS = {
    "mi": "mi",
    "plugin": "mi_plugin",
    "ci_low": "mi_ci_low",
    "ci_high": "mi_ci_high",
    "null_mean": "mi_null_mean",
    "null_std": "mi_null_std",
    "p_value": "mi_p_value",
}
#: p-value at or above which an MI counts as not above its permutation null.
NULL_ALPHA = 0.05


def _estimate_rows(estimates: Any, label: str | None) -> pd.DataFrame:
    if isinstance(estimates, pd.DataFrame):
        check_columns("plot_mi_estimate", ["mi"], list(estimates.columns), what="table")
        df = estimates.rename(columns={v: k for k, v in _EST_FIELDS.items()})
        if label is not None:
            check_columns("plot_mi_estimate: label", [label], list(estimates.columns))
            labels = estimates[label].astype(str).tolist()
        else:
            parts = [
                c
                for c in ("recommender", "overlap", "target_size")
                if c in df.columns and df[c].nunique(dropna=False) > 1
            ]
            labels = [
                ", ".join(f"{c}={r[c]}" for c in parts) or f"#{i}"
                for i, (_, r) in enumerate(df.iterrows())
            ]
        rows = [
            {f: (r[f] if f in df.columns else np.nan) for f in _EST_FIELDS}
            for _, r in df.iterrows()
        ]
        return pd.DataFrame(rows).assign(label=labels)
    if isinstance(estimates, Mapping):
        items = list(estimates.items())
    elif isinstance(estimates, Iterable) and not isinstance(estimates, (str, bytes)):
        items = [(None, e) for e in estimates]
    else:
        items = [(None, estimates)]
    rows = []
    for i, (key, est) in enumerate(items):
        if not hasattr(est, "mi"):
            raise TypeError(
                f"plot_mi_estimate: estimate {key if key is not None else i!r} has "
                f"no attribute 'mi'; got {type(est).__name__}"
            )
        row = {f: getattr(est, f, None) for f in _EST_FIELDS}
        if key is None:
            key = getattr(est, "label", None)
            if key is None and getattr(est, "n_target", None) is not None:
                key = f"n_target = {est.n_target}"
        row["label"] = str(key) if key is not None else f"#{i}"
        rows.append(row)
    return pd.DataFrame(rows)


def _above_null(mi: float, null_mean: float, null_std: float, p_value: float) -> bool | None:
    """Whether MI is above its null: ``p_value < 0.05`` when known, else ``null_mean + 2 sd``."""
    if p_value is not None and np.isfinite(p_value):
        return bool(p_value < NULL_ALPHA)
    if null_mean is None or not np.isfinite(null_mean):
        return None
    sd = null_std if null_std is not None and np.isfinite(null_std) else 0.0
    return bool(mi > null_mean + 2 * sd)


def plot_mi_estimate(
    estimates: Any, *, label: str | None = None, ax: Axes | None = None, title: str | None = None
) -> Figure:
    """MI estimates with their bootstrap CI and permutation-null band, one column each.

    Parameters
    ----------
    estimates : object, sequence, mapping or pandas.DataFrame
        One or several MI estimates: objects with ``mi`` and optionally ``ci_low``,
        ``ci_high``, ``null_mean``, ``null_std``, ``p_value`` and ``label`` or ``n_target``
        (e.g. ``fidelity.information.MIEstimate``); a mapping label -> estimate; or a results
        table with ``mi`` and optionally ``mi_ci_low``, ``mi_ci_high``, ``mi_null_mean``,
        ``mi_null_std``, ``mi_p_value``.
    label : str, optional
        Column of a DataFrame used to label each estimate (default: the varying
        ``recommender``/``overlap``/``target_size`` values).
    ax, title
        As in :func:`plot_tp_rate`.

    Returns
    -------
    matplotlib.figure.Figure
        Filled markers: MI above its null (``p_value < 0.05`` when given, else above
        ``null_mean + 2 null_std``); hollow: not above the null.
    """
    df = _estimate_rows(estimates, label)
    for f in _EST_FIELDS:
        df[f] = pd.to_numeric(df[f], errors="coerce").astype(float)
    fig, ax = _axes(ax, figsize=(max(4.0, 1.0 + 0.9 * len(df)), 4.4))
    x = np.arange(len(df), dtype=float)
    handles: list = []
    if df["null_mean"].notna().any():
        sd = df["null_std"].fillna(0.0)
        ax.bar(x, 4 * sd, bottom=df["null_mean"] - 2 * sd, width=0.5, color="0.75", alpha=0.6)
        ax.hlines(df["null_mean"], x - 0.25, x + 0.25, color="0.35", lw=1)
        handles.append(Patch(facecolor="0.75", alpha=0.6, label="permutation null ± 2 sd"))
    if df["plugin"].notna().any() and not np.allclose(df["plugin"], df["mi"], equal_nan=True):
        ax.scatter(x, df["plugin"], s=36, marker="x", color="0.3", zorder=3)
        handles.append(
            Line2D(
                [], [], ls="", marker="x", color="0.3", label="plug-in MI (tested against the null)"
            )
        )
    if df["ci_low"].notna().any():
        ax.vlines(x, df["ci_low"], df["ci_high"], color="C0", lw=2)
        handles.append(Line2D([], [], color="C0", lw=2, label="interval of the estimate"))
    above = [
        _above_null(*row)
        for row in zip(df["mi"], df["null_mean"], df["null_std"], df["p_value"], strict=True)
    ]
    face = ["C0" if a is not False else "white" for a in above]
    ax.scatter(x, df["mi"], s=40, color=face, edgecolors="C0", zorder=3)
    handles.append(Line2D([], [], ls="", marker="o", color="C0", label="MI estimate"))
    if any(a is False for a in above):
        handles.append(
            Line2D(
                [], [], ls="", marker="o", mfc="white", color="C0", label="MI not above its null"
            )
        )
    ax.set_xticks(
        x,
        df["label"].tolist(),
        rotation=20 if len(df) > 3 else 0,
        ha="right" if len(df) > 3 else "center",
    )
    ax.set_xlim(-0.6, len(df) - 0.4)
    # ``.mi`` of an estimate is plug-in or corrected, as it was computed: a neutral label
    _finish(
        ax,
        "estimate",
        "MI(H;O) (bits)",
        title or "MI(H;O) with bootstrap CI and null",
        handles=handles,
    )
    return fig


# --------------------------------------------------------------------------- trade-off
def plot_tradeoff(
    table: pd.DataFrame,
    x: str = "accuracy",
    y: str = "auc",
    label: str | None = "mitigation",
    *,
    group: str | None = None,
    y_ci: tuple[str, str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Leakage vs recommender accuracy, one point per row, labelled (for mitigations).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per setting (e.g. mitigation x parameter), already averaged as wanted.
    x, y : str
        Columns for the axes (default: in-sample accuracy vs user-level AUC).
    label : str or None
        Column whose value is written next to each point.
    group : str, optional
        Column: points of one group are joined by a line (sorted by ``x``) and share a colour.
    y_ci : (str, str), optional
        Columns of the lower and upper CI bounds of ``y`` (vertical bars).
    ax, title
        As in :func:`plot_tp_rate`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    table = _check_frame("table", table)
    needed = [x, y] + [c for c in (label, group) if c is not None] + list(y_ci or ())
    check_columns("plot_tradeoff", needed, list(table.columns))
    fig, ax = _axes(ax)
    groups = list(table.groupby(group, sort=True, dropna=False)) if group else [(None, table)]
    for color, (key, part) in zip(_colors(len(groups), ordered=False), groups, strict=True):
        part = part.sort_values(x)
        xs, ys = part[x].to_numpy(float), part[y].to_numpy(float)
        ax.plot(
            xs,
            ys,
            marker="o",
            ms=5,
            lw=1.2 if group else 0,
            color=color,
            label=None if key is None else str(key),
        )
        if y_ci is not None:
            ax.vlines(
                xs,
                part[y_ci[0]].to_numpy(float),
                part[y_ci[1]].to_numpy(float),
                color=color,
                lw=1.5,
                alpha=0.6,
            )
        if label is not None:
            for xi, yi, text in zip(xs, ys, part[label].astype(str), strict=True):
                ax.annotate(text, (xi, yi), xytext=(4, 4), textcoords="offset points", fontsize=8)
    if y in ("auc",):
        ax.axhline(0.5, ls="--", lw=1, color="0.5")
    _finish(
        ax, _label(x), _label(y), title or f"Leakage vs accuracy: {y} vs {x}", legend_title=group
    )
    return fig
