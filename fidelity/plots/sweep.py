"""The paper's three figures from a tidy sweep table: TP, FP and MI vs target size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from fidelity._validation import check_choice, check_columns, warn
from fidelity.plots._style import _axes, _check_frame, _colors, _finish, _label

#: Configuration columns that must be single-valued once a plot averages over seeds.
CONFIG_COLUMNS = ("recommender", "attack", "threat", "k", "mode", "mitigation")

_DEFAULTS = {
    "attack": ("match",),
    "threat": ("label",),
    "k": ("1", "1.0"),
    "mode": ("shared",),
    "mitigation": ("none",),
}


def _narrow(
    results: pd.DataFrame, func: str, recommender: str | None, select: Mapping[str, Any] | None
) -> tuple[pd.DataFrame, str]:
    """Apply ``recommender``/``select``, check the remaining configuration is unique."""
    where = dict(select or {})
    if recommender is not None:
        where["recommender"] = recommender
    check_columns(f"{func}: select", list(where), list(results.columns), what="results table")
    table = results
    for col, value in where.items():
        table = table[table[col] == value]
    if table.empty:
        available = {c: sorted(map(str, results[c].dropna().unique())) for c in where}
        raise ValueError(f"{func}: no row matches {where!r}; values available: {available!r}")
    for col in CONFIG_COLUMNS:
        if col in table.columns and table[col].nunique(dropna=False) > 1:
            values = sorted(map(str, table[col].unique()))
            raise ValueError(
                f"{func}: column {col!r} takes several values {values}; pick one with "
                f"{'recommender=' if col == 'recommender' else 'select='}"
                f"{{{col!r}: ...}} or use paper_figures() for one figure per value"
            )
    desc = ", ".join(
        f"{c}={table[c].iloc[0]}"
        for c in CONFIG_COLUMNS
        if c in table.columns
        and pd.notna(table[c].iloc[0])
        and str(table[c].iloc[0]) not in _DEFAULTS.get(c, ())
    )
    return table, desc


def _target_sizes(table: pd.DataFrame, func: str) -> pd.DataFrame:
    """Replace NaN ``target_size`` ("all of T") by ``n_target_users``, else drop with a warning."""
    ts = pd.to_numeric(table["target_size"], errors="coerce").astype(float)
    missing = ts.isna()
    if missing.any() and "n_target_users" in table.columns:
        ts = ts.where(~missing, pd.to_numeric(table["n_target_users"], errors="coerce"))
        missing = ts.isna()
    table = table.assign(target_size=ts)
    if missing.any():
        warn(
            f"{func}: dropped {int(missing.sum())} of {len(table)} rows whose target_size is "
            'missing ("all of T") and no n_target_users gives it'
        )
        table = table[~missing]
    return table


def _aggregate(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Mean, std, min, max and count over seeds per (overlap, target_size)."""
    g = table.groupby(["overlap", "target_size"], sort=True)[list(columns)]
    agg = g.agg(["mean", "std", "min", "max", "count"])
    agg.columns = [f"{c}_{s}" for c, s in agg.columns]
    return agg.reset_index()


#: Column and title of :func:`plot_tp_rate` / :func:`plot_fp_rate` per (rate, convention).
_RATE_COLUMNS = {
    ("tp", "paper"): ("tp", "Match attack: true positives"),
    ("tp", "standard"): ("tpr", "Match attack: TPR"),
    ("fp", "paper"): ("fp", "Match attack: false positives"),
    ("fp", "standard"): ("fpr", "Match attack: FPR"),
}


