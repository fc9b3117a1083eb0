"""Column conversions shared by the loaders (private).

Id coding, numeric/boolean and category columns, event times and session gaps; every error
names the column or parameter, the expected form and what was received.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fidelity._validation import warn
from fidelity.data.tables import TIMING_DTYPE


def _check_ids(values: pd.Series, column: str, param: str) -> None:
    """Raise if ``values`` holds NaN or empty strings (nothing is dropped silently)."""
    missing = values.isna().to_numpy()
    n_nan = int(missing.sum())
    n_empty = 0
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        stripped = values[~missing].astype(str).str.strip()
        n_empty = int((stripped == "").sum())
    if n_nan or n_empty:
        raise ValueError(
            f"{param}={column!r}: {n_nan + n_empty} row(s) of column {column!r} have no id "
            f"({n_nan} NaN/missing, {n_empty} empty); fix or remove them before loading"
        )


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``values`` in sorted-id order and the vocabulary (sorted unique ids)."""
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError:  # mixed types across files (ints in one, strings in another)
        codes, uniques = pd.factorize(values.astype(str), sort=True)
    return codes.astype(np.int64), np.asarray(uniques)


_TRUE = ("true", "t", "yes", "y")
_FALSE = ("false", "f", "no", "n")


def _numeric(values: pd.Series, column: str) -> np.ndarray:
    """Convert a column of numbers or booleans (bools or True/False strings) to float32."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        out = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        text = values.astype("string").str.strip().str.lower()
        out = np.full(len(values), np.nan)
        is_true = text.isin(_TRUE).to_numpy(dtype=bool, na_value=False)
        is_false = text.isin(_FALSE).to_numpy(dtype=bool, na_value=False)
        out[is_true] = 1.0
        out[is_false] = 0.0
        rest = ~(is_true | is_false) & text.notna().to_numpy()
        if rest.any():
            num = pd.to_numeric(text[rest], errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
            if np.isnan(num).any():
                bad = text[rest][np.isnan(num)].unique()[:5].tolist()
                raise ValueError(
                    f"timing column {column!r} must hold numbers or booleans "
                    f"(True/False); got values such as {bad!r}"
                )
            out[rest] = num
    n_nan = int(np.isnan(out).sum())
    if n_nan:
        warn(f"timing column {column!r} has {n_nan} missing value(s), kept as NaN")
    return out.astype(TIMING_DTYPE)


def _category_codes(values: pd.Series, column: str, vocabulary: Sequence[str]) -> np.ndarray:
    index = pd.Index(list(vocabulary))
    codes = index.get_indexer(values.astype("string").str.strip())
    bad = codes < 0
    if bad.any():
        unknown = sorted(map(str, pd.unique(values[bad].astype("string"))))[:10]
        raise ValueError(
            f"column {column!r}: {int(bad.sum())} value(s) outside the known vocabulary, "
            f"e.g. {unknown!r}; known: {list(vocabulary)!r}. Pass "
            f"categories={{{column!r}: [...]}} to load_mssd to give the full vocabulary"
        )
    return codes.astype(TIMING_DTYPE)


def _timing_matrix(frame: pd.DataFrame, columns: Sequence[str], order: np.ndarray) -> np.ndarray:
    timing = np.empty((len(order), len(columns)), dtype=TIMING_DTYPE)
    for j, col in enumerate(columns):
        timing[:, j] = _numeric(frame[col], col)[order]
    return timing


def _check_names(param: str, cols: Sequence[str]) -> tuple[str, ...]:
    if isinstance(cols, str):
        raise TypeError(f"{param} must be a sequence of column names, not a str; got {cols!r}")
    cols = tuple(cols)
    for c in cols:
        if not isinstance(c, str):
            raise TypeError(f"{param} must hold column names (str); got {c!r}")
    return cols


def _session_users(
    frame: pd.DataFrame, user_col: str | None, session: np.ndarray, n_sessions: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """``session_user`` and ``user_ids``; one user per session (and no ids) when no ``user_col``."""
    if user_col is None:
        return np.arange(n_sessions, dtype=np.int64), None
    _check_ids(frame[user_col], user_col, "user_col")
    user, user_ids = _codes(frame[user_col])
    session_user = np.full(n_sessions, -1, dtype=np.int64)
    session_user[session] = user
    conflict = session_user[session] != user
    if conflict.any():
        n_bad = len(np.unique(session[conflict]))
        raise ValueError(
            f"user_col={user_col!r}: {n_bad} session(s) have plays of more than one user; "
            f"each session must belong to exactly one user"
        )
    return session_user, user_ids


#: Units of a numeric epoch time column (those of :func:`pandas.to_datetime`).
TIME_UNITS = ("D", "h", "m", "s", "ms", "us", "ns")
_FINER = {"D": "h", "h": "m", "m": "s", "s": "ms", "ms": "us", "us": "ns"}
_COARSER = {v: k for k, v in _FINER.items()}
#: Epoch times at or after this are taken for a wrong ``time_unit`` (ms read as s, ...).
_LATEST = pd.Timestamp("2200-01-01", tz="UTC")


def _largest(values: pd.Series) -> str:
    top = values.max()
    return f"{top.item() if hasattr(top, 'item') else top!r}"


def _epoch_stamps(values: pd.Series, column: str, time_unit: str) -> pd.Series:
    if time_unit not in TIME_UNITS:
        raise ValueError(
            f"time_unit must be one of {TIME_UNITS!r} or None (plain numbers); got {time_unit!r}"
        )
    try:
        stamps = pd.to_datetime(values, unit=time_unit, utc=True)
    except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError):
        finer = _FINER.get(time_unit)
        hint = f"; are they in {finer} (time_unit={finer!r})?" if finer else ""
        raise ValueError(
            f"time_col={column!r}: epoch times up to {_largest(values)} are out of range in "
            f"time_unit={time_unit!r} (beyond year 2262){hint}"
        ) from None
    finer = _FINER.get(time_unit)
    if len(stamps) and stamps.max() >= _LATEST:
        hint = f"; are they in {finer} (time_unit={finer!r})?" if finer else ""
        raise ValueError(
            f"time_col={column!r}: with time_unit={time_unit!r} the latest time "
            f"({_largest(values)}) falls in the year {stamps.max().year}{hint}"
        )
    coarser = _COARSER.get(time_unit) if time_unit in ("ms", "us", "ns") else None
    if coarser and len(stamps) and stamps.max() < pd.Timestamp("1970-02-01", tz="UTC"):
        warn(
            f"time_col={column!r}: with time_unit={time_unit!r} every time falls in January "
            f"1970 (largest {_largest(values)}); are they in {coarser} (time_unit={coarser!r})?"
        )
    return stamps


def _times(
    values: pd.Series, column: str, time_unit: str | None
) -> tuple[np.ndarray, pd.Series | None]:
    """Time in seconds (float64) and, when the time is a calendar time, the datetimes."""
    if values.isna().any():
        raise ValueError(f"time_col={column!r}: {int(values.isna().sum())} row(s) have no time")
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        if time_unit is None:
            return values.to_numpy(dtype=np.float64), None
        stamps = _epoch_stamps(values, column, time_unit)
    elif pd.api.types.is_datetime64_any_dtype(values):
        stamps = values
    else:
        try:
            stamps = pd.to_datetime(values)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(
                f"time_col={column!r} must hold numbers (epoch time in time_unit) or "
                f"date-times; cannot parse it ({str(exc).splitlines()[0] if str(exc) else exc})"
            ) from None
    epoch = pd.Timestamp(0, tz=stamps.dt.tz)
    seconds = ((stamps - epoch) / pd.Timedelta(1, "s")).to_numpy(dtype=np.float64)
    return seconds, stamps


def _warn_duplicates(frame: pd.DataFrame, columns: list[str], what: str, loader: str) -> None:
    """Warn (with the count) about rows that repeat ``columns`` of an earlier row; kept."""
    n = int(frame.duplicated(subset=columns).sum())
    if n:
        warn(
            f"{loader}: {n} row(s) repeat the {what} ({', '.join(map(repr, columns))}) of an "
            "earlier row; kept as they are: drop duplicates first if the data hold some "
            "(a file read twice?)"
        )


def _gap_seconds(session_gap: object, calendar: bool) -> float | None:
    if session_gap is None:
        return None
    if isinstance(session_gap, (str, pd.Timedelta, np.timedelta64)) or hasattr(
        session_gap, "total_seconds"
    ):
        if not calendar:
            raise ValueError(
                f"session_gap={session_gap!r} is a duration but the time column is a plain "
                f"number (time_unit=None); give session_gap in the time column's units"
            )
        try:
            gap = pd.Timedelta(session_gap).total_seconds()
        except ValueError:
            raise ValueError(
                f"session_gap must be seconds (number), a pandas Timedelta or a string "
                f"such as '30min'; got {session_gap!r}"
            ) from None
    elif isinstance(session_gap, (int, float, np.integer, np.floating)) and not isinstance(
        session_gap, bool
    ):
        gap = float(session_gap)
    else:
        raise TypeError(
            f"session_gap must be None, a number of seconds, a Timedelta or a string such "
            f"as '30min'; got {session_gap!r}"
        )
    if not np.isfinite(gap) or gap <= 0:
        raise ValueError(f"session_gap must be a positive duration; got {session_gap!r}")
    return gap
