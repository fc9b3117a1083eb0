"""Auditing a model trained outside fidelity: protocols, adapters, the audit and its result.

The central check: a model fitted by fidelity, then exposed through a plain object (no
fidelity base class) that only forwards ``recommend`` / ``score``, gives exactly the
attack numbers of the fidelity model itself, under every threat model.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.pipeline import make_pipeline
from sklearn.tree import DecisionTreeClassifier

import fidelity
from fidelity.attacks import run_attack
from fidelity.audit import AuditResult, adapt_model, audit, audit_split
from fidelity.data import make_sessions
from fidelity.recommenders import (
    ClassifierRecommender,
    MarkovRecommender,
    NextItemModel,
    Recommender,
    ScoredModel,
    ScoringModel,
    TopKModel,
    as_template,
)
from fidelity.recommenders.templates import TrainedModel
from fidelity.split import split_providers

# the mimic's own algorithm is the adversary's choice: a Markov mimic keeps the tests quick
FAST = {
    "n_bootstrap": 20,
    "grid": (1, 3),
    "measure_mi": False,
    "options": {"mimic": {"mimic": "markov"}, "shadow": {"n_shadows": 2}},
}
CHEAP_ATTACKS = ("match", "reference")


class ForwardTopK:
    """A duck-typed model: top-k answers only, no fidelity base class."""

    def __init__(self, model):
        self.inner = model

    def recommend(self, items, timing, k):
        return self.inner.recommend(items, timing, k=k)


class Forward(ForwardTopK):
    """A duck-typed model with top-k answers and scores."""

    def score(self, items, timing):
        return self.inner.score(items, timing)


class ForwardNext:
    """A duck-typed model that only gives the probability of given next songs."""

    def __init__(self, model):
        self.inner = model

    def score_next(self, items, timing, next_items):
        return self.inner.score_next(items, timing, next_items)


@pytest.fixture(scope="module")
def data():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obs = make_sessions(n_sessions=400, session_length=10, random_state=0).observations()
    split = split_providers(obs, overlap=0.5, random_state=0)
    return obs, split


@pytest.fixture(scope="module")
def markov(data):
    return MarkovRecommender().fit(data[1].target)


@pytest.fixture(scope="module")
def own(data, markov):
    """The audit of fidelity's own Markov model (the reference numbers)."""
    return audit(markov, split=data[1], template="markov", **FAST)


def _numbers(result: AuditResult) -> pd.DataFrame:
    return result.to_frame()


def _assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


# ------------------------------------------------------------------ protocols
def test_duck_models_satisfy_the_protocols(markov):
    assert isinstance(Forward(markov), NextItemModel)
    assert isinstance(Forward(markov), ScoringModel)
    assert isinstance(ForwardTopK(markov), NextItemModel)
    assert not isinstance(ForwardTopK(markov), ScoringModel)
    assert not isinstance(Forward(markov), Recommender)


# --------------------------------------------- equality with fidelity's own model
def test_duck_model_with_scores_gives_identical_numbers_under_every_threat(data, markov, own):
    result = audit(Forward(markov), split=data[1], template="markov", **FAST)
    assert result.model_kind == "scores"
    assert result.threats == ("label", "topk", "scores")
    assert {r.threat for r in result.results} == {"label", "topk", "scores"}
    assert {r.attack for r in result.results} == set(fidelity.ATTACKS)
    _assert_same(_numbers(result), _numbers(own))
    for mine, theirs in zip(result.results, own.results, strict=True):
        np.testing.assert_array_equal(mine.scores, theirs.scores)
    _assert_same(result.curve.curve, own.curve.curve)
    assert result.validated.to_dict() == own.validated.to_dict()


def test_the_audit_of_a_fidelity_model_equals_its_direct_attacks(data, markov, own):
    split = data[1]
    for name, threat, k in (("match", "topk", 10), ("reference", "scores", 10)):
        direct = run_attack(
            name,
            split,
            markov,
            threat=threat,
            k=k,
            recommender="markov",
            random_state=own.curve.scenario.streams()["attack"],
        )
        np.testing.assert_array_equal(own.result(name, threat).scores, direct.scores)
        assert own.result(name, threat).roc.auc == direct.roc.auc


