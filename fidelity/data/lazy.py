"""Lazy, partitioned session data on Dask: :func:`scan_mssd`, :func:`scan_sessions`.

The eager loaders (:func:`~fidelity.data.loaders.load_mssd`,
:func:`~fidelity.data.loaders.load_sessions`) read everything into memory. At the scale of
the full MSSD (about 2 billion plays in hundreds of files) that is not possible, so the
``scan_*`` functions return a :class:`LazySessions`: a Dask DataFrame with **one partition
per file** plus what is needed to code it exactly as the eager path would.

Assumption: whole sessions per file
    Every session lives in a single file (partition): the MSSD log files hold whole
    sessions (``session_length`` plays each), and so do files written by
    :func:`~fidelity.data.synthetic_mssd.write_mssd_parquet`. Per-partition statistics
    (transitions, the paper's full-length filters) rely on it. It is checked cheaply for
    MSSD files that carry ``session_length`` (``check_sessions=True``: a session whose plays
    in a file differ from its ``session_length`` is an error), and globally, at a cost of
    8 bytes per session, by :meth:`LazySessions.check_whole_sessions`.

Exactness
    Rows are converted per partition by the same column functions as the eager loaders
    (same float32 timing values, same category codes). :meth:`LazySessions.to_sessions`
    gathers a (small) result and codes it with global vocabularies from global distinct
    passes (items, sessions and users in sorted-id order), so that
    ``scan_mssd(p).to_sessions()`` equals ``load_mssd(p)`` array for array, and the lazy
    filters of :mod:`fidelity.data.lazy_filters` match :func:`~fidelity.data.paper_filter`.

Columns of :attr:`LazySessions.frame` (one row per play, rows of a session contiguous and
in play order within a partition): ``session_id`` (original id), ``position`` (the order
key), ``item_id`` (original id), ``user_id`` (only with a user column), ``run`` (0, or
``k >= 1`` for the k-th extra run of a session split by
:func:`~fidelity.data.lazy_filters.lazy_keep_top_items`), ``_session`` (a partition-local
int64 session code) and the timing columns (float32).

Dask is an optional dependency (``pip install 'fidelity-leakage[dask]'``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from fidelity._dask import compute, dask_dataframe, delayed, tree_reduce
from fidelity.data._columns import _check_ids, _check_names, _codes
from fidelity.data._partition_reader import _PartitionReader
from fidelity.data.io import PathLike, _read_one, file_format, resolve_files
from fidelity.data.loaders import MSSD_CATEGORIES, MSSD_TIMING_COLUMNS
from fidelity.data.tables import TIMING_DTYPE, Observations, Sessions

__all__ = ["LazySessions", "partition_observations", "scan_mssd", "scan_sessions"]

logger = logging.getLogger("fidelity")

BASE_COLUMNS = ("session_id", "position", "item_id", "run", "_session")
SESSION_VOCABULARIES = ("full", "present")


# ------------------------------------------------------------------ the lazy table
@dataclass(frozen=True, eq=False)
class LazySessions:
    """A lazy, partitioned table of plays (a Dask DataFrame and its coding rules).

    Build it with :func:`scan_mssd` or :func:`scan_sessions`; filter it with
    :func:`~fidelity.data.lazy_filters.lazy_paper_filter`; measure it with
    :func:`fidelity.partitioned.partitioned_mutual_information`; bring a small result into
    memory with :meth:`to_sessions`.

    Attributes
    ----------
    frame : dask.dataframe.DataFrame
        The plays, normalised (columns in the module notes), one partition per file.
    timing_names : tuple of str
        Timing columns, in order.
    origin : dask.dataframe.DataFrame
        The unfiltered table, whose distinct session (and user) ids form the
        vocabularies (as the eager filters keep the full vocabularies).
    item_ids : ndarray or None
        Fixed item vocabulary (code = index), set by the top-songs filter (popularity
        order); None: the sorted distinct item ids of the data (a global pass).
    has_users : bool
        Whether a user column was given (else one user per session).
    source : str
        What was scanned (for messages).
    split : bool
        Whether sessions may have extra runs (``run >= 1``).
    files : tuple of Path
        The scanned files (one per partition).
    reader : callable
        Reads one file into a partition (picklable).
    """

    frame: Any
    timing_names: tuple[str, ...]
    origin: Any
    item_ids: np.ndarray | None = None
    has_users: bool = False
    source: str = ""
    split: bool = False
    files: tuple[Any, ...] = ()
    reader: Any = None

    @property
    def n_partitions(self) -> int:
        """Number of partitions (files)."""
        return int(self.frame.npartitions)

    def __repr__(self) -> str:
        items = "global" if self.item_ids is None else str(len(self.item_ids))
        return (
            f"LazySessions(partitions={self.n_partitions}, items={items}, "
            f"timing={list(self.timing_names)}, source={self.source!r})"
        )

    def with_frame(self, frame: Any, **changes: Any) -> LazySessions:
        """A copy with another (filtered) frame; ``origin`` is kept."""
        return replace(self, frame=frame, **changes)

    # ------------------------------------------------------------ global passes
    def item_vocabulary(self, *, scheduler: Any = None) -> np.ndarray:
        """The item vocabulary: ``item_ids`` when fixed, else the sorted distinct ids (a pass)."""
        if self.item_ids is not None:
            return self.item_ids
        uniq = compute(self._distinct_items(), scheduler=scheduler)
        return _codes(uniq["item_id"].reset_index(drop=True))[1]

    def _distinct_items(self) -> Any:
        """Delayed distinct item ids; reads only the item column when unfiltered."""
        if self.frame is not self.origin or not self.files:
            return _distinct(self.frame, ["item_id"])
        parts = [delayed(_file_items)(self.reader, f) for f in self.files]
        return tree_reduce(parts, _drop_duplicates)

    def check_whole_sessions(self, *, scheduler: Any = None) -> None:
        """Check that no session id occurs in two partitions (8 bytes per session).

        Raises
        ------
        ValueError
            When sessions span partitions, with their number and an example id.
        """
        parts = self.origin.to_delayed()
        hashed = [delayed(_session_hashes)(p) for p in parts]
        hashes = compute(delayed(np.concatenate)(hashed), scheduler=scheduler)
        _, counts = np.unique(hashes, return_counts=True)
        n_bad = int((counts > 1).sum())
        if n_bad:
            raise ValueError(
                f"{n_bad} session(s) of {self.source!r} occur in more than one partition (file); "
                f"partitioned statistics need whole sessions per file: regroup the files by "
                f"session"
            )

    # ------------------------------------------------------------ into memory
    def to_sessions(self, *, session_vocabulary: str = "full", scheduler: Any = None) -> Sessions:
        """Compute the table and return it as in-memory :class:`Sessions`.

        Parameters
        ----------
        session_vocabulary : {"full", "present"}
            ``"full"``: the session (and user) vocabularies are the sorted distinct ids of
            the *unfiltered* table (a global pass over ``origin``), exactly as the eager
            loaders and filters give (memory proportional to the number of sessions).
            ``"present"``: only the sessions present in the result.
        scheduler : str or dask.distributed.Client, optional
            Where to compute (default: Dask's current scheduler).

        Returns
        -------
        Sessions
            With ``session_vocabulary="full"``, equal array for array to the eager path.
        """
        if session_vocabulary not in SESSION_VOCABULARIES:
            raise ValueError(
                f"session_vocabulary must be one of {SESSION_VOCABULARIES}; "
                f"got {session_vocabulary!r}"
            )
        wanted = [delayed(pd.concat)(self.frame.to_delayed(), ignore_index=True)]
        need_items = self.item_ids is None
        if need_items:
            wanted.append(self._distinct_items())
        full = session_vocabulary == "full"
        if full:
            wanted.append(_distinct(self.origin, ["session_id"] + ["user_id"] * self.has_users))
        results = compute(wanted, scheduler=scheduler)
        frame = results[0]
        if need_items:
            item_ids = _codes(results[1]["item_id"].reset_index(drop=True))[1]
        else:
            item_ids = self.item_ids
        ids = results[-1] if full else frame[["session_id"] + (["user_id"] * self.has_users)]
        return _assemble(frame, ids, item_ids, self.timing_names, self.has_users)


def _drop_duplicates(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True).drop_duplicates(ignore_index=True)


def _distinct(frame: Any, columns: list[str], split_every: int = 8) -> Any:
    """Distinct rows of ``frame[columns]`` by a tree of per-partition reductions."""
    parts = [delayed(_drop_duplicates)([p]) for p in frame[columns].to_delayed()]
    return tree_reduce(parts, _drop_duplicates, split_every=split_every)


def _file_items(reader: _PartitionReader, path: Any) -> pd.DataFrame:
    """Distinct item ids of one file (only the item column is read)."""
    fmt = file_format(path)
    values = _read_one(path, fmt, [reader.item_col], reader.sep, reader.names)[reader.item_col]
    _check_ids(values, reader.item_col, "MSSD column" if reader.kind == "mssd" else "item_col")
    return pd.DataFrame({"item_id": pd.unique(values)})


def _session_hashes(pdf: pd.DataFrame) -> np.ndarray:
    ids = pd.unique(pdf["session_id"])
    return pd.util.hash_array(np.asarray(pd.Series(ids).astype(str), dtype=object))


def _assemble(
    frame: pd.DataFrame,
    ids: pd.DataFrame,
    item_ids: np.ndarray,
    timing_names: tuple[str, ...],
    has_users: bool,
) -> Sessions:
    """Code a gathered frame exactly as the eager loaders and filters do."""
    vocab_frame = ids.drop_duplicates("session_id")
    sess_code, session_ids = _codes(vocab_frame["session_id"].reset_index(drop=True))
    session_ids = np.asarray(session_ids)
    if has_users:
        user_code, user_ids = _codes(vocab_frame["user_id"].reset_index(drop=True))
        session_user = np.empty(len(session_ids), dtype=np.int64)
        session_user[sess_code] = user_code
        user_ids = np.asarray(user_ids)
    else:
        session_user = np.arange(len(session_ids), dtype=np.int64)
        user_ids = session_ids
    base = pd.Index(session_ids).get_indexer(frame["session_id"]).astype(np.int64)
    position = frame["position"].to_numpy(dtype=np.int64)
    run = frame["run"].to_numpy(dtype=np.int64)
    order = np.lexsort((position, base))
    base, run = base[order], run[order]
    session = base.copy()
    extra = run > 0
    if extra.any():
        # eager keep_top_items: extra runs get codes after the vocabulary, in row order
        first = extra & ~np.r_[False, (base[1:] == base[:-1]) & (run[1:] == run[:-1])]
        run_rank = np.cumsum(first) - 1
        session[extra] = len(session_ids) + run_rank[extra]
        parent = base[first]
        new_ids = (
            pd.Series(session_ids[parent]).astype(str) + "#" + pd.Series(run[first]).astype(str)
        ).to_numpy(dtype=object)
        session_ids = np.concatenate([np.asarray(session_ids, dtype=object), new_ids])
        session_user = np.concatenate([session_user, session_user[parent]])
    item = pd.Index(item_ids).get_indexer(frame["item_id"].to_numpy()[order]).astype(np.int64)
    timing = np.empty((len(order), len(timing_names)), dtype=TIMING_DTYPE)
    for j, name in enumerate(timing_names):
        timing[:, j] = frame[name].to_numpy(dtype=TIMING_DTYPE)[order]
    return Sessions.from_codes(
        session,
        item,
        timing,
        timing_names,
        session_user=session_user,
        item_ids=item_ids,
        session_ids=session_ids,
        user_ids=user_ids,
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
        original user (or session) ids; ``session`` codes are partition-local.
    n_single : int
        Sessions (runs) of a single play, which give no transition.
    """
    session = pdf["_session"].to_numpy(dtype=np.int64)
    run = pdf["run"].to_numpy(dtype=np.int64)
    n = len(session)
    same = (session[1:] == session[:-1]) & (run[1:] == run[:-1]) if n else np.zeros(0, bool)
    starts = np.r_[True, ~same] if n else np.zeros(0, bool)
    lengths = np.diff(np.r_[np.flatnonzero(starts), n])
    first = np.flatnonzero(same)
    item = pd.Index(item_ids).get_indexer(pdf["item_id"]).astype(np.int64)
    if (item < 0).any():
        bad = pd.unique(pdf["item_id"][item < 0])[:5].tolist()
        raise ValueError(f"item ids {bad!r} are not in the item vocabulary")
    user_code, user_ids = pd.factorize(pdf["user_id" if has_users else "session_id"])
    run_code = np.cumsum(starts) - 1
    timing = np.empty((len(first), len(timing_names)), dtype=TIMING_DTYPE)
    for j, name in enumerate(timing_names):
        timing[:, j] = pdf[name].to_numpy(dtype=TIMING_DTYPE)[first]
    obs = Observations(
        user=user_code[first].astype(np.int64),
        session=run_code[first],
        item=item[first],
        next_item=item[first + 1],
        timing=timing,
        timing_names=tuple(timing_names),
        item_ids=item_ids,
        user_ids=np.asarray(user_ids),
        session_ids=np.arange(int(starts.sum()), dtype=np.int64),
    )
    return obs, int((lengths == 1).sum())


# ------------------------------------------------------------------ scanning
def _scan(path: PathLike, reader: _PartitionReader, timing_cols: tuple[str, ...], has_users: bool):
    dd = dask_dataframe()
    files = resolve_files(path)
    meta = reader(files[0], nrows=64).iloc[:0]
    frame = dd.from_map(reader, files, meta=meta, enforce_metadata=False, label="fidelity-scan")
    logger.info("scan: %d partition(s) from %s", len(files), path)
    return LazySessions(
        frame=frame,
        timing_names=timing_cols,
        origin=frame,
        has_users=has_users,
        source=str(path),
        files=tuple(files),
        reader=reader,
    )


def scan_mssd(
    path: PathLike,
    *,
    timing_cols: Sequence[str] = MSSD_TIMING_COLUMNS,
    categories: Mapping[str, Sequence[str]] | None = None,
    sep: str | None = None,
    check_sessions: bool = True,
) -> LazySessions:
    """Scan MSSD log files lazily: the partitioned twin of :func:`~fidelity.data.load_mssd`.

    Parameters
    ----------
    path : str or path-like
        A file, a directory or a glob of CSV/Parquet files; one partition per file.
    timing_cols, categories, sep
        As :func:`~fidelity.data.load_mssd`.
    check_sessions : bool, default True
        When a file has a ``session_length`` column, check (per file, no extra pass) that
        each session has exactly that many plays in the file: whole sessions per file.

    Returns
    -------
    LazySessions
        ``to_sessions()`` equals ``load_mssd(path, ...)``.

    Raises
    ------
    FileNotFoundError, ValueError
        At once for a missing path or a first file that cannot be read (missing columns,
        bad values); errors in other files are raised when the data are computed.
    """
    timing_cols = _check_names("timing_cols", timing_cols)
    vocabularies = {**MSSD_CATEGORIES, **(dict(categories) if categories else {})}
    reader = _PartitionReader(
        kind="mssd",
        session_col="session_id",
        item_col="track_id_clean",
        order_col="session_position",
        user_col=None,
        timing_cols=timing_cols,
        vocabularies=vocabularies,
        sep=sep,
        names=None,
        check_sessions=bool(check_sessions),
    )
    return _scan(path, reader, timing_cols, has_users=False)


def scan_sessions(
    path: PathLike,
    *,
    session_col: str,
    item_col: str,
    order_col: str | None = None,
    timing_cols: Sequence[str] = (),
    user_col: str | None = None,
    sep: str | None = None,
    names: Sequence[str] | None = None,
) -> LazySessions:
    """Scan a table of plays lazily: the partitioned twin of :func:`~fidelity.data.load_sessions`.

    Parameters are those of :func:`~fidelity.data.load_sessions`; one partition per file,
    and every session must lie in one file (see the module notes; check it with
    :meth:`LazySessions.check_whole_sessions`). With ``order_col=None`` the file order is
    the play order. With ``user_col`` the user vocabulary is global too, and a user may
    have sessions in several files.

    Returns
    -------
    LazySessions
        ``to_sessions()`` equals ``load_sessions(path, ...)``.
    """
    timing_cols = _check_names("timing_cols", timing_cols)
    for param, col in (("session_col", session_col), ("item_col", item_col)):
        if not isinstance(col, str):
            raise TypeError(f"{param} must be a column name (str); got {col!r}")
    reader = _PartitionReader(
        kind="sessions",
        session_col=session_col,
        item_col=item_col,
        order_col=order_col,
        user_col=user_col,
        timing_cols=timing_cols,
        vocabularies={},
        sep=sep,
        names=None if names is None else tuple(names),
        check_sessions=False,
    )
    return _scan(path, reader, timing_cols, has_users=user_col is not None)
