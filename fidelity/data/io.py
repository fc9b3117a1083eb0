"""Reading tables of plays from CSV/TSV text (optionally compressed) and Parquet files.

The reader is split into small steps so that a lazy, partitioned variant (a Dask
DataFrame over the same files) can reuse them:

1. :func:`resolve_files` turns a path, a directory or a glob into a sorted list of files;
2. :func:`file_format` checks each file's content against its name (``"text"`` or
   ``"parquet"``) and :func:`sniff_sep` finds the delimiter of a text file;
3. :func:`table_columns` reads only the header/schema, so that missing columns are
   reported before any data is read;
4. :func:`_read_table` reads and concatenates everything eagerly with pandas.

Supported names: ``.csv``, ``.tsv``, ``.txt``, ``.data``, ``.dat`` (each optionally
followed by ``.gz``, ``.bz2`` or ``.xz``), ``.parquet``, ``.pq``, ``.parq``. A single file
with any other name is read as text. Directories are not searched recursively; files
whose name starts with ``.`` or ``_`` (``_SUCCESS``, ``_metadata``) are ignored.
Files are taken in *natural* order (``part.2`` before ``part.10``).
"""

from __future__ import annotations

import bz2
import glob
import gzip
import hashlib
import lzma
import os
import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from fidelity._validation import warn

PathLike = str | os.PathLike

TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".data", ".dat")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
COMPRESSION_SUFFIXES = {".gz": b"\x1f\x8b", ".bz2": b"BZh", ".xz": b"\xfd7zXZ\x00"}
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_SEP_CANDIDATES = ("::", "\t", ",", ";", "|")
_PARQUET_MAGIC = b"PAR1"
_SNIFF_BYTES = 65536
#: Errors of a corrupt or truncated compressed file, whichever library reads it.
_DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)
_HEADER_CHECK_ROWS = 10_000


def _natural_key(path: Path) -> list[object]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path))]


def _suffixes(path: Path) -> tuple[str, str | None]:
    """Return (format suffix, compression suffix or None), lower-cased."""
    sfx = [s.lower() for s in path.suffixes]
    comp = sfx[-1] if sfx and sfx[-1] in COMPRESSION_SUFFIXES else None
    rest = sfx[:-1] if comp else sfx
    return (rest[-1] if rest else ""), comp


def _is_table_name(path: Path) -> bool:
    fmt, comp = _suffixes(path)
    return fmt in TEXT_SUFFIXES or (comp is None and fmt in PARQUET_SUFFIXES)


def resolve_files(path: PathLike) -> list[Path]:
    """Return the files that ``path`` names, in natural sorted order.

    Parameters
    ----------
    path : str or path-like
        A file, a directory (its CSV/Parquet files, not recursive) or a glob pattern
        (``"logs/part-*.csv.gz"``).

    Returns
    -------
    list of Path

    Raises
    ------
    FileNotFoundError
        When the path does not exist or the glob matches no file.
    ValueError
        When a directory holds no readable table file.
    """
    text = os.fspath(path)
    p = Path(text)
    if p.is_file():
        return [p]
    if p.is_dir():
        entries = sorted(p.iterdir(), key=_natural_key)
        files = [
            f
            for f in entries
            if f.is_file() and not f.name.startswith((".", "_")) and _is_table_name(f)
        ]
        if not files:
            raise ValueError(
                f"directory {text!r} holds no CSV/TSV/Parquet file (names ending in "
                f"{TEXT_SUFFIXES + PARQUET_SUFFIXES}, optionally compressed); found: "
                f"{[f.name for f in entries][:20]!r}"
            )
        return files
    if glob.has_magic(text):
        files = sorted((Path(f) for f in glob.glob(text) if Path(f).is_file()), key=_natural_key)
        if not files:
            raise FileNotFoundError(f"the pattern {text!r} matches no file")
        return files
    raise FileNotFoundError(f"no such file or directory: {text!r}")


def _head_bytes(path: Path, comp: str | None) -> bytes:
    if comp is None:
        with open(path, "rb") as fh:
            return fh.read(_SNIFF_BYTES)
    try:
        with _OPENERS[comp](path, "rb") as fh:
            return fh.read(_SNIFF_BYTES)
    except _DECOMPRESSION_ERRORS as exc:
        raise ValueError(f"{path}: cannot decompress the {comp} file ({exc})") from None


