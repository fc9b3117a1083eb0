"""Sweeps over overlap x target size x recommender x attack x seed: the paper's experiment.

Each configuration splits the data into adversary and target (:func:`split_providers`),
fits the target model, runs the attack, and measures rates (both conventions), the
recommender's accuracy, user-level ROC numbers and MI(H;O) with its permutation null
and bootstrap CI. Results form a tidy table, one row per configuration (columns in
:data:`RESULT_COLUMNS`).

Every configuration draws its random streams from its own ``seed`` only, so the
numbers do not depend on ``n_jobs``, on the order in which configurations finish,
or on whether a sweep was resumed. Each finished row is written at once (an
atomic file per configuration under ``<out>/rows/``), so a killed sweep resumes
where it stopped and never leaves a half-written row.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import time
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from fidelity._validation import check_choice, check_fraction, check_positive_int
from fidelity.data.tables import Observations
from fidelity.split import MODES

logger = logging.getLogger("fidelity")

CONFIG_COLUMNS = (
    "overlap",
    "target_size",
    "recommender",
    "seed",
    "attack",
    "threat",
    "k",
    "mode",
    "mitigation",
)
RESULT_COLUMNS = (
    *CONFIG_COLUMNS,
    "n_adversary_users",
    "n_target_users",
    "n_members",
    "n_adversary_obs",
    "n_target_obs",
    "accuracy",
    "accuracy_holdout",
    "tp",
    "fp",
    "tn",
    "fn",
    "tpr",
    "fpr",
    "precision",
    "obs_accuracy",
    "auc",
    "advantage",
    "tpr_at_0.1pct_fpr",
    "tpr_at_1pct_fpr",
    "ppv",
    "mi",
    "mi_corrected",
    "mi_null_mean",
    "mi_null_std",
    "mi_p_value",
    "mi_ci_low",
    "mi_ci_high",
    "fano_bound",
    "safe_session_size",
    "elapsed_s",
    "config_id",
)
"""Columns of the tidy results table, in order."""


@dataclass(frozen=True)
class SweepConfig:
    """One configuration of a sweep (one row of the results table)."""

    overlap: float
    target_size: int | None
    recommender: str
    seed: int
    attack: str = "match"
    threat: str = "label"
    k: int = 1
    mode: str = "shared"
    mitigation: str = "none"

    @property
    def config_id(self) -> str:
        """Stable short hash of the configuration (names its row file).

        Without a mitigation (``"none"``) the hash is the one of the configuration
        without the ``mitigation`` field, so rows of older sweeps are still resumed.
        """
        data = asdict(self)
        if data["mitigation"] == "none":
            del data["mitigation"]
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class SweepGrid:
    """The grid of a sweep and the measurement options shared by its configurations.

    Parameters
    ----------
    overlaps : tuple of float
        Fractions of A's users that T also has.
    target_sizes : tuple of int or None
        Numbers of T's users used to train m_T (``None``: all of T).
    recommenders : tuple of str
        Names for :func:`fidelity.recommenders.make_recommender`.
    seeds : tuple of int
        One repetition per seed.
    attacks : tuple of str
        Attack names (``"match"`` is the paper's; see :mod:`fidelity.attacks`).
    threats : tuple of str
        Threat models (``"label"``, ``"topk"``, ``"scores"``).
    k : int
        List length for the ``topk`` threat model.
    mode : {"shared", "split-history"}
        Provider split mode.
    mitigations : tuple of str
        Mitigation settings (``"none"``, ``"chunk:N"``, ``"topk:K"``, ``"noise:L"``,
        ``"train:F"``; see :mod:`fidelity.attacks.mitigations`).
    recommender_params : mapping
        Keyword parameters per recommender name, e.g. ``{"random_forest": {"n_estimators": 20}}``.
    n_permutations, n_bootstrap : int
        Permutation-null and bootstrap sizes of the MI estimate (whole users resampled).
    """

    overlaps: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    target_sizes: tuple[int | None, ...] = (500, 1000, 2000, 4000)
    recommenders: tuple[str, ...] = ("random_forest",)
    seeds: tuple[int, ...] = (0,)
    attacks: tuple[str, ...] = ("match",)
    threats: tuple[str, ...] = ("label",)
    k: int = 1
    mode: str = "shared"
    mitigations: tuple[str, ...] = ("none",)
    recommender_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    n_permutations: int = 20
    n_bootstrap: int = 20

    def __post_init__(self) -> None:
        names = ("overlaps", "target_sizes", "recommenders", "seeds", "attacks", "threats")
        for name in (*names, "mitigations"):
            value = getattr(self, name)
            if isinstance(value, (str, int, float)) or value is None:
                value = (value,)
            value = tuple(value)
            if not value:
                raise ValueError(f"grid {name} must not be empty")
            object.__setattr__(self, name, value)
        for c in self.overlaps:
            check_fraction("overlaps", c)
        for size in self.target_sizes:
            if size is not None:
                check_positive_int("target_sizes", size)
        check_choice("mode", self.mode, MODES)
        from fidelity.attacks.mitigations import parse_mitigation

        object.__setattr__(
            self, "mitigations", tuple(parse_mitigation(m).name for m in self.mitigations)
        )
        check_positive_int("k", self.k)
        check_positive_int("n_permutations", self.n_permutations, minimum=0)
        check_positive_int("n_bootstrap", self.n_bootstrap, minimum=0)
        object.__setattr__(
            self, "recommender_params", {k: dict(v) for k, v in self.recommender_params.items()}
        )

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> SweepGrid:
        """Read a grid from a TOML file whose keys are this class's fields.

        ``target_sizes`` may contain ``"all"`` for ``None``; recommender parameters go in
        tables ``[recommender_params.<name>]``.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"grid file {str(path)!r} does not exist")
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"grid file {str(path)!r} is not valid TOML: {err}") from None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"grid file {str(path)!r}: unknown key(s) {unknown}; allowed: {sorted(known)}"
            )
        if "target_sizes" in data:
            data["target_sizes"] = [None if s == "all" else s for s in data["target_sizes"]]
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (for reports and ``results.json``)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    def configs(self) -> list[SweepConfig]:
        """All configurations, in a fixed order (the order of the results table)."""
        return [
            SweepConfig(
                float(c), size, rec, int(seed), attack, threat, self.k, self.mode, mitigation
            )
            for mitigation, rec, attack, threat, seed, c, size in itertools.product(
                self.mitigations,
                self.recommenders,
                self.attacks,
                self.threats,
                self.seeds,
                self.overlaps,
                self.target_sizes,
            )
        ]


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def run_config(observations: Observations, config: SweepConfig, grid: SweepGrid) -> dict[str, Any]:
    """Run one configuration and return its row of the results table.

    The split, the model and the MI estimate each draw from an independent stream
    spawned from ``SeedSequence(config.seed)``; the split stream ignores ``overlap`` and
    ``target_size`` so that, for one seed, configurations share one user shuffle and
    smaller targets are nested in larger ones (:func:`fidelity.target.fit_target`).
    A mitigation other than ``"none"`` changes the data the split is made from
    (``chunk``), the target size (``chunk``, ``train``) or the model the target serves
    (``topk``, ``noise``); see :mod:`fidelity.attacks.mitigations`.
    """
    from fidelity.attacks import run_attack
    from fidelity.information import mutual_information, safe_session_size
    from fidelity.target import fit_target

    start = time.perf_counter()
    fitted = fit_target(observations, config, grid.recommender_params)
    split, model, params = fitted.split, fitted.model, fitted.params
    mi_seed, attack_seed = fitted.mi_seed, fitted.attack_seed

    # One query of the target for the attack and both accuracy columns (the model
    # evaluates each distinct (song, timing) query once).
    adv, tgt = split.adversary, split.target
    k = 1 if config.threat == "label" else config.k
    answers = model.recommend(
        np.concatenate([adv.item, tgt.item]), np.concatenate([adv.timing, tgt.timing]), k=k
    )
    adv_top1, tgt_top1 = answers[: len(adv), 0], answers[len(adv) :, 0]
    options = {"recommendations": answers[: len(adv)]} if config.attack == "match" else {}
    result = run_attack(
        config.attack,
        split,
        model,
        threat=config.threat,
        k=config.k,
        recommender=config.recommender,
        recommender_params=params,
        random_state=attack_seed,
        **options,
    )
    row: dict[str, Any] = asdict(config)
    row.update(split.to_dict())
    row["target_size"] = config.target_size  # the grid's value (a mitigation may scale it)
    row["accuracy"] = _hit_rate(tgt_top1, tgt.next_item)
    non_member = ~split.member_mask
    row["accuracy_holdout"] = _hit_rate(adv_top1[non_member], adv.next_item[non_member])
    row.update({key: value for key, value in result.to_dict().items() if key in RESULT_COLUMNS})

    # The null and the bootstrap interval are those of the plug-in MI (the paper's
    # estimate, the ``mi`` column); its Miller-Madow value is reported beside it.
    estimate = mutual_information(
        split.adversary,
        split.target,
        n_permutations=grid.n_permutations,
        n_bootstrap=grid.n_bootstrap,
        random_state=mi_seed,
    )
    safe = safe_session_size(estimate.plugin)
    row.update(
        mi=estimate.plugin,
        mi_corrected=estimate.corrected,
        mi_null_mean=estimate.null_mean,
        mi_null_std=estimate.null_std,
        mi_p_value=estimate.p_value,
        mi_ci_low=estimate.ci_low,
        mi_ci_high=estimate.ci_high,
        fano_bound=safe.bound,
        safe_session_size=safe.size,
    )
    row["elapsed_s"] = time.perf_counter() - start
    row["config_id"] = config.config_id
    return {col: row.get(col, np.nan) for col in RESULT_COLUMNS}


