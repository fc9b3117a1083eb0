"""Members and non-members are drawn from one population in both split modes (issue 20).

Scores that do not look at the target (a user's full history length, its number of
observations at the adversary, the hits of a model fitted on data disjoint from A) must
not tell members from non-members. Each is measured over several seeded splits and the
confidence interval of its mean user-level AUC (spread over seeds and users) must contain
0.5. The module checks 18 such intervals (3 scores x 6 cases), so each is a Bonferroni
interval at 1 - 0.05 / 18: together they hold with 95 % confidence when nothing is wrong
(at 95 % each, about one of 18 would miss by chance: 80 more seeds of a case that missed
gave a mean AUC of 0.497 +- 0.0025). The match and reference attacks must be at or
above 0.5 within theirs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from fidelity._validation import FidelityWarning
from fidelity.attacks import run_attack
from fidelity.data import load_interactions, make_sessions
from fidelity.data.loaders import MOVIELENS_100K_NAMES
from fidelity.metrics import user_scores
from fidelity.recommenders import make_recommender
from fidelity.scenario import Scenario, fit_target
from fidelity.split import chunk_users

#: Seeded splits per check. The target-independent scores are cheap: 20 splits give a
#: mean AUC precise to about +-0.015 (the spread over one split is about 0.035).
SEEDS = range(20)
ATTACK_SEEDS = range(3)


def independent_scores(observations, split) -> dict[str, np.ndarray]:
    """Three scores of A's users that never look at the target's model."""
    users = split.adversary_users
    all_users, history = user_scores(np.ones(len(observations)), observations.user, how="count")
    adv_users, count = user_scores(np.ones(len(split.adversary)), split.adversary.user, how="count")
    assert np.array_equal(adv_users, users)
    outside = observations.take(~np.isin(observations.user, users))
    other = make_recommender("markov").fit(outside)
    adv = split.adversary
    hits = other.recommend(adv.item, adv.timing, k=1)[:, 0] == adv.next_item
    return {
        "history_length": history[np.searchsorted(all_users, users)],
        "adversary_count": count,
        "disjoint_target": user_scores(hits, adv.user, how="mean")[1],
    }


#: Intervals checked by this module (Bonferroni: family-wise level 95 %).
N_CHECKS = 18


def mean_auc_interval(aucs: list[float]) -> tuple[float, float, float]:
    """Mean AUC over seeded splits and its interval (t on the spread over seeds)."""
    from scipy import stats

    a = np.asarray(aucs)
    level = 1.0 - 0.05 / N_CHECKS
    half = stats.t.ppf(0.5 + level / 2, len(a) - 1) * a.std(ddof=1) / np.sqrt(len(a))
    return a.mean(), a.mean() - half, a.mean() + half


def check_population(observations, mode: str, overlap: float) -> dict[str, tuple]:
    aucs: dict[str, list[float]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)  # single-session users left out
        for seed in SEEDS:
            scenario = Scenario(overlap=overlap, recommender="markov", seed=seed, mode=mode)
            fitted = fit_target(observations, scenario)
            for name, score in independent_scores(observations, fitted.split).items():
                aucs.setdefault(name, []).append(roc_auc_score(fitted.split.members, score))
            if seed in ATTACK_SEEDS:
                for attack, threat in (("match", "label"), ("reference", "scores")):
                    result = run_attack(
                        attack,
                        fitted.split,
                        fitted.model,
                        threat=threat,
                        recommender="markov",
                        random_state=seed,
                    )
                    aucs.setdefault(attack, []).append(result.roc.auc)
    out = {name: mean_auc_interval(values) for name, values in aucs.items()}
    for name in ("history_length", "adversary_count", "disjoint_target"):
        _, low, high = out[name]
        assert low <= 0.5 <= high, (mode, name, out[name], aucs[name])
    for name in ("match", "reference"):
        assert out[name][2] >= 0.5, (mode, name, out[name], aucs[name])
    return out


@pytest.fixture(scope="module")
def long_histories():
    return make_sessions(n_sessions=3000, n_users=400, random_state=3).observations()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["shared", "split-history"])
def test_synthetic_long_histories(long_histories, mode):
    check_population(long_histories, mode, overlap=0.5)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["shared", "split-history"])
def test_chunked_pseudo_users(long_histories, mode):
    """The chunk:N mitigation's pseudo-users: the same check on the data it splits."""
    check_population(chunk_users(long_histories, 30), mode, overlap=0.5)


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["shared", "split-history"])
def test_movielens_100k(shared_data, mode):
    path = shared_data / "movielens-100k" / "u.data"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        observations = load_interactions(
            path,
            user_col="user_id",
            item_col="item_id",
            time_col="timestamp",
            names=MOVIELENS_100K_NAMES,
            session_gap=3600,
        ).observations()
    out = check_population(observations, mode, overlap=0.5)
    print(mode, {k: tuple(round(x, 3) for x in v) for k, v in out.items()})