def file_format(path: Path) -> str:
    """Check a file's content against its name and return ``"text"`` or ``"parquet"``.

    Raises
    ------
    ValueError
        When the file is empty, when its content is not what its name states (a
        Parquet file named ``.csv``, a ``.gz`` file that is not gzip, binary content
        in a text file), naming the file and the problem.
    """
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the file is empty (0 bytes)")
    fmt, comp = _suffixes(path)
    with open(path, "rb") as fh:
        start = fh.read(8)
        fh.seek(-min(4, path.stat().st_size), os.SEEK_END)
        end = fh.read(4)
    is_parquet = start.startswith(_PARQUET_MAGIC) and end == _PARQUET_MAGIC
    if fmt in PARQUET_SUFFIXES and comp is None:
        if not is_parquet:
            raise ValueError(
                f"{path}: named as Parquet ({fmt}) but is not a Parquet file "
                f"(no PAR1 magic bytes); first bytes: {start!r}"
            )
        return "parquet"
    if is_parquet:
        raise ValueError(
            f"{path}: is a Parquet file but its name ({path.name!r}) states a text table; "
            f"rename it to end in .parquet"
        )
    if comp is not None and not start.startswith(COMPRESSION_SUFFIXES[comp]):
        raise ValueError(
            f"{path}: named {comp} but is not {comp}-compressed; first bytes: {start!r}"
        )
    head = _head_bytes(path, comp)
    if not head.strip():
        raise ValueError(f"{path}: the file is empty (no text)")
    if b"\x00" in head:
        raise ValueError(f"{path}: binary content (NUL bytes), not a CSV/TSV text table")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the sniff boundary
            raise ValueError(
                f"{path}: not UTF-8 text at byte {exc.start}; not a CSV/TSV text table"
            ) from None
    return "text"


def sniff_sep(path: Path) -> str:
    """Guess the delimiter of a text table from its first line.

    The candidate (``"::"``, tab, ``","``, ``";"``, ``"|"``) that occurs most often in the
    first line wins (ties in that order); ``","`` when none occurs.
    """
    _, comp = _suffixes(path)
    first = _head_bytes(path, comp).decode("utf-8", errors="replace").splitlines()[0]
    counts = {c: first.count(c) for c in _SEP_CANDIDATES}
    best = max(_SEP_CANDIDATES, key=lambda c: (counts[c], -_SEP_CANDIDATES.index(c)))
    return best if counts[best] else ","


def _text_kwargs(path: Path, sep: str | None, names: Sequence[str] | None) -> dict:
    sep = sniff_sep(path) if sep is None else sep
    kwargs: dict = {"sep": sep, "compression": "infer"}
    if len(sep) > 1:
        kwargs["engine"] = "python"
    if names is not None:
        kwargs.update(header=None, names=list(names))
    return kwargs


def table_columns(
    path: Path,
    *,
    fmt: str | None = None,
    sep: str | None = None,
    names: Sequence[str] | None = None,
) -> list[str]:
    """Return the column names of one file, reading only its header or schema."""
    fmt = file_format(path) if fmt is None else fmt
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise ValueError(f"{path}: cannot read the Parquet schema ({exc})") from None
    if names is not None:
        return list(names)
    try:
        head = pd.read_csv(path, nrows=0, **_text_kwargs(path, sep, None))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot parse the header as a text table ({exc})") from None
    return [str(c) for c in head.columns]


def positional_names(path: PathLike, *, sep: str | None = None) -> list[str]:
    """Names ``"0"``, ``"1"``, ... for the columns of a text table without a header row.

    The number of columns is that of the first line of the first file ``path`` names.
    """
    first = resolve_files(path)[0]
    if file_format(first) != "text":
        raise ValueError(f"{first}: a Parquet file always has column names; drop --no-header")
    kwargs = _text_kwargs(first, sep, None)
    try:
        head = pd.read_csv(first, nrows=1, header=None, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, *_DECOMPRESSION_ERRORS) as exc:
        raise ValueError(f"{first}: cannot parse the first row as a text table ({exc})") from None
    return [str(i) for i in range(head.shape[1])]


def _missing_columns_message(path: Path, missing: list[str], found: list[str]) -> str:
    msg = f"{path}: column(s) {missing!r} not found; columns found: {found!r}"
    if found and all(re.fullmatch(r"-?[\d.eE+]+", c) for c in found):
        msg += (
            " (the first row looks like data, not a header: pass names=[...] (--names) to "
            "name the columns of a file without header, e.g. MOVIELENS_100K_NAMES for u.data)"
        )
    return msg


def _looks_numeric(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.astype("string").str.strip(), errors="coerce").notna()


