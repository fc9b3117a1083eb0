"""Saving figures atomically (temporary file in the same folder, then os.replace)."""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from fidelity._validation import check_choice

SAVE_FORMATS = ("png", "svg", "pdf")


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and os.replace.

    The file is created with mode 0666 less the process umask (0644 under the usual
    umask 022), like any file a program writes; ``tempfile.mkstemp`` would make it 0600.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 32 random bits
        raise FileExistsError(f"cannot create a temporary file beside {path}")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def figure_bytes(fig: Figure, fmt: str = "png", *, dpi: int = 150) -> bytes:
    """Render ``fig`` to bytes in ``fmt`` (png, svg or pdf)."""
    check_choice("fmt", fmt, SAVE_FORMATS)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()


def save_figure(
    fig: Figure,
    path_stem: str | os.PathLike,
    formats: Sequence[str] = ("png", "svg"),
    *,
    dpi: int = 150,
) -> list[Path]:
    """Save ``fig`` as ``<path_stem>.<fmt>`` for each format, atomically.

    Every format is rendered in memory first; each file is then written to a temporary file in
    the same folder and moved into place with :func:`os.replace`, so a failure leaves no
    partial file (and no file at all when rendering fails). Missing folders are created.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``formats``.
    """
    if not hasattr(fig, "savefig"):
        raise TypeError(f"fig must be a matplotlib Figure; got {type(fig).__name__}")
    if isinstance(formats, str) or not formats:
        raise ValueError(f"formats must be a non-empty sequence of {SAVE_FORMATS}; got {formats!r}")
    stem = Path(path_stem)
    rendered = {
        fmt: figure_bytes(fig, check_choice("formats", fmt, SAVE_FORMATS), dpi=dpi)
        for fmt in dict.fromkeys(formats)
    }
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt, data in rendered.items():
        path = stem.with_name(f"{stem.name}.{fmt}")
        _atomic_write_bytes(path, data)
        paths.append(path)
    return paths
