"""A resumed sweep reuses only rows of the same fingerprint (issue 16, defects 1 and 6).

The row store is keyed by the data's digest, every measurement option of the grid and
the fidelity version; a row file's content is checked against its name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import fidelity.experiment.fingerprint as fingerprint_module
import fidelity.experiment.runner as runner
from fidelity.cli import main
from fidelity.data.synthetic import make_sessions
from fidelity.data.tables import Observations
from fidelity.experiment import (
    RESULT_COLUMNS,
    ResumeError,
    SweepGrid,
    data_digest,
    run_sweep,
    sweep_fingerprint,
)
from fidelity.experiment.store import MANIFEST

COMPARED = [c for c in RESULT_COLUMNS if c != "elapsed_s"]


@pytest.fixture(scope="module")
def observations() -> Observations:
    return make_sessions(n_sessions=300, random_state=7).observations()


@pytest.fixture(scope="module")
def other_observations() -> Observations:
    return make_sessions(n_sessions=300, random_state=8).observations()


def tiny_grid(**changes) -> SweepGrid:
    base = dict(
        overlaps=(0.0, 1.0),
        target_sizes=(50,),
        recommenders=("markov",),
        n_permutations=2,
        n_bootstrap=2,
    )
    return SweepGrid(**{**base, **changes})


@pytest.fixture
def counted(monkeypatch):
    """Count the scenarios actually computed (local executor, this process)."""
    real = runner.run_scenario
    calls = {"n": 0}

    def counting(*args, **kwargs):
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "run_scenario", counting)
    return calls


def test_resume_with_changed_data_is_refused_and_overwrite_recomputes(
    observations, other_observations, tmp_path, counted
):
    grid = tiny_grid()
    first = run_sweep(observations, grid, out=tmp_path, show_progress=False)
    changed = r"the data changed \(digest [0-9a-f]{8} -> [0-9a-f]{8}\)"
    with pytest.raises(ResumeError, match=changed):
        run_sweep(other_observations, grid, out=tmp_path, show_progress=False)
    assert counted["n"] == 2  # the refused run computed nothing
    # the old rows and table are still there, untouched
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "results.parquet"), first)

    fresh = run_sweep(other_observations, grid, show_progress=False)
    redone = run_sweep(other_observations, grid, out=tmp_path, overwrite=True, show_progress=False)
    pd.testing.assert_frame_equal(redone[COMPARED], fresh[COMPARED])
    assert not np.allclose(redone["mi"], first["mi"])  # the numbers are the new data's
    # and the new rows now resume
    n = counted["n"]
    again = run_sweep(other_observations, grid, out=tmp_path, show_progress=False)
    assert counted["n"] == n
    pd.testing.assert_frame_equal(again, redone)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"n_permutations": 3}, r"n_permutations changed \(2 -> 3\)"),
        ({"n_bootstrap": 5}, r"n_bootstrap changed \(2 -> 5\)"),
        (
            {"recommender_params": {"markov": {"smoothing": 0.5}}},
            r'recommender_params changed \(\{\} -> \{"markov": \{"smoothing": 0.5\}\}\)',
        ),
    ],
)
def test_resume_with_a_changed_measurement_option_is_refused(
    observations, tmp_path, changes, named
):
    run_sweep(observations, tiny_grid(), out=tmp_path, show_progress=False)
    with pytest.raises(ResumeError, match=named) as err:
        run_sweep(observations, tiny_grid(**changes), out=tmp_path, show_progress=False)
    assert "overwrite=True" in str(err.value) and "\n" not in str(err.value)


def test_resume_with_another_fidelity_version_is_refused(observations, tmp_path, monkeypatch):
    run_sweep(observations, tiny_grid(), out=tmp_path, show_progress=False)
    monkeypatch.setattr(fingerprint_module, "__version__", "999.0")
    with pytest.raises(ResumeError, match=r"the fidelity version changed \(.+ -> 999.0\)"):
        run_sweep(observations, tiny_grid(), out=tmp_path, show_progress=False)


def test_same_settings_resume_and_new_configurations_are_added(observations, tmp_path, counted):
    run_sweep(observations, tiny_grid(), out=tmp_path, show_progress=False)
    assert counted["n"] == 2
    # more overlaps: a grid axis, not a measurement option; the old rows are reused
    wider = tiny_grid(overlaps=(0.0, 0.5, 1.0))
    table = run_sweep(observations, wider, out=tmp_path, show_progress=False)
    assert counted["n"] == 3
    fresh = run_sweep(observations, wider, show_progress=False)
    pd.testing.assert_frame_equal(table[COMPARED], fresh[COMPARED])


def _row_files(out):
    return sorted((out / "rows").glob("*.parquet"))


def test_a_row_copied_under_another_configurations_name_is_detected(observations, tmp_path):
    run_sweep(observations, tiny_grid(), out=tmp_path, show_progress=False)
    a, b = _row_files(tmp_path)
    shutil.copyfile(a, b)  # b's name now holds a's row
    with pytest.raises(ResumeError, match=rf"{b.stem}.parquet: holds the row of configuration "):
        run_sweep(observations, tiny_grid(), out=tmp_path, show_progress=False)


def test_a_row_of_another_sweep_copied_in_is_detected(observations, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    run_sweep(observations, tiny_grid(), out=one, show_progress=False)
    run_sweep(observations, tiny_grid(n_bootstrap=3), out=two, show_progress=False)
    theirs = _row_files(two)[0]
    shutil.copyfile(theirs, one / "rows" / theirs.name)
    with pytest.raises(ResumeError, match="computed for another sweep"):
        run_sweep(observations, tiny_grid(), out=one, show_progress=False)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_bytes(b""), "not a readable row file"),
        (lambda p: p.write_bytes(p.read_bytes()[:40]), "not a readable row file"),
        (
            lambda p: pd.DataFrame(columns=list(RESULT_COLUMNS)).to_parquet(p),
            "holds 0 rows, a row file holds 1",
        ),
        (
            lambda p: pd.read_parquet(p).to_parquet(p),  # rewritten without its key
            "a row file without its fingerprint",
        ),
    ],
    ids=["empty", "truncated", "no-rows", "no-key"],
)
def test_a_damaged_row_file_is_a_clear_error(observations, tmp_path, damage, message):
    run_sweep(observations, tiny_grid(), out=tmp_path, show_progress=False)
    damage(_row_files(tmp_path)[0])
    with pytest.raises(ResumeError, match=message) as err:
        run_sweep(observations, tiny_grid(), out=tmp_path, show_progress=False)
    assert "\n" not in str(err.value)
    # and overwrite recovers
    run_sweep(observations, tiny_grid(), out=tmp_path, overwrite=True, show_progress=False)


def test_rows_without_a_manifest_are_refused(observations, tmp_path):
    run_sweep(observations, tiny_grid(), out=tmp_path, show_progress=False)
    (tmp_path / "rows" / MANIFEST).unlink()
    with pytest.raises(ResumeError, match=r"2 row\(s\) without a fingerprint"):
        run_sweep(observations, tiny_grid(), out=tmp_path, show_progress=False)


def test_the_manifest_names_every_part_of_the_fingerprint(observations, tmp_path):
    run_sweep(observations, tiny_grid(), out=tmp_path, show_progress=False)
    parts = json.loads((tmp_path / "rows" / MANIFEST).read_text())["parts"]
    assert parts["data"] == data_digest(observations)
    assert parts["n_permutations"] == 2 and parts["n_bootstrap"] == 2
    assert parts["recommender_params"] == {}
    assert parts["fidelity"] == fingerprint_module.__version__
    # grid axes are in each row's config id, not in the fingerprint
    assert not {"overlaps", "target_sizes", "seeds", "k", "mode"} & set(parts)


def test_data_digest_follows_the_content_only(observations):
    same = make_sessions(n_sessions=300, random_state=7).observations()
    assert data_digest(same) == data_digest(observations)
    timing = observations.timing.copy()
    timing[5, 0] += 1
    changed = Observations(
        user=observations.user,
        session=observations.session,
        item=observations.item,
        next_item=observations.next_item,
        timing=timing,
        timing_names=observations.timing_names,
        item_ids=observations.item_ids,
        user_ids=observations.user_ids,
        session_ids=observations.session_ids,
    )
    assert data_digest(changed) != data_digest(observations)


def test_data_digest_is_the_same_in_another_process(observations):
    code = (
        "from fidelity.data.synthetic import make_sessions; "
        "from fidelity.experiment import data_digest; "
        "print(data_digest(make_sessions(n_sessions=300, random_state=7).observations()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == data_digest(observations)


def test_fingerprint_holds_options_added_to_the_grid_later(observations):
    parts = sweep_fingerprint(observations, tiny_grid())
    assert set(parts) >= {"store_format", "fidelity", "data", "n_permutations", "n_bootstrap"}


@pytest.mark.dask
def test_resume_on_dask_is_refused_with_changed_data_and_reuses_same_rows(
    observations, other_observations, tmp_path, client
):
    grid = tiny_grid()
    first = run_sweep(observations, grid, out=tmp_path, scheduler=client, show_progress=False)
    with pytest.raises(ResumeError, match="the data changed"):
        run_sweep(other_observations, grid, out=tmp_path, scheduler=client, show_progress=False)
    before = {p.name: p.stat().st_mtime_ns for p in _row_files(tmp_path)}
    again = run_sweep(observations, grid, out=tmp_path, scheduler=client, show_progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in _row_files(tmp_path)} == before
    pd.testing.assert_frame_equal(again, first)
    local = run_sweep(observations, grid, show_progress=False)
    pd.testing.assert_frame_equal(first[COMPARED], local[COMPARED])


@pytest.mark.slow
def test_cli_resume_with_another_seed_is_refused_then_overwritten(tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text(
        'overlaps = [0.0, 1.0]\ntarget_sizes = [50]\nrecommenders = ["markov"]\n'
        "n_permutations = 2\nn_bootstrap = 2\n"
    )
    out = tmp_path / "run"
    argv = ["reproduce", "--sessions", "300", "--grid", str(grid), "--n-jobs", "1"]
    argv += ["--out", str(out), "--quiet"]
    assert main(argv) == 0
    report = (out / "report.html").read_bytes()
    capsys.readouterr()
    code = main([*argv, "--seed", "1"])  # other synthetic data
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "the data changed" in err and "--overwrite" in err
    assert (out / "report.html").read_bytes() == report  # nothing rewritten
    assert main([*argv, "--seed", "1", "--overwrite"]) == 0
    assert (out / "report.html").read_bytes() != report
