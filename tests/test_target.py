"""fit_target: one split and one model per configuration, shared by every entry point."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fidelity.attacks import evaluate_mitigations
from fidelity.cli import main
from fidelity.data import make_sessions
from fidelity.experiment import SweepConfig, SweepGrid, run_config, run_sweep
from fidelity.pipeline import roc_curves
from fidelity.target import fit_target

FOREST = {"random_forest": {"n_estimators": 3}}


@pytest.fixture(scope="module")
def observations():
    return make_sessions(n_sessions=300, random_state=4).observations()


def test_same_config_same_split_and_model(observations):
    config = SweepConfig(overlap=0.5, target_size=60, recommender="random_forest", seed=3)
    one = fit_target(observations, config, FOREST)
    two = fit_target(observations, config, FOREST)
    np.testing.assert_array_equal(one.split.member_mask, two.split.member_mask)
    query = one.split.adversary
    np.testing.assert_array_equal(
        one.model.score(query.item, query.timing), two.model.score(query.item, query.timing)
    )
    other = fit_target(observations, SweepConfig(0.5, 60, "random_forest", seed=4), FOREST)
    assert not np.array_equal(one.split.member_mask, other.split.member_mask)


def test_report_roc_is_the_sweep_rows_attack(observations):
    grid = SweepGrid(
        overlaps=(0.5,),
        target_sizes=(60, 120),
        recommenders=("random_forest",),
        seeds=(7,),
        recommender_params=FOREST,
        n_permutations=0,
        n_bootstrap=0,
    )
    table = run_sweep(observations, grid, show_progress=False)
    row = table[(table.target_size == 60)].iloc[0]
    curves = roc_curves(observations, grid)
    assert curves["random_forest, label"].auc == pytest.approx(row["auc"], abs=1e-12)


def test_cli_attack_is_the_sweep_rows_attack(observations, capsys):
    grid = SweepGrid(
        overlaps=(0.5,),
        target_sizes=(60,),
        recommenders=("markov",),
        seeds=(5,),
        n_permutations=0,
        n_bootstrap=0,
    )
    data = make_sessions(n_sessions=300, random_state=5).observations()  # the CLI's data
    (config,) = grid.configs()
    row = run_config(data, config, grid)
    argv = ["attack", "--sessions", "300", "--seed", "5", "--overlap", "0.5"]
    argv += ["--target-size", "60", "--recommender", "markov", "--json", "--quiet"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("auc", "advantage", "tp", "fp"):
        assert result[key] == pytest.approx(row[key], abs=1e-12), key


def test_mitigation_none_row_is_the_sweep_row(observations):
    config = SweepConfig(overlap=0.5, target_size=60, recommender="markov", seed=2)
    grid = SweepGrid(
        overlaps=(0.5,),
        target_sizes=(60,),
        recommenders=("markov",),
        seeds=(2,),
        n_permutations=0,
        n_bootstrap=0,
    )
    row = run_config(observations, config, grid)
    table = evaluate_mitigations(
        observations,
        mitigations=("none",),
        overlap=0.5,
        target_size=60,
        recommender="markov",
        attack="match",
        threat="label",
        k=1,
        n_bootstrap=0,
        random_state=2,
        show_progress=False,
    )
    assert table.iloc[0]["auc"] == pytest.approx(row["auc"], abs=1e-12)
    assert table.iloc[0]["mi"] == pytest.approx(row["mi"], abs=1e-12)
