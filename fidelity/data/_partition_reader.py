"""Reading one file into one partition of a lazy table (private; see :mod:`fidelity.data.lazy`).

Only the columns a partition needs are read: the session id, the order, the item, the
user (when given), ``session_length`` (for the whole-sessions check) and the timing
columns of the reader, which :meth:`_PartitionReader.project` narrows to those a
statistic uses. Parquet is read with pyarrow: string columns stay dictionary-encoded
and become :class:`pandas.Categorical` columns straight from the Arrow dictionary
indices (no per-row Python strings), numeric columns go to NumPy. Text files are read
with pandas (``usecols``). Both give the same values as the eager loaders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from fidelity.data._columns import _category_codes, _check_ids, _numeric
from fidelity.data.io import (
    _missing_columns_message,
    _read_one,
    _text_kwargs,
    file_format,
    table_columns,
)


def _is_categorical(values: Any) -> bool:
    return isinstance(values.dtype, pd.CategoricalDtype)


def _plain(values: pd.Series) -> pd.Series:
    """A categorical column as a column of its values (in the dtype of its categories)."""
    if _is_categorical(values):
        return values.astype(values.cat.categories.dtype)
    return values


def plain_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with categorical columns turned back into columns of their values."""
    cats = [c for c in frame.columns if _is_categorical(frame[c])]
    if not cats:
        return frame
    return frame.assign(**{c: _plain(frame[c]) for c in cats})


def _arrow_categorical(chunked: Any) -> pd.Categorical:
    """A dictionary-encoded Arrow column as a Categorical (nulls: code -1), unused values out."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = chunked.chunks
    if not chunks:
        chunked = pa.chunked_array([pa.array([], type=chunked.type)])
        chunks = chunked.chunks
    first = chunks[0].dictionary
    if not all(c.dictionary.equals(first) for c in chunks[1:]):
        chunked = chunked.unify_dictionaries()
        chunks = chunked.chunks
        first = chunks[0].dictionary
    nulls = chunked.null_count > 0
    parts = [(pc.fill_null(c.indices, -1) if nulls else c.indices).to_numpy() for c in chunks]
    codes = parts[0] if len(parts) == 1 else np.concatenate(parts)
    categories = pd.Index(first.to_pandas())
    used = np.bincount(codes[codes >= 0] if nulls else codes, minlength=len(categories)) > 0
    if not used.all():  # a dictionary may hold values that no row uses
        remap = np.cumsum(used) - 1
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        categories = categories[used]
    return pd.Categorical.from_codes(codes, categories=categories, validate=False)


def read_parquet_columns(
    path: Any, columns: list[str], *, dictionary: Sequence[str] = (), nrows: int | None = None
) -> pd.DataFrame:
    """Read ``columns`` of a Parquet file; string columns in ``dictionary`` as Categorical.

    Other columns are converted as :func:`pandas.read_parquet` converts them.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        strings = [
            c
            for c in dictionary
            if c in columns
            and (pa.types.is_string(t := schema.field(c).type) or pa.types.is_large_string(t))
        ]
        pf = pq.ParquetFile(path, read_dictionary=strings)
        if nrows is None:
            table = pf.read(columns=columns, use_threads=False)
        else:
            batch = next(pf.iter_batches(batch_size=nrows, columns=columns, use_threads=False))
            table = pa.Table.from_batches([batch])
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise ValueError(f"{path}: cannot read the Parquet file ({exc})") from None
    out = {}
    for name in columns:
        col = table.column(name)
        if pa.types.is_dictionary(col.type):
            out[name] = _arrow_categorical(col)
        else:
            out[name] = col.to_pandas()
    return pd.DataFrame(out)


def _check_id_column(values: pd.Series, column: str, param: str) -> None:
    """:func:`_check_ids`, on the categories of a categorical column (the same verdict)."""
    if not _is_categorical(values):
        _check_ids(values, column, param)
        return
    codes = values.cat.codes.to_numpy()
    n_nan = int((codes < 0).sum())
    cats = values.cat.categories
    n_empty = 0
    if not (pd.api.types.is_numeric_dtype(cats) or pd.api.types.is_bool_dtype(cats)):
        empty = (pd.Series(cats).astype(str).str.strip() == "").to_numpy()
        if empty.any():
            n_empty = int(np.isin(codes, np.flatnonzero(empty)).sum())
    if n_nan or n_empty:
        _check_ids(_plain(values), column, param)  # the eager error message


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """Partition-local int64 codes ``0..k-1`` of an id column, and ``k``.

    Categorical codes (every category is used, see :func:`_arrow_categorical`), else hash
    codes in order of first appearance. Missing ids (code -1) are refused before.
    """
    if _is_categorical(values):
        return values.cat.codes.to_numpy().astype(np.int64), len(values.cat.categories)
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64), len(uniques)


