"""Dask execution: sweeps on a cluster and out-of-core MI(H;O) over partitioned data.

Dask is an optional dependency (``pip install 'fidelity[dask]'``); it is imported only
when a scheduler or lazy data are used. Every function that takes ``scheduler`` accepts
the address of a running scheduler (``"tcp://10.0.0.1:8786"``) or a
``dask.distributed.Client``; ``None`` uses Dask's current scheduler (the active client,
if any). The workers must be able to import the same version of fidelity.

Sweeps
    :func:`run_configs_on_dask` (what ``run_sweep(..., scheduler=...)`` and
    ``fidelity reproduce --scheduler ADDRESS`` use) scatters the observations once to
    every worker and runs each configuration as one task calling
    :func:`fidelity.experiment.run_config`, so a row computed on the cluster equals the
    row computed locally (all numbers but ``elapsed_s``).

Out-of-core MI
    :func:`partitioned_mutual_information` measures MI(H;O) on a provider's own logs
    (a :class:`~fidelity.data.lazy.LazySessions`) split into an emulated adversary A and
    target T by a seeded hash of the user id (:func:`hash_providers`). Each partition is
    turned into transitions and a sparse histogram (:class:`ObservationHistogram`, numba
    kernels); histograms are merged in a tree (sparse counts add). Memory: one partition
    per worker task plus histograms proportional to the number of distinct observation
    values, never to the number of plays. :func:`split_by_hash` is the in-memory twin:
    ``mutual_information(*split_by_hash(obs, ...))`` gives exactly the same number on the
    same data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fidelity._validation import RandomStateLike, check_fraction, seed_sequence, warn
from fidelity.data.tables import Observations
from fidelity.histograms import DEFAULT_FEATURES, ObservationHistogram

__all__ = [
    "get_client",
    "hash_providers",
    "partitioned_histogram",
    "partitioned_mutual_information",
    "run_configs_on_dask",
    "split_by_hash",
]


# ----------------------------------------------------------------------------- clients
def get_client(scheduler: Any) -> tuple[Any, bool]:
    """Return ``(client, owned)`` for a scheduler address or a Client.

    ``owned`` is True when a new client was opened here (the caller closes it).

    Raises
    ------
    TypeError
        When ``scheduler`` is neither a string address nor a ``Client``.
    ImportError
        When dask.distributed is not installed.
    """
    try:
        from distributed import Client
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError(
            "a Dask scheduler was given but dask.distributed is not installed; "
            "install it with: pip install 'fidelity[dask]'"
        ) from err
    if isinstance(scheduler, Client):
        return scheduler, False
    if not isinstance(scheduler, str):
        raise TypeError(
            "scheduler must be a Dask scheduler address (e.g. 'tcp://10.0.0.1:8786') or a "
            f"dask.distributed.Client; got {type(scheduler).__name__}"
        )
    try:
        return Client(scheduler, set_as_default=False), True
    except OSError as err:
        raise ValueError(
            f"scheduler={scheduler!r}: cannot connect to a Dask scheduler there ({err})"
        ) from None


def run_configs_on_dask(observations, grid, configs, *, scheduler: Any) -> Iterator[dict]:
    """Run configurations as Dask tasks and yield their rows as they finish.

    Parameters
    ----------
    observations : Observations
        Scattered once to every worker.
    grid : SweepGrid
    configs : list of SweepConfig
        Each is one task calling :func:`fidelity.experiment.run_config` (keys are unique
        per call, so two sweeps on one client never share results).
    scheduler : str or dask.distributed.Client

    Yields
    ------
    dict
        One results row per configuration, in completion order. When a task fails, the
        remaining tasks are cancelled and its error is raised.
    """
    from distributed import as_completed

    from fidelity.experiment import run_config

    client, owned = get_client(scheduler)
    token = uuid.uuid4().hex[:8]
    futures = []
    try:
        # hash=False: a fresh key per sweep. With the default content-hash key, a sweep
        # that reuses the key of data a previous client is still releasing can lose it
        # ("lost dependencies"; seen once in CI when two sweeps ran back to back).
        data = client.scatter(observations, broadcast=True, hash=False)
        futures = [
            client.submit(
                run_config, data, c, grid, pure=False, key=f"fidelity-{c.config_id}-{token}"
            )
            for c in configs
        ]
        for future in as_completed(futures):
            yield future.result()
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)
        if owned:
            client.close()


# ----------------------------------------------------------------------------- hash split
def _hash_key(random_state: RandomStateLike) -> str:
    if random_state is None:
        raise ValueError(
            "random_state must be given (int or SeedSequence) for a hash split: the same "
            "seed must give the same split in every partition and process; got None"
        )
    state = seed_sequence(random_state).generate_state(1, dtype=np.uint64)[0]
    return format(int(state), "016x")


def hash_providers(
    ids: np.ndarray | Sequence[Any], *, overlap: float = 0.0, random_state: RandomStateLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Assign users to an emulated adversary (A) and target (T) by a seeded hash of their id.

    Each id ``x`` gets ``u = hash(str(x), key(random_state)) / 2**64`` in [0, 1) (SipHash,
    the same in every process and partition). A has the users with ``u < 1/2``; T has
    those with ``u < overlap/2`` (the common users, a fraction ``overlap`` of A) and those
    with ``1/2 <= u < 1 - overlap/2``: both halves have the same expected size, and with
    ``overlap=0`` they are two disjoint halves (the self-evaluation of
    :func:`fidelity.safe_session.estimate_safe_session_size`, at full size).

    Parameters
    ----------
    ids : array-like
        User ids (for MSSD: session ids); compared as strings.
    overlap : float, default 0.0
        Fraction of A's users that T also has, in [0, 1].
    random_state : int or SeedSequence (or Generator, drawn once)
        Seed of the hash; required (None is refused).

    Returns
    -------
    in_adversary, in_target : ndarray of bool
    """
    overlap = check_fraction("overlap", overlap)
    return _hash_split(ids, overlap, _hash_key(random_state))