def _rate_plot(
    results, rate, convention, *, recommender, select, band, ax, title, logx, logy
) -> Figure:
    """Body of ``plot_{rate}_rate`` (``rate`` is "tp" or "fp")."""
    func = f"plot_{rate}_rate"
    column, what = _RATE_COLUMNS[
        (rate, check_choice("convention", convention, ("paper", "standard")))
    ]
    results = _check_frame("results", results)
    band = check_choice("band", band, ("minmax", "std", None))
    check_columns(
        func, ["overlap", "target_size", column], list(results.columns), what="results table"
    )
    table, desc = _narrow(results, func, recommender, select)
    agg = _aggregate(_target_sizes(table, func), [column])
    fig, ax = _axes(ax)
    overlaps = np.sort(agg["overlap"].unique())
    several = bool((agg[f"{column}_count"] > 1).any())
    for color, c in zip(_colors(len(overlaps)), overlaps, strict=True):
        part = agg[agg["overlap"] == c]
        x, y = part["target_size"].to_numpy(float), part[f"{column}_mean"].to_numpy(float)
        ax.plot(x, y, marker="o", ms=4, lw=1.6, color=color, label=f"{c:g}")
        if several and band is not None:
            if band == "minmax":
                lo, hi = part[f"{column}_min"], part[f"{column}_max"]
            else:
                sd = part[f"{column}_std"].fillna(0.0)
                lo, hi = part[f"{column}_mean"] - sd, part[f"{column}_mean"] + sd
            ax.fill_between(
                x, lo.to_numpy(float), hi.to_numpy(float), color=color, alpha=0.18, lw=0
            )
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    n_seeds = int(agg[f"{column}_count"].max()) if len(agg) else 0
    note = f"mean of {n_seeds} seeds" + (
        f", band = {'min-max' if band == 'minmax' else '±1 sd'}" if several and band else ""
    )
    _finish(
        ax,
        _label("target_size"),
        _label(column),
        title or f"{what} vs target size" + (f" ({desc})" if desc else "") + f"\n{note}",
        legend_title="overlap c",
    )
    return fig


def plot_tp_rate(
    results: pd.DataFrame,
    *,
    convention: str = "paper",
    recommender: str | None = None,
    select: Mapping[str, Any] | None = None,
    band: str | None = "minmax",
    ax: Axes | None = None,
    title: str | None = None,
    logx: bool = False,
    logy: bool = False,
) -> Figure:
    """Match attack true positives vs target size, one line per ``overlap`` (paper Fig. 1).

    Parameters
    ----------
    results : pandas.DataFrame
        Tidy sweep table with ``overlap``, ``target_size`` and ``tp`` (``tpr`` for the
        standard convention). A missing ``target_size`` ("all of T") is read from
        ``n_target_users``.
    convention : {"paper", "standard"}
        ``"paper"``: TP as a fraction of all adversary observations (column ``tp``);
        ``"standard"``: TPR = TP / (TP + FN) (column ``tpr``).
    recommender : str, optional
        Keep only this recommender; required when the table holds several.
    select : mapping, optional
        Further equality filters, e.g. ``{"attack": "match", "threat": "label"}``.
    band : {"minmax", "std", None}
        Band drawn around the mean over seeds when some point has several seeds.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when None.
    title : str, optional
        Replaces the automatic title.
    logx, logy : bool
        Logarithmic axes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    return _rate_plot(
        results,
        "tp",
        convention,
        recommender=recommender,
        select=select,
        band=band,
        ax=ax,
        title=title,
        logx=logx,
        logy=logy,
    )


def plot_fp_rate(
    results: pd.DataFrame,
    *,
    convention: str = "paper",
    recommender: str | None = None,
    select: Mapping[str, Any] | None = None,
    band: str | None = "minmax",
    ax: Axes | None = None,
    title: str | None = None,
    logx: bool = False,
    logy: bool = False,
) -> Figure:
    """Match attack false positives vs target size, one line per ``overlap`` (paper Fig. 2).

    Same parameters as :func:`plot_tp_rate`; the column is ``fp`` (paper convention) or
    ``fpr`` (standard).
    """
    return _rate_plot(
        results,
        "fp",
        convention,
        recommender=recommender,
        select=select,
        band=band,
        ax=ax,
        title=title,
        logx=logx,
        logy=logy,
    )


def plot_mi(
    results: pd.DataFrame,
    *,
    estimate: str = "mi",
    recommender: str | None = None,
    select: Mapping[str, Any] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    logx: bool = False,
    logy: bool = False,
) -> Figure:
    """MI(H;O) vs target size, one line per ``overlap`` (paper Fig. 3), with CI and null band.

    The line is the mean over seeds of ``estimate``. For ``estimate="mi"`` (the default
    estimator's value) vertical bars show its interval (``mi_ci_low``/``mi_ci_high``,
    envelope over seeds: lowest low, highest high). For ``estimate="mi_plugin"`` (the
    paper's figure) a shaded band shows the permutation null of the plug-in MI,
    ``mi_null_mean ± 2 mi_null_std`` (envelope over seeds): a plug-in MI inside it is
    indistinguishable from the finite-sample effect. Each interval is drawn around the
    point it belongs to.

    Parameters
    ----------
    results : pandas.DataFrame
        Tidy sweep table with ``overlap``, ``target_size`` and ``estimate``.
    estimate : {"mi", "mi_plugin", "mi_corrected"}
        The default estimator's MI, the plug-in (the paper's) or Miller-Madow.
    recommender, select, ax, title, logx, logy
        As in :func:`plot_tp_rate`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    results = _check_frame("results", results)
    check_choice("estimate", estimate, ("mi", "mi_plugin", "mi_corrected"))
    check_columns(
        "plot_mi", ["overlap", "target_size", estimate], list(results.columns), what="results table"
    )
    table, desc = _narrow(results, "plot_mi", recommender, select)
    table = _target_sizes(table, "plot_mi")
    cols = list(table.columns)
    has_ci = (
        estimate == "mi"
        and {"mi_ci_low", "mi_ci_high"} <= set(cols)
        and table["mi_ci_low"].notna().any()
    )
    has_null = (
        estimate == "mi_plugin"
        and {"mi_null_mean", "mi_null_std"} <= set(cols)
        and table["mi_null_mean"].notna().any()
    )
    if has_null:
        sd = table["mi_null_std"].fillna(0.0)
        table = table.assign(
            _null_lo=table["mi_null_mean"] - 2 * sd, _null_hi=table["mi_null_mean"] + 2 * sd
        )
    agg = _aggregate(
        table,
        [estimate]
        + (["mi_ci_low", "mi_ci_high"] if has_ci else [])
        + (["_null_lo", "_null_hi"] if has_null else []),
    )
    fig, ax = _axes(ax)
    overlaps = np.sort(agg["overlap"].unique())
    handles: list = []
    for color, c in zip(_colors(len(overlaps)), overlaps, strict=True):
        part = agg[agg["overlap"] == c]
        x = part["target_size"].to_numpy(float)
        (line,) = ax.plot(
            x,
            part[f"{estimate}_mean"].to_numpy(float),
            marker="o",
            ms=4,
            lw=1.6,
            color=color,
            label=f"{c:g}",
        )
        handles.append(line)
        if has_ci:
            ax.vlines(
                x,
                part["mi_ci_low_min"].to_numpy(float),
                part["mi_ci_high_max"].to_numpy(float),
                color=color,
                lw=2.5,
                alpha=0.6,
            )
        if has_null:
            ax.fill_between(
                x,
                part["_null_lo_min"].to_numpy(float),
                part["_null_hi_max"].to_numpy(float),
                color=color,
                alpha=0.15,
                lw=0,
                hatch="//",
            )
    if has_ci:
        handles.append(Line2D([], [], color="0.4", lw=2.5, alpha=0.6, label="bootstrap CI"))
    if has_null:
        handles.append(
            Patch(facecolor="0.6", alpha=0.3, hatch="//", label="permutation null ± 2 sd")
        )
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    name = "MI(H;O)" + (" (Miller-Madow)" if estimate == "mi_corrected" else "")
    _finish(
        ax,
        _label("target_size"),
        _label(estimate),
        title or f"{name} vs target size" + (f" ({desc})" if desc else ""),
        legend_title="overlap c",
        handles=handles,
    )
    return fig


