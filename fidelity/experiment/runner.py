"""Run a sweep: every scenario of a grid evaluated once, locally or on a Dask cluster.

A task is one scenario with the configurations (attacks, threat models) that share it:
its target is fitted once by :func:`fidelity.evaluation.evaluate` and every attack runs
against it. Every scenario draws its random streams from its own seed only, so the numbers
do not depend on ``n_jobs``, on the order in which tasks finish, on the executor, or on
whether a sweep was resumed. Each finished row is written at once (an atomic file per
configuration under ``<out>/rows/``), so a killed sweep resumes where it stopped and never
leaves a half-written row.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from fidelity._validation import check_output_dir, check_positive_int
from fidelity.data.tables import Observations
from fidelity.evaluation import evaluate, session_curve
from fidelity.experiment.executors import execute
from fidelity.experiment.fingerprint import sweep_fingerprint
from fidelity.experiment.grid import SweepConfig, SweepGrid
from fidelity.experiment.store import RESULT_COLUMNS, RowStore, row_frame, write_atomic_table
from fidelity.scenario import Scenario
from fidelity.split import provider_pool_size

__all__ = ["SweepInterrupted", "run_config", "run_scenario", "run_sweep"]

logger = logging.getLogger("fidelity")


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by Ctrl-C (``KeyboardInterrupt``); every finished row was kept.

    Attributes
    ----------
    n_saved : int
        Configurations of the sweep whose rows are in the output folder (0 without one).
    n_total : int
        Configurations of the sweep.
    """

    def __init__(self, n_saved: int, n_total: int) -> None:
        super().__init__(f"interrupted: {n_saved} of {n_total} configurations saved")
        self.n_saved = n_saved
        self.n_total = n_total


def run_scenario(
    observations: Observations, scenario: Scenario, configs: list[SweepConfig], grid: SweepGrid
) -> list[dict[str, Any]]:
    """Evaluate ``scenario`` with the attacks of ``configs``; one results row per config."""
    evaluation = evaluate(
        observations,
        scenario,
        [c.request() for c in configs],
        n_permutations=grid.n_permutations,
        n_bootstrap=grid.n_bootstrap,
    )
    rows = evaluation.rows()
    if grid.validated_size:
        curve = session_curve(
            observations,
            scenario,
            threat=grid.session_threat,
            grid=grid.session_grid,
            tolerance=grid.session_tolerance,
            measure_mi=False,
            fitted=evaluation.fitted,
        )
        v = curve.validated
        for row in rows:
            row.update(
                validated_safe_size=v.size,
                validated_at_least=v.at_least,
                validated_by=v.decided_by,
                validated_limited_by_data=v.limited_by_data,
            )
    for row, config in zip(rows, configs, strict=True):
        row["config_id"] = config.config_id
    return [{col: row.get(col, np.nan) for col in RESULT_COLUMNS} for row in rows]


def run_config(observations: Observations, config: SweepConfig, grid: SweepGrid) -> dict[str, Any]:
    """Run one configuration and return its row of the results table.

    The row equals that configuration's row in any sweep of ``grid`` (see
    :func:`fidelity.scenario.fit_target` for the seed streams and
    :mod:`fidelity.mitigations` for what a mitigation changes).
    """
    (row,) = run_scenario(observations, config.scenario(grid.recommender_params), [config], grid)
    return row