def _hash_split(ids: Any, overlap: float, key: str) -> tuple[np.ndarray, np.ndarray]:
    text = np.asarray(pd.Series(np.asarray(ids, dtype=object)).astype(str), dtype=object)
    u = (pd.util.hash_array(text, hash_key=key, categorize=False) >> np.uint64(11)) * 2.0**-53
    in_a = u < 0.5
    in_t = (u < overlap / 2) | ((u >= 0.5) & (u < 1.0 - overlap / 2))
    return in_a, in_t


def split_by_hash(
    observations: Observations, *, overlap: float = 0.0, random_state: RandomStateLike = 0
) -> tuple[Observations, Observations]:
    """In-memory twin of the partitioned split: A's and T's observations by :func:`hash_providers`.

    Users are ``observations.user_ids[observations.user]`` (for MSSD data, the session ids).
    """
    in_a, in_t = hash_providers(observations.user_ids, overlap=overlap, random_state=random_state)
    return _take(observations, in_a, in_t)


def _take(observations: Observations, in_a, in_t) -> tuple[Observations, Observations]:
    return observations.take(in_a[observations.user]), observations.take(in_t[observations.user])


# ----------------------------------------------------------------------------- partitioned MI
@dataclass(frozen=True, eq=False)
class _Partial:
    """Merged statistics of some partitions."""

    hist: ObservationHistogram | None
    n_units_a: int
    n_units_t: int
    units_a: np.ndarray | None  # hashed user ids (only when users span partitions)
    units_t: np.ndarray | None
    n_single: int


def _unit_hashes(obs: Observations) -> np.ndarray:
    ids = np.asarray(pd.Series(obs.user_ids[np.unique(obs.user)]).astype(str), dtype=object)
    return np.unique(pd.util.hash_array(ids, categorize=False))


def _partition_partial(pdf, item_ids, timing_names, has_users, overlap, key, features, bins):
    from fidelity.data.lazy import partition_observations

    obs, n_single = partition_observations(
        pdf, item_ids=item_ids, timing_names=timing_names, has_users=has_users
    )
    obs_a, obs_t = _take(obs, *_hash_split(obs.user_ids, overlap, key))
    hist = ObservationHistogram.from_observations(obs_a, obs_t, features=features, timing_bins=bins)
    return _Partial(
        hist,
        len(np.unique(obs_a.user)),
        len(np.unique(obs_t.user)),
        _unit_hashes(obs_a) if has_users else None,
        _unit_hashes(obs_t) if has_users else None,
        n_single,
    )


def _merge_partials(parts: list[_Partial]) -> _Partial:
    hists = [p.hist for p in parts if p.hist is not None]
    hist = hists[0].merge(*hists[1:]) if len(hists) > 1 else (hists[0] if hists else None)
    units = [None, None]
    for j, name in enumerate(("units_a", "units_t")):
        arrays = [getattr(p, name) for p in parts]
        if arrays[0] is not None:
            units[j] = np.unique(np.concatenate(arrays))
    return _Partial(
        hist,
        sum(p.n_units_a for p in parts),
        sum(p.n_units_t for p in parts),
        units[0],
        units[1],
        sum(p.n_single for p in parts),
    )


def _check_bins(timing_bins: Any) -> None:
    values = timing_bins.values() if isinstance(timing_bins, Mapping) else [timing_bins]
    for v in values:
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            raise ValueError(
                "timing_bins: a number of bins depends on the pooled data range, which differs "
                "per partition; for partitioned data pass explicit bin edges (a sequence of "
                f"floats) or None; got {timing_bins!r}"
            )


