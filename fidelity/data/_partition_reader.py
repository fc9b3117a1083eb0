"""Reading one file into one partition of a lazy table (private; see :mod:`fidelity.data.lazy`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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

    def columns(self, found: list[str]) -> list[str]:
        cols = [self.session_col, self.item_col]
        cols += [c for c in (self.order_col, self.user_col) if c is not None]
        cols += list(self.timing_cols)
        if self.kind == "mssd" and self.check_sessions and "session_length" in found:
            cols.append("session_length")
        return list(dict.fromkeys(cols))

    def read(self, path: Any, nrows: int | None = None) -> pd.DataFrame:
        fmt = file_format(path)
        found = table_columns(path, fmt=fmt, sep=self.sep, names=self.names)
        wanted = self.columns(found)
        missing = [c for c in wanted if c not in found]
        if missing:
            raise ValueError(_missing_columns_message(path, missing, found))
        if nrows is None:
            frame = _read_one(path, fmt, wanted, self.sep, self.names)[wanted]
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            batch = next(pq.ParquetFile(path).iter_batches(batch_size=nrows, columns=wanted))
            frame = batch.to_pandas()[wanted]
        else:
            kwargs = _text_kwargs(path, self.sep, self.names)
            frame = pd.read_csv(path, usecols=wanted, nrows=nrows, **kwargs)[wanted]
        if len(frame) == 0:
            raise ValueError(f"{path}: the table has a header but no data rows")
        return frame

    def __call__(self, path: Any, nrows: int | None = None) -> pd.DataFrame:
        frame = self.read(path, nrows)
        mssd = self.kind == "mssd"
        what = "MSSD column" if mssd else "session_col"
        _check_ids(frame[self.session_col], self.session_col, what)
        _check_ids(frame[self.item_col], self.item_col, "MSSD column" if mssd else "item_col")
        local, _ = pd.factorize(frame[self.session_col])  # hash codes, first-appearance order
        local = local.astype(np.int64)
        if self.order_col is None:
            order = np.argsort(local, kind="stable")
            position = np.arange(len(frame), dtype=np.int64)
        elif mssd:
            pos = frame[self.order_col]
            if pos.isna().any() or not pd.api.types.is_integer_dtype(pos):
                raise ValueError(
                    f"{path}: MSSD column 'session_position' must hold integers without gaps; "
                    f"got dtype {pos.dtype} with {int(pos.isna().sum())} missing value(s)"
                )
            position = pos.to_numpy(dtype=np.int64)
            order = np.lexsort((position, local))
            s, p = local[order], position[order]
            dup = (s[1:] == s[:-1]) & (p[1:] == p[:-1])
            if dup.any():
                raise ValueError(
                    f"{path}: MSSD column 'session_position': {int(dup.sum())} play(s) repeat a "
                    f"(session_id, session_position) pair; is a file given twice?"
                )
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
        out = {
            "session_id": frame[self.session_col].to_numpy()[order],
            "position": position[order],
            "item_id": frame[self.item_col].to_numpy()[order],
        }
        if self.user_col is not None:
            _check_ids(frame[self.user_col], self.user_col, "user_col")
            out["user_id"] = frame[self.user_col].to_numpy()[order]
        out["run"] = np.zeros(len(order), dtype=np.int64)
        out["_session"] = local[order]
        for col in self.timing_cols:
            if col in self.vocabularies:
                values = _category_codes(frame[col], col, self.vocabularies[col])
            else:
                values = _numeric(frame[col], col)
            out[col] = values[order]
        result = pd.DataFrame(out)
        for col in ("session_id", "item_id", "user_id"):  # keep the file's id dtypes
            if col in result.columns:
                source = {"session_id": self.session_col, "item_id": self.item_col}.get(
                    col, self.user_col
                )
                result[col] = result[col].astype(frame[source].dtype)
        if self.user_col is not None:
            self._check_one_user(path, result)
        return result

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
        u = pd.factorize(result["user_id"])[0]
        same = s[1:] == s[:-1]
        if (same & (u[1:] != u[:-1])).any():
            raise ValueError(
                f"{path}: user_col={self.user_col!r}: a session has plays of more than one user; "
                f"each session must belong to exactly one user"
            )
