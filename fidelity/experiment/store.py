"""The sweep's row store: one atomic Parquet file per finished configuration, keyed.

``<out>/rows/`` holds ``fingerprint.json`` (the manifest: the fingerprint of the sweep
that wrote the rows, see :mod:`fidelity.experiment.fingerprint`) and one
``<config_id>.parquet`` per finished configuration. Every row file carries, in its
Parquet metadata, the fingerprint key and the config id it was computed for. Opening the
store for a sweep checks the manifest against that sweep's fingerprint: rows of other
data or other settings are never reused (:class:`ResumeError` names what changed;
``overwrite=True`` clears the store). Reading the rows checks each file: readable, one
row, the sweep's fingerprint key, and a configuration whose id is the file's name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from fidelity.evaluation import RESULT_COLUMNS as _ROW_COLUMNS
from fidelity.experiment.fingerprint import describe_changes, fingerprint_digest
from fidelity.experiment.grid import CONFIG_COLUMNS, SweepConfig

__all__ = [
    "MANIFEST",
    "RESULT_COLUMNS",
    "ResumeError",
    "RowStore",
    "row_frame",
    "write_atomic_table",
]

VALIDATED_COLUMNS = (
    "validated_safe_size",
    "validated_at_least",
    "validated_by",
    "validated_limited_by_data",
)
"""The session-curve columns of a row (``SweepGrid(validated_size=True)``; NaN otherwise)."""

RESULT_COLUMNS = (*_ROW_COLUMNS, *VALIDATED_COLUMNS, "config_id")
"""Columns of the tidy results table, in order."""

#: Name of the manifest in ``<out>/rows/``.
MANIFEST = "fingerprint.json"
_META_KEY = b"fidelity"
_HOW_TO_RECOMPUTE = (
    "recompute with overwrite=True (fidelity reproduce --overwrite) or use another out"
)
_TABLES = ("results.csv", "results.parquet")


class ResumeError(ValueError):
    """The output folder holds rows that this sweep must not reuse (or cannot read)."""


class RowStore:
    """One atomic Parquet file per finished configuration under ``<out>/rows/``.

    Parameters
    ----------
    out : path or None
        The sweep's output folder (None: keep nothing).
    fingerprint : dict, optional
        The sweep's fingerprint (:func:`~fidelity.experiment.fingerprint.sweep_fingerprint`).
        Required with ``out``.
    overwrite : bool
        Delete the rows (and ``results.csv``/``results.parquet``) of whatever sweep wrote
        them before; otherwise rows of a sweep with another fingerprint raise
        :class:`ResumeError`.
    """

    def __init__(
        self,
        out: Path | None,
        fingerprint: dict[str, Any] | None = None,
        *,
        overwrite: bool = False,
    ) -> None:
        self.out = None if out is None else Path(out)
        self.dir = None if out is None else self.out / "rows"
        self.fingerprint = dict(fingerprint or {})
        self.key = fingerprint_digest(self.fingerprint)
        if self.dir is None:
            return
        if fingerprint is None:
            raise TypeError("RowStore needs the sweep's fingerprint to keep rows in a folder")
        self.dir.mkdir(parents=True, exist_ok=True)
        for tmp in self.dir.glob("*.tmp"):  # a write killed before its rename
            tmp.unlink(missing_ok=True)
        if overwrite:
            self._clear()
        else:
            self._check_manifest()
        self._write_manifest()

    # ------------------------------------------------------------------ manifest
    def _row_files(self) -> list[Path]:
        assert self.dir is not None
        return sorted(self.dir.glob("*.parquet"))

    def _clear(self) -> None:
        assert self.dir is not None and self.out is not None
        for path in self._row_files():
            path.unlink()
        (self.dir / MANIFEST).unlink(missing_ok=True)
        for name in _TABLES:
            (self.out / name).unlink(missing_ok=True)

    def _check_manifest(self) -> None:
        assert self.dir is not None
        rows = self._row_files()
        manifest = self.dir / MANIFEST
        if not rows:
            return  # nothing to reuse: the manifest (if any) is simply replaced
        where = f"out={str(self.out)!r}"
        if not manifest.is_file():
            raise ResumeError(
                f"{where} holds {len(rows)} row(s) without a fingerprint (written by another "
                f"program or an older fidelity), so they cannot be checked; {_HOW_TO_RECOMPUTE}"
            )
        try:
            old = json.loads(manifest.read_text())["parts"]
            if not isinstance(old, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise ResumeError(
                f"{manifest}: not a readable fingerprint manifest; {_HOW_TO_RECOMPUTE}"
            ) from None
        if fingerprint_digest(old) != self.key:
            raise ResumeError(
                f"{where} holds {len(rows)} row(s) of another sweep: "
                f"{describe_changes(old, self.fingerprint)}; {_HOW_TO_RECOMPUTE}"
            )

    def _write_manifest(self) -> None:
        assert self.dir is not None
        path = self.dir / MANIFEST
        tmp = path.with_name(f".{MANIFEST}.tmp")
        tmp.write_text(json.dumps({"key": self.key, "parts": self.fingerprint}, indent=2) + "\n")
        os.replace(tmp, path)

    # ------------------------------------------------------------------ rows
    def done(self) -> dict[str, dict[str, Any]]:
        """Rows already written, by configuration id (each file checked, see the module)."""
        if self.dir is None:
            return {}
        rows = {}
        for path in self._row_files():
            rows[path.stem] = self._read_row(path)
        return rows

    def _read_row(self, path: Path) -> dict[str, Any]:
        fix = f"delete it or {_HOW_TO_RECOMPUTE}"
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ResumeError(f"{path}: not a readable row file ({detail}); {fix}") from None
        if table.num_rows != 1:
            raise ResumeError(f"{path}: holds {table.num_rows} rows, a row file holds 1; {fix}")
        try:
            meta = json.loads((table.schema.metadata or {})[_META_KEY])
        except (KeyError, ValueError):
            raise ResumeError(f"{path}: a row file without its fingerprint; {fix}") from None
        if meta.get("key") != self.key:
            raise ResumeError(
                f"{path}: computed for another sweep (fingerprint {meta.get('key')}, this "
                f"sweep's is {self.key}): copied from another output folder?; {fix}"
            )
        row = table.to_pandas().iloc[0].to_dict()
        missing = [c for c in RESULT_COLUMNS if c not in row]
        if missing:
            raise ResumeError(f"{path}: a row file without column(s) {missing}; {fix}")
        config_id = _config_of(row).config_id
        if not (path.stem == row["config_id"] == meta.get("config_id") == config_id):
            described = ", ".join(f"{c}={row[c]!r}" for c in CONFIG_COLUMNS)
            raise ResumeError(
                f"{path}: holds the row of configuration {config_id} ({described}), not "
                f"{path.stem}: a row file copied or renamed?; {fix}"
            )
        return row

    def write(self, row: dict[str, Any]) -> None:
        """Write one row atomically (temporary file, then rename), with its key."""
        if self.dir is None:
            return
        path = self.dir / f"{row['config_id']}.parquet"
        tmp = path.with_name(f".{path.name}.tmp")
        table = pa.Table.from_pandas(row_frame([row]), preserve_index=False)
        meta = json.dumps({"key": self.key, "config_id": row["config_id"]}).encode()
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: meta})
        pq.write_table(table, tmp)
        os.replace(tmp, path)

    def count(self) -> int:
        """Number of row files in the store."""
        return 0 if self.dir is None else len(self._row_files())


def _config_of(row: dict[str, Any]) -> SweepConfig:
    size = row["target_size"]
    return SweepConfig(
        overlap=float(row["overlap"]),
        target_size=None if pd.isna(size) else int(size),
        recommender=str(row["recommender"]),
        seed=int(row["seed"]),
        attack=str(row["attack"]),
        threat=str(row["threat"]),
        k=int(row["k"]),
        mode=str(row["mode"]),
        mitigation=str(row["mitigation"]),
    )


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