def test_run_attack_adapts_a_duck_model_under_every_threat(data, markov):
    split = data[1]
    for threat in ("label", "topk", "scores"):
        mine = run_attack("match", split, Forward(markov), threat=threat, k=5)
        theirs = run_attack("match", split, markov, threat=threat, k=5)
        np.testing.assert_array_equal(mine.scores, theirs.scores)
    with pytest.raises(ValueError, match="scores threat model does not apply"):
        run_attack("match", split, ForwardTopK(markov), threat="scores", k=5)


def test_duck_model_with_top_k_only_runs_label_and_topk(data, markov, own):
    result = audit(
        ForwardTopK(markov), split=data[1], template="markov", attacks=CHEAP_ATTACKS, **FAST
    )
    assert result.model_kind == "topk" and result.threats == ("label", "topk")
    assert isinstance(result.model, TopKModel)
    for r in result.results:
        theirs = own.result(r.attack, r.threat)
        np.testing.assert_array_equal(r.scores, theirs.scores)
        np.testing.assert_array_equal(r.hits, theirs.hits)
    with pytest.raises(ValueError, match="threats must be among those the model's answers allow"):
        audit(ForwardTopK(markov), split=data[1], threats=["scores"], **FAST)
    with pytest.raises(ValueError, match="top-k lists only"):
        result.model.score(data[1].adversary.item, data[1].adversary.timing)


def test_kind_topk_audits_the_lists_of_a_model_that_also_scores(data, markov, own):
    result = audit(Forward(markov), split=data[1], kind="topk", attacks=("match",), **FAST)
    assert result.threats == ("label", "topk")
    for r in result.results:
        np.testing.assert_array_equal(r.scores, own.result(r.attack, r.threat).scores)


def test_score_next_only_gives_the_dense_scores_and_every_threat(data, markov, own):
    result = audit(ForwardNext(markov), split=data[1], attacks=("match",), **FAST)
    assert result.threats == ("label", "topk", "scores")
    for r in result.results:
        np.testing.assert_array_equal(r.scores, own.result(r.attack, r.threat).scores)


def test_plain_callables_are_adapted(data, markov, own):
    split = data[1]

    def lists(items, timing):
        return markov.recommend(items, timing, k=10)

    def scores(items, timing):
        return markov.score(items, timing)

    as_lists = audit(lists, split=split, attacks=("match",), **FAST)
    as_scores = audit(scores, split=split, attacks=("match",), **FAST)
    assert as_lists.model_kind == "topk" and as_scores.model_kind == "scores"
    for r in (*as_lists.results, *as_scores.results):
        np.testing.assert_array_equal(r.scores, own.result(r.attack, r.threat).scores)
    with pytest.raises(ValueError, match=r"shape \(n, >= k\)"):
        audit(lists, split=split, attacks=("match",), k=20, **FAST)


def test_curve_off_gives_the_same_results(data, markov, own):
    result = audit(Forward(markov), split=data[1], template="markov", curve=False, **FAST)
    assert result.curve is None and result.validated is None
    _assert_same(_numbers(result), _numbers(own))


# --------------------------------------------------------- scikit-learn classifiers
@pytest.fixture(scope="module")
def tree():
    return DecisionTreeClassifier(min_samples_leaf=3, random_state=0)


def test_a_fitted_classifier_equals_fidelity_s_wrapper_of_the_same_classifier(data, tree):
    split = data[1]
    target = split.target
    fitted = clone(tree).fit(np.column_stack([target.item, target.timing]), target.next_item)
    wrapped = ClassifierRecommender(tree).fit(target)
    assert isinstance(adapt_model(fitted, target), ScoredModel)
    mine = audit(fitted, split=split, template=clone(tree), attacks=CHEAP_ATTACKS, **FAST)
    theirs = audit(
        wrapped, split=split, template=ClassifierRecommender(tree), attacks=CHEAP_ATTACKS, **FAST
    )
    assert mine.threats == ("label", "topk", "scores")
    assert {r.attack for r in mine.results} == set(CHEAP_ATTACKS)
    _assert_same(_numbers(mine), _numbers(theirs))
    assert mine.strongest.roc.auc > 0.6  # a deep tree memorises: the audit sees it


