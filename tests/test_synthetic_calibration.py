"""The synthetic default leaks like the MSSD aidl sample, on what fidelity measures.

The comparison itself is ``benchmarks/calibrate_synthetic.py`` (loaded here from its
file). At its reduced size (``QUICK``: 10 trees, 2 reference models, 5 folds, the
in-sample accuracy on 3,000 users, the same on both data sets) one run takes about 10 s
on the synthetic default and 5 s on the sample, on one core.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from fidelity.data import make_sessions
from fidelity.data.synthetic import CALIBRATION, CALIBRATION_COMMAND, calibration_table

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "calibrate_synthetic.py"
HEADLINE = ("auc: match label, target 500", "auc: reference scores, target 500")


@pytest.fixture(scope="module")
def cal():
    spec = importlib.util.spec_from_file_location("calibrate_synthetic", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.fixture(scope="module")
def default_observations():
    return make_sessions(random_state=0).observations()


@pytest.fixture(scope="module")
def quick_synthetic(cal, default_observations):
    return cal.measure(default_observations, cal.QUICK)


def test_documented_table_is_complete_and_within_tolerance(cal):
    table = calibration_table()
    assert list(table.columns) == [
        "figure",
        "synthetic",
        "mssd",
        "tolerance",
        "relative",
        "within",
    ]
    assert table["within"].all()
    # one row per figure the script measures, with the script's tolerances
    settings = cal.Settings()
    assert len(CALIBRATION) == 2 + 2 * len(settings.attack_sizes) + len(settings.mi_sizes)
    for figure in CALIBRATION:
        kind, tol = cal.TOLERANCES[figure.figure.split(":")[0]]
        assert (figure.relative, figure.tolerance) == (kind == "rel", tol)
    assert CALIBRATION_COMMAND.endswith("benchmarks/calibrate_synthetic.py")
    # within is a real check: a figure out of tolerance says so
    far = type(CALIBRATION[0])("auc: x", 0.70, 0.62, 0.05)
    near = type(CALIBRATION[0])("mi: x", 0.19, 0.17, 0.2, relative=True)
    assert not far.within and near.within


@pytest.mark.slow
def test_documented_synthetic_column_is_what_the_generator_gives(cal, default_observations):
    """The full-size run of the script reproduces the table's synthetic column."""
    figures = cal.measure(default_observations, cal.Settings())
    assert list(figures) == [f.figure for f in CALIBRATION]
    for f in CALIBRATION:
        assert figures[f.figure] == pytest.approx(f.synthetic, abs=5e-4), f.figure


def test_reduced_synthetic_is_within_tolerance_of_the_documented_mssd(cal, quick_synthetic):
    """Without the sample: the reduced run against the documented MSSD figures."""
    table = cal.compare(quick_synthetic, {f.figure: f.mssd for f in CALIBRATION})
    assert table["within"].all(), table.to_string()


@pytest.mark.realdata
def test_reduced_calibration_against_mssd(cal, shared_data, quick_synthetic):
    path = shared_data / cal.MSSD_AIDL
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    mssd = cal.measure(cal.load_mssd_aidl(shared_data), cal.QUICK)
    table = cal.compare(quick_synthetic, mssd).set_index("figure")
    print(table.to_string())
    assert table["within"].all(), table.to_string()
    for figure in HEADLINE:  # the demo's headline leakage
        assert abs(quick_synthetic[figure] - mssd[figure]) <= 0.05, figure
    # the documented MSSD column is what the sample gives (reduced size within tolerance)
    documented = cal.compare(mssd, {f.figure: f.mssd for f in CALIBRATION})
    assert documented["within"].all(), documented.to_string()


def test_planted_hour_of_day_leaks_far_more_than_the_default(cal, default_observations):
    """The old per-user preferred hour is kept as an explicit planted-leakage case."""
    planted = make_sessions(random_state=0, hour_of_day="user").observations()
    np.testing.assert_array_equal(planted.item, default_observations.item)
    kw = {
        "overlap": 0.5,
        "target_size": 500,
        "seed": 0,
        "attacks": (("match", "label"),),
        "recommender_params": {"n_estimators": 10},
    }
    leak = cal.evaluate_scenario(planted, **kw)["match/label"]
    calibrated = cal.evaluate_scenario(default_observations, **kw)["match/label"]
    assert leak > 0.9 and calibrated < 0.7, (leak, calibrated)
