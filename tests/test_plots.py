"""Figures from small hand-made results tables (tidy schema of notes/RESULTS_SCHEMA.md)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from fidelity import FidelityWarning
from fidelity.plots import (
    paper_figures,
    plot_fp_rate,
    plot_mi,
    plot_mi_estimate,
    plot_roc,
    plot_safe_session_curve,
    plot_tp_rate,
    plot_tradeoff,
    save_figure,
)


def make_results(
    overlaps=(0.0, 0.5, 1.0), sizes=(100, 200, 400), seeds=(0, 1), recommenders=("markov",)
) -> pd.DataFrame:
    """A results table with every schema column and simple known values."""
    rows = []
    for rec, c, n, s in itertools.product(recommenders, overlaps, sizes, seeds):
        mi = 5.0 / n + 0.001 * s
        rows.append(
            {
                "overlap": c,
                "target_size": n,
                "recommender": rec,
                "seed": s,
                "attack": "match",
                "threat": "label",
                "k": 1,
                "mode": "shared",
                "n_adversary_users": 50,
                "n_target_users": n,
                "n_members": int(50 * c),
                "n_adversary_obs": 700,
                "n_target_obs": 14 * n,
                "accuracy": 0.4,
                "accuracy_holdout": 0.3,
                "tp": 0.3 * c + 0.01 * s,
                "fp": 0.3 * (1 - c) + 0.02 * s,
                "tn": 0.5 * (1 - c),
                "fn": 0.2 * c,
                "tpr": 0.6 + 0.01 * s,
                "fpr": 0.3 - 0.01 * s,
                "precision": 0.6,
                "obs_accuracy": 0.6,
                "auc": 0.7,
                "advantage": 0.3,
                "tpr_at_0.1pct_fpr": 0.01,
                "tpr_at_1pct_fpr": 0.05,
                "ppv": 0.6,
                "mi": mi,
                "mi_plugin": mi * 1.2,
                "mi_corrected": mi * 0.9,
                "mi_null_mean": mi * 0.8,
                "mi_null_std": mi * 0.01,
                "mi_p_value": 0.01,
                "mi_ci_low": mi * 0.95,
                "mi_ci_high": mi * 1.05,
                "fano_bound": 1 / mi,
                "safe_session_size": int(1 / mi),
                "elapsed_s": 0.1,
                "config_id": f"{rec}-{c}-{n}-{s}",
            }
        )
    return pd.DataFrame(rows)


def labelled_lines(ax):
    return [ln for ln in ax.lines if not ln.get_label().startswith("_")]


# ----------------------------------------------------------------------------- paper figures
@pytest.mark.parametrize("func, column", [(plot_tp_rate, "tp"), (plot_fp_rate, "fp")])
def test_rate_plot_one_line_per_overlap_with_mean_and_band(func, column):
    results = make_results()
    fig = func(results)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.lines) == 3
    assert [ln.get_label() for ln in ax.lines] == ["0", "0.5", "1"]
    for line, c in zip(ax.lines, (0.0, 0.5, 1.0), strict=True):
        np.testing.assert_array_equal(line.get_xdata(), [100, 200, 400])
        seed_values = [
            results.loc[(results.overlap == c) & (results.seed == s), column].to_numpy()
            for s in (0, 1)
        ]
        np.testing.assert_allclose(line.get_ydata(), (seed_values[0] + seed_values[1]) / 2)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 3  # min-max band over the 2 seeds, one per overlap
    assert "target size" in ax.get_xlabel()
    assert "fraction of all adversary observations" in ax.get_ylabel()
    assert ax.get_title() and ax.get_legend() is not None
    assert ax.get_legend().get_title().get_text() == "overlap c"
    assert ax.get_xscale() == "linear"


def test_rate_plot_single_seed_has_no_band_and_log_option():
    fig = plot_tp_rate(make_results(seeds=(0,), overlaps=(0.0, 0.25, 0.5, 1.0)), logx=True)
    ax = fig.axes[0]
    assert len(ax.lines) == 4
    assert not ax.collections
    assert ax.get_xscale() == "log"


def test_rate_plot_std_band_matches_seed_sd():
    results = make_results(overlaps=(0.5,), sizes=(100,), seeds=(0, 1, 2))
    ax = plot_tp_rate(results, band="std").axes[0]
    (band,) = ax.collections
    ys = band.get_paths()[0].vertices[:, 1]
    values = results["tp"].to_numpy()
    sd = values.std(ddof=1)
    assert np.isclose(ys.min(), values.mean() - sd) and np.isclose(ys.max(), values.mean() + sd)


def test_standard_convention_uses_tpr_fpr():
    results = make_results(seeds=(0,))
    ax = plot_tp_rate(results, convention="standard").axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 0.6)
    assert "TPR" in ax.get_ylabel()
    ax = plot_fp_rate(results, convention="standard").axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 0.3)
    with pytest.raises(ValueError, match="convention"):
        plot_tp_rate(results, convention="other")


@pytest.mark.parametrize(
    "func, column",
    [(plot_tp_rate, "tp"), (plot_fp_rate, "fp"), (plot_mi, "mi"), (plot_tp_rate, "overlap")],
)
def test_missing_column_is_named(func, column):
    results = make_results().drop(columns=[column])
    with pytest.raises(ValueError, match=f"'{column}'"):
        func(results)


def test_several_recommenders_need_a_choice():
    results = make_results(recommenders=("markov", "als"))
    with pytest.raises(ValueError, match="recommender"):
        plot_tp_rate(results)
    ax = plot_tp_rate(
        results.assign(tp=np.where(results.recommender == "als", 0.9, 0.1)), recommender="als"
    ).axes[0]
    assert all(np.allclose(ln.get_ydata(), 0.9) for ln in ax.lines)
    assert "als" in ax.get_title()
    with pytest.raises(ValueError, match="no row matches"):
        plot_tp_rate(results, recommender="bpr")
    with pytest.raises(ValueError, match="'mitigation'"):
        plot_tp_rate(results, select={"mitigation": "chunk"})


def test_select_filters_other_configuration_columns():
    a = make_results(seeds=(0,))
    results = pd.concat([a, a.assign(attack="reference", tp=0.77)], ignore_index=True)
    with pytest.raises(ValueError, match="'attack'"):
        plot_tp_rate(results)
    ax = plot_tp_rate(results, select={"attack": "reference"}).axes[0]
    assert all(np.allclose(ln.get_ydata(), 0.77) for ln in ax.lines)


def test_missing_target_size_uses_n_target_users_or_warns():
    results = make_results(seeds=(0,)).astype({"target_size": float})
    results.loc[results.target_size == 400, "target_size"] = np.nan
    ax = plot_tp_rate(results).axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [100, 200, 400])
    with pytest.warns(FidelityWarning, match="dropped 3 of 9"):
        ax = plot_tp_rate(results.drop(columns=["n_target_users"])).axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [100, 200])


def test_plot_mi_lines_ci_and_null_band():
    """Each interval around its own point: the estimate's CI, the plug-in's null band."""
    results = make_results()
    ax = plot_mi(results, logx=True, logy=True).axes[0]
    assert len(labelled_lines(ax)) == 3 == len(ax.lines)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 5.0 / np.array([100, 200, 400]) + 0.0005)
    cis = [c for c in ax.collections if isinstance(c, LineCollection)]
    nulls = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(cis) == 3 and not nulls  # the null belongs to the plug-in, not the estimate
    # CI bars span the envelope over seeds: lowest low (seed 0) to highest high (seed 1)
    seg = cis[0].get_segments()[0]
    assert np.isclose(seg[:, 1].min(), 0.05 * 0.95) and np.isclose(seg[:, 1].max(), 0.051 * 1.05)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "bits" in ax.get_ylabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "bootstrap CI" in legend
    # the paper's figure: the plug-in MI inside its permutation-null band, no CI
    ax = plot_mi(results, estimate="mi_plugin").axes[0]
    np.testing.assert_allclose(
        ax.lines[0].get_ydata(), 1.2 * (5.0 / np.array([100, 200, 400]) + 0.0005)
    )
    nulls = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(nulls) == 3 and not [c for c in ax.collections if isinstance(c, LineCollection)]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("null" in t for t in legend) and "plug-in" in ax.get_ylabel()
    # without CI/null columns: lines only
    bare = results.drop(columns=["mi_ci_low", "mi_ci_high", "mi_null_mean", "mi_null_std"])
    ax = plot_mi(bare, estimate="mi_corrected").axes[0]
    assert len(ax.lines) == 3 and not ax.collections
    assert "Miller-Madow" in ax.get_ylabel()


def test_paper_figures_one_set_per_recommender():
    figs = paper_figures(make_results(recommenders=("markov", "als"), seeds=(0,)))
    assert sorted(figs) == sorted(
        f"{k}_{r}" for k in ("tp_rate", "fp_rate", "mi") for r in ("markov", "als")
    )
    assert all(len(f.axes[0].lines) == 3 for f in figs.values())
    assert sorted(paper_figures(make_results(seeds=(0,)))) == ["fp_rate", "mi", "tp_rate"]


def test_given_axes_is_used():
    fig = Figure()
    axes = fig.subplots(1, 2)
    out = plot_tp_rate(make_results(), ax=axes[1])
    assert out is fig
    assert len(axes[1].lines) == 3 and not axes[0].lines
    with pytest.raises(TypeError, match="ax"):
        plot_tp_rate(make_results(), ax="not an axes")


# ----------------------------------------------------------------------------- ROC
def test_plot_roc_log_log_with_chance_and_auc_labels():
    n = 2000
    fpr = np.linspace(0, 1, n + 1)
    curves = {
        "match": SimpleNamespace(fpr=fpr, tpr=np.sqrt(fpr), auc=0.6667),
        "tuple": (np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.9, 1.0])),
    }
    ax = plot_roc(curves).axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert len(ax.lines) == len(curves) + 1
    labels = [ln.get_label() for ln in ax.lines]
    assert labels[0] == "match (AUC = 0.667)" and labels[1] == "tuple"
    assert "chance" in labels[2]
    # lower limit reaches 1/n when it is below 1e-3, else stays at 1e-3
    assert np.isclose(ax.get_xlim()[0], 1 / n) and ax.get_xlim()[1] == 1
    ax = plot_roc({"t": curves["tuple"]}).axes[0]
    assert np.isclose(ax.get_xlim()[0], 1e-3)
    assert np.all(ax.lines[0].get_xdata() >= 1e-3)
    assert "false positive rate" in ax.get_xlabel() and "true positive rate" in ax.get_ylabel()


def test_plot_roc_bad_input_names_curve():
    with pytest.raises(ValueError, match="'bad'"):
        plot_roc({"bad": (np.array([0, 0.5]), np.array([0, 0.5, 1]))})
    with pytest.raises(ValueError, match="'bad'"):
        plot_roc({"bad": (np.array([0, 1.5]), np.array([0, 1]))})
    with pytest.raises(TypeError, match="'bad'"):
        plot_roc({"bad": 3})
    with pytest.raises(ValueError, match="non-empty"):
        plot_roc({})


# ----------------------------------------------------------------------------- MI estimates
def test_plot_mi_estimate_objects_and_frames():
    ests = [
        SimpleNamespace(
            mi=0.233, ci_low=0.23, ci_high=0.236, null_mean=0.233, null_std=0.003, n_target=500
        ),
        SimpleNamespace(
            mi=0.1, ci_low=0.09, ci_high=0.11, null_mean=0.02, null_std=0.01, label="big"
        ),
    ]
    ax = plot_mi_estimate(ests).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["n_target = 500", "big"]
    (points,) = [c for c in ax.collections if c.get_offsets().shape == (2, 2)]
    faces = points.get_facecolors()
    assert np.allclose(faces[0][:3], 1.0)  # hollow: 0.233 is not above 0.233 + 2 * 0.003
    assert not np.allclose(faces[1][:3], 1.0)
    assert any("not above" in t.get_text() for t in ax.get_legend().get_texts())
    assert len(ax.patches) == 2  # null bands
    # a known p-value decides, whatever the null band says
    ax = plot_mi_estimate([SimpleNamespace(mi=0.1, null_mean=0.0, null_std=0.0, p_value=0.5)])
    (points,) = ax.axes[0].collections[-1:]
    assert np.allclose(points.get_facecolors()[0][:3], 1.0)
    ax = plot_mi_estimate({"a": ests[0]}).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a"]
    results = make_results(overlaps=(0.0,), seeds=(0,))
    ax = plot_mi_estimate(results).axes[0]
    assert len(ax.get_xticks()) == 3
    assert ax.get_xticklabels()[0].get_text() == "target_size=100"
    with pytest.raises(ValueError, match="'mi'"):
        plot_mi_estimate(results.drop(columns=["mi"]))
    with pytest.raises(TypeError, match="'mi'"):
        plot_mi_estimate([object()])


# ----------------------------------------------------------------------------- safe session
def test_plot_safe_session_curve():
    sizes = np.array([500, 1000, 2000, 4000])
    mi = 50 * sizes**-0.8

    def fit(n):
        return 50 * np.asarray(n, float) ** -0.8

    ax = plot_safe_session_curve(
        sizes,
        mi,
        fit,
        mi_ci_low=mi * 0.9,
        mi_ci_high=mi * 1.1,
        full_size=50_000,
        safe_session_size=1234,
        success=0.75,
    ).axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = {ln.get_label(): ln for ln in ax.lines}
    assert "power-law fit" in labels and "measured MI" in labels
    assert labels["power-law fit"].get_xdata().max() == pytest.approx(50_000)
    (star,) = [ln for lab, ln in labels.items() if lab.startswith("extrapolated MI")]
    assert star.get_ydata()[0] == pytest.approx(fit(50_000))
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "1,234" in texts and "0.75" in texts
    # fitted curve as arrays, no extrapolation
    ax = plot_safe_session_curve(sizes, mi, (sizes, mi)).axes[0]
    assert len(ax.lines) == 2
    with pytest.raises(ValueError, match="same length"):
        plot_safe_session_curve(sizes, mi[:2])
    with pytest.warns(FidelityWarning, match="1 of 4 MI values"):
        plot_safe_session_curve(sizes, np.array([0.1, 0.05, 0.0, 0.01]))


@dataclass(frozen=True)
class CurveEstimate:
    """Stand-in with the fields of fidelity.safe_session.SafeSessionEstimate that are drawn."""

    sizes: np.ndarray
    mi: np.ndarray
    mi_std: np.ndarray
    null_mean: np.ndarray
    slope: float
    intercept: float
    full_size: int
    mi_full: float
    mi_full_low: float
    mi_full_high: float
    safe_session_size: int
    safe_session_size_low: int
    safe_session_size_high: int
    success: float | None

    def predict(self, sizes):
        return np.exp(self.intercept + self.slope * np.log(np.asarray(sizes, dtype=float)))


def curve_estimate(**changes) -> CurveEstimate:
    sizes = np.array([50, 100, 200, 400])
    mi = np.exp(1.0 - 0.8 * np.log(sizes))
    fields = dict(
        sizes=sizes,
        mi=mi,
        mi_std=mi * 0.05,
        null_mean=mi * 0.5,
        slope=-0.8,
        intercept=1.0,
        full_size=20_000,
        mi_full=float(np.exp(1.0 - 0.8 * np.log(20_000))),
        mi_full_low=1e-3,
        mi_full_high=3e-3,
        safe_session_size=567,
        safe_session_size_low=333,
        safe_session_size_high=999,
        success=None,
    )
    fields.update(changes)
    return CurveEstimate(**fields)


def test_plot_safe_session_curve_from_estimate():
    est = curve_estimate()
    ax = plot_safe_session_curve(est).axes[0]
    labels = {ln.get_label(): ln for ln in ax.lines}
    np.testing.assert_allclose(labels["measured MI"].get_ydata(), est.mi)
    np.testing.assert_allclose(labels["permutation null (mean)"].get_ydata(), est.null_mean)
    assert labels["power-law fit"].get_xdata().max() == pytest.approx(20_000)
    (star,) = [ln for lab, ln in labels.items() if lab.startswith("extrapolated MI")]
    assert star.get_ydata()[0] == pytest.approx(est.mi_full)
    bars = [c for c in ax.collections if isinstance(c, LineCollection)]
    first = bars[0].get_segments()[0][:, 1]
    assert np.allclose(sorted(first), [est.mi[0] * 0.9, est.mi[0] * 1.1])  # mi ± 2 sd
    full = bars[1].get_segments()[0][:, 1]
    assert np.allclose(sorted(full), [1e-3, 3e-3])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "± 2 sd over repeats" in legend
    text = " ".join(t.get_text() for t in ax.texts)
    assert "567 observations" in text and "Fano bound" in text
    # keywords override the estimate's fields
    ax = plot_safe_session_curve(est, safe_session_size=12, success=0.9).axes[0]
    assert "12 observations" in ax.texts[0].get_text() and "0.9" in ax.texts[0].get_text()
    with pytest.raises(TypeError, match="sizes"):
        plot_safe_session_curve(object())


# ----------------------------------------------------------------------------- trade-off
def test_plot_tradeoff_groups_and_labels():
    table = pd.DataFrame(
        {
            "accuracy": [0.43, 0.40, 0.30, 0.41],
            "auc": [0.9, 0.8, 0.6, 0.85],
            "auc_ci_low": [0.88, 0.77, 0.55, 0.8],
            "auc_ci_high": [0.92, 0.83, 0.65, 0.9],
            "mitigation": ["none", "chunk", "chunk", "topk"],
            "param": ["", "N=10", "N=2", "k=5"],
        }
    )
    ax = plot_tradeoff(
        table, label="param", group="mitigation", y_ci=("auc_ci_low", "auc_ci_high")
    ).axes[0]
    groups = [ln for ln in ax.lines if not ln.get_label().startswith("_")]
    assert sorted(ln.get_label() for ln in groups) == ["chunk", "none", "topk"]
    chunk = next(ln for ln in groups if ln.get_label() == "chunk")
    np.testing.assert_array_equal(chunk.get_xdata(), [0.30, 0.40])  # sorted by x
    assert len(ax.texts) == 4
    assert "accuracy" in ax.get_xlabel() and "AUC" in ax.get_ylabel()
    ax = plot_tradeoff(table).axes[0]
    assert [t.get_text() for t in ax.texts] == ["chunk", "chunk", "topk", "none"]
    with pytest.raises(ValueError, match="'tpr_at_1pct_fpr'"):
        plot_tradeoff(table, y="tpr_at_1pct_fpr")


# ----------------------------------------------------------------------------- saving
def test_save_figure_writes_png_and_svg_without_temp_files(tmp_path):
    fig = plot_tp_rate(make_results())
    paths = save_figure(fig, tmp_path / "sub" / "tp.rate")
    assert [p.name for p in paths] == ["tp.rate.png", "tp.rate.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in paths[1].read_bytes()[:2000]
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["tp.rate.png", "tp.rate.svg"]
    with pytest.raises(ValueError, match="formats"):
        save_figure(fig, tmp_path / "x", formats=("png", "gif"))
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["tp.rate.png", "tp.rate.svg"]
    assert not list(tmp_path.glob("x*"))


def test_save_figure_failure_leaves_nothing(tmp_path):
    class Broken(Figure):
        def savefig(self, fname, **kwargs):
            if kwargs.get("format") == "svg":
                fname.write(b"<svg partial")
                raise RuntimeError("disk full")
            return super().savefig(fname, **kwargs)

    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(Broken(), tmp_path / "fig")
    assert list(tmp_path.iterdir()) == []