def test_a_classifier_fitted_on_a_dataframe_gets_named_columns(data, tree):
    split = data[1]
    frame = split.target.to_frame()
    features = ["item", "pause"]
    fitted = clone(tree).fit(frame[features], frame["next_item"])
    result = audit(fitted, split=split, attacks=("match",), threats=["scores"], **FAST)
    # the same classifier on an array of the same two columns gives the same numbers
    target = split.target
    j = target.timing_names.index("pause")
    arr = clone(tree).fit(np.column_stack([target.item, target.timing[:, j]]), target.next_item)

    def by_array(items, timing):
        proba = arr.predict_proba(np.column_stack([items, timing[:, j]]))
        out = np.zeros((len(items), target.n_items))
        out[:, arr.classes_] = proba
        return out

    other = audit(by_array, split=split, attacks=("match",), threats=["scores"], **FAST)
    np.testing.assert_array_equal(result.results[0].scores, other.results[0].scores)
    bad = clone(tree).fit(frame[["item", "session"]], frame["next_item"])
    with pytest.raises(ValueError, match="not \\['session'\\]"):
        audit(bad, split=split, attacks=("match",), **FAST)


def test_a_pipeline_that_selects_columns_by_name_is_a_template(data, tree):
    split = data[1]
    pipeline = make_pipeline(make_column_transformer(("passthrough", ["item", "pause"])), tree)
    frame = split.target.to_frame()
    fitted = clone(pipeline).fit(frame[["item", "skip", "pause"]], frame["next_item"])
    result = audit(
        fitted, split=split, template=pipeline, attacks=CHEAP_ATTACKS, threats=["scores"], **FAST
    )
    assert [r.attack for r in result.results] == ["match", "reference"]
    assert result.result("reference").roc.auc > 0.6


# ----------------------------------------------------------------------- templates
def test_without_a_template_the_attacks_that_need_one_are_skipped_and_said(data, markov):
    result = audit(Forward(markov), split=data[1], **FAST)
    assert {r.attack for r in result.results} == {"match", "mimic"}
    assert any("reference, shadow, rmia" in s and "template=" in s for s in result.skipped)
    assert "Not run: " in result.summary() and "template=" in result.summary()


def test_a_training_function_is_a_template(data, markov, own):
    def train(observations):
        return Forward(MarkovRecommender().fit(observations))

    assert isinstance(as_template(train), TrainedModel)
    result = audit(Forward(markov), split=data[1], template=train, **FAST)
    for r in result.results:
        np.testing.assert_array_equal(r.scores, own.result(r.attack, r.threat).scores)
    # the curve trains models by registered name only: it covers match and mimic, and says so
    assert set(result.curve.curve.attack) == {"match", "mimic"}
    assert any("session curve" in s for s in result.skipped)


def test_a_bad_template_names_the_forms(data, markov):
    with pytest.raises(TypeError, match="template must be"):
        audit(Forward(markov), split=data[1], template=3, **FAST)
    with pytest.raises(ValueError, match="template must be one of"):
        audit(Forward(markov), split=data[1], template="nope", **FAST)


# ------------------------------------------------------------- the auditor's data
def test_members_and_non_members_build_the_split(data, markov, own):
    split = data[1]
    adv = split.adversary
    members, non_members = adv.take(split.member_mask), adv.take(~split.member_mask)
    built = audit_split(members, non_members, training=split.target)
    np.testing.assert_array_equal(built.adversary_users, split.adversary_users)
    np.testing.assert_array_equal(built.members, split.members)
    assert built.overlap == pytest.approx(split.member_prior)
    result = audit(
        Forward(markov),
        members,
        non_members,
        training=split.target,
        template="markov",
        attacks=CHEAP_ATTACKS,
        **FAST,
    )
    for r in result.results:
        theirs = own.result(r.attack, r.threat)
        np.testing.assert_allclose(r.scores, theirs.scores, rtol=1e-12)
        assert r.roc.auc == pytest.approx(theirs.roc.auc)


