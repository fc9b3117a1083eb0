"""The paper's filters on lazy, partitioned data (:class:`~fidelity.data.lazy.LazySessions`).

Same steps and same results as :func:`~fidelity.data.filters.paper_filter` and
:func:`~fidelity.data.filters.keep_top_items`, computed without gathering the data:

- the session steps (full length, ``not_skipped`` count, contexts) look at one session at
  a time, so they run **per partition** (sessions are whole per partition);
- the "most played songs" step needs a **global count**: one Dask reduction sums the
  per-partition play counts of each song (after the session steps; memory proportional to
  the number of songs), ranks them (ties by the smaller id, as the eager codes), then a
  per-partition filter keeps the plays of the top songs and, with ``split_sessions``,
  numbers the runs of a session cut at removed plays.

The reduction is computed when the function is called (it also gives the counts that the
function reports with a :class:`~fidelity.FidelityWarning`); the filtered table stays
lazy. ``lazy_paper_filter(scan_mssd(p)).to_sessions()`` equals
``paper_filter(load_mssd(p))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fidelity._dask import compute, delayed, tree_reduce
from fidelity._validation import check_positive_int, logger, warn
from fidelity.data.filters import (
    _check_session_steps,
    _context_codes,
    _report_step,
    _require_timing,
    _step_names,
)
from fidelity.data.lazy import LazySessions

__all__ = ["lazy_keep_top_items", "lazy_paper_filter"]


def _column(lazy: LazySessions, name: str, why: str) -> None:
    _require_timing(lazy.timing_names, name, why)


def _session_keep(
    pdf: pd.DataFrame, session_length: int, min_listened: int, allowed: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row keep mask after the session steps and per-step (sessions, plays) kept."""
    session = pdf["_session"].to_numpy(dtype=np.int64)
    n_codes = int(session.max()) + 1 if len(session) else 0
    present = np.bincount(session, minlength=n_codes) > 0
    lengths = np.bincount(session, minlength=n_codes)
    keep_s = lengths == session_length
    steps = [(int(present.sum()), len(session)), _kept(keep_s, lengths)]
    listened = (pdf["not_skipped"].to_numpy() == 1).astype(np.float64)
    keep_s &= np.bincount(session, weights=listened, minlength=n_codes) >= min_listened
    steps.append(_kept(keep_s, lengths))
    if allowed is not None:
        bad = ~np.isin(pdf["context_type"].to_numpy(dtype=np.float64), allowed)
        keep_s &= np.bincount(session, weights=bad.astype(np.float64), minlength=n_codes) == 0
        steps.append(_kept(keep_s, lengths))
    return keep_s[session], np.asarray(steps, dtype=np.int64)


def _kept(keep_s: np.ndarray, lengths: np.ndarray) -> tuple[int, int]:
    return int((keep_s & (lengths > 0)).sum()), int(lengths[keep_s].sum())


def _steps_partition(pdf: pd.DataFrame, *args: Any) -> pd.DataFrame:
    keep, _ = _session_keep(pdf, *args)
    return pdf[keep]


def _stats_partition(pdf: pd.DataFrame, *args: Any) -> tuple[np.ndarray, pd.Series]:
    keep, steps = _session_keep(pdf, *args) if args else (np.ones(len(pdf), bool), None)
    counts = pdf["item_id"][keep].value_counts(sort=False)
    return steps, counts


def _sum_stats(parts: list[tuple[np.ndarray | None, pd.Series]]) -> tuple[Any, pd.Series]:
    steps = [p[0] for p in parts if p[0] is not None]
    total = sum(steps) if steps else None
    series = [p[1] for p in parts if len(p[1])]
    counts = pd.concat(series).groupby(level=0, sort=False).sum() if series else pd.Series()
    return total, counts


def _top_partition(pdf: pd.DataFrame, top: np.ndarray, split_sessions: bool) -> pd.DataFrame:
    keep = pdf["item_id"].isin(top).to_numpy()
    if not split_sessions:
        return pdf[keep]
    session = pdf["_session"].to_numpy()
    n = len(session)
    same = np.zeros(n, dtype=bool)
    same[1:] = session[1:] == session[:-1]
    starts = keep & ~(same & np.r_[False, keep[:-1]])
    cum = np.cumsum(starts)
    before = np.maximum.accumulate(np.where(~same, cum - starts, 0))
    run = cum - before - 1  # 0 for the first kept run of a session
    out = pdf[keep].copy()
    out["run"] = run[keep].astype(np.int64)
    return out


