"""The safe-session self-evaluation curve: MI vs size, power-law fit, extrapolation."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fidelity._validation import warn
from fidelity.plots._style import _axes, _finish, _label


def _positive_1d(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"plot_safe_session_curve: {name} must be a non-empty 1-D array; got shape {arr.shape}"
        )
    return arr


_FROM_ESTIMATE = (
    "mi",
    "full_size",
    "mi_full",
    "mi_full_low",
    "mi_full_high",
    "safe_session_size",
    "success",
    "null_mean",
)


def plot_safe_session_curve(
    sizes: Any,
    mi: Any = None,
    fit: Any = None,
    *,
    mi_ci_low: Any = None,
    mi_ci_high: Any = None,
    ci_label: str = "bootstrap CI",
    null_mean: Any = None,
    full_size: float | None = None,
    mi_full: float | None = None,
    mi_full_low: float | None = None,
    mi_full_high: float | None = None,
    safe_session_size: float | None = None,
    success: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """MI vs target size on log-log axes with the fitted power law extrapolated to full size.

    Parameters
    ----------
    sizes : array-like or SafeSessionEstimate
        Target sizes (users/sessions) of the measured points. Alternatively the result of
        ``fidelity.safe_session.estimate_safe_session_size`` (any object with ``sizes``,
        ``mi`` and ``predict``), with ``mi`` omitted: its ``mi``, ``mi_std`` (error bars of
        ± 2 sd over repeats), ``null_mean``, fit, ``full_size``, ``mi_full`` (and CI),
        ``safe_session_size`` and ``success`` are used unless given as keywords.
    mi : array-like
        The MI (bits) measured at each size.
    fit : callable, (x, y) arrays or object with ``predict``, optional
        The fitted curve: a function of size giving MI, evaluated from the smallest size up to
        ``full_size``; or the curve as two arrays.
    mi_ci_low, mi_ci_high : array-like, optional
        Interval of ``mi`` drawn as vertical bars, named ``ci_label`` in the legend.
    null_mean : array-like, optional
        Permutation-null MI at each size (grey crosses joined by a dotted line).
    full_size : float, optional
        The provider's full data size the curve is extrapolated to (vertical line).
    mi_full, mi_full_low, mi_full_high : float, optional
        Extrapolated MI at ``full_size`` (star; computed from a callable ``fit`` when omitted)
        and its interval (bar).
    safe_session_size, success : float, optional
        Annotated in a box: the size and the adversary success probability it is for
        (None: the Fano bound 1/MI).
    ax, title
        As in :func:`plot_tp_rate`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if mi is None:
        est = sizes
        if not all(hasattr(est, a) for a in ("sizes", "mi")):
            raise TypeError(
                "plot_safe_session_curve: give sizes and mi arrays, or an estimate with .sizes "
                f"and .mi; got {type(est).__name__}"
            )
        given = locals()
        kw = {k: getattr(est, k, None) if given[k] is None else given[k] for k in _FROM_ESTIMATE}
        std = getattr(est, "mi_std", None)
        if mi_ci_low is None and std is not None:
            m, sd = np.asarray(kw["mi"], float), np.asarray(std, float)
            mi_ci_low, mi_ci_high, ci_label = m - 2 * sd, m + 2 * sd, "± 2 sd over repeats"
        return plot_safe_session_curve(
            est.sizes,
            fit=fit if fit is not None else est,
            mi_ci_low=mi_ci_low,
            mi_ci_high=mi_ci_high,
            ci_label=ci_label,
            ax=ax,
            title=title,
            **kw,
        )
    x, y = _positive_1d("sizes", sizes), _positive_1d("mi", mi)
    if x.shape != y.shape:
        raise ValueError(
            f"plot_safe_session_curve: sizes and mi must have the same length; "
            f"got {x.size} and {y.size}"
        )
    fig, ax = _axes(ax)
    shown = y > 0
    if not shown.all():
        warn(
            f"plot_safe_session_curve: {int((~shown).sum())} of {y.size} MI values are not "
            "positive and cannot be drawn on a log axis"
        )
    if mi_ci_low is not None and mi_ci_high is not None:
        lo, hi = np.asarray(mi_ci_low, float), np.asarray(mi_ci_high, float)
        if lo.shape != y.shape or hi.shape != y.shape:
            raise ValueError(
                "plot_safe_session_curve: mi_ci_low/mi_ci_high must match mi's "
                f"length {y.size}; got {lo.shape} and {hi.shape}"
            )
        lo = np.maximum(lo, y * 1e-3)  # a bound at or below 0 cannot be drawn on a log axis
        ax.vlines(x[shown], lo[shown], hi[shown], color="C0", lw=2, alpha=0.6, label=ci_label)
    ax.plot(x[shown], y[shown], "o", color="C0", ms=5, label="measured MI")
    if null_mean is not None:
        nm = np.asarray(null_mean, float)
        if nm.shape != y.shape:
            raise ValueError(
                f"plot_safe_session_curve: null_mean must match mi's length {y.size}; "
                f"got {nm.shape}"
            )
        ok = np.isfinite(nm) & (nm > 0)
        if ok.any():
            ax.plot(x[ok], nm[ok], "x:", color="0.45", ms=6, label="permutation null (mean)")
    right = float(full_size) if full_size is not None else float(x.max())
    if fit is not None:
        predict = getattr(fit, "predict", None) or (fit if callable(fit) else None)
        if predict is not None:
            fx = np.geomspace(float(x.min()), max(right, float(x.max())), 200)
            fy = np.asarray(predict(fx), dtype=float)
            if mi_full is None and full_size is not None:
                mi_full = float(np.asarray(predict(np.array([right], float)), float)[0])
        else:
            fx, fy = (np.asarray(a, dtype=float) for a in fit)
            if fx.shape != fy.shape or fx.ndim != 1:
                raise ValueError(
                    "plot_safe_session_curve: fit must be a callable or two 1-D "
                    "arrays (sizes, mi) of the same length"
                )
        ok = fy > 0
        ax.plot(fx[ok], fy[ok], "--", color="C1", lw=1.5, label="power-law fit")
    if full_size is not None:
        ax.axvline(right, color="0.5", ls=":", lw=1, label=f"full size = {right:,.0f}")
    if mi_full is not None and full_size is not None and mi_full > 0:
        if mi_full_low is not None and mi_full_high is not None:
            ax.vlines(
                [right],
                [max(mi_full_low, mi_full * 1e-3)],
                [mi_full_high],
                color="C3",
                lw=2,
                alpha=0.6,
            )
        ax.plot(
            [right],
            [mi_full],
            "*",
            color="C3",
            ms=12,
            label=f"extrapolated MI = {mi_full:.3g} bits",
        )
    if safe_session_size is not None:
        text = f"safe session size: {safe_session_size:,.0f} observations"
        text += (
            f"\n(adversary success probability < {success:g})"
            if success is not None
            else "\n(Fano bound 1 / MI)"
        )
        ax.text(
            0.03,
            0.04,
            text,
            transform=ax.transAxes,
            fontsize=10,
            weight="bold",
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "C3"},
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    _finish(
        ax,
        _label("target_size"),
        "MI(H;O) (bits)",
        title or "Self-evaluation: MI vs target size, extrapolated",
    )
    return fig
