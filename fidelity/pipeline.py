"""The main job: the paper's experiment end to end, with figures, report and JSON.

:func:`reproduce` is what ``fidelity reproduce`` and ``make demo`` run: a sweep
(:func:`fidelity.experiment.run_sweep`), the session-length curve and the attack-validated
safe session size (:func:`fidelity.evaluation.session_curve`, the headline), the paper's
self-evaluated safe session size
(:func:`fidelity.safe_session.estimate_safe_session_size`), user-level ROC curves of
the match attack, the paper's figures, an HTML report and ``results.json``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fidelity._validation import RandomStateLike, check_output_dir, check_success, warn
from fidelity.attacks import summarise
from fidelity.data.tables import Observations, Sessions
from fidelity.evaluation import (
    DEFAULT_TOLERANCE,
    AttackRequest,
    SessionCurve,
    evaluate,
    exposure_counts,
    session_curve,
    user_risk,
)
from fidelity.experiment import SweepConfig, SweepGrid, run_sweep
from fidelity.plots import (
    paper_figures,
    plot_mi_estimate,
    plot_roc,
    plot_safe_session_curve,
    plot_session_curve,
    plot_user_risk_panels,
    save_figure,
)
from fidelity.report import write_report
from fidelity.safe_session import SafeSessionEstimate, estimate_safe_session_size
from fidelity.scenario import FittedTarget, Scenario, fit_target
from fidelity.split import target_pool_size

logger = logging.getLogger("fidelity")

PAPER_TARGET_SIZES = (500, 1000, 2000, 4000)


@dataclass(frozen=True, eq=False)
class ReproduceOutcome:
    """What :func:`reproduce` produced and where it wrote it."""

    results: pd.DataFrame
    safe_session: SafeSessionEstimate
    session_curve: SessionCurve
    grid: SweepGrid
    data_summary: dict[str, Any]
    out: Path
    report_path: Path
    json_path: Path
    figure_paths: dict[str, list[Path]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Machine-readable summary (what ``results.json`` holds, less the rows)."""
        return {
            "validated_safe_session": self.session_curve.to_dict(),
            "session_curve": self.session_curve.curve.to_dict(orient="records"),
            "safe_session": self.safe_session.to_dict(),
            "grid": self.grid.to_dict(),
            "data": self.data_summary,
            "out": str(self.out),
            "report": str(self.report_path),
            "results_json": str(self.json_path),
            "figures": {k: [str(p) for p in v] for k, v in self.figure_paths.items()},
        }