def _hit_rate(top1: np.ndarray, next_item: np.ndarray) -> float:
    """Top-1 accuracy of given answers (NaN when there is no observation)."""
    return float(np.mean(top1 == next_item)) if len(top1) else float("nan")


# --------------------------------------------------------------------------- running


class _RowStore:
    """One atomic Parquet file per finished configuration under ``<out>/rows/``."""

    def __init__(self, out: Path | None) -> None:
        self.dir = None if out is None else Path(out) / "rows"
        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)

    def done(self) -> dict[str, dict[str, Any]]:
        if self.dir is None:
            return {}
        rows = {}
        for path in sorted(self.dir.glob("*.parquet")):
            frame = pd.read_parquet(path)
            rows[path.stem] = frame.iloc[0].to_dict()
        return rows

    def write(self, row: dict[str, Any]) -> None:
        if self.dir is None:
            return
        path = self.dir / f"{row['config_id']}.parquet"
        tmp = path.with_suffix(".parquet.tmp")
        _row_frame([row]).to_parquet(tmp, index=False)
        os.replace(tmp, path)


def _row_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(RESULT_COLUMNS))
    frame["target_size"] = frame["target_size"].astype("Int64")
    return frame


_WORKER_DATA: dict[str, Any] = {}


def _init_worker(observations: Observations, grid: SweepGrid) -> None:
    from fidelity._memory import keep_freed_memory

    keep_freed_memory()  # our own process: successive forests reuse faulted-in pages
    _WORKER_DATA["observations"] = observations
    _WORKER_DATA["grid"] = grid