def test_separately_loaded_tables_are_joined_and_checked(data):
    split = data[1]
    adv = split.adversary
    members = adv.take(split.member_mask)
    others = adv.take(~split.member_mask)
    # the non-members in a vocabulary of their own (as if loaded from another file)
    codes, inverse = np.unique(others.user, return_inverse=True)
    alone = type(others)(
        user=inverse.reshape(-1),
        session=inverse.reshape(-1),
        item=others.item,
        next_item=others.next_item,
        timing=others.timing,
        timing_names=others.timing_names,
        item_ids=others.item_ids,
        user_ids=np.array([f"x{c}" for c in codes]),
    )
    built = audit_split(members, alone, training=split.target)
    assert built.n_members == len(members.users())
    assert len(built.adversary_users) == len(members.users()) + len(codes)
    with pytest.raises(ValueError, match="non_members must hold no user of the training data"):
        audit_split(members, split.target)
    other_items = type(others)(**{**others.__dict__, "item_ids": others.item_ids[::-1].copy()})
    with pytest.raises(ValueError, match="song vocabulary"):
        audit_split(members, other_items)
    with pytest.raises(ValueError, match="pass members and non_members"):
        audit(lambda i, t: None, members)


# ------------------------------------------------------------- adapter rules
def test_fallback_and_tie_rules_follow_the_recommender_base_class(data):
    split = data[1]
    target = split.target
    unseen = np.setdiff1d(np.arange(target.n_items), target.item)
    assert len(unseen), "the data must leave some song unplayed in training"

    class Uniform:
        def score(self, items, timing):
            return np.full((len(items), target.n_items), 1.0 / target.n_items)

    adapted = adapt_model(Uniform(), target)
    timing = np.zeros((len(unseen), target.n_timing), dtype=np.float32)
    np.testing.assert_array_equal(
        adapted.score(unseen, timing), np.tile(adapted.popularity_, (len(unseen), 1))
    )
    # all scores tied: the ranking is the training popularity
    seen = target.item[:3]
    recs = adapted.recommend(seen, target.timing[:3], k=5)
    np.testing.assert_array_equal(recs, np.tile(adapted.popular_items_[:5], (3, 1)))
    answered = adapt_model(Uniform(), target, fallback=False)
    np.testing.assert_allclose(answered.score(unseen, timing), 1.0 / target.n_items)


def test_bad_models_and_bad_answers_are_named(data):
    target = data[1].target
    with pytest.raises(TypeError, match="model must offer recommend"):
        adapt_model(object(), target)

    class Raw:
        def score(self, items, timing):
            return np.ones((len(items), target.n_items))

    with pytest.raises(ValueError, match="softmax"):
        adapt_model(Raw(), target).score(target.item[:2], target.timing[:2])

    class Repeats:
        def recommend(self, items, timing, k):
            return np.zeros((len(items), k), dtype=np.int64)

    with pytest.raises(ValueError, match="must not repeat a song"):
        adapt_model(Repeats(), target).recommend(target.item[:2], target.timing[:2], k=3)
    with pytest.raises(ValueError, match="kind='scores' needs a model that gives scores"):
        adapt_model(Repeats(), target, kind="scores")


# ------------------------------------------------------------------ the result
def test_the_result_reads_in_plain_words(own):
    text = own.summary()
    best = own.strongest
    assert best.label in text and f"AUC {best.roc.auc:.3f}" in text
    assert f"safe session size: {own.validated.label}" in text
    d = own.to_dict()
    assert d["strongest_attack"] == best.label and d["n_attack_runs"] == len(own.results)
    frame = own.to_frame()
    assert len(frame) == len(own.results) and {"attack", "threat", "auc"} <= set(frame)
    r = repr(own)
    assert "\n" not in r and len(r) < 400 and "array(" not in r
    assert "<p>" in own._repr_html_()
    assert own.accuracy_members > own.accuracy_nonmembers  # the gap the attacks feed on


def test_the_audit_is_reachable_from_the_top_level():
    assert fidelity.audit.audit is audit
    assert fidelity.AuditResult is AuditResult
