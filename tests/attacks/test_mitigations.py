"""Mitigations: parsing, chunking, output wrappers, the sweep axis and the trade-off table."""

from __future__ import annotations

import numpy as np
import pytest
from attack_cases import FOREST, TARGET_SIZE

from fidelity.attacks import run_attack
from fidelity.evaluation import MITIGATION_COLUMNS, evaluate_mitigations
from fidelity.experiment import RESULT_COLUMNS, SweepConfig, SweepGrid, run_config
from fidelity.mitigations import NoisyOutput, TopKOutput, parse_mitigation
from fidelity.plots import plot_tradeoff
from fidelity.recommenders import make_recommender
from fidelity.split import chunk_users, split_providers


def test_parse_mitigation():
    assert parse_mitigation("none").name == "none"
    assert parse_mitigation("chunk:5").name == "chunk:5"
    assert parse_mitigation("noise:0.25").name == "noise:0.25"
    for bad in ("chunk", "chunk:0", "chunk:2.5", "noise:2", "train:0.5", "blur:1", "none:1"):
        with pytest.raises(ValueError, match=r"mitigation must be one of|takes no value"):
            parse_mitigation(bad)


def test_chunk_users_caps_observations_per_user(observations):
    chunked = chunk_users(observations, 4)
    assert len(chunked) == len(observations)
    np.testing.assert_array_equal(chunked.next_item, observations.next_item)
    _, counts = np.unique(chunked.user, return_counts=True)
    assert counts.max() <= 4
    # every pseudo-user comes from exactly one user, in consecutive rows
    for code in np.unique(chunked.user)[:50]:
        rows = np.flatnonzero(chunked.user == code)
        assert len(np.unique(observations.user[rows])) == 1
        assert np.all(np.diff(rows) == 1)
    assert chunked.n_users == sum(
        -(-c // 4) for c in np.unique(observations.user, return_counts=True)[1]
    )
    with pytest.raises(ValueError, match="max_observations must be an int >= 1"):
        chunk_users(observations, 0)


@pytest.mark.parametrize("wrapper", [TopKOutput, NoisyOutput])
def test_output_wrappers(planted, wrapper):
    split, _ = planted
    base = make_recommender("markov")
    params = {"k": 5} if wrapper is TopKOutput else {"strength": 0.7, "random_state": 4}
    model = wrapper(base=base, **params).fit(split.target)
    obs = split.adversary
    scores = model.score(obs.item[:300], obs.timing[:300])
    np.testing.assert_allclose(scores.sum(axis=1), 1.0)
    same = model.score(obs.item[:300], obs.timing[:300], dedup=False)
    np.testing.assert_allclose(scores, same)  # the noise is a function of the query
    plain = base.fit(split.target).score(obs.item[:300], obs.timing[:300])
    if wrapper is TopKOutput:
        assert ((scores > 0).sum(axis=1) <= 5).all()
        np.testing.assert_array_equal(scores.argmax(axis=1), plain.argmax(axis=1))
    else:
        assert not np.allclose(scores, plain)


def test_chunking_lowers_reference_auc_on_planted_case(observations):
    aucs = {}
    for name in ("none", "chunk:2"):
        mitigation = parse_mitigation(name)
        data, size = mitigation.prepare(observations, TARGET_SIZE)
        split = split_providers(data, overlap=0.5, target_size=size, random_state=0)
        model = make_recommender("random_forest", random_state=1, **FOREST).fit(split.target)
        result = run_attack(
            "reference",
            split,
            model,
            threat="scores",
            recommender="random_forest",
            recommender_params=FOREST,
            random_state=0,
        )
        aucs[name] = result.roc.auc
    assert aucs["chunk:2"] < aucs["none"] - 0.05, aucs


def test_sweep_mitigation_axis(observations):
    grid = SweepGrid(
        overlaps=(0.5,),
        target_sizes=(TARGET_SIZE,),
        recommenders=("markov",),
        attacks=("reference",),
        threats=("scores",),
        mitigations=("none", "noise:0.9"),
        n_permutations=0,
        n_bootstrap=0,
    )
    configs = grid.configs()
    assert [c.mitigation for c in configs] == ["none", "noise:0.9"]
    assert "mitigation" in RESULT_COLUMNS
    # rows of sweeps made before the mitigation axis keep their id
    assert (
        configs[0].config_id
        == SweepConfig(0.5, TARGET_SIZE, "markov", 0, "reference", "scores", 1, "shared").config_id
    )
    assert configs[0].config_id != configs[1].config_id
    rows = [run_config(observations, c, grid) for c in configs]
    assert rows[1]["mitigation"] == "noise:0.9"
    assert rows[1]["accuracy"] < rows[0]["accuracy"]
    with pytest.raises(ValueError, match="mitigation must be one of"):
        SweepGrid(mitigations=("blur",))


def test_evaluate_mitigations_table_and_plot(observations):
    table = evaluate_mitigations(
        observations,
        mitigations=("none", "chunk:3", "train:2"),
        recommender="random_forest",
        recommender_params=FOREST,
        target_size=TARGET_SIZE,
        n_bootstrap=20,
        random_state=0,
    )
    assert list(table.columns) == list(MITIGATION_COLUMNS)
    assert list(table["mitigation"]) == ["none", "chunk:3", "train:2"]
    assert table.loc[2, "n_target_obs"] > table.loc[0, "n_target_obs"]
    assert (table["auc_ci_low"] <= table["auc"]).all()
    fig = plot_tradeoff(
        table, x="accuracy", y="auc", label="mitigation", y_ci=("auc_ci_low", "auc_ci_high")
    )
    assert fig.axes