def _run_in_worker(config: SweepConfig) -> dict[str, Any]:
    return run_config(_WORKER_DATA["observations"], config, _WORKER_DATA["grid"])


def _execute(
    observations: Observations,
    grid: SweepGrid,
    todo: list[SweepConfig],
    *,
    n_jobs: int,
    scheduler: Any,
) -> Iterator[dict[str, Any]]:
    """Yield rows as configurations finish (in any order).

    Parallel runs start the largest targets first (longest tasks first keeps the
    workers busy to the end); rows are put back in grid order by the caller.
    """
    todo = sorted(todo, key=lambda c: -np.inf if c.target_size is None else -c.target_size)
    if scheduler is not None:
        from fidelity.distributed import run_configs_on_dask

        yield from run_configs_on_dask(observations, grid, todo, scheduler=scheduler)
    elif n_jobs == 1 or len(todo) <= 1:
        for config in todo:
            yield run_config(observations, config, grid)
    else:
        with ProcessPoolExecutor(
            max_workers=min(n_jobs, len(todo)),
            initializer=_init_worker,
            initargs=(observations, grid),
        ) as pool:
            futures = [pool.submit(_run_in_worker, config) for config in todo]
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
        Address of a Dask scheduler (or a client): configurations run as Dask tasks.
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
    store = _RowStore(Path(out) if out is not None else None)
    done = store.done() if resume else {}
    todo = [c for c in configs if c.config_id not in done]
    if done:
        logger.info(
            "resuming: %d of %d configurations already done", len(configs) - len(todo), len(configs)
        )
    rows = dict(done)
    bar = tqdm(
        total=len(configs),
        initial=len(configs) - len(todo),
        desc="sweep",
        unit="config",
        disable=not show_progress,
    )
    with bar:
        for row in _execute(observations, grid, todo, n_jobs=n_jobs, scheduler=scheduler):
            store.write(row)
            rows[row["config_id"]] = row
            bar.update(1)
    table = _row_frame(rows[c.config_id] for c in configs)
    if out is not None:
        _write_atomic_table(table, Path(out))
    return table


def _check_target_sizes(observations: Observations, grid: SweepGrid) -> None:
    n_t = observations.n_users // 2
    too_big = [s for s in grid.target_sizes if s is not None and s > n_t]
    if too_big:
        raise ValueError(
            f"target_sizes {too_big} exceed the number of T's users ({n_t} = half of "
            f"{observations.n_users} users); use smaller sizes or more data"
        )


def _write_atomic_table(table: pd.DataFrame, out: Path) -> None:
    for name, writer in (
        ("results.csv", lambda p: table.to_csv(p, index=False)),
        ("results.parquet", lambda p: table.to_parquet(p, index=False)),
    ):
        tmp = out / f".{name}.tmp"
        writer(tmp)
        os.replace(tmp, out / name)
