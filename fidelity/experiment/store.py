"""The sweep's row store: one atomic Parquet file per finished configuration."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from fidelity.evaluation import RESULT_COLUMNS as _ROW_COLUMNS

__all__ = ["RESULT_COLUMNS", "RowStore", "row_frame", "write_atomic_table"]

VALIDATED_COLUMNS = (
    "validated_safe_size",
    "validated_at_least",
    "validated_by",
    "validated_limited_by_data",
)
"""The session-curve columns of a row (``SweepGrid(validated_size=True)``; NaN otherwise)."""

RESULT_COLUMNS = (*_ROW_COLUMNS, *VALIDATED_COLUMNS, "config_id")
"""Columns of the tidy results table, in order."""


class RowStore:
    """One atomic Parquet file per finished configuration under ``<out>/rows/``."""

    def __init__(self, out: Path | None) -> None:
        self.dir = None if out is None else Path(out) / "rows"
        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)

    def done(self) -> dict[str, dict[str, Any]]:
        """Rows already written, by configuration id."""
        if self.dir is None:
            return {}
        rows = {}
        for path in sorted(self.dir.glob("*.parquet")):
            frame = pd.read_parquet(path)
            rows[path.stem] = frame.iloc[0].to_dict()
        return rows

    def write(self, row: dict[str, Any]) -> None:
        """Write one row atomically (temporary file, then rename)."""
        if self.dir is None:
            return
        path = self.dir / f"{row['config_id']}.parquet"
        tmp = path.with_suffix(".parquet.tmp")
        row_frame([row]).to_parquet(tmp, index=False)
        os.replace(tmp, path)


def row_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Rows as the results table (columns :data:`RESULT_COLUMNS`, nullable int target size)."""
    frame = pd.DataFrame(list(rows), columns=list(RESULT_COLUMNS))
    frame["target_size"] = frame["target_size"].astype("Int64")
    return frame


def write_atomic_table(table: pd.DataFrame, out: Path) -> None:
    """``results.csv`` and ``results.parquet`` in ``out``, each written atomically."""
    for name, writer in (
        ("results.csv", lambda p: table.to_csv(p, index=False)),
        ("results.parquet", lambda p: table.to_parquet(p, index=False)),
    ):
        tmp = out / f".{name}.tmp"
        writer(tmp)
        os.replace(tmp, out / name)
