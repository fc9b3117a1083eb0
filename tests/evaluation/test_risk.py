"""Per-user risk: the table, its features, its probabilities, the counts and the figure."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from fidelity.attacks import run_attack
from fidelity.data import make_sessions
from fidelity.evaluation import (
    FEATURES,
    RISK_COLUMNS,
    exposure_counts,
    membership_probability,
    read_user_risk,
    user_features,
    user_risk,
)
from fidelity.plots import plot_user_risk, plot_user_risk_panels
from fidelity.recommenders import make_recommender
from fidelity.split import split_providers

FOREST = {"n_estimators": 10}
N_OUTLIERS = 10


def _plant_outliers(obs, users):
    """Rewrite the next songs of ``users``: transitions no one else plays."""
    rows = np.isin(obs.user, users)
    nxt = obs.next_item.copy()
    nxt[rows] = (obs.item[rows] * 7 + obs.user[rows] * 13 + 101) % obs.n_items
    return dataclasses.replace(obs, next_item=nxt)


@pytest.fixture(scope="module")
def outliers():
    """A target that memorises, users without personal habits, and planted outliers.

    Ten members and ten non-members of A get transitions nobody else plays (in shared
    mode, the members' rewritten observations are also the target's training data).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # whole sessions of 12 plays (no catalog cut), as the planted rewrite assumes
        obs = make_sessions(
            n_sessions=600,
            session_length=12,
            habit_prob=0.0,
            outside_share=0.0,
            full_session_share=1.0,
            random_state=0,
        ).observations()
    split = split_providers(obs, overlap=0.5, target_size=150, random_state=0)
    rng = np.random.default_rng(5)
    members = rng.choice(split.adversary_users[split.members], N_OUTLIERS, replace=False)
    others = rng.choice(split.adversary_users[~split.members], N_OUTLIERS, replace=False)
    planted = np.concatenate([members, others])
    split = dataclasses.replace(
        split,
        adversary=_plant_outliers(split.adversary, planted),
        target=_plant_outliers(split.target, planted),
    )
    model = make_recommender("random_forest", random_state=1, **FOREST).fit(split.target)
    return split, model, members, others


def _result(name, split, model):
    return run_attack(
        name,
        split,
        model,
        threat="scores",
        recommender="random_forest",
        recommender_params=FOREST,
        random_state=3,
    )


@pytest.mark.parametrize("name", ["rmia", "reference"])
def test_planted_outlier_members_rank_in_the_top_decile(outliers, name):
    split, model, members, others = outliers
    risk = user_risk(_result(name, split, model), split)
    table = risk.table.set_index("user_code")
    decile = len(table) / 10
    assert (table.loc[members, "rank"] <= decile).all(), table.loc[members, "rank"].tolist()
    # outlier behaviour alone is not membership: the planted non-members stay low
    assert (table.loc[others, "rank"] > decile).all(), table.loc[others, "rank"].tolist()
    planted = np.r_[members, others]
    typical = table.drop(index=planted)["unseen_share"].quantile(0.9)
    assert (table.loc[planted, "unseen_share"] > typical).all(), typical


def test_table_round_trips_to_parquet_with_original_ids(outliers, tmp_path):
    split, model, _, _ = outliers
    risk = user_risk(_result("reference", split, model), split)
    assert tuple(risk.table.columns) == RISK_COLUMNS
    np.testing.assert_array_equal(
        risk.table["user"].to_numpy(), split.adversary.user_ids[risk.table["user_code"]]
    )
    path = tmp_path / "risk.parquet"
    risk.to_parquet(path)
    back = read_user_risk(path)
    pd.testing.assert_frame_equal(back, risk.table)
    assert back["rank"].min() == 1 and back["rank"].is_monotonic_increasing


def test_features_match_plain_pandas(outliers):
    split, _, _, _ = outliers
    got = user_features(split.adversary)
    frame = split.adversary.to_frame()
    rows = []
    for user, own in frame.groupby("user"):
        rest = frame[frame["user"] != user]
        share = rest["next_item"].value_counts(normalize=True)
        pairs = set(zip(rest["item"], rest["next_item"], strict=True))
        unseen = [(s, t) not in pairs for s, t in zip(own["item"], own["next_item"], strict=True)]
        rows.append(
            {
                "user_code": user,
                "n_observations": len(own),
                "mean_popularity": own["next_item"].map(share).fillna(0.0).mean(),
                "unseen_share": np.mean(unseen),
            }
        )
    expected = pd.DataFrame(rows).set_index("user_code")
    pd.testing.assert_frame_equal(got[list(FEATURES)], expected[list(FEATURES)], check_dtype=False)


@pytest.mark.parametrize("method", ["isotonic", "logistic"])
def test_membership_probability_is_the_posterior(method):
    """Known truth: member scores N(1.5, 1), others N(0, 1), prior 0.1; exact posterior."""
    rng = np.random.default_rng(0)
    n, prior = 6000, 0.1
    members = rng.random(n) < prior
    scores = rng.normal(size=n) + 1.5 * members
    like = norm.pdf(scores, 1.5) * prior
    truth = like / (like + norm.pdf(scores) * (1 - prior))
    got = membership_probability(scores, members, method=method, random_state=0)
    assert np.mean(np.abs(got - truth)) < 0.03
    assert abs(got.mean() - members.mean()) < 0.01  # calibrated at the sample's prior
    same = membership_probability(scores, np.zeros(n, dtype=bool))
    assert (same == 0).all()


def test_exposure_counts_are_counts_only(outliers):
    split, model, _, _ = outliers
    risk = user_risk(_result("rmia", split, model), split)
    table = exposure_counts(risk, levels=(0.5, 0.9), n_quantiles=4)
    assert "user" not in table.columns and "user_code" not in table.columns
    every = table[table["feature"] == "all"].iloc[0]
    p = risk.table["membership_probability"]
    assert every["n_users"] == len(risk.table)
    assert every["n_above_0.5"] == (p > 0.5).sum() and every["n_above_0.9"] == (p > 0.9).sum()
    assert every["n_members"] == split.n_members
    for feature in FEATURES:
        part = table[table["feature"] == feature]
        assert part["n_users"].sum() == len(risk.table)
        assert part["n_above_0.5"].sum() == every["n_above_0.5"]
        assert (part["low"] <= part["high"]).all()
    assert risk.to_dict()["n_above_0.9"] == every["n_above_0.9"]
    assert "users" in risk.summary()


def test_risk_figures(outliers):
    split, model, _, _ = outliers
    risk = user_risk(_result("reference", split, model), split)
    fig = plot_user_risk_panels(risk)
    assert len(fig.axes) == len(FEATURES)
    assert fig.axes[0].get_legend() is not None and fig.axes[1].get_legend() is None
    one = plot_user_risk(risk, "n_observations", y="rank")
    assert one.axes[0].yaxis_inverted()
    with pytest.raises(ValueError, match="plot_user_risk"):
        plot_user_risk(risk, "no_such_feature")


def test_result_of_another_split_is_refused(outliers):
    split, model, _, _ = outliers
    result = _result("reference", split, model)
    smaller = dataclasses.replace(split, adversary_users=split.adversary_users[:-1])
    with pytest.raises(ValueError, match="exactly the split's adversary users"):
        user_risk(result, smaller)
    with pytest.raises(TypeError, match="result must be an AttackResult"):
        user_risk("reference", split)
