"""The comparison table and figure, and the ``fidelity attack`` command."""

from __future__ import annotations

import json

import numpy as np
from attack_cases import FOREST, TARGET_SIZE

from fidelity.cli import main
from fidelity.evaluation import COMPARISON_COLUMNS, compare_attacks
from fidelity.plots.attacks import plot_attack_comparison


def test_compare_attacks_and_figure(observations):
    table = compare_attacks(
        observations,
        attacks=("match", "reference"),
        threats=("label", "scores"),
        target_sizes=(TARGET_SIZE, 2 * TARGET_SIZE),
        recommender="random_forest",
        recommender_params=FOREST,
        n_bootstrap=20,
        random_state=0,
    )
    assert list(table.columns) == list(COMPARISON_COLUMNS)
    assert len(table) == 2 * 2 * 2
    assert (table["auc_ci_low"] <= table["auc_ci_high"]).all()
    assert table["agreement"].isna().all()  # only the mimic attack has one
    fig = plot_attack_comparison(table, "auc")
    assert len(fig.axes[0].get_lines()) >= 4


def test_cli_attack_json(capsys):
    for attack in ("reference", "shadow"):
        code = main(
            [
                "attack",
                "--sessions",
                "300",
                "--attack",
                attack,
                "--threat",
                "scores",
                "--target-size",
                "30",
                "--bootstrap",
                "20",
                "--overlap",
                "0.5",
                "--json",
                "--quiet",
            ]
        )
        assert code == 0
        out = json.loads(capsys.readouterr().out)
        for key in ("auc", "tpr_at_1pct_fpr", "tpr_at_0.1pct_fpr", "advantage"):
            assert np.isfinite(out[key]) and f"{key}_ci_low" in out and f"{key}_ci_high" in out
        assert out["attack"] == attack


def test_cli_rejects_misplaced_option(capsys):
    code = main(["attack", "--sessions", "200", "--attack", "match", "--references", "4"])
    assert code == 2
    # the flag is shared by the attacks that train reference models
    assert "--references applies to --attack reference or rmia only" in capsys.readouterr().err
