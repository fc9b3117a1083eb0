"""Transitions of one partition as observations (private; see :mod:`fidelity.data.lazy`).

A partition holds whole sessions in play order (``_session`` codes, ``run`` numbers where a
filter cut a session); a transition is a row whose next row is the next play of the same
run. Item ids become global codes through ``item_ids``; user ids stay partition-local.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from fidelity.data.tables import TIMING_DTYPE, Observations

__all__ = ["partition_observations", "partition_provider_observations"]


def _item_codes(values: pd.Series, item_ids: np.ndarray, rows: list[np.ndarray]) -> list:
    """Global codes (index in ``item_ids``) of a partition's items at each of ``rows``.

    Raises when any item of the partition is not in ``item_ids``.
    """
    index = pd.Index(item_ids)
    if isinstance(values.dtype, pd.CategoricalDtype):  # look up each distinct id once
        per_category = index.get_indexer(values.cat.categories).astype(np.int64)
        codes = values.cat.codes.to_numpy()
        unknown = np.flatnonzero(per_category < 0)
        if len(unknown) and np.isin(codes, unknown).any():
            _unknown_items(values, np.isin(codes, unknown))
        return [per_category[codes[r]] for r in rows]
    item = index.get_indexer(values).astype(np.int64)
    if (item < 0).any():
        _unknown_items(values, item < 0)
    return [item[r] for r in rows]


def _unknown_items(values: pd.Series, bad: np.ndarray) -> None:
    ids = pd.unique(values[bad])[:5].tolist()
    raise ValueError(f"item ids {ids!r} are not in the item vocabulary")


def _user_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Partition-local user codes and the ids they index (categorical: codes, categories)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), np.asarray(values.cat.categories)
    codes, uniques = pd.factorize(values)
    return codes, np.asarray(uniques)


def _transitions(pdf: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Rows whose next row is the next play of the same run, and the runs of one play."""
    session = pdf["_session"].to_numpy()
    run = pdf["run"].to_numpy()
    n = len(session)
    same = session[1:] != session[:-1] if n else np.zeros(0, bool)
    np.logical_not(same, out=same)  # row i+1 continues the run of row i
    if run.any():  # runs of a session cut by the top-songs filter
        same &= run[1:] == run[:-1]
    # runs of one play: rows that neither continue nor are continued
    n_single = int((np.r_[True, ~same] & np.r_[~same, True]).sum()) if n else 0
    return np.flatnonzero(same), n_single


def _observations_at(
    pdf: pd.DataFrame,
    rows: np.ndarray,
    rank: np.ndarray,
    n_runs: int,
    item_ids: np.ndarray,
    timing_names: Sequence[str],
    users: tuple[np.ndarray, np.ndarray],
) -> Observations:
    """The observations of transition ``rows`` (``rank``: their index among all transitions)."""
    item, next_item = _item_codes(pdf["item_id"], item_ids, [rows, rows + 1])
    user_code, user_ids = users
    timing = np.empty((len(rows), len(timing_names)), dtype=TIMING_DTYPE)
    for j, name in enumerate(timing_names):
        timing[:, j] = pdf[name].to_numpy(dtype=TIMING_DTYPE)[rows]
    return Observations(
        user=user_code[rows].astype(np.int64),
        # the run of row rows[k]: the rows before it, less the transitions among them
        session=rows - rank,
        item=item,
        next_item=next_item,
        timing=timing,
        timing_names=tuple(timing_names),
        item_ids=item_ids,
        user_ids=user_ids,
        session_ids=np.arange(n_runs, dtype=np.int64),
    )


def partition_observations(
    pdf: pd.DataFrame,
    *,
    item_ids: np.ndarray,
    timing_names: Sequence[str],
    has_users: bool = False,
) -> tuple[Observations, int]:
    """Transitions of one partition, with global item codes and partition-local users.

    Parameters
    ----------
    pdf : pandas.DataFrame
        One partition of :attr:`LazySessions.frame`.
    item_ids : ndarray
        The global item vocabulary (code = index).
    timing_names : sequence of str
    has_users : bool
        Users from ``user_id`` (else one user per original session).

    Returns
    -------
    observations : Observations
        ``item``/``next_item`` in global codes (``item_ids`` kept, so packed keys agree with
        the in-memory path); ``user`` codes index ``user_ids`` = the partition's distinct
        original user (or session) ids (for categorical ids: every category, present or
        not); ``session`` codes number the runs of the partition.
    n_single : int
        Sessions (runs) of a single play, which give no transition.

    Raises
    ------
    ValueError
        When an item of the partition is not in ``item_ids``.
    """
    first, n_single = _transitions(pdf)
    users = _user_codes(pdf["user_id" if has_users else "session_id"])
    rank = np.arange(len(first), dtype=np.int64)
    n_runs = len(pdf) - len(first)
    obs = _observations_at(pdf, first, rank, n_runs, item_ids, timing_names, users)
    return obs, n_single


def partition_provider_observations(
    pdf: pd.DataFrame,
    split: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    *,
    item_ids: np.ndarray,
    timing_names: Sequence[str],
    has_users: bool = False,
) -> tuple[Observations, Observations, int]:
    """:func:`partition_observations` split between two holders, without the whole table.

    ``split(user_ids)`` returns the masks ``(in_a, in_t)`` over the partition's
    ``user_ids``. The result equals ``take_providers(obs, *split(obs.user_ids))`` for
    ``obs, n_single = partition_observations(pdf, ...)`` (same rows, codes and ids), but
    only the two holders' rows are gathered.

    Returns
    -------
    obs_a, obs_t : Observations
    n_single : int
    """
    first, n_single = _transitions(pdf)
    users = _user_codes(pdf["user_id" if has_users else "session_id"])
    in_a, in_t = split(users[1])
    user_at = users[0][first]
    n_runs = len(pdf) - len(first)
    out = []
    for mask in (in_a, in_t):
        rank = np.flatnonzero(mask[user_at])
        out.append(_observations_at(pdf, first[rank], rank, n_runs, item_ids, timing_names, users))
    return out[0], out[1], n_single
