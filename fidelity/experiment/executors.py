"""Where a sweep's scenarios run: in this process, in local worker processes, or on Dask.

Every executor takes the same tasks and yields each task's rows as it finishes; the
runner writes rows through one code path whatever the executor.

Local workers are a :class:`loky.ProcessPoolExecutor` (fresh interpreters, not forks of a
process that may hold threads and locks, and a public way to kill workers that are still
computing). They die with the process that started them:

- on Linux each worker asks the kernel for ``SIGKILL`` when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``), so a parent killed by ``SIGKILL``/``SIGTERM`` leaves no
  worker behind, even one in the middle of fitting a model; elsewhere a watchdog thread
  in each worker polls the parent and exits when it is gone;
- workers ignore ``SIGINT``: Ctrl-C reaches the parent only, which kills the workers
  (``shutdown(kill_workers=True)``) and keeps every row already written.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import as_completed
from contextlib import contextmanager
from typing import Any

import loky
import numpy as np
from tqdm.auto import tqdm

from fidelity._dask import run_tasks
from fidelity._memory import keep_freed_memory
from fidelity._validation import OnceFilter
from fidelity.data.tables import Observations
from fidelity.experiment.grid import SweepConfig, SweepGrid
from fidelity.scenario import Scenario

__all__ = ["Task", "die_with_parent", "execute"]

logger = logging.getLogger("fidelity")

Task = tuple[Scenario, list[SweepConfig]]
RunScenario = Callable[[Observations, Scenario, list[SweepConfig], SweepGrid], list[dict]]

_PR_SET_PDEATHSIG = 1
# loky's resource tracker (a process of its own, started with the first pool) unlinks, at
# exit, the semaphores of workers that an interrupt killed before they could unregister
# them, and warns about each on the terminal, after the one-line message of an interrupted
# run. The cleanup is what it should be; only its warnings are silenced, through the
# environment the tracker starts with.
_QUIET_TRACKER = "ignore:resource_tracker:UserWarning"
_WATCHDOG_INTERVAL_S = 0.5


def die_with_parent(parent_pid: int) -> str:
    """Make this process exit when the process ``parent_pid`` (its parent) dies.

    Returns the mechanism in effect: ``"pdeathsig"`` (Linux: the kernel sends SIGKILL
    when the parent dies) or ``"watchdog"`` (a daemon thread polls the parent pid).
    """
    mechanism = "watchdog"
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)  # the C library is already loaded
            if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
                mechanism = "pdeathsig"
        except (OSError, AttributeError):
            pass
    # the parent may have died before the request took effect
    if os.getppid() != parent_pid:
        os._exit(1)
    if mechanism == "watchdog":

        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(_WATCHDOG_INTERVAL_S)
            os._exit(1)

        threading.Thread(target=watch, name="fidelity-parent-watchdog", daemon=True).start()
    return mechanism


_WORKER: dict[str, Any] = {}


def _init_worker(
    parent_pid: int,
    observations: Observations,
    grid: SweepGrid,
    run: RunScenario,
    log_level: int | None,
    warning_filters: list[Any],
) -> None:
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    keep_freed_memory()  # our own process: successive forests reuse faulted-in pages
    # tqdm's default lock holds a multiprocessing semaphore, which a worker killed on
    # Ctrl-C would leave to the resource tracker (and its warning); a thread lock will do
    tqdm.set_lock(threading.RLock())
    warnings.filters[:] = warning_filters
    if log_level is not None:  # the parent shows fidelity's messages: so do we
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("fidelity: %(message)s"))
        handler.addFilter(OnceFilter())
        logger.addHandler(handler)
        logger.setLevel(log_level)
        logger.propagate = False
    _WORKER.update(observations=observations, grid=grid, run=run)


def _run_in_worker(task: Task) -> list[dict[str, Any]]:
    return _WORKER["run"](_WORKER["observations"], *task, _WORKER["grid"])


def _run_on_dask(shared: tuple[Observations, SweepGrid, RunScenario], task: Task) -> list[dict]:
    observations, grid, run = shared
    return run(observations, *task, grid)


def _task_key(token: str) -> Callable[[Task], str]:
    def key(task: Task) -> str:
        return f"fidelity-{task[1][0].config_id}-{token}"

    return key


def _parent_log_level() -> int | None:
    return logger.getEffectiveLevel() if logger.hasHandlers() else None


@contextmanager
def _quiet_resource_tracker() -> Iterator[None]:
    before = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = f"{before},{_QUIET_TRACKER}" if before else _QUIET_TRACKER
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = before


def _local_pool(
    observations: Observations, grid: SweepGrid, tasks: list[Task], n_jobs: int, run: RunScenario
) -> Iterator[list[dict[str, Any]]]:
    with _quiet_resource_tracker():
        yield from _pool_rows(observations, grid, tasks, n_jobs, run)


def _pool_rows(
    observations: Observations, grid: SweepGrid, tasks: list[Task], n_jobs: int, run: RunScenario
) -> Iterator[list[dict[str, Any]]]:
    pool = loky.ProcessPoolExecutor(
        max_workers=min(n_jobs, len(tasks)),
        initializer=_init_worker,
        initargs=(
            os.getpid(),
            observations,
            grid,
            run,
            _parent_log_level(),
            list(warnings.filters),
        ),
    )
    finished = False
    try:
        futures = [pool.submit(_run_in_worker, task) for task in tasks]
        for future in as_completed(futures):
            yield future.result()
        finished = True
    finally:
        # interrupted or failed: kill the workers now rather than wait for their tasks
        pool.shutdown(wait=True, kill_workers=not finished)


def execute(
    observations: Observations,
    grid: SweepGrid,
    tasks: list[Task],
    run: RunScenario,
    *,
    n_jobs: int,
    scheduler: Any,
) -> Iterator[list[dict[str, Any]]]:
    """Yield each task's rows (``run(observations, scenario, configs, grid)``) as it finishes.

    Parallel runs start the largest targets first (longest tasks first keeps the
    workers busy to the end); the caller puts rows back in grid order.
    """
    tasks = sorted(tasks, key=lambda t: -np.inf if t[0].target_size is None else -t[0].target_size)
    if scheduler is not None:
        key = _task_key(os.urandom(4).hex())
        yield from run_tasks(
            _run_on_dask, tasks, shared=(observations, grid, run), scheduler=scheduler, key=key
        )
    elif n_jobs == 1 or len(tasks) <= 1:
        for scenario, configs in tasks:
            yield run(observations, scenario, configs, grid)
    else:
        yield from _local_pool(observations, grid, tasks, n_jobs, run)
