"""Input validation and random-state handling shared by the public API.

Kernels in :mod:`fidelity.core` never validate; the public wrappers call the
helpers here once, at the boundary, so that every error names the parameter,
the expected form and the value received.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fidelity._warnings import FidelityWarning as FidelityWarning  # re-exported
from fidelity._warnings import OnceFilter as OnceFilter  # re-exported

logger = logging.getLogger("fidelity")

RandomStateLike = int | np.integer | np.random.Generator | np.random.SeedSequence | None


def warn(message: str, *, stacklevel: int = 3) -> None:
    """Emit a :class:`FidelityWarning` and log it on the ``fidelity`` logger."""
    logger.warning(message)
    warnings.warn(message, FidelityWarning, stacklevel=stacklevel)


def check_random_state(random_state: RandomStateLike) -> np.random.Generator:
    """Normalise ``random_state`` to a :class:`numpy.random.Generator`.

    Parameters
    ----------
    random_state : int, numpy.random.Generator, numpy.random.SeedSequence or None
        ``None`` draws fresh entropy; an int or a ``SeedSequence`` seeds a new
        PCG64 generator; a ``Generator`` is returned as is.

    Returns
    -------
    numpy.random.Generator
    """
    if random_state is None or isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int; got {random_state!r}")
        return np.random.default_rng(int(random_state))
    raise TypeError(
        "random_state must be an int, numpy.random.Generator, numpy.random.SeedSequence "
        f"or None; got {type(random_state).__name__} {random_state!r}"
    )


def seed_sequence(random_state: RandomStateLike) -> np.random.SeedSequence:
    """Return a :class:`numpy.random.SeedSequence` derived from ``random_state``.

    A ``Generator`` contributes a seed drawn from it (so it advances), an int or
    ``SeedSequence`` maps deterministically, ``None`` draws fresh entropy.
    """
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(0, 2**63 - 1)))
    check_random_state(random_state)  # type check / sign check
    return np.random.SeedSequence(int(random_state))


def spawn_generators(random_state: RandomStateLike, n: int) -> list[np.random.Generator]:
    """Return ``n`` independent generators spawned from ``random_state``."""
    return [np.random.default_rng(s) for s in seed_sequence(random_state).spawn(n)]


def int_seed(random_state: RandomStateLike) -> int:
    """Derive a 31-bit int seed (for libraries that take only ints, e.g. scikit-learn)."""
    return int(check_random_state(random_state).integers(0, 2**31 - 1))


def seed_model(model: Any, seed: np.random.SeedSequence) -> Any:
    """Set ``model``'s ``random_state`` from ``seed`` when it has one; returns ``model``."""
    if "random_state" in model.get_params():
        model.set_params(random_state=int(seed.generate_state(1)[0] >> 1))
    return model


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed!r}; got {value!r}")
    return value


def check_fraction(name: str, value: Any, *, low: float = 0.0, high: float = 1.0) -> float:
    """Check that ``value`` is a real number in ``[low, high]`` and return it as float."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number in [{low}, {high}]; got {value!r}") from None
    if not np.isfinite(v) or v < low or v > high:
        raise ValueError(f"{name} must be in [{low}, {high}]; got {value!r}")
    return v


def check_positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """Check that ``value`` is an integer ``>= minimum`` and return it as int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_success(name: str, value: Any) -> float | None:
    """An adversary success probability in (0.5, 1], or None."""
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if isinstance(value, bool) or not 0.5 < v <= 1.0:
        raise ValueError(f"{name} must be a probability in (0.5, 1]; got {value!r}")
    return v


def check_output_dir(name: str, path: Any, *, create: bool = True) -> Path:
    """Check that ``path`` is, or can become, a folder this process can write in.

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    path : str or path-like
    create : bool
        Create the folder (and missing parents) when it does not exist.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    TypeError
        ``path`` is not a path.
    NotADirectoryError
        ``path``, or a folder above it, is a file.
    PermissionError
        The folder (or the nearest existing one above it) is not writable.
    """
    try:
        text = os.fspath(path)
    except TypeError:
        raise TypeError(f"{name} must be a folder path; got {type(path).__name__}") from None
    if isinstance(text, bytes) or not text.strip():
        raise ValueError(f"{name} must be a non-empty folder path; got {path!r}")
    p = Path(text)
    if p.exists() and not p.is_dir():
        raise NotADirectoryError(f"{name}={text!r} is a file, not a folder")
    existing = p
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(f"{name}={text!r}: {str(existing)!r} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"{name}={text!r}: no permission to write in {str(existing)!r}")
    if create:
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise type(err)(
                f"{name}={text!r}: cannot create the folder ({err.strerror or err})"
            ) from None
    return p


def check_columns(
    name: str, required: Sequence[str], found: Sequence[str], *, what: str = "table"
) -> None:
    """Raise ``ValueError`` naming missing columns and listing those found."""
    missing = [c for c in required if c not in found]
    if missing:
        raise ValueError(
            f"{name}: column(s) {missing!r} not found in the {what}; columns found: {list(found)!r}"
        )


def as_1d_int(name: str, values: Any, *, dtype: type = np.int64) -> np.ndarray:
    """Convert to a 1-D integer array or raise naming ``name``."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.bool_):
            return arr.astype(dtype)
        raise TypeError(f"{name} must hold integers; got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=dtype)


def as_1d_bool(name: str, values: Any) -> np.ndarray:
    """Convert to a 1-D boolean array or raise naming ``name``."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {arr.shape}")
    if arr.dtype != np.bool_:
        if arr.size and not np.isin(arr, (0, 1)).all():
            raise ValueError(f"{name} must be boolean (or 0/1); got values outside {{0, 1}}")
        arr = arr.astype(bool)
    return np.ascontiguousarray(arr)


def check_same_length(**arrays: np.ndarray) -> int:
    """Raise ``ValueError`` unless all arrays have the same first dimension."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"arrays must have the same length; got {lengths}")
    return next(iter(lengths.values()), 0)
