"""Outputs respect the umask (issue 16, defect 7): report and figures were written 0600."""

from __future__ import annotations

import os
import stat
import sys

import pandas as pd
import pytest
from matplotlib.figure import Figure

from fidelity.plots import save_figure
from fidelity.report import write_report

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@pytest.fixture
def umask():
    """Set the process umask for one test, then restore it."""
    saved = os.umask(0o022)
    os.umask(saved)

    def set_to(mask: int) -> None:
        os.umask(mask)

    yield set_to
    os.umask(saved)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _figure() -> Figure:
    fig = Figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    return fig


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_report_and_figures_follow_the_umask(tmp_path, umask, mask, expected):
    umask(mask)
    paths = save_figure(_figure(), tmp_path / "figures" / "curve", formats=("png", "svg"))
    report = write_report(
        tmp_path / "report.html", results=pd.DataFrame({"a": [1]}), figures={"c": _figure()}
    )
    for path in [*paths, report]:
        assert _mode(path) == expected, (path, oct(_mode(path)))
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.slow
def test_reproduce_outputs_are_0644_under_umask_022(tmp_path, umask, capsys):
    from fidelity.cli import main

    umask(0o022)
    grid = tmp_path / "grid.toml"
    grid.write_text(
        'overlaps = [0.0, 1.0]\ntarget_sizes = [50]\nrecommenders = ["markov"]\n'
        "n_permutations = 2\nn_bootstrap = 2\n"
    )
    out = tmp_path / "run"
    argv = ["reproduce", "--sessions", "300", "--grid", str(grid), "--n-jobs", "1"]
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    files = [p for p in out.rglob("*") if p.is_file()]
    assert (out / "report.html") in files and any(p.suffix == ".png" for p in files)
    assert {oct(_mode(p)) for p in files} == {oct(0o644)}
