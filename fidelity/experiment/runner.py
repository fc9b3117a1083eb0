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
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from fidelity._dask import run_tasks
from fidelity._memory import keep_freed_memory
from fidelity._validation import check_positive_int
from fidelity.data.tables import Observations
from fidelity.evaluation import evaluate, session_curve
from fidelity.experiment.grid import SweepConfig, SweepGrid
from fidelity.experiment.store import RESULT_COLUMNS, RowStore, row_frame, write_atomic_table
from fidelity.scenario import Scenario
from fidelity.split import provider_pool_size

__all__ = ["run_config", "run_scenario", "run_sweep"]

logger = logging.getLogger("fidelity")

Task = tuple[Scenario, list[SweepConfig]]


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


_WORKER_DATA: dict[str, Any] = {}


def _init_worker(observations: Observations, grid: SweepGrid) -> None:
    keep_freed_memory()  # our own process: successive forests reuse faulted-in pages
    _WORKER_DATA["observations"] = observations
    _WORKER_DATA["grid"] = grid


def _run_in_worker(task: Task) -> list[dict[str, Any]]:
    return run_scenario(_WORKER_DATA["observations"], *task, _WORKER_DATA["grid"])


def _run_on_dask(shared: tuple[Observations, SweepGrid], task: Task) -> list[dict[str, Any]]:
    observations, grid = shared
    return run_scenario(observations, *task, grid)


def _task_key(token: str):
    def key(task: Task) -> str:
        return f"fidelity-{task[1][0].config_id}-{token}"

    return key


def _execute(
    observations: Observations,
    grid: SweepGrid,
    tasks: list[Task],
    *,
    n_jobs: int,
    scheduler: Any,
) -> Iterator[list[dict[str, Any]]]:
    """Yield each task's rows as tasks finish (in any order).

    Parallel runs start the largest targets first (longest tasks first keeps the
    workers busy to the end); rows are put back in grid order by the caller.
    """
    tasks = sorted(tasks, key=lambda t: -np.inf if t[0].target_size is None else -t[0].target_size)
    if scheduler is not None:
        key = _task_key(os.urandom(4).hex())
        yield from run_tasks(
            _run_on_dask, tasks, shared=(observations, grid), scheduler=scheduler, key=key
        )
    elif n_jobs == 1 or len(tasks) <= 1:
        for scenario, configs in tasks:
            yield run_scenario(observations, scenario, configs, grid)
    else:
        with ProcessPoolExecutor(
            max_workers=min(n_jobs, len(tasks)),
            initializer=_init_worker,
            initargs=(observations, grid),
        ) as pool:
            futures = [pool.submit(_run_in_worker, task) for task in tasks]
            for future in as_completed(futures):
                yield future.result()


def run_sweep(
    observations: Observations,
    grid: SweepGrid | None = None,
    *,
    out: str | os.PathLike[str] | None = None,
    n_jobs: int = 1,
    scheduler: Any = None,
    resume: bool = True,
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
    n_jobs : int
        Local worker processes (``1`` runs in this process). Numbers do not depend on it.
        The workers keep freed memory for reuse (see :mod:`fidelity._memory`: successive
        forests then grow ~1.8x faster) and so hold their peak memory until the sweep ends.
    scheduler : str or dask.distributed.Client, optional
        Address of a Dask scheduler (or a client): scenarios run as Dask tasks (the
        observations are scattered once to every worker).
    resume : bool
        Skip configurations whose row is already in ``out``.
    show_progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per configuration, in the grid's order, columns :data:`RESULT_COLUMNS`.
    """
    grid = grid if grid is not None else SweepGrid()
    n_jobs = check_positive_int("n_jobs", n_jobs)
    configs = grid.configs()
    _check_target_sizes(observations, grid)
    store = RowStore(Path(out) if out is not None else None)
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
    with bar:
        for task_rows in _execute(observations, grid, tasks, n_jobs=n_jobs, scheduler=scheduler):
            for row in task_rows:
                store.write(row)
                rows[row["config_id"]] = row
            bar.update(len(task_rows))
    table = row_frame(rows[c.config_id] for c in configs)
    if out is not None:
        write_atomic_table(table, Path(out))
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
