"""Loaders that turn files of plays or interactions into :class:`~fidelity.data.tables.Sessions`.

- :func:`load_mssd`: the Spotify Music Streaming Sessions Dataset (MSSD) log format;
- :func:`load_sessions`: any table of plays already grouped into sessions;
- :func:`load_interactions`: timestamped user-item events (MovieLens, click logs), ordered by
  time per user and optionally cut into sessions by an inactivity gap.

All read CSV/TSV (optionally ``.gz``/``.bz2``/``.xz``), Parquet, or a directory/glob of such
files (see :mod:`fidelity.data.io`). Ids are coded with ``pandas.factorize(sort=True)`` on the
original values: code ``i`` is the ``i``-th smallest id, and the vocabularies (``item_ids``,
``session_ids``, ``user_ids``) map codes back. Nothing is dropped: missing ids raise a
``ValueError`` naming the column and the count; sessions of a single play are kept (they give
no transition, and :meth:`Sessions.observations` reports them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from fidelity._validation import logger
from fidelity.data._columns import (
    _category_codes,
    _check_ids,
    _check_names,
    _codes,
    _gap_seconds,
    _numeric,
    _session_users,
    _times,
    _timing_matrix,
    _warn_duplicates,
)
from fidelity.data.io import PathLike, _read_table
from fidelity.data.stats import warn_row_identifying_timing
from fidelity.data.tables import TIMING_DTYPE, Sessions

__all__ = [
    "MOVIELENS_100K_NAMES",
    "MSSD_CATEGORIES",
    "MSSD_COLUMNS",
    "MSSD_TIMING_COLUMNS",
    "load_interactions",
    "load_mssd",
    "load_sessions",
]

#: Column names of MovieLens 100K ``u.data`` (tab-separated, no header row).
MOVIELENS_100K_NAMES = ("user_id", "item_id", "rating", "timestamp")

_MSSD_FLAGS = (
    "skip_1",
    "skip_2",
    "skip_3",
    "not_skipped",
    "context_switch",
    "no_pause_before_play",
    "short_pause_before_play",
    "long_pause_before_play",
    "hist_user_behavior_n_seekfwd",
    "hist_user_behavior_n_seekback",
    "hist_user_behavior_is_shuffle",
    "hour_of_day",
    "premium",
)
_MSSD_CATEGORY_COLUMNS = (
    "context_type",
    "hist_user_behavior_reason_start",
    "hist_user_behavior_reason_end",
)
#: Timing features that :func:`load_mssd` keeps, in this order (flags, counts, hour,
#: then the three context fields as integer codes).
MSSD_TIMING_COLUMNS = _MSSD_FLAGS + _MSSD_CATEGORY_COLUMNS
#: The 21 columns of the MSSD log, in file order.
MSSD_COLUMNS = (
    "session_id",
    "session_position",
    "session_length",
    "track_id_clean",
    *_MSSD_FLAGS[:12],
    "date",
    "premium",
    *_MSSD_CATEGORY_COLUMNS,
)
_MSSD_REASONS = (
    "appload",
    "backbtn",
    "clickrow",
    "clickside",
    "endplay",
    "fwdbtn",
    "logout",
    "playbtn",
    "popup",
    "remote",
    "trackdone",
    "trackerror",
    "uriopen",
)
#: Fixed vocabularies of the MSSD context fields: the code of a value is its index here.
#: Fixed (not taken from the data) so that codes agree across files and partitions; the two
#: ``reason`` columns share one vocabulary. Pass ``categories=`` to :func:`load_mssd` for
#: other values.
MSSD_CATEGORIES: dict[str, tuple[str, ...]] = {
    "context_type": (
        "catalog",
        "charts",
        "editorial_playlist",
        "personalized_playlist",
        "radio",
        "user_collection",
    ),
    "hist_user_behavior_reason_start": _MSSD_REASONS,
    "hist_user_behavior_reason_end": _MSSD_REASONS,
}


# ----------------------------------------------------------------- loaders
def load_mssd(
    path: PathLike,
    *,
    timing_cols: Sequence[str] = MSSD_TIMING_COLUMNS,
    categories: Mapping[str, Sequence[str]] | None = None,
    sep: str | None = None,
) -> Sessions:
    """Load plays in the Spotify MSSD log format.

    Parameters
    ----------
    path : str or path-like
        A CSV (also ``.csv.gz``) or Parquet file, a directory or a glob of such files.
    timing_cols : sequence of str, default MSSD_TIMING_COLUMNS
        MSSD columns to keep as timing features, in this order. By default the skip flags
        (``skip_1..3``, ``not_skipped``), ``context_switch``, the three pause flags, the seek
        counts, ``hist_user_behavior_is_shuffle``, ``hour_of_day``, ``premium``, and the
        context fields ``context_type``, ``hist_user_behavior_reason_start`` and
        ``hist_user_behavior_reason_end`` as integer codes (index into
        ``MSSD_CATEGORIES[column]``). Booleans may be bools or True/False strings.
    categories : mapping of str to sequence of str, optional
        Vocabularies that replace those of :data:`MSSD_CATEGORIES` for the named context
        columns (the code of a value is its index in the sequence).
    sep : str, optional
        Delimiter of text files (sniffed when None).

    Returns
    -------
    Sessions
        One session per MSSD ``session_id`` (codes in sorted id order), plays ordered by
        ``session_position``; one user per session (``session_user == arange``,
        ``user_ids is session_ids``); items coded from ``track_id_clean`` in sorted order.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        Missing columns (named, with the columns found), empty file, a file that is not
        CSV/Parquet, missing session or track ids, non-integer or duplicated positions,
        non-numeric flags, context values outside the vocabulary.

    Notes
    -----
    Only ``session_id``, ``session_position``, ``track_id_clean`` and ``timing_cols`` are
    required; ``session_length`` and ``date`` are not used.
    """
    timing_cols = _check_names("timing_cols", timing_cols)
    vocabularies = {**MSSD_CATEGORIES, **(dict(categories) if categories else {})}
    id_cols = ("session_id", "session_position", "track_id_clean")
    frame = _read_table(path, columns=id_cols + timing_cols, sep=sep)
    _check_ids(frame["session_id"], "session_id", "MSSD column")
    _check_ids(frame["track_id_clean"], "track_id_clean", "MSSD column")
    pos = frame["session_position"]
    if pos.isna().any() or not pd.api.types.is_integer_dtype(pos):
        raise ValueError(
            f"MSSD column 'session_position' must hold integers without gaps; got dtype "
            f"{pos.dtype} with {int(pos.isna().sum())} missing value(s)"
        )
    session, session_ids = _codes(frame["session_id"])
    position = pos.to_numpy(dtype=np.int64)
    order = np.lexsort((position, session))
    s_sorted, p_sorted = session[order], position[order]
    dup = (s_sorted[1:] == s_sorted[:-1]) & (p_sorted[1:] == p_sorted[:-1])
    if dup.any():
        raise ValueError(
            f"MSSD column 'session_position': {int(dup.sum())} play(s) repeat a "
            f"(session_id, session_position) pair; is a file given twice?"
        )
    item, item_ids = _codes(frame["track_id_clean"])
    timing = np.empty((len(order), len(timing_cols)), dtype=TIMING_DTYPE)
    for j, col in enumerate(timing_cols):
        if col in vocabularies:
            timing[:, j] = _category_codes(frame[col], col, vocabularies[col])[order]
        else:
            timing[:, j] = _numeric(frame[col], col)[order]
    logger.info("load_mssd: %d plays in %d sessions from %s", len(order), len(session_ids), path)
    sessions = Sessions.from_codes(
        s_sorted,
        item[order],
        timing,
        timing_cols,
        session_user=np.arange(len(session_ids)),
        item_ids=item_ids,
        session_ids=session_ids,
        user_ids=session_ids,
    )
    warn_row_identifying_timing(sessions, "load_mssd")
    return sessions


def load_sessions(
    path: PathLike,
    *,
    session_col: str,
    item_col: str,
    order_col: str | None = None,
    timing_cols: Sequence[str] = (),
    user_col: str | None = None,
    sep: str | None = None,
    names: Sequence[str] | None = None,
) -> Sessions:
    """Load any table of plays grouped into sessions.

    Parameters
    ----------
    path : str or path-like
        CSV/TSV/Parquet file, directory or glob (see :mod:`fidelity.data.io`).
    session_col, item_col : str
        Columns with the session id and the item (song) id of each play.
    order_col : str, optional
        Column giving the play order inside a session (ties keep file order). When None,
        the file order within each session is the play order (stable).
    timing_cols : sequence of str, default ()
        Numeric or boolean columns kept as timing features (float32), in this order.
    user_col : str, optional
        Column with a user id, so that several sessions can belong to one user (each session
        must have a single user). When None, each session is its own user.
    sep : str, optional
        Delimiter of text files (sniffed when None).
    names : sequence of str, optional
        Column names of a text file without a header row.

    Returns
    -------
    Sessions
        Session, item and user codes in sorted-id order; rows grouped by session code.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`load_mssd`; also when a session has plays of several users.

    Warns
    -----
    FidelityWarning
        With ``order_col``, when plays repeat an earlier play in every column read (same
        session, order, item, ...; the count; they are kept). Ties on the order with other
        values are not duplicates, and without ``order_col`` a repeated play cannot be told
        from a song played twice.
    """
    timing_cols = _check_names("timing_cols", timing_cols)
    base = [session_col, item_col] + [c for c in (order_col, user_col) if c is not None]
    frame = _read_table(path, columns=base + list(timing_cols), sep=sep, names=names)
    _check_ids(frame[session_col], session_col, "session_col")
    _check_ids(frame[item_col], item_col, "item_col")
    session, session_ids = _codes(frame[session_col])
    if order_col is None:
        order = np.argsort(session, kind="stable")
    else:
        _check_ids(frame[order_col], order_col, "order_col")
        _warn_duplicates(frame, list(frame.columns), "values of every column", "load_sessions")
        try:
            key = pd.factorize(frame[order_col], sort=True)[0]  # rank of the order value
        except TypeError:
            raise ValueError(
                f"order_col={order_col!r} must hold sortable values; got dtype "
                f"{frame[order_col].dtype}"
            ) from None
        order = np.lexsort((key, session))
    item, item_ids = _codes(frame[item_col])
    session_user, user_ids = _session_users(frame, user_col, session, len(session_ids))
    logger.info(
        "load_sessions: %d plays in %d sessions from %s", len(order), len(session_ids), path
    )
    sessions = Sessions.from_codes(
        session[order],
        item[order],
        _timing_matrix(frame, timing_cols, order),
        timing_cols,
        session_user=session_user,
        item_ids=item_ids,
        session_ids=session_ids,
        user_ids=session_ids if user_ids is None else user_ids,
    )
    warn_row_identifying_timing(sessions, "load_sessions")
    return sessions


def load_interactions(
    path: PathLike,
    *,
    user_col: str,
    item_col: str,
    time_col: str,
    session_gap: float | str | pd.Timedelta | None = None,
    sep: str | None = None,
    names: Sequence[str] | None = None,
    time_unit: str | None = "s",
    timing_cols: Sequence[str] = (),
    time_since_previous: bool = False,
    hour_of_day: bool = False,
) -> Sessions:
    """Load timestamped user-item events and order them by time per user.

    Parameters
    ----------
    path : str or path-like
        CSV/TSV/Parquet file, directory or glob. MovieLens 100K ``u.data`` has no header:
        pass ``names=MOVIELENS_100K_NAMES`` (the tab delimiter is sniffed).
    user_col, item_col, time_col : str
        Columns with the user id, the item id and the event time. The time is either a
        number (epoch time in ``time_unit``) or a date-time (datetime column or parsable
        strings).
    session_gap : float, str or pandas.Timedelta, optional
        Inactivity gap that starts a new session: an event more than ``session_gap`` after
        the previous event of the same user opens a session. A number is in seconds (in
        the time column's own units when ``time_unit=None``); a string/Timedelta such as
        ``"30min"`` needs a calendar time. None: one session per user.
    sep : str, optional
        Delimiter of text files (sniffed when None).
    names : sequence of str, optional
        Column names of a text file without a header row.
    time_unit : str or None, default "s"
        Unit of a numeric time column counted from the Unix epoch (``"s"``, ``"ms"``,
        ...). None treats numbers as plain, unit-less times (no calendar: no hour of day).
    timing_cols : sequence of str, default ()
        Numeric columns of the file (e.g. a rating) kept as timing features.
    time_since_previous : bool, default False
        Derive the feature ``time_since_previous``: seconds since the previous event of
        the same session (float32, 0 for a session's first event; in the time column's
        own units when ``time_unit=None``).
    hour_of_day : bool, default False
        Derive the feature ``hour_of_day`` (0..23, in the time's own zone; UTC for epoch
        numbers). Needs a calendar time (not ``time_unit=None``).

    Returns
    -------
    Sessions
        Events ordered by (user, time), ties in file order. Timing features, in this
        order: ``time_since_previous`` and ``hour_of_day`` when asked for, then
        ``timing_cols`` (none by default). Without ``session_gap`` session codes equal
        user codes and ``session_ids`` are the user ids; with it, session codes are
        numbered by (user, time) and the id of the k-th session (k from 0) of user ``u``
        is the string ``"u#k"``. ``session_user`` maps each session to its user.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`load_mssd`; also when times are missing or unparsable,
        ``hour_of_day=True`` with ``time_unit=None``, or when epoch times fall after the
        year 2200 in ``time_unit`` (milliseconds read as seconds).

    Warns
    -----
    FidelityWarning
        When events repeat the (user, item, time) of an earlier event (the count; they are
        kept), or when every epoch time in ms/us/ns falls in January 1970 (seconds read
        as milliseconds).

    Notes
    -----
    The derived features are off by default because a time lets a model recognise the
    very rows (or users) it was trained on. On MovieLens 100K (one session per user,
    shared mode, overlap 0.5, target 200 users, random forest with 20 trees, seed 0) the
    match attack's user-level AUC is 0.943 without them and 1.000 with
    ``time_since_previous``, with ``hour_of_day`` or with both. A
    :class:`~fidelity.FidelityWarning` names a continuous timing feature that singles
    out rows (:func:`~fidelity.data.stats.row_identifying_timing`; here
    ``time_since_previous``, 25 % of the ratings). A categorical one such as the hour
    can still be a per-user habit that a model memorises: that is not detected.
    """
    timing_cols = _check_names("timing_cols", timing_cols)
    for name, flag in (("time_since_previous", time_since_previous), ("hour_of_day", hour_of_day)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False; got {flag!r}")
    cols = [user_col, item_col, time_col, *timing_cols]
    frame = _read_table(path, columns=cols, sep=sep, names=names)
    _check_ids(frame[user_col], user_col, "user_col")
    _check_ids(frame[item_col], item_col, "item_col")
    _warn_duplicates(frame, [user_col, item_col, time_col], "user, item, time", "load_interactions")
    seconds, stamps = _times(frame[time_col], time_col, time_unit)
    if hour_of_day and stamps is None:
        raise ValueError(
            "hour_of_day=True needs a calendar time; got time_unit=None (plain numbers)"
        )
    gap = _gap_seconds(session_gap, calendar=stamps is not None)
    user, user_ids = _codes(frame[user_col])
    item, item_ids = _codes(frame[item_col])
    order = np.lexsort((seconds, user))
    u, t = user[order], seconds[order]
    n = len(order)
    new_user = np.r_[True, u[1:] != u[:-1]]
    delta = np.r_[0.0, np.diff(t)]
    starts = new_user if gap is None else new_user | (delta > gap)
    delta[starts] = 0.0
    session = np.cumsum(starts) - 1
    session_user = u[starts]
    if gap is None:
        session_ids = user_ids
    else:
        first = np.flatnonzero(starts)
        first_of_user = np.maximum.accumulate(np.where(new_user[first], np.arange(len(first)), 0))
        k = np.arange(len(first)) - first_of_user
        session_ids = (
            pd.Series(user_ids[session_user]).astype(str) + "#" + pd.Series(k).astype(str)
        ).to_numpy(dtype=object)
    names_out, columns = [], []
    if time_since_previous:
        names_out.append("time_since_previous")
        columns.append(delta.astype(TIMING_DTYPE))
    if hour_of_day:
        names_out.append("hour_of_day")
        columns.append(stamps.dt.hour.to_numpy(dtype=np.float64)[order].astype(TIMING_DTYPE))
    timing = np.empty((n, len(names_out) + len(timing_cols)), dtype=TIMING_DTYPE)
    for j, col in enumerate(columns):
        timing[:, j] = col
    timing[:, len(names_out) :] = _timing_matrix(frame, timing_cols, order)
    logger.info(
        "load_interactions: %d events, %d users, %d sessions from %s",
        n,
        len(user_ids),
        len(session_user),
        path,
    )
    sessions = Sessions.from_codes(
        session,
        item[order],
        timing,
        (*names_out, *timing_cols),
        session_user=session_user,
        item_ids=item_ids,
        session_ids=session_ids,
        user_ids=user_ids,
    )
    warn_row_identifying_timing(sessions, "load_interactions")
    return sessions
