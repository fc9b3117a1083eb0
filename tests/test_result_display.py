"""Every public result type reads in plain words: summary, to_dict, to_frame, repr, HTML.

Each class is built for real (small synthetic data, the package's own functions), then
checked for the four methods of :class:`fidelity._display.DisplayMixin`; the repr of a
result that holds large per-observation arrays must stay one short line.
"""

from __future__ import annotations

import html
import math
import numbers
import warnings

import numpy as np
import pandas as pd
import pytest

from fidelity._display import Displayable, DisplayMixin
from fidelity.attacks import (
    AttackResult,
    AttackSignals,
    ThresholdCalibration,
    calibrate_thresholds,
    prepare_attack,
)
from fidelity.audit_metrics import AuditMetrics, audit_metrics
from fidelity.data import calibration_stats, make_sessions
from fidelity.data.stats import CalibrationStats
from fidelity.data.synthetic import CALIBRATION, CalibrationFigure
from fidelity.evaluation import AttackRequest, evaluate, session_curve, user_risk
from fidelity.evaluation.data_information import DataInformation
from fidelity.evaluation.evaluate import Evaluation
from fidelity.evaluation.risk import UserRisk
from fidelity.evaluation.session_curve import SessionCurve, ValidatedSafeSize
from fidelity.evaluation.signal_information import SignalInformation
from fidelity.fano import SafeSessionSize
from fidelity.information import mutual_information, safe_session_size
from fidelity.metrics import AttackRates, ROCSummary, attack_rates, roc_summary
from fidelity.mi_estimate import MIEstimate
from fidelity.recommenders import CVResult, MarkovRecommender, cross_validate
from fidelity.safe_session import SafeSessionEstimate, estimate_safe_session_size
from fidelity.scenario import Scenario, fit_target
from fidelity.split import ProviderSplit
from fidelity.timing_mi import TimingAttribution, timing_attribution

RESULT_TYPES = (
    AttackResult,
    AttackRates,
    AttackSignals,
    AuditMetrics,
    CalibrationFigure,
    CalibrationStats,
    CVResult,
    DataInformation,
    Evaluation,
    MIEstimate,
    ProviderSplit,
    ROCSummary,
    SafeSessionEstimate,
    SafeSessionSize,
    SessionCurve,
    SignalInformation,
    ThresholdCalibration,
    TimingAttribution,
    UserRisk,
    ValidatedSafeSize,
)


@pytest.fixture(scope="module")
def sessions():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_sessions(n_sessions=400, session_length=10, random_state=0)


