"""Out-of-core MI(H;O): sparse histograms per partition of a lazy table, merged in a tree.

:func:`partitioned_mutual_information` measures MI(H;O) on a provider's own logs (a
:class:`~fidelity.data.lazy.LazySessions`) split into an emulated adversary A and target T
by a seeded hash of the user id (:func:`fidelity.split.hash_providers`). Each partition is
turned into transitions and a sparse histogram (:class:`ObservationHistogram`, numba
kernels); histograms are merged in a tree (sparse counts add). Memory: one partition per
worker task plus histograms proportional to the number of distinct observation values,
never to the number of plays. :func:`fidelity.split.split_by_hash` is the in-memory twin:
``mutual_information(*split_by_hash(obs, ...))`` gives exactly the same number on the same
data. Dask is used only through :mod:`fidelity._dask`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fidelity._dask import compute, delayed, tree_reduce
from fidelity._validation import RandomStateLike, check_fraction, warn
from fidelity.data.lazy import LazySessions, partition_observations
from fidelity.data.tables import Observations
from fidelity.histograms import DEFAULT_FEATURES, ObservationHistogram
from fidelity.information import MIEstimate
from fidelity.mi_estimators import CORRECTIONS, check_prior
from fidelity.split.hashing import _hash_key, _hash_split, take_providers

__all__ = ["partitioned_histogram", "partitioned_mutual_information"]


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
    obs, n_single = partition_observations(
        pdf, item_ids=item_ids, timing_names=timing_names, has_users=has_users
    )
    obs_a, obs_t = take_providers(obs, *_hash_split(obs.user_ids, overlap, key))
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
    if not isinstance(lazy, LazySessions):
        raise TypeError(f"lazy must be a LazySessions (scan_mssd, ...); got {type(lazy).__name__}")
    overlap = check_fraction("overlap", overlap)
    key = _hash_key(random_state)
    _check_bins(timing_bins)
    if split_every < 2:
        raise ValueError(f"split_every must be >= 2; got {split_every!r}")
    item_ids = lazy.item_vocabulary(scheduler=scheduler)
    args = (item_ids, lazy.timing_names, lazy.has_users, overlap, key, tuple(features))
    parts = [delayed(_partition_partial)(p, *args, timing_bins) for p in lazy.frame.to_delayed()]
    merged = tree_reduce(parts, _merge_partials, split_every=split_every)
    total = compute(merged, scheduler=scheduler)
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
        The provider split, see :func:`fidelity.split.hash_providers`.
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
        :func:`fidelity.split.split_by_hash`.
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

    A and T are the users of ``lazy`` assigned by :func:`fidelity.split.hash_providers`
    (``overlap``, ``random_state``); the MI is computed from the merged sparse histogram,
    so the memory is proportional to the number of distinct observation values.

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
