"""End-to-end sweep on small synthetic data (issue 5 acceptance)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fidelity.experiment.runner as runner
from fidelity.data.synthetic import make_sessions
from fidelity.experiment import RESULT_COLUMNS, SweepGrid, run_sweep

# Deterministic columns: everything but the wall time.
COMPARED = [c for c in RESULT_COLUMNS if c != "elapsed_s"]


@pytest.fixture(scope="module")
def observations():
    return make_sessions(n_sessions=1200, random_state=7).observations()


@pytest.fixture(scope="module")
def grid():
    return SweepGrid(
        overlaps=(0.0, 0.5, 1.0),
        target_sizes=(200, 400),
        recommenders=("markov",),
        seeds=(0, 1),
        n_permutations=4,
        n_bootstrap=4,
    )


@pytest.fixture(scope="module")
def table(observations, grid):
    return run_sweep(observations, grid, show_progress=False)


def test_table_shape_and_rates(table, grid):
    assert list(table.columns) == list(RESULT_COLUMNS)
    assert len(table) == len(grid.configs())
    # paper-convention rates are fractions of all adversary observations
    np.testing.assert_allclose(table[["tp", "fp", "tn", "fn"]].sum(axis=1), 1.0)
    assert (table["n_members"] <= table["n_adversary_users"]).all()
    assert table["config_id"].is_unique


def test_tp_rises_with_overlap_and_fp_falls(table):
    mean = table.groupby(["target_size", "overlap"])[["tp", "fp"]].mean()
    for size in table["target_size"].unique():
        tp = mean.loc[size, "tp"].to_numpy()
        fp = mean.loc[size, "fp"].to_numpy()
        assert np.all(np.diff(tp) > 0), tp
        assert np.all(np.diff(fp) < 0), fp
    # no common user: nothing to find
    assert (table.loc[table.overlap == 0, "tp"] == 0).all()


def test_mi_falls_with_target_size(table):
    mi = table.groupby("target_size")["mi"].mean()
    assert mi.loc[200] > mi.loc[400]


def test_same_numbers_for_any_n_jobs(observations, grid, table):
    parallel = run_sweep(observations, grid, n_jobs=2, show_progress=False)
    pd.testing.assert_frame_equal(table[COMPARED], parallel[COMPARED])


def test_resume_after_interruption_gives_the_same_table(
    observations, grid, table, tmp_path, monkeypatch
):
    real = runner.run_scenario  # one call per scenario (one configuration each here)
    calls = {"n": 0}

    def dies_on_the_fifth(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "run_scenario", dies_on_the_fifth)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(observations, grid, out=tmp_path, show_progress=False)
    rows = list((tmp_path / "rows").glob("*.parquet"))
    assert len(rows) == 4  # every finished row was kept, nothing half-written
    assert not list(tmp_path.rglob("*.tmp"))
    assert not (tmp_path / "results.csv").exists()  # no table passed off as complete

    monkeypatch.setattr(runner, "run_scenario", real)
    resumed = run_sweep(observations, grid, out=tmp_path, show_progress=False)
    pd.testing.assert_frame_equal(table[COMPARED], resumed[COMPARED])
    on_disk = pd.read_csv(tmp_path / "results.csv")
    assert len(on_disk) == len(table)


def test_grid_from_toml(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(
        'overlaps = [0.0, 1.0]\ntarget_sizes = [50, "all"]\nrecommenders = ["markov"]\n'
        "seeds = [3]\n[recommender_params.markov]\nsmoothing = 0.5\n"
    )
    grid = SweepGrid.from_toml(path)
    assert grid.target_sizes == (50, None)
    assert grid.recommender_params == {"markov": {"smoothing": 0.5}}
    assert len(grid.configs()) == 4


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("overlapz = [0.5]\n", r"unknown key\(s\) \['overlapz'\]"),
        ("overlaps = [2.0]\n", r"overlaps must be in \[0.0, 1.0\]; got 2.0"),
        ("overlaps = [\n", "not valid TOML"),
        ("mode = 'both'\n", "mode must be one of"),
    ],
)
def test_bad_grid_files(tmp_path, text, match):
    path = tmp_path / "grid.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        SweepGrid.from_toml(path)


def test_target_size_too_large_is_refused(observations):
    with pytest.raises(ValueError, match=r"target_sizes \[5000\] exceed"):
        run_sweep(observations, SweepGrid(target_sizes=(5000,)), show_progress=False)


def test_mi_null_is_the_null_of_the_plugin_column(table):
    # At these sizes the plug-in MI between disjoint providers is mostly a
    # finite-sample effect, so its user-level permutation null sits close to it. (The null of
    # the Miller-Madow estimate would sit far below the plug-in value.)
    # (``mi`` is the default estimator's value; the plug-in is ``mi_plugin``.)
    disjoint = table[table.overlap == 0]
    assert np.all(np.abs(disjoint.mi_plugin - disjoint.mi_null_mean) < 0.3 * disjoint.mi_plugin)
    assert np.all(disjoint.mi_corrected < disjoint.mi_plugin)
    # the estimate is what is left above that null: small, never negative
    assert np.all((disjoint.mi >= 0) & (disjoint.mi < disjoint.mi_plugin))