def run_sweep(
    observations: Observations,
    grid: SweepGrid | None = None,
    *,
    out: str | os.PathLike[str] | None = None,
    n_jobs: int = 1,
    scheduler: Any = None,
    resume: bool = True,
    overwrite: bool = False,
    show_progress: bool = True,
) -> pd.DataFrame:
    """Run every configuration of ``grid`` and return the tidy results table.

    Parameters
    ----------
    observations : Observations
        The data both providers are emulated from.
    grid : SweepGrid, optional
        The sweep; defaults to the paper's (5 overlaps x 4 target sizes, random forest).
    out : path, optional
        Folder for the rows as they finish (``rows/<config_id>.parquet``, each written
        atomically) and the assembled ``results.csv``/``results.parquet``. Needed to resume.
        The rows are keyed by the sweep's fingerprint (the data's digest, the grid's
        measurement options and the fidelity version, see
        :mod:`fidelity.experiment.fingerprint`).
    n_jobs : int
        Local worker processes (``1`` runs in this process). Numbers do not depend on it.
        The workers keep freed memory for reuse (see :mod:`fidelity._memory`: successive
        forests then grow ~1.8x faster) and so hold their peak memory until the sweep ends.
        They die with this process (see :mod:`fidelity.experiment.executors`).
    scheduler : str or dask.distributed.Client, optional
        Address of a Dask scheduler (or a client): scenarios run as Dask tasks (the
        observations are scattered once to every worker).
    resume : bool
        Reuse the rows already in ``out`` (False recomputes every configuration of
        ``grid``; either way rows of another sweep are refused).
    overwrite : bool
        Delete whatever rows ``out`` holds (and its ``results.csv``/``.parquet``) first.
    show_progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per configuration, in the grid's order, columns :data:`RESULT_COLUMNS`.

    Raises
    ------
    fidelity.experiment.ResumeError
        ``out`` holds rows of a sweep with another fingerprint (the message names what
        changed), or a row file that is unreadable, empty or not the row its name states.
    SweepInterrupted
        On Ctrl-C (a ``KeyboardInterrupt``): workers are stopped, finished rows kept.
    """
    if not isinstance(observations, Observations):
        hint = " (call .observations() on Sessions)" * hasattr(observations, "observations")
        raise TypeError(
            f"observations must be fidelity Observations{hint}; got {type(observations).__name__}"
        )
    grid = grid if grid is not None else SweepGrid()
    if not isinstance(grid, SweepGrid):
        raise TypeError(f"grid must be a SweepGrid or None; got {type(grid).__name__}")
    n_jobs = check_positive_int("n_jobs", n_jobs)
    configs = grid.configs()
    _check_target_sizes(observations, grid)
    if out is not None:
        out = check_output_dir("out", out)
    store = RowStore(
        out,
        sweep_fingerprint(observations, grid) if out is not None else None,
        overwrite=overwrite,
    )
    done = store.done() if resume else {}
    tasks = []
    for scenario, group in grid.scenarios():
        todo = [c for c in group if c.config_id not in done]
        if todo:
            tasks.append((scenario, todo))
    n_todo = sum(len(t[1]) for t in tasks)
    if done:
        logger.info(
            "resuming: %d of %d configurations already done", len(configs) - n_todo, len(configs)
        )
    rows = dict(done)
    bar = tqdm(
        total=len(configs),
        initial=len(configs) - n_todo,
        desc="sweep",
        unit="config",
        disable=not show_progress,
    )
    try:
        with bar:
            for task_rows in execute(
                observations, grid, tasks, run_scenario, n_jobs=n_jobs, scheduler=scheduler
            ):
                for row in task_rows:
                    store.write(row)
                    rows[row["config_id"]] = row
                bar.update(len(task_rows))
    except KeyboardInterrupt:
        n_saved = sum(c.config_id in rows for c in configs) if out is not None else 0
        raise SweepInterrupted(n_saved, len(configs)) from None
    table = row_frame(rows[c.config_id] for c in configs)
    if out is not None:
        write_atomic_table(table, out)
    return table


def _check_target_sizes(observations: Observations, grid: SweepGrid) -> None:
    n_t = provider_pool_size(observations, grid.mode)
    too_big = [s for s in grid.target_sizes if s is not None and s > n_t]
    if too_big:
        who = "users" if grid.mode == "shared" else "users with at least 2 sessions"
        raise ValueError(
            f"target_sizes {too_big} exceed the number of T's users ({n_t} = half of the "
            f"{who}); use smaller sizes or more data"
        )