def _partial(
    lazy, *, overlap, random_state, features, timing_bins, scheduler, split_every
) -> _Partial:
    import dask

    from fidelity.data.lazy import LazySessions, _compute

    if not isinstance(lazy, LazySessions):
        raise TypeError(f"lazy must be a LazySessions (scan_mssd, ...); got {type(lazy).__name__}")
    overlap = check_fraction("overlap", overlap)
    key = _hash_key(random_state)
    _check_bins(timing_bins)
    if split_every < 2:
        raise ValueError(f"split_every must be >= 2; got {split_every!r}")
    item_ids = lazy.item_vocabulary(scheduler=scheduler)
    args = (item_ids, lazy.timing_names, lazy.has_users, overlap, key, tuple(features))
    parts = [
        dask.delayed(_partition_partial, pure=True)(p, *args, timing_bins)
        for p in lazy.frame.to_delayed()
    ]
    while len(parts) > 1:
        parts = [
            dask.delayed(_merge_partials, pure=True)(parts[i : i + split_every])
            for i in range(0, len(parts), split_every)
        ]
    total = _compute(dask.delayed(_merge_partials)(parts), scheduler=scheduler)
    if total.n_single:
        warn(
            f"{total.n_single} session(s) of a single play have no transition and give no "
            f"observation ({total.n_single} play(s) unused)"
        )
    if lazy.has_users:
        total = _Partial(
            total.hist, len(total.units_a), len(total.units_t), None, None, total.n_single
        )
    return total


def partitioned_histogram(
    lazy,
    *,
    overlap: float = 0.0,
    random_state: RandomStateLike = 0,
    features: Sequence[str] = DEFAULT_FEATURES,
    timing_bins: Any = None,
    scheduler: Any = None,
    split_every: int = 8,
) -> ObservationHistogram:
    """Sparse A/T histogram of observation values over a partitioned table.

    Parameters
    ----------
    lazy : LazySessions
        From :func:`~fidelity.data.lazy.scan_mssd` (possibly filtered).
    overlap, random_state
        The provider split, see :func:`hash_providers`.
    features : sequence of str
        Observation value (default the pair (s, s')); see
        :func:`fidelity.histograms.encode_features`.
    timing_bins : None, sequence of edges, or dict
        As in :func:`fidelity.information.mutual_information`, except that a number of
        bins (data-dependent) is refused: give edges.
    scheduler : str or dask.distributed.Client, optional
    split_every : int, default 8
        Fan-in of the merge tree.

    Returns
    -------
    ObservationHistogram
        Equal (keys and counts) to the histogram of the in-memory observations split by
        :func:`split_by_hash`.
    """
    part = _partial(
        lazy,
        overlap=overlap,
        random_state=random_state,
        features=features,
        timing_bins=timing_bins,
        scheduler=scheduler,
        split_every=split_every,
    )
    return part.hist


def partitioned_mutual_information(
    lazy,
    *,
    overlap: float = 0.0,
    random_state: RandomStateLike = 0,
    prior: float = 0.5,
    features: Sequence[str] = DEFAULT_FEATURES,
    timing_bins: Any = None,
    correction: str | None = None,
    scheduler: Any = None,
    split_every: int = 8,
):
    """MI(H;O) between a hash-emulated adversary and target over partitioned data.

    A and T are the users of ``lazy`` assigned by :func:`hash_providers` (``overlap``,
    ``random_state``); the MI is computed from the merged sparse histogram, so the memory
    is proportional to the number of distinct observation values.

    Parameters
    ----------
    lazy : LazySessions
    overlap : float, default 0.0
        Fraction of A's users that T also has (0: two disjoint halves).
    random_state : int or SeedSequence, default 0
        Seed of the hash split.
    prior, correction
        As :func:`fidelity.information.mutual_information`.
    features, timing_bins, scheduler, split_every
        As :func:`partitioned_histogram`.

    Returns
    -------
    MIEstimate
        ``plugin``/``mi``, ``corrected``, counts of observations, users and values, equal
        to ``mutual_information(*split_by_hash(lazy.to_sessions().observations(), ...),
        n_permutations=0)``.
        No permutation null or bootstrap (they need every user's observations in one
        place): ``n_permutations = n_bootstrap = 0`` and those fields are None.
    """
    from fidelity.information import MIEstimate
    from fidelity.mi_estimators import CORRECTIONS, check_prior

    check_prior(prior)  # fail before the distributed pass
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}; got {correction!r}")
    part = _partial(
        lazy,
        overlap=overlap,
        random_state=random_state,
        features=features,
        timing_bins=timing_bins,
        scheduler=scheduler,
        split_every=split_every,
    )
    hist = part.hist
    if hist is None or hist.n_adversary == 0 or hist.n_target == 0:
        raise ValueError(
            "partitioned_mutual_information: the adversary or the target has no observation "
            f"(A: {0 if hist is None else hist.n_adversary}, "
            f"T: {0 if hist is None else hist.n_target})"
        )
    return MIEstimate.from_counts(
        hist.counts_a,
        hist.counts_t,
        prior=prior,
        correction=correction,
        n_users_adversary=part.n_units_a,
        n_users_target=part.n_units_t,
        features=hist.features,
    )