def lazy_keep_top_items(
    lazy: LazySessions,
    n_items: int,
    *,
    split_sessions: bool = True,
    scheduler: Any = None,
    _session_steps: tuple | None = None,
    _contexts: list | None = None,
) -> LazySessions:
    """Keep the ``n_items`` most played songs: a global count, then a per-partition filter.

    Parameters
    ----------
    lazy : LazySessions
    n_items : int
        Number of songs kept (ranked by plays, ties by the smaller id).
    split_sessions : bool, default True
        As :func:`~fidelity.data.filters.keep_top_items`: cut a session where a play was
        removed (each later run becomes a session ``"<id>#<k>"`` in :meth:`to_sessions`).
    scheduler : str or dask.distributed.Client, optional
        Where to compute the global count (default: Dask's current scheduler).

    Returns
    -------
    LazySessions
        Lazy; ``item_ids`` fixed to the kept songs in popularity order.
    """
    n_items = check_positive_int("n_items", n_items)
    if not isinstance(lazy, LazySessions):
        raise TypeError(f"lazy must be a LazySessions; got {type(lazy).__name__}")
    if lazy.item_ids is not None or lazy.split:
        raise ValueError("lazy_keep_top_items: the songs were already filtered; apply it once")
    frame = lazy.frame
    args = () if _session_steps is None else _session_steps
    parts = [delayed(_stats_partition)(p, *args) for p in frame.to_delayed()]
    steps, counts = compute(tree_reduce(parts, _sum_stats), scheduler=scheduler)
    if _session_steps is not None:
        _report_steps(steps, _session_steps, _contexts)
        frame = frame.map_partitions(_steps_partition, *_session_steps, meta=frame._meta)
    ids = np.asarray(counts.index)
    rank_of_id = pd.factorize(pd.Series(ids), sort=True)[0]  # eager codes: sorted ids
    values = counts.to_numpy(dtype=np.int64)
    ranked = np.lexsort((rank_of_id, -values))
    top = ids[ranked[:n_items]]
    n_plays = int(values.sum())
    kept = int(values[ranked[:n_items]].sum())
    warn(
        f"keep_top_items: kept {len(top)} of {len(ids)} songs played; removed "
        f"{n_plays - kept} of {n_plays} play(s) ({kept} left)"
        + (" ; sessions are cut at removed plays" if split_sessions else "")
    )
    frame = frame.map_partitions(_top_partition, top, bool(split_sessions), meta=frame._meta)
    logger.info("lazy_keep_top_items: %d songs kept", len(top))
    return lazy.with_frame(frame, item_ids=np.asarray(top), split=bool(split_sessions))


def _report_steps(steps: np.ndarray, session_steps: tuple, contexts: list | None) -> None:
    session_length, min_listened, _ = session_steps
    for k, name in enumerate(_step_names(session_length, min_listened, contexts)):
        _report_step(name, tuple(steps[k]), tuple(steps[k + 1]))


def lazy_paper_filter(
    lazy: LazySessions,
    *,
    session_length: int = 20,
    min_listened: int = 16,
    contexts: Sequence[str] | None = None,
    n_items: int = 229,
    context_vocabulary: Sequence[str] | None = None,
    split_sessions: bool = True,
    scheduler: Any = None,
) -> LazySessions:
    """The paper's preprocessing on partitioned data (see :func:`~fidelity.data.paper_filter`).

    Parameters are those of :func:`~fidelity.data.paper_filter`, plus ``scheduler`` (where
    the one global pass runs). The session steps are applied per partition and the top
    songs are counted globally in the same pass; each step's removals are reported.

    Returns
    -------
    LazySessions
        Lazy; ``to_sessions()`` equals ``paper_filter(load_mssd(...), ...)``.
    """
    if not isinstance(lazy, LazySessions):
        raise TypeError(f"lazy must be a LazySessions; got {type(lazy).__name__}")
    session_length, min_listened, n_items = _check_session_steps(
        session_length, min_listened, n_items
    )
    _column(lazy, "not_skipped", "paper_filter(min_listened=...)")
    allowed = None
    if contexts is not None:
        contexts, allowed = _context_codes(contexts, context_vocabulary)
        _column(lazy, "context_type", "paper_filter(contexts=...)")
    return lazy_keep_top_items(
        lazy,
        n_items,
        split_sessions=split_sessions,
        scheduler=scheduler,
        _session_steps=(session_length, min_listened, allowed),
        _contexts=contexts,
    )
