"""Calibration of the synthetic default against the MSSD aidl sample, on what fidelity measures.

Usage::

    .venv/bin/python benchmarks/calibrate_synthetic.py [--quick] [--seed 0]
        [--synthetic-only] [--n-estimators 20] [--n-references 4]

Runs the same scenarios on ``make_sessions(random_state=seed)`` (the data of
``make demo``) and, when ``../shared/data`` is present, on the MSSD aidl sample
restricted to its 229 most played songs, and prints them side by side, each figure
with its tolerance (AUC and accuracy: +-0.05 absolute; MI: +-20 % of the MSSD value):

* the random forest's 10-fold accuracy (folds of whole users,
  :func:`fidelity.recommenders.cross_validate`) and its in-sample accuracy (fitted on
  all observations, evaluated on them);
* the match attack's user-level AUC under the ``label`` threat model and the
  reference attack's AUC under the ``scores`` threat model, at target sizes 500 and
  2,000 sessions, overlap 0.5, shared mode;
* the plug-in MI(H;O) over target sizes 500, 1,000, 2,000 and 4,000, overlap 0.5.

``--quick`` is the reduced size of ``tests/test_synthetic_calibration.py``: the same scenarios
with 10 trees, 2 reference models, 5 folds and the in-sample accuracy on 3,000 users,
on both data sets alike. The exit code is 1 when a figure is out of tolerance.

Every scenario goes through :func:`evaluate_scenario`, the one function that uses the
scenario API, so that it is the only place to change when that API changes.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fidelity._validation import FidelityWarning
from fidelity.data import keep_top_items, load_sessions, make_sessions
from fidelity.data.tables import Observations
from fidelity.evaluation import AttackRequest, evaluate
from fidelity.information import mutual_information
from fidelity.recommenders import cross_validate, make_recommender
from fidelity.scenario import Scenario, fit_target

MSSD_AIDL = Path("mssd-aidl-sessions-sample") / "mini-spotify-data.csv"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@dataclass(frozen=True)
class Settings:
    """Sizes of the calibration run (the same on both data sets)."""

    overlap: float = 0.5
    attack_sizes: tuple[int, ...] = (500, 2000)
    mi_sizes: tuple[int, ...] = (500, 1000, 2000, 4000)
    n_estimators: int = 20
    n_references: int = 4
    cv_splits: int = 10
    insample_users: int | None = None  # None: all users
    seed: int = 0


QUICK = Settings(n_estimators=10, n_references=2, cv_splits=5, insample_users=3000)
"""The reduced size of ``tests/test_synthetic_calibration.py``."""

TOLERANCES: dict[str, tuple[str, float]] = {
    "accuracy": ("abs", 0.05),
    "auc": ("abs", 0.05),
    "mi": ("rel", 0.20),
}
"""Tolerance per kind of figure: absolute difference, or relative to the MSSD value."""


def evaluate_scenario(
    observations: Observations,
    *,
    overlap: float,
    target_size: int,
    seed: int,
    attacks: tuple[tuple[str, str], ...],
    recommender: str = "random_forest",
    recommender_params: dict[str, Any] | None = None,
    n_references: int = 4,
) -> dict[str, float]:
    """Split, fit the target and run ``attacks`` ((name, threat) pairs) for one scenario.

    Returns the user-level AUC of each attack (key ``"<name>/<threat>"``) and the plug-in
    MI(H;O) of the split over (s, s') (key ``"mi"``), from the one evaluation of the
    scenario (:func:`fidelity.evaluation.evaluate`).
    """
    scenario = Scenario(
        overlap=overlap,
        target_size=target_size,
        recommender=recommender,
        seed=seed,
        recommender_params=recommender_params or {},
    )
    requests = [
        AttackRequest(
            name, threat, 1, {"n_references": n_references} if name == "reference" else {}
        )
        for name, threat in attacks
    ]
    if not requests:  # the MI only
        split = fit_target(observations, scenario).split
        return {"mi": mutual_information(split.adversary, split.target, n_permutations=0).plugin}
    ev = evaluate(observations, scenario, requests, measure_mi=False)
    split = ev.fitted.split
    out = {"mi": mutual_information(split.adversary, split.target, n_permutations=0).plugin}
    for request, result in zip(ev.requests, ev.results, strict=True):
        out[f"{request.name}/{request.threat}"] = float(result.to_dict()["auc"])
    return out


def measure(observations: Observations, settings: Settings = Settings()) -> dict[str, float]:
    """Every calibration figure of one data set, keyed by figure name."""
    s = settings
    rf = {"n_estimators": s.n_estimators}
    figures: dict[str, float] = {}
    cv = cross_validate(
        make_recommender("random_forest", random_state=s.seed, **rf),
        observations,
        n_splits=s.cv_splits,
        random_state=s.seed,
    )
    figures["accuracy: RF k-fold"] = cv.mean_accuracy
    sample = observations
    if s.insample_users is not None and s.insample_users < observations.n_users:
        users = np.random.default_rng(s.seed).permutation(observations.users())
        sample = observations.take(np.isin(observations.user, users[: s.insample_users]))
    model = make_recommender("random_forest", random_state=s.seed, **rf).fit(sample)
    top1 = model.recommend(sample.item, sample.timing, k=1)[:, 0]
    figures["accuracy: RF in-sample"] = float(np.mean(top1 == sample.next_item))
    rows = {}
    for size in sorted(set(s.attack_sizes) | set(s.mi_sizes)):
        attacks = (("match", "label"), ("reference", "scores")) if size in s.attack_sizes else ()
        rows[size] = evaluate_scenario(
            observations,
            overlap=s.overlap,
            target_size=size,
            seed=s.seed,
            attacks=attacks,
            recommender="random_forest" if attacks else "popularity",
            recommender_params=rf if attacks else None,
            n_references=s.n_references,
        )
    for key in ("match/label", "reference/scores"):
        for size in s.attack_sizes:
            figures[f"auc: {key.replace('/', ' ')}, target {size}"] = rows[size][key]
    for size in s.mi_sizes:
        figures[f"mi: plug-in, target {size}"] = rows[size]["mi"]
    return figures


def compare(synthetic: dict[str, float], mssd: dict[str, float] | None) -> pd.DataFrame:
    """The side-by-side table: figure, synthetic, MSSD, difference, tolerance, within."""
    rows = []
    for figure, value in synthetic.items():
        kind, tol = TOLERANCES[figure.split(":")[0]]
        real = np.nan if mssd is None else mssd[figure]
        diff = value - real
        if kind == "rel":
            allowed = tol * abs(real)
            tolerance = f"+-{tol:.0%}"
        else:
            allowed = tol
            tolerance = f"+-{tol:g}"
        rows.append(
            {
                "figure": figure,
                "synthetic": value,
                "mssd_aidl": real,
                "difference": diff,
                "tolerance": tolerance,
                "within": bool(abs(diff) <= allowed) if mssd is not None else None,
            }
        )
    return pd.DataFrame(rows)


def load_mssd_aidl(shared_data: Path = SHARED_DATA, n_items: int = 229) -> Observations:
    """The aidl sample's observations among its ``n_items`` most played songs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)  # filter counts
        sessions = load_sessions(
            shared_data / MSSD_AIDL,
            session_col="user_id",
            item_col="song_id",
            timing_cols=("skipped",),
        )
        return keep_top_items(sessions, n_items).observations()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the reduced size of the test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--synthetic-only", action="store_true")
    parser.add_argument("--n-estimators", type=int, default=None)
    parser.add_argument("--n-references", type=int, default=None)
    parser.add_argument("--shared-data", type=Path, default=SHARED_DATA)
    args = parser.parse_args(argv)
    settings = replace(QUICK if args.quick else Settings(), seed=args.seed)
    if args.n_estimators is not None:
        settings = replace(settings, n_estimators=args.n_estimators)
    if args.n_references is not None:
        settings = replace(settings, n_references=args.n_references)
    print(f"settings: {settings}")

    start = time.perf_counter()
    synthetic = measure(make_sessions(random_state=args.seed).observations(), settings)
    print(f"synthetic default measured in {time.perf_counter() - start:.1f} s")
    mssd = None
    if not args.synthetic_only and (args.shared_data / MSSD_AIDL).is_file():
        start = time.perf_counter()
        mssd = measure(load_mssd_aidl(args.shared_data), settings)
        print(f"MSSD aidl (229 songs) measured in {time.perf_counter() - start:.1f} s")
    elif not args.synthetic_only:
        print(f"{args.shared_data / MSSD_AIDL} is absent: synthetic figures only")
    table = compare(synthetic, mssd)
    with pd.option_context("display.width", 120, "display.max_columns", 10):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if mssd is not None and not table["within"].all():
        print(f"{int((~table['within'].astype(bool)).sum())} figure(s) out of tolerance")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
