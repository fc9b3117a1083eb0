"""fit_target: one split and one model per configuration, shared by every entry point."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fidelity._validation import FidelityWarning
from fidelity.attacks import ATTACKS, AttackSpec, register_attack, run_attack, unregister_attack
from fidelity.cli import build_parser, main
from fidelity.data import Observations, make_sessions
from fidelity.evaluation import compare_attacks, evaluate_mitigations
from fidelity.experiment import SweepConfig, SweepGrid, run_config, run_sweep
from fidelity.pipeline import roc_curves
from fidelity.scenario import Scenario, fit_target
from fidelity.split import chunk_users, target_pool_size

FOREST = {"random_forest": {"n_estimators": 3}}


@pytest.fixture(scope="module")
def observations():
    return make_sessions(n_sessions=300, random_state=4).observations()


def test_same_config_same_split_and_model(observations):
    config = SweepConfig(overlap=0.5, target_size=60, recommender="random_forest", seed=3)
    one = fit_target(observations, config.scenario(FOREST))
    two = fit_target(observations, config.scenario(FOREST))
    np.testing.assert_array_equal(one.split.member_mask, two.split.member_mask)
    query = one.split.adversary
    np.testing.assert_array_equal(
        one.model.score(query.item, query.timing), two.model.score(query.item, query.timing)
    )
    other = fit_target(observations, SweepConfig(0.5, 60, "random_forest", seed=4).scenario(FOREST))
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


# --------------------------------------------------------------------------- issue 12
def _users(n_users: int) -> Observations:
    """``n_users`` synthetic users owning two sessions each on average."""
    sessions = make_sessions(n_sessions=n_users * 2, n_users=n_users, random_state=1)
    return sessions.observations()


@pytest.mark.parametrize("mitigation", ["train:4", "chunk:2"])
def test_odd_number_of_users_fits_with_rescaling_mitigations(mitigation):
    """21 users: T's pool is 10 users; train:F and chunk:N rescale within that one rule."""
    observations = _users(21)
    assert observations.n_users == 21
    scenario = Scenario(
        overlap=0.5, target_size=3, recommender="markov", seed=0, mitigation=mitigation
    )
    fitted = fit_target(observations, scenario)
    pool = target_pool_size(
        observations.n_users if mitigation == "train:4" else chunk_users(observations, 2).n_users
    )
    assert 1 <= len(fitted.split.target_users) <= pool
    row = run_config(
        observations,
        SweepConfig(0.5, 3, "markov", 0, mitigation=mitigation),
        SweepGrid(
            overlaps=(0.5,),
            target_sizes=(3,),
            recommenders=("markov",),
            n_permutations=0,
            n_bootstrap=0,
        ),
    )
    assert row["n_target_users"] == len(fitted.split.target_users)


def test_split_history_report_roc_is_the_sweep_rows_split():
    observations = make_sessions(n_sessions=600, n_users=150, random_state=2).observations()
    grid = SweepGrid(
        overlaps=(0.5,),
        target_sizes=(30,),
        recommenders=("markov",),
        seeds=(3,),
        mode="split-history",
        n_permutations=0,
        n_bootstrap=0,
    )
    with pytest.warns(FidelityWarning, match="own a single session and are left out"):
        (row,) = run_sweep(observations, grid, show_progress=False).to_dict("records")
        curves = roc_curves(observations, grid)
    assert curves["markov, label"].auc == pytest.approx(row["auc"], abs=1e-12)
    assert curves["markov, label"].n_members == row["n_members"]
    shared = SweepGrid(**{**grid.to_dict(), "mode": "shared"})
    (shared_row,) = run_sweep(observations, shared, show_progress=False).to_dict("records")
    assert shared_row["n_adversary_obs"] != row["n_adversary_obs"]  # the mode is not ignored


def test_compare_attacks_rows_are_the_sweep_rows(observations):
    grid = SweepGrid(
        overlaps=(0.5,),
        target_sizes=(60, 120),
        recommenders=("random_forest",),
        seeds=(4,),
        attacks=("match", "reference"),
        threats=("label", "scores"),
        k=5,
        recommender_params=FOREST,
        n_permutations=0,
        n_bootstrap=0,
    )
    table = run_sweep(observations, grid, show_progress=False)
    compared = compare_attacks(
        observations,
        attacks=("match", "reference"),
        threats=("label", "scores"),
        target_sizes=(60, 120),
        recommender="random_forest",
        recommender_params=FOREST["random_forest"],
        overlap=0.5,
        k=5,
        n_bootstrap=0,
        random_state=4,
    )
    merged = table.merge(compared, on=["attack", "threat", "target_size"], suffixes=("", "_cmp"))
    assert len(merged) == len(table) == 8
    for key in ("auc", "advantage", "tpr_at_1pct_fpr", "n_members"):
        np.testing.assert_allclose(merged[key], merged[f"{key}_cmp"], rtol=0, atol=1e-12)


def test_an_attack_is_one_function_and_one_registry_entry(observations):
    """A tiny attack: registered once, it runs through run_attack, evaluate and the sweep."""

    def prepare_count(split, model, *, threat, k, **_):
        # evidence: the observation's song is among the target's top-k songs for itself
        answers = model.recommend(split.adversary.item, split.adversary.timing, k=k)
        return (answers == split.adversary.item[:, None]).any(axis=1).astype(float)

    spec = AttackSpec("self_loop", prepare_count, threats=("label", "topk"))
    register_attack(spec)
    try:
        assert "self_loop" in ATTACKS
        fitted = fit_target(observations, Scenario(0.5, 60, "markov", seed=1))
        result = run_attack("self_loop", fitted.split, fitted.model, threat="topk", k=3)
        assert result.attack == "self_loop"
        np.testing.assert_array_equal(result.users, fitted.split.adversary_users)
        assert 0.0 <= result.roc.auc <= 1.0
        grid = SweepGrid(
            overlaps=(0.5,),
            target_sizes=(60,),
            recommenders=("markov",),
            seeds=(1,),
            attacks=("match", "self_loop"),
            threats=("topk",),
            k=3,
            n_permutations=0,
            n_bootstrap=0,
        )
        table = run_sweep(observations, grid, show_progress=False)
        (own,) = table[table.attack == "self_loop"].to_dict("records")
        assert own["auc"] == pytest.approx(result.roc.auc, abs=1e-12)
        with pytest.raises(ValueError, match="does not support"):
            SweepGrid(attacks=("self_loop",), threats=("scores",))
        assert (
            "self_loop"
            in build_parser()._subparsers._group_actions[0].choices["attack"].format_help()
        )
    finally:
        unregister_attack("self_loop")
    assert "self_loop" not in ATTACKS