def _check_no_header_row(frame: pd.DataFrame, path: Path, names: Sequence[str]) -> None:
    """Raise when the first data row of a file read without header looks like a header.

    Two signs: the first row's values are the column names given, or a column holds
    numbers in every row but the first, whose value is not a number.
    """
    if len(frame) == 0:
        return
    first = [str(v).strip() for v in frame.iloc[0].tolist()]
    wanted = {str(n).strip().lower() for n in names}
    rest = frame.iloc[1 : 1 + _HEADER_CHECK_ROWS]
    by_name, numeric_below = [], []
    for col in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[col]) or pd.api.types.is_bool_dtype(frame[col]):
            continue  # the first row parsed as a number too
        value = str(frame[col].iloc[0]).strip()
        if _looks_numeric(frame[col].iloc[:1]).iloc[0]:
            continue
        if value.lower() in wanted:
            by_name.append(value)
        elif len(rest) and _looks_numeric(rest[col]).all():
            numeric_below.append(str(col))
    if by_name or numeric_below:
        why = (
            f"its values {by_name!r} are column names"
            if by_name
            else f"column(s) {numeric_below!r} hold numbers below it"
        )
        raise ValueError(
            f"{path}: the first row {first!r} looks like a header ({why}), but the file was "
            "read as having none (names=..., --names or --no-header); leave those out to "
            "use the header row, or remove the row"
        )


def _read_one(
    path: Path,
    fmt: str,
    columns: list[str] | None,
    sep: str | None,
    names: Sequence[str] | None,
) -> pd.DataFrame:
    if fmt == "parquet":
        try:
            return pd.read_parquet(path, columns=columns)
        except Exception as exc:
            raise ValueError(f"{path}: cannot read the Parquet file ({exc})") from None
    try:
        frame = pd.read_csv(path, usecols=columns, **_text_kwargs(path, sep, names))
    except (pd.errors.ParserError, UnicodeDecodeError, *_DECOMPRESSION_ERRORS) as exc:
        raise ValueError(f"{path}: cannot parse as a text table ({exc})") from None
    if names is not None:
        _check_no_header_row(frame, path, names)
    return frame


def _warn_identical_files(files: list[Path]) -> None:
    """Warn about files of a directory or glob with identical content (given twice?)."""
    if len(files) < 2:
        return
    by_size: dict[int, list[Path]] = {}
    for f in files:
        by_size.setdefault(f.stat().st_size, []).append(f)
    seen: dict[str, Path] = {}
    for group in by_size.values():
        if len(group) < 2:
            continue
        for f in group:
            h = hashlib.blake2b(digest_size=16)
            with open(f, "rb") as fh:
                for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    h.update(block)
            digest = h.hexdigest()
            if digest in seen:
                warn(
                    f"{f} has the same content as {seen[digest]}: its rows are read twice; "
                    "remove one of the files if it was copied by mistake"
                )
            else:
                seen[digest] = f


def _read_table(
    path: PathLike,
    *,
    columns: Sequence[str] | None = None,
    sep: str | None = None,
    names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read one table from a file, a directory or a glob of CSV/TSV/Parquet files.

    Parameters
    ----------
    path : str or path-like
        See :func:`resolve_files`.
    columns : sequence of str, optional
        Columns to read (in this order). Every file must have them: otherwise a
        ``ValueError`` names the missing ones and lists those found. Without
        ``columns`` all files must have the same columns.
    sep : str, optional
        Delimiter of text files; sniffed per file when None (see :func:`sniff_sep`).
    names : sequence of str, optional
        Column names for text files *without* a header row (the first row is data).

    Returns
    -------
    pandas.DataFrame
        Rows of all files in file order, with a fresh ``RangeIndex``.

    Raises
    ------
    FileNotFoundError
        Missing path or a glob that matches nothing.
    ValueError
        Empty file, no data rows, content not in the format the name states, missing
        columns, files with different columns, unparsable text.
    """
    files = resolve_files(path)
    _warn_identical_files(files)
    wanted = None if columns is None else list(dict.fromkeys(columns))
    frames = []
    first_cols: list[str] | None = None
    for f in files:
        fmt = file_format(f)
        found = table_columns(f, fmt=fmt, sep=sep, names=names)
        if wanted is not None:
            missing = [c for c in wanted if c not in found]
            if missing:
                raise ValueError(_missing_columns_message(f, missing, found))
        elif first_cols is None:
            first_cols = found
        elif found != first_cols:
            raise ValueError(
                f"{f}: columns {found!r} differ from those of {files[0]} ({first_cols!r})"
            )
        frame = _read_one(f, fmt, wanted, sep, names)
        frames.append(frame if wanted is None else frame[wanted])
    table = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if len(table) == 0:
        where = files[0] if len(files) == 1 else f"{len(files)} files at {os.fspath(path)!r}"
        raise ValueError(f"{where}: the table has a header but no data rows")
    return table.reset_index(drop=True)
