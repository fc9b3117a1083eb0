"""RMIA against the reference attack on real data (issue 19 acceptance).

MSSD aidl sample: 229 most played songs, target 500 sessions, overlap 0.5, scores threat,
4 reference models. MovieLens 100K in split-history mode (sessions cut at one hour of
inactivity; overlap 0.35, the largest that split-history allows there, since only 173 of
A's 471 users own several sessions). Both attacks use the same small forests, the same
seed (so the same reference models) and 200 bootstrap resamples over users.
"""

from __future__ import annotations

import logging
import warnings

import pytest

from fidelity.attacks import calibrate_thresholds, population_observations, run_attack
from fidelity.data import keep_top_items, load_interactions, load_sessions
from fidelity.data.loaders import MOVIELENS_100K_NAMES
from fidelity.recommenders import make_recommender
from fidelity.split import split_providers

logger = logging.getLogger("fidelity")
FOREST = {"n_estimators": 10}
KEYS = ("auc", "tpr_at_0.1pct_fpr", "tpr_at_1pct_fpr")


def _compare(label, obs, split):
    model = make_recommender("random_forest", random_state=1, **FOREST).fit(split.target)
    population = population_observations(obs, split)
    out = {}
    for name, options in (("reference", {}), ("rmia", {"population": population})):
        out[name] = run_attack(
            name,
            split,
            model,
            threat="scores",
            recommender="random_forest",
            recommender_params=FOREST,
            n_references=4,
            n_bootstrap=200,
            random_state=2,
            **options,
        ).to_dict()
        row = out[name]
        logger.warning(
            "%s %s: %s",
            label,
            name,
            ", ".join(
                f"{k} {row[k]:.3f} [{row[k + '_ci_low']:.3f}, {row[k + '_ci_high']:.3f}]"
                for k in KEYS
            ),
        )
    logger.warning(
        "%s rmia: a %.2f, gamma %.1f (pseudo-target AUC %.3f), %d z",
        label,
        out["rmia"]["offline_a"],
        out["rmia"]["gamma"],
        out["rmia"]["pseudo_target_auc"],
        out["rmia"]["n_population"],
    )
    return out, model, population


@pytest.mark.realdata
@pytest.mark.slow
def test_rmia_against_reference_on_mssd(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sessions = load_sessions(
            shared_data / "mssd-aidl-sessions-sample/mini-spotify-data.csv",
            session_col="user_id",
            item_col="song_id",
            timing_cols=("skipped",),
        )
        obs = keep_top_items(sessions, 229).observations()
    split = split_providers(obs, overlap=0.5, target_size=500, random_state=0)
    out, model, population = _compare("MSSD", obs, split)
    rmia, ref = out["rmia"], out["reference"]
    assert rmia["tpr_at_0.1pct_fpr"] >= ref["tpr_at_0.1pct_fpr"]
    assert rmia["auc"] >= ref["auc_ci_low"]
    # thresholds set on the population for 0.1 % and 1 % FPR, realised on A's non-members
    for cal in calibrate_thresholds(
        "rmia",
        split,
        model,
        fpr_levels=(0.001, 0.01),
        recommender="random_forest",
        recommender_params=FOREST,
        population=population,
        random_state=2,
    ):
        logger.warning("MSSD calibration: %s", cal.summary())
        assert cal.source == "population" and cal.attainable
        assert cal.holds, cal.summary()


@pytest.mark.realdata
@pytest.mark.slow
def test_rmia_against_reference_on_movielens_split_history(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sessions = load_interactions(
            shared_data / "movielens-100k" / "u.data",
            user_col="user_id",
            item_col="item_id",
            time_col="timestamp",
            names=MOVIELENS_100K_NAMES,
            session_gap=3600,
        )
        obs = sessions.observations()
    split = split_providers(obs, overlap=0.35, mode="split-history", random_state=0)
    out, _, _ = _compare("MovieLens split-history", obs, split)
    rmia, ref = out["rmia"], out["reference"]
    # Neither attack finds membership here (both AUC intervals contain 0.5 or lie below):
    # the comparison can only say that RMIA is not worse beyond its interval.
    assert rmia["tpr_at_0.1pct_fpr_ci_high"] >= ref["tpr_at_0.1pct_fpr"]
    assert rmia["auc"] >= ref["auc_ci_low"]
