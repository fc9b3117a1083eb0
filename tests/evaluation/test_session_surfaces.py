"""The validated size on every surface: the sweep rows, the CLI, the figure (issue 13)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from fidelity._validation import FidelityWarning
from fidelity.cli import main
from fidelity.data import make_sessions
from fidelity.evaluation import session_curve
from fidelity.experiment import SweepGrid, run_sweep
from fidelity.plots import plot_session_curve
from fidelity.scenario import Scenario


@pytest.fixture(scope="module")
def observations():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        return make_sessions(n_sessions=400, session_length=10, random_state=5).observations()


def test_sweep_rows_carry_the_validated_size(observations):
    grid = SweepGrid(
        overlaps=(0.5,),
        target_sizes=(40,),
        recommenders=("markov",),
        n_permutations=0,
        n_bootstrap=0,
        validated_size=True,
        session_grid=(1, 3, 9),
    )
    (row,) = run_sweep(observations, grid, show_progress=False).to_dict("records")
    curve = session_curve(
        observations,
        Scenario(0.5, 40, "markov", seed=0),
        grid=(1, 3, 9),
        measure_mi=False,
    )
    assert row["validated_safe_size"] == curve.validated.size
    assert bool(row["validated_at_least"]) == curve.validated.at_least
    off = run_sweep(
        observations, SweepGrid(**{**grid.to_dict(), "validated_size": False}), show_progress=False
    )
    assert np.isnan(off["validated_safe_size"].iloc[0])
    with pytest.raises(ValueError, match="tolerance must be in"):
        SweepGrid(session_tolerance=2.0)
    with pytest.raises(ValueError, match="integer >= 1"):
        SweepGrid(session_grid=(0,))


def test_cli_safe_session_leads_with_the_validated_size(capsys):
    argv = ["safe-session", "--sessions", "400", "--target-size", "40", "--recommender"]
    argv += ["markov", "--grid", "1,3", "--bootstrap", "20", "--no-extrapolation", "--quiet"]
    assert main(argv) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].startswith("attack-validated safe session size:")
    assert any(line.startswith("paper's data-only reading") for line in text[1:])
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"validated", "data_only", "curve", "model_aware", "verdict"}
    assert out["validated"]["validated_safe_size"] >= 0
    assert {row["n"] for row in out["curve"]} >= {1, 3}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--grid", ""], "empty grid"),
        (["--grid", "0,2"], "integer >= 1"),
        (["--grid", "2,x"], "--grid must list integers"),
        (["--tolerance", "0"], "tolerance must be in"),
        (["--tolerance", "1.2"], "tolerance must be in"),
        (["--attacks", "lira"], "attack must be one of"),
    ],
)
def test_cli_safe_session_bad_input_exits_2(capsys, extra, message):
    code = main(["safe-session", "--sessions", "200", "--quiet", "--no-extrapolation", *extra])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_figure_marks_tolerance_and_sizes(observations):
    curve = session_curve(
        observations, Scenario(0.5, 40, "markov", seed=0), grid=(1, 3, 9), n_bootstrap=20
    )
    fig = plot_session_curve(curve)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(lab.startswith("tolerance") for lab in labels)
    assert any(lab.startswith("validated safe size") for lab in labels)
    assert any("data-only Fano" in lab for lab in labels)
    assert len(fig.axes) == 2
    with pytest.raises(TypeError, match="SessionCurve"):
        plot_session_curve(object())


def test_cli_attack_json_carries_the_mi_reading(capsys):
    argv = ["attack", "--sessions", "400", "--recommender", "markov", "--target-size", "40"]
    assert main([*argv, "--permutations", "10", "--bootstrap", "20", "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("mi", "mi_estimator", "mi_plugin", "mi_null_mean", "mi_p_value", "mi_above_null"):
        assert key in out, key
    assert out["mi_estimator"] == "coverage-adjusted"
    assert out["mi_ci_low"] is None or out["mi_ci_low"] <= out["mi"] <= out["mi_ci_high"]


def test_cli_single_song_data_give_no_bound_from_mi(tmp_path, capsys):
    path = tmp_path / "one_song.csv"
    path.write_text("sid,song\n" + "".join(f"{s},A\n" for s in range(60) for _ in range(6)))
    argv = ["safe-session", "--data", str(path), "--format", "sessions", "--session-col", "sid"]
    argv += ["--item-col", "song", "--recommender", "markov", "--grid", "1,3", "--quiet"]
    assert main([*argv, "--bootstrap", "20"]) == 0
    text = capsys.readouterr().out
    assert "no bound from MI" in text and "paper's data-only reading" in text
    assert not any(len(tok) > 12 and tok.isdigit() for tok in text.split())  # no absurd size
