"""Matplotlib figures of fidelity leakage: the paper's three figures, ROC, MI and trade-offs.

Every function builds its figure with the object-oriented API (:class:`matplotlib.figure.Figure`,
no ``pyplot``), so no GUI backend is needed and nothing is ever shown. Each takes an optional
``ax``: when given, the plot is drawn on it; otherwise a new figure with one axes is created.
Every function returns the :class:`~matplotlib.figure.Figure` that holds the axes (the axes is
``fig.axes[0]`` for a new figure, or the ``ax`` you passed). Save with :func:`save_figure`.

Sweep tables follow the tidy results schema (one row per configuration: ``overlap``,
``target_size``, ``recommender``, ``seed``, ``tp``, ``fp``, ``tpr``, ``mi``, ...). Values are
averaged over seeds only: a table whose other configuration columns (``recommender``, ``attack``,
``threat``, ``k``, ``mode``, ``mitigation``) take several values must be narrowed with
``recommender=`` / ``select=`` first, or drawn with :func:`paper_figures` (one set per
configuration); mixing them silently is refused with a ``ValueError``.
"""

from fidelity.plots.attacks import plot_attack_comparison
from fidelity.plots.curves import plot_mi_estimate, plot_roc, plot_tradeoff
from fidelity.plots.risk import plot_user_risk, plot_user_risk_panels
from fidelity.plots.safe_session import plot_safe_session_curve
from fidelity.plots.saving import figure_bytes, save_figure
from fidelity.plots.session_curve import plot_session_curve
from fidelity.plots.sweep import paper_figures, plot_fp_rate, plot_mi, plot_tp_rate

__all__ = [
    "figure_bytes",
    "paper_figures",
    "plot_attack_comparison",
    "plot_fp_rate",
    "plot_mi",
    "plot_mi_estimate",
    "plot_roc",
    "plot_safe_session_curve",
    "plot_session_curve",
    "plot_tp_rate",
    "plot_tradeoff",
    "plot_user_risk",
    "plot_user_risk_panels",
    "save_figure",
]