def grid_for(observations: Observations, grid: SweepGrid | None = None) -> SweepGrid:
    """The paper's grid, with target sizes capped to what the data allow.

    Without ``grid``, target sizes are the paper's 500-4,000 sessions when T has that
    many users, else four sizes on a geometric scale up to T's size (with a warning).
    """
    if grid is not None:
        return grid
    n_t = target_pool_size(observations.n_users)
    sizes = tuple(s for s in PAPER_TARGET_SIZES if s <= n_t)
    if len(sizes) < len(PAPER_TARGET_SIZES):
        sizes = tuple(int(s) for s in np.unique(np.geomspace(max(n_t // 8, 1), n_t, 4).astype(int)))
        warn(f"the data have {observations.n_users} users; target sizes set to {list(sizes)}")
    return SweepGrid(target_sizes=sizes)


def headline_scenario(grid: SweepGrid, recommender: str, *, overlap: float = 0.5) -> Scenario:
    """The scenario the report's ROC curves and session-length curve show.

    The sweep row's scenario with the grid's smallest target size (where the target
    over-fits most), the given overlap, the grid's first seed, its mode, its first
    mitigation and the recommender's parameters.
    """
    sizes = [s for s in grid.target_sizes if s is not None]
    config = SweepConfig(
        overlap=overlap,
        target_size=min(sizes) if sizes else None,
        recommender=recommender,
        seed=grid.seeds[0],
        mode=grid.mode,
        mitigation=grid.mitigations[0],
    )
    return config.scenario(grid.recommender_params)


def roc_curves(
    observations: Observations,
    grid: SweepGrid,
    *,
    overlap: float = 0.5,
) -> dict[str, Any]:
    """User-level ROC curves of the match attack (label and score threats) per recommender.

    The scenario is the sweep row's with the grid's smallest target size (where the target
    over-fits most), the given overlap, the grid's first seed, its mode, its first
    mitigation and its recommender parameters: the curves come from that row's split and
    model (:func:`fidelity.evaluation.evaluate`), so the label curve's AUC is that row's
    ``auc`` (when the grid has that overlap).
    """
    requests = [AttackRequest("match", "label"), AttackRequest("match", "scores")]
    curves: dict[str, Any] = {}
    for name in grid.recommenders:
        scenario = headline_scenario(grid, name, overlap=overlap)
        ev = evaluate(observations, scenario, requests, measure_mi=False)
        for request, result in zip(ev.requests, ev.results, strict=True):
            if result.roc is not None:
                curves[f"{name}, {request.threat}"] = result.roc
    return curves


def reproduce(
    data: Sessions | Observations,
    grid: SweepGrid | None = None,
    *,
    out: str | os.PathLike[str] = "fidelity-output",
    n_jobs: int = 1,
    scheduler: Any = None,
    data_label: str = "",
    success: float | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    curve_attacks: Sequence[AttackRequest | str | tuple] | None = None,
    calibration: pd.DataFrame | None = None,
    random_state: RandomStateLike = 0,
    show_progress: bool = True,
    overwrite: bool = False,
) -> ReproduceOutcome:
    """Run the paper's experiment and write results, figures, report and JSON to ``out``.

    Parameters
    ----------
    data : Sessions or Observations
        The data both providers are emulated from.
    grid : SweepGrid, optional
        The sweep; default :func:`grid_for` (the paper's grid).
    out : path
        Output folder: ``results.csv``/``.parquet``, ``rows/``, ``figures/*.png|svg``,
        ``report.html``, ``results.json``.
    n_jobs, scheduler
        As in :func:`fidelity.experiment.run_sweep`.
    data_label : str
        How the report names the data.
    success : float, optional
        Adversary success probability for the paper's (Fano) safe session size.
    tolerance : float in (0, 1), default 0.1
        Advantage tolerance of the attack-validated safe session size.
    curve_attacks : sequence, optional
        Attacks of the session-length curve (default: every registered attack under the
        ``scores`` threat).
    calibration : pandas.DataFrame, optional
        For synthetic data: the generator's calibration against real data
        (:func:`fidelity.data.calibration_table`), shown with the data statement.
    random_state : int, Generator, SeedSequence or None
        Seed of the safe-session self-evaluation. The sweep and the ROC curves use the
        grid's seeds (the ROC curves its first seed, so they are a sweep row's).
    show_progress : bool
        Show progress bars.
    overwrite : bool
        Recompute every configuration, replacing the rows in ``out`` (see
        :func:`fidelity.experiment.run_sweep`; by default a rerun resumes).

    Returns
    -------
    ReproduceOutcome
    """
    check_success("success", success)  # before any work
    out = check_output_dir("out", out)
    observations = data.observations() if isinstance(data, Sessions) else data
    grid = grid_for(observations, grid)
    summary = {"data": data_label or "in-memory data", **observations.summary()}

    logger.info("sweep: %d configurations", len(grid.configs()))
    table = run_sweep(
        observations,
        grid,
        out=out,
        n_jobs=n_jobs,
        scheduler=scheduler,
        show_progress=show_progress,
        overwrite=overwrite,
    )
    scenario = headline_scenario(grid, grid.recommenders[0])
    logger.info("session-length curve: %s", scenario.to_dict())
    fitted = fit_target(observations, scenario)
    curve = session_curve(
        observations,
        scenario,
        curve_attacks,
        tolerance=tolerance,
        n_permutations=grid.n_permutations,
        fitted=fitted,
        show_progress=show_progress,
    )
    exposure, exposure_note, risk = _exposure(curve, fitted)
    logger.info("safe session size: self-evaluation on %d users", observations.n_users)
    safe = estimate_safe_session_size(
        observations, success=success, random_state=random_state, show_progress=show_progress
    )

    where = describe_scenario(scenario)
    figures: dict[str, Any] = {
        "session_curve": (
            plot_session_curve(curve),
            f"Leakage against session length ({where}): advantage and AUC of each attack "
            "against N, the observations linked to one pseudo-user, with confidence bands "
            "over pseudo-users; the tolerance, the attack-validated safe size and the Fano "
            "sizes are marked.",
        )
    }
    sweep = _sweep_description(grid)
    for name, fig in paper_figures(table).items():
        figures[name] = (fig, f"{_PAPER_CAPTIONS[name.split('_')[0]]} {sweep}")
    curves = roc_curves(observations, grid)
    if curves:
        figures["roc"] = (
            plot_roc(curves, title="User-level ROC of the match attack"),
            f"User-level ROC of the match attack under the label and scores threats "
            f"({where}; the sweep row's split and model), log-log axes; the dashed diagonal "
            "is chance.",
        )
    figures["mi_estimates"] = (
        plot_mi_estimate(
            table.assign(
                label=[
                    f"c={c:g}, n={n}" for c, n in zip(table.overlap, table.target_size, strict=True)
                ]
            ),
            title="MI(H;O) per configuration: estimate, plug-in and its null",
        ),
        "MI(H;O) of every sweep configuration (c: overlap, n: target size): the default "
        "estimate with its interval (blue), the plug-in value (x) and the plug-in's "
        f"user-level permutation null (grey). {sweep}",
    )
    if risk is not None:
        figures["user_risk"] = (
            plot_user_risk_panels(risk),
            f"Per-user risk against the users' features ({where}): the membership "
            "probability under the curve's strongest attack, by decile of the number of "
            "observations, the mean popularity of the songs and the share of transitions "
            "unseen elsewhere (whether outliers are the users at risk).",
        )
    figures["safe_session"] = (
        plot_safe_session_curve(safe, title="Self-evaluation: MI(H;O) vs emulated provider size"),
        "The paper's self-evaluation: MI(H;O) between two disjoint sets of n users of these "
        "data against n, with the power-law fit extrapolated to all users (its Fano bound is "
        "the paper's data-only safe size).",
    )
    paths = {name: save_figure(value[0], out / "figures" / name) for name, value in figures.items()}

    report = write_report(
        out / "report.html",
        results=table,
        figures=figures,
        safe_session=safe,
        session_curve=curve,
        data_note=_data_note(summary["data"], calibration),
        calibration=calibration,
        exposure=exposure,
        exposure_note=exposure_note,
        parameters={
            **grid.to_dict(),
            "success": success,
            "n_jobs": n_jobs,
            "scheduler": str(scheduler) if scheduler else None,
        },
        data_summary=summary,
        title="fidelity: fidelity-leakage report",
    )
    outcome = ReproduceOutcome(
        results=table,
        safe_session=safe,
        session_curve=curve,
        grid=grid,
        data_summary=summary,
        out=out,
        report_path=Path(report),
        json_path=out / "results.json",
        figure_paths=paths,
    )
    payload = {**outcome.to_dict(), "results": json.loads(table.to_json(orient="records"))}
    tmp = out / ".results.json.tmp"
    tmp.write_text(json.dumps(payload, indent=2, default=_json_default))
    os.replace(tmp, outcome.json_path)
    return outcome


_PAPER_CAPTIONS = {
    "tp": "The paper's figure: true positives of the match attack (label threat, fractions "
    "of all adversary observations) against the target size, one line per overlap c.",
    "fp": "The paper's figure: false positives of the match attack (label threat, fractions "
    "of all adversary observations) against the target size, one line per overlap c.",
    "mi": "The paper's figure: the plug-in MI(H;O) against the target size, one line per "
    "overlap c, inside its user-level permutation-null band.",
}


def describe_scenario(scenario: Scenario) -> str:
    """The scenario in words, for captions and the verdict."""
    size = "all of T's pool" if scenario.target_size is None else f"{scenario.target_size}"
    return (
        f"overlap {scenario.overlap:g}, target size {size}, {scenario.recommender}, "
        f"{scenario.mode} mode, mitigation {scenario.mitigation}, seed {scenario.seed}"
    )


def _sweep_description(grid: SweepGrid) -> str:
    return (
        f"Sweep: overlaps {', '.join(f'{c:g}' for c in grid.overlaps)}; target sizes "
        f"{', '.join(str(s) for s in grid.target_sizes)}; {', '.join(grid.recommenders)}; "
        f"{grid.mode} mode; seeds {', '.join(str(s) for s in grid.seeds)}."
    )


def _data_note(label: str, calibration: pd.DataFrame | None) -> str:
    if calibration is None:
        return f"Data: {label}."
    within = int(calibration["within"].sum()) if "within" in calibration else len(calibration)
    return (
        f"Data: {label}: the built-in synthetic data, calibrated on the public MSSD aidl sample "
        "(229 most played songs) on what this report measures: recommender accuracy, the match "
        f"and reference attacks' AUC and MI(H;O) ({within} of {len(calibration)} documented "
        "figures within their tolerance, table below). Real listening data can leak more or "
        "less: run the same command with --data on your own logs."
    )


def _exposure(curve: SessionCurve, fitted: FittedTarget) -> tuple[Any, str, Any]:
    """ "Users most exposed" under the attack with the highest user-level AUC of the curve."""
    best = None
    for signals in curve.signals:
        result = summarise(signals, fitted.split)
        if result.roc is not None and (best is None or result.roc.auc > best.roc.auc):
            best = result
    if best is None:
        return None, "", None
    risk = user_risk(best, fitted.split)
    counts = exposure_counts(risk)
    note = (
        f"Counts of the adversary's users (whole histories) by their membership probability "
        f"under the {best.attack} ({best.threat}) attack, the curve's strongest at the user "
        f"level (AUC {best.roc.auc:.3f}), calibrated at the true membership prior; "
        "broken down by quantiles of each user feature. No user id is shown."
    )
    return counts, note, risk


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