@pytest.fixture(scope="module")
def instances(sessions):
    """One real instance of every result type (keyed by class)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obs = sessions.observations()
        scenario = Scenario(overlap=0.5, recommender="markov", seed=0)
        fitted = fit_target(obs, scenario)
        split, model = fitted.split, fitted.model
        requests = [AttackRequest("match", "scores", 5), AttackRequest("reference", "scores", 5)]
        ev = evaluate(obs, scenario, requests, fitted=fitted, n_permutations=20)
        curve = session_curve(
            obs,
            scenario,
            [AttackRequest("match", "scores", 5)],
            fitted=fitted,
            grid=(1, 3),
            n_bootstrap=20,
            n_permutations=20,
        )
        result = ev.results[0]
        signals = prepare_attack("match", split, model, threat="scores", k=5)
        estimate = mutual_information(split.adversary, split.target, n_permutations=20)
        calibration = calibrate_thresholds(
            "match",
            split,
            model,
            fpr_levels=(0.1,),
            threat="scores",
            k=5,
            recommender="markov",
            random_state=0,
        )[0]
        members = np.isin(result.users, split.adversary_users[split.members])
        metrics = audit_metrics(result.scores, members, n_bootstrap=20, random_state=0)
        timing = timing_attribution(
            split.adversary, split.target, timing=split.adversary.timing_names[:1]
        )
        self_evaluation = estimate_safe_session_size(
            obs, sizes=[20, 40, 80], n_repeats=2, random_state=0, show_progress=False
        )
        cv = cross_validate(MarkovRecommender(), obs, n_splits=2, k=(1, 5), random_state=0)
        fano = safe_session_size(estimate)
    found = {
        AttackResult: result,
        AttackRates: result.paper,
        AttackSignals: signals,
        AuditMetrics: metrics,
        CalibrationFigure: CALIBRATION[0],
        CalibrationStats: calibration_stats(sessions),
        CVResult: cv,
        DataInformation: ev.information,
        Evaluation: ev,
        MIEstimate: estimate,
        ProviderSplit: split,
        ROCSummary: result.roc,
        SafeSessionEstimate: self_evaluation,
        SafeSessionSize: fano,
        SessionCurve: curve,
        SignalInformation: curve.signal_information[0],
        ThresholdCalibration: calibration,
        TimingAttribution: timing,
        UserRisk: user_risk(result, split),
        ValidatedSafeSize: curve.validated,
    }
    found["standard rates"] = result.standard
    return found


def _scalar(value) -> bool:
    return value is None or isinstance(value, (str, bool, numbers.Number, np.generic))


def _flat(value) -> bool:
    """A scalar, a list of scalars, or a mapping of scalars (recommender parameters)."""
    if isinstance(value, list):
        return all(_scalar(v) for v in value)
    if isinstance(value, dict):
        return all(_scalar(v) for v in value.values())
    return _scalar(value)


@pytest.mark.parametrize("cls", RESULT_TYPES, ids=lambda c: c.__name__)
def test_every_result_type_has_the_four_methods(instances, cls):
    obj = instances[cls]
    assert isinstance(obj, cls)
    assert isinstance(obj, DisplayMixin) and isinstance(obj, Displayable)
    text = obj.summary()
    assert isinstance(text, str) and text.strip() and text.rstrip().endswith(".")
    # one or two plain sentences, no raw array dump
    assert "array(" not in text and "\n" not in text
    assert len(text) < 600, text
    d = obj.to_dict()
    assert isinstance(d, dict) and d
    assert all(isinstance(key, str) for key in d)
    assert all(_flat(v) for v in d.values()), {k: type(v) for k, v in d.items()}
    frame = obj.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) >= 1
    page = obj._repr_html_()
    assert html.escape(text) in page and page.count("<table") == 1
    r = repr(obj)
    assert r.startswith(type(obj).__name__ + "(") and "\n" not in r


def test_both_rate_conventions_read_differently(instances):
    paper, standard = instances[AttackRates], instances["standard rates"]
    assert "paper convention" in paper.summary() and "TP " in paper.summary()
    assert "TPR" in standard.summary() and "paper" not in standard.summary()
    assert math.isclose(sum(paper.to_dict()[k] for k in ("tp", "fp", "tn", "fn")), 1.0)


def test_existing_tables_keep_their_shape(instances):
    split = instances[ProviderSplit]
    assert list(split.to_frame().columns) == ["user", "member"]
    assert len(split.to_frame()) == len(split.adversary_users)
    result = instances[AttackResult]
    assert result.to_frame().iloc[0].to_dict().keys() == result.to_dict().keys()
    ev = instances[Evaluation]
    assert len(ev.to_frame()) == len(ev.results)
    assert ev.to_dict()["strongest_attack"] in {r.label for r in ev.results}
    cv = instances[CVResult]
    assert len(cv.to_frame()) == cv.n_splits


def test_summaries_say_the_numbers_they_are_about(instances):
    result = instances[AttackResult]
    assert f"AUC {result.roc.auc:.3f}" in result.summary()
    assert f"{len(result.users)} users" in result.summary()
    split = instances[ProviderSplit]
    assert f"{split.n_members} of the adversary's users are members" in split.summary()
    ev = instances[Evaluation]
    assert ev.strongest.label in ev.summary()


def test_repr_of_a_result_with_large_arrays_is_one_short_line():
    rng = np.random.default_rng(0)
    n_obs, n_users = 2_000_000, 50_000
    users = np.sort(rng.integers(0, n_users, n_obs))
    obs_users = np.unique(users)
    hits = rng.random(n_obs) < 0.3
    split_members = rng.random(len(obs_users)) < 0.5
    scores = rng.random(len(obs_users))
    result = AttackResult(
        attack="match",
        threat="label",
        k=1,
        user_score="hit_rate",
        users=obs_users,
        scores=scores,
        members=split_members,
        roc=roc_summary(scores, split_members),
        observation_scores=hits.astype(np.float64),
        hits=hits,
        paper=attack_rates(hits, split_members[np.searchsorted(obs_users, users)]),
        standard=None,
    )
    text = repr(result)
    assert "\n" not in text and len(text) < 400, text
    assert "array(shape=(2000000,), dtype=bool)" in text
    assert len(repr(result.roc)) < 400
