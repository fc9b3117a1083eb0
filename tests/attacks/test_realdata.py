"""MSSD aidl sample: every attack, 229 songs, target 500 sessions, overlap 0.5 (issue 6)."""

from __future__ import annotations

import logging
import warnings

import pytest

from fidelity.attacks import ATTACKS, run_attack
from fidelity.data import keep_top_items, load_sessions
from fidelity.recommenders import make_recommender
from fidelity.split import split_providers

logger = logging.getLogger("fidelity")


@pytest.mark.realdata
@pytest.mark.slow
def test_reference_beats_match_on_mssd(shared_data):
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
    model = make_recommender("random_forest", random_state=1).fit(split.target)
    results = {}
    for name in ATTACKS:
        for threat in ("label", "scores"):
            if threat not in ATTACKS[name].threats:
                continue
            out = run_attack(
                name,
                split,
                model,
                threat=threat,
                recommender="random_forest",
                n_bootstrap=50,
                random_state=2,
            ).to_dict()
            results[name, threat] = out
            logger.warning(
                "MSSD %s/%s: AUC %.3f [%.3f, %.3f], TPR@1%%FPR %.3f, TPR@0.1%%FPR %.3f",
                name,
                threat,
                out["auc"],
                out["auc_ci_low"],
                out["auc_ci_high"],
                out["tpr_at_1pct_fpr"],
                out["tpr_at_0.1pct_fpr"],
            )
    for threat in ("label", "scores"):
        ref, match = results["reference", threat], results["match", threat]
        assert ref["auc"] > match["auc"], (threat, ref["auc"], match["auc"])
        assert ref["tpr_at_1pct_fpr"] > match["tpr_at_1pct_fpr"], threat
