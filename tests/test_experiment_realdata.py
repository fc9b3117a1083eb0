"""The paper's sweep on the MSSD aidl sample (229 songs): the shape of its figures holds.

A reduced but representative grid (overlaps 0, 0.5, 1; target sizes 500 and 2,000
sessions; the random forest with its default settings; 5 user-level permutations and
bootstrap resamples) keeps the run short on 2 cores. The full grid is run by
``benchmarks/reproduce_paper.py``.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

from fidelity._validation import FidelityWarning
from fidelity.data import keep_top_items, load_sessions
from fidelity.experiment import SweepGrid, run_sweep

logger = logging.getLogger(__name__)

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

OVERLAPS = (0.0, 0.5, 1.0)
SIZES = (500, 2000)


@pytest.fixture(scope="module")
def table(shared_data):
    path = shared_data / "mssd-aidl-sessions-sample" / "mini-spotify-data.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)  # filter counts, checked elsewhere
        sessions = load_sessions(
            path, session_col="user_id", item_col="song_id", timing_cols=("skipped",)
        )
        observations = keep_top_items(sessions, 229).observations()
    assert observations.n_items == 229
    grid = SweepGrid(
        overlaps=OVERLAPS,
        target_sizes=SIZES,
        recommenders=("random_forest",),
        n_permutations=5,
        n_bootstrap=5,
    )
    result = run_sweep(observations, grid, show_progress=False)
    shown = [
        "overlap",
        "target_size",
        "tp",
        "fp",
        "tn",
        "fn",
        "accuracy",
        "accuracy_holdout",
        "auc",
        "mi",
        "mi_corrected",
        "mi_null_mean",
        "elapsed_s",
    ]
    text = result[shown].round(4).to_string(index=False)
    logger.info("MSSD aidl sample, 229 songs, reduced paper grid:\n%s", text)
    print(text)
    return result.set_index(["overlap", "target_size"]).sort_index()


def test_every_configuration_ran_and_rates_sum_to_one(table):
    assert len(table) == len(OVERLAPS) * len(SIZES)
    np.testing.assert_allclose(table[["tp", "fp", "tn", "fn"]].sum(axis=1), 1.0, atol=1e-12)
    assert (table[["tp", "fp", "tn", "fn"]] >= 0).all().all()
    assert table["n_target_users"].tolist() == [s for _ in OVERLAPS for s in SIZES]
    # the random forest is a real recommender: far above always-most-popular (0.024)
    assert (table["accuracy"] > 0.3).all()


def test_no_common_user_means_no_true_positive(table):
    at0 = table.loc[0.0]
    assert (at0["n_members"] == 0).all()
    assert (at0["tp"] == 0).all() and (at0["fn"] == 0).all()
    # every adversary row is a non-member: FP is the model's hold-out hit rate
    np.testing.assert_allclose(at0["fp"], at0["accuracy_holdout"], rtol=1e-12)


def test_tp_rises_with_overlap_and_fp_falls(table):
    for size in SIZES:
        tp = table.xs(size, level="target_size")["tp"].to_numpy()
        fp = table.xs(size, level="target_size")["fp"].to_numpy()
        assert np.all(np.diff(tp) > 0), (size, tp)
        assert np.all(np.diff(fp) < 0), (size, fp)


def test_tp_rises_with_target_size_when_users_are_shared(table):
    for overlap in OVERLAPS[1:]:
        tp = table.loc[overlap, "tp"].to_numpy()
        assert np.all(np.diff(tp) > 0), (overlap, tp)


def test_mi_falls_with_target_size(table):
    for overlap in OVERLAPS:
        mi = table.loc[overlap, "mi_plugin"].to_numpy()
        assert np.all(np.diff(mi) < 0), (overlap, mi)
        assert np.all(mi > 0)