def paper_figures(
    results: pd.DataFrame, *, convention: str = "paper", band: str | None = "minmax"
) -> dict[str, Figure]:
    """The paper's three figures for every configuration found in ``results``.

    Rows are grouped by the configuration columns present (``recommender``, ``attack``,
    ``threat``, ``k``, ``mode``, ``mitigation``); each group gives ``tp_rate``, ``fp_rate``
    and ``mi`` figures (``mi`` only when the column exists).

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        Keys like ``"tp_rate"`` (single configuration) or ``"tp_rate_random_forest"``.
    """
    results = _check_frame("results", results)
    by = [
        c for c in CONFIG_COLUMNS if c in results.columns and results[c].nunique(dropna=False) > 1
    ]
    groups = results.groupby(by, dropna=False, sort=True) if by else [((), results)]
    figures: dict[str, Figure] = {}
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        suffix = "".join(f"_{v}" for v in key)
        figures[f"tp_rate{suffix}"] = plot_tp_rate(part, convention=convention, band=band)
        figures[f"fp_rate{suffix}"] = plot_fp_rate(part, convention=convention, band=band)
        if "mi_plugin" in part.columns:  # the paper's figure: the plug-in and its null
            figures[f"mi{suffix}"] = plot_mi(part, estimate="mi_plugin")
        elif "mi" in part.columns:
            figures[f"mi{suffix}"] = plot_mi(part)
    return figures