def _grouped(session: np.ndarray, n_sessions: int, position: np.ndarray | None) -> bool:
    """Whether each session's rows are contiguous (and, with ``position``, in increasing order).

    ``session`` holds codes ``0..n_sessions-1``, each used.
    """
    if len(session) < 2:
        return True
    change = session[1:] != session[:-1]
    if int(change.sum()) + 1 != n_sessions:  # a session in more than one run of rows
        return False
    return position is None or bool((change | (position[1:] > position[:-1])).all())


def _take(values: pd.Series, order: np.ndarray | None) -> Any:
    """The column's values (its own dtype kept), in ``order`` (None: as they are)."""
    array = values.array
    return array if order is None else array.take(order)


def _category_column(values: pd.Series, column: str, vocabulary: Sequence[str]) -> np.ndarray:
    """:func:`_category_codes`, computed on the categories of a categorical column."""
    if _is_categorical(values) and (values.cat.codes.to_numpy() >= 0).all():
        try:
            per_category = _category_codes(pd.Series(values.cat.categories), column, vocabulary)
        except ValueError:
            pass  # raised again below, counting rows as the eager loader does
        else:
            return per_category[values.cat.codes.to_numpy()]
    return _category_codes(_plain(values), column, vocabulary)


@dataclass(frozen=True)
class _PartitionReader:
    """Picklable reader of one file into the normalised columns (see module notes)."""

    kind: str  # "mssd" or "sessions"
    session_col: str
    item_col: str
    order_col: str | None
    user_col: str | None
    timing_cols: tuple[str, ...]
    vocabularies: Mapping[str, Sequence[str]]
    sep: str | None
    names: tuple[str, ...] | None
    check_sessions: bool

    def project(self, timing_cols: Sequence[str]) -> _PartitionReader:
        """The same reader, reading only the timing columns ``timing_cols``."""
        return replace(self, timing_cols=tuple(timing_cols))

    def columns(self, found: list[str]) -> list[str]:
        cols = [self.session_col, self.item_col]
        cols += [c for c in (self.order_col, self.user_col) if c is not None]
        cols += list(self.timing_cols)
        if self.kind == "mssd" and self.check_sessions and "session_length" in found:
            cols.append("session_length")
        return list(dict.fromkeys(cols))

    def _dictionary_columns(self) -> list[str]:
        ids = [self.session_col, self.item_col, self.user_col]
        return [c for c in ids if c is not None] + [
            c for c in self.timing_cols if c in self.vocabularies
        ]

    def read(self, path: Any, nrows: int | None = None, columns: list[str] | None = None):
        """The raw columns of one file (all the reader needs, or ``columns``)."""
        fmt = file_format(path)
        found = table_columns(path, fmt=fmt, sep=self.sep, names=self.names)
        wanted = self.columns(found) if columns is None else columns
        missing = [c for c in wanted if c not in found]
        if missing:
            raise ValueError(_missing_columns_message(path, missing, found))
        if fmt == "parquet":
            frame = read_parquet_columns(
                path, wanted, dictionary=self._dictionary_columns(), nrows=nrows
            )
        elif nrows is None:
            frame = _read_one(path, fmt, wanted, self.sep, self.names)[wanted]
        else:
            kwargs = _text_kwargs(path, self.sep, self.names)
            frame = pd.read_csv(path, usecols=wanted, nrows=nrows, **kwargs)[wanted]
        if len(frame) == 0:
            raise ValueError(f"{path}: the table has a header but no data rows")
        return frame

    def items(self, path: Any) -> pd.DataFrame:
        """Distinct item ids of one file (only the item column is read)."""
        values = self.read(path, columns=[self.item_col])[self.item_col]
        _check_id_column(values, self.item_col, self._item_param)
        if _is_categorical(values):
            return pd.DataFrame({"item_id": values.cat.categories})
        return pd.DataFrame({"item_id": pd.unique(values)})

    @property
    def _item_param(self) -> str:
        return "MSSD column" if self.kind == "mssd" else "item_col"

    def __call__(self, path: Any, nrows: int | None = None) -> pd.DataFrame:
        frame = self.read(path, nrows)
        mssd = self.kind == "mssd"
        what = "MSSD column" if mssd else "session_col"
        _check_id_column(frame[self.session_col], self.session_col, what)
        _check_id_column(frame[self.item_col], self.item_col, self._item_param)
        local, n_local = _codes(frame[self.session_col])
        order: np.ndarray | None
        if self.order_col is None:
            grouped = _grouped(local, n_local, None)
            order = None if grouped else np.argsort(local, kind="stable")
            position = np.arange(len(frame), dtype=np.int64)
        elif mssd:
            pos = frame[self.order_col]
            if pos.isna().any() or not pd.api.types.is_integer_dtype(pos):
                raise ValueError(
                    f"{path}: MSSD column 'session_position' must hold integers without gaps; "
                    f"got dtype {pos.dtype} with {int(pos.isna().sum())} missing value(s)"
                )
            position = pos.to_numpy(dtype=np.int64)
            grouped = _grouped(local, n_local, position)
            order = None if grouped else self._play_order(path, local, position)
        else:
            _check_ids(frame[self.order_col], self.order_col, "order_col")
            try:
                position = pd.factorize(frame[self.order_col], sort=True)[0].astype(np.int64)
            except TypeError:
                raise ValueError(
                    f"order_col={self.order_col!r} must hold sortable values; got dtype "
                    f"{frame[self.order_col].dtype}"
                ) from None
            order = np.lexsort((position, local))
        if mssd and "session_length" in frame.columns and nrows is None:
            self._check_lengths(path, frame, local)

        def at(values: np.ndarray) -> np.ndarray:
            return values if order is None else values[order]

        out = {
            "session_id": _take(frame[self.session_col], order),
            "position": at(position),
            "item_id": _take(frame[self.item_col], order),
        }
        if self.user_col is not None:
            _check_id_column(frame[self.user_col], self.user_col, "user_col")
            out["user_id"] = _take(frame[self.user_col], order)
        out["run"] = np.zeros(len(frame), dtype=np.int64)
        out["_session"] = at(local)
        for col in self.timing_cols:
            if col in self.vocabularies:
                values = _category_column(frame[col], col, self.vocabularies[col])
            else:
                values = _numeric(_plain(frame[col]), col)
            out[col] = at(values)
        result = pd.DataFrame(out, copy=False)  # the arrays are this function's own
        if self.user_col is not None:
            self._check_one_user(path, result)
        return result

    @staticmethod
    def _play_order(path: Any, local: np.ndarray, position: np.ndarray) -> np.ndarray:
        order = np.lexsort((position, local))
        s, p = local[order], position[order]
        dup = (s[1:] == s[:-1]) & (p[1:] == p[:-1])
        if dup.any():
            raise ValueError(
                f"{path}: MSSD column 'session_position': {int(dup.sum())} play(s) repeat a "
                f"(session_id, session_position) pair; is a file given twice?"
            )
        return order

    def _check_lengths(self, path: Any, frame: pd.DataFrame, local: np.ndarray) -> None:
        counts = np.bincount(local)
        stated = np.zeros(len(counts), dtype=np.int64)
        stated[local] = pd.to_numeric(frame["session_length"], errors="coerce").fillna(-1)
        bad = counts != stated
        if bad.any():
            raise ValueError(
                f"{path}: {int(bad.sum())} of {len(counts)} session(s) have a number of plays in "
                f"this file different from their session_length: the file holds partial "
                f"sessions, or a session spans several files. Partitioned statistics need whole "
                f"sessions per file; pass check_sessions=False to scan anyway"
            )

    def _check_one_user(self, path: Any, result: pd.DataFrame) -> None:
        s = result["_session"].to_numpy()
        u = _codes(result["user_id"])[0]
        same = s[1:] == s[:-1]
        if (same & (u[1:] != u[:-1])).any():
            raise ValueError(
                f"{path}: user_col={self.user_col!r}: a session has plays of more than one user; "
                f"each session must belong to exactly one user"
            )
