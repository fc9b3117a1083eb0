"""What decides a sweep's rows, as a stable fingerprint (the key of the row store).

A results row is decided by its configuration (named by
:attr:`~fidelity.experiment.SweepConfig.config_id`) and by everything the configurations
of a sweep share: the observations themselves, every measurement option of the grid
(``n_permutations``, ``n_bootstrap``, ``recommender_params``, and any option added to
:class:`~fidelity.experiment.SweepGrid` later) and the version of fidelity that computed
it. :func:`sweep_fingerprint` lists those parts; :func:`fingerprint_digest` hashes them
into the key written beside every row, so that a resumed sweep never reuses a row that
other data or other settings produced.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from typing import Any

import numpy as np

from fidelity import __version__
from fidelity.data.tables import Observations
from fidelity.experiment.grid import SweepGrid

__all__ = [
    "GRID_AXES",
    "STORE_FORMAT",
    "data_digest",
    "describe_changes",
    "fingerprint_digest",
    "sweep_fingerprint",
]

#: Version of the row-store layout (row files, their metadata and the manifest).
STORE_FORMAT = 1

#: Grid fields that enumerate configurations: each is part of every row's config id, so
#: changing one adds or drops rows but never changes a row. Every other field of
#: :class:`SweepGrid` is a measurement option and part of the fingerprint.
GRID_AXES = frozenset(
    {
        "overlaps",
        "target_sizes",
        "recommenders",
        "seeds",
        "attacks",
        "threats",
        "k",
        "mode",
        "mitigations",
    }
)

_ARRAYS = ("user", "session", "item", "next_item", "timing")
_VOCABULARIES = ("item_ids", "user_ids", "session_ids")
_CHUNK = 1 << 16


def _update_array(h: Any, name: str, values: np.ndarray) -> None:
    values = np.asarray(values)
    h.update(f"{name}:{values.shape}:".encode())
    if values.dtype.kind in "biuf":
        # little-endian bytes of a fixed dtype: the same on every machine
        arr = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<"))
        h.update(f"{arr.dtype.str};".encode())
        h.update(memoryview(arr.reshape(-1)).cast("B"))
        return
    # ids of any other kind (strings, objects): their text, separated by a unit separator
    h.update(b"text;")
    flat = values.reshape(-1)
    for start in range(0, len(flat), _CHUNK):
        part = flat[start : start + _CHUNK]
        h.update("\x1f".join(f"{type(v).__name__}:{v}" for v in part).encode("utf-8", "replace"))
        h.update(b"\x1e")


def data_digest(observations: Observations) -> str:
    """A stable digest (hex) of the observations' content.

    Every array (user, session, item and next-item codes, timing features), the timing
    feature names and the id vocabularies enter it; it does not depend on the process,
    the machine or the Python hash seed.

    Parameters
    ----------
    observations : Observations

    Returns
    -------
    str
        32 hex digits (BLAKE2b, 128 bits).
    """
    if not isinstance(observations, Observations):
        raise TypeError(
            f"observations must be fidelity Observations; got {type(observations).__name__}"
        )
    h = hashlib.blake2b(digest_size=16)
    for name in _ARRAYS:
        _update_array(h, name, getattr(observations, name))
    h.update(json.dumps(list(observations.timing_names)).encode())
    for name in _VOCABULARIES:
        _update_array(h, name, getattr(observations, name))
    return h.hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def sweep_fingerprint(
    observations: Observations, grid: SweepGrid, *, data: str | None = None
) -> dict[str, Any]:
    """Everything besides the configuration that decides a row of this sweep.

    Parameters
    ----------
    observations : Observations
    grid : SweepGrid
    data : str, optional
        The data digest when already computed (:func:`data_digest`).

    Returns
    -------
    dict
        ``store_format``, ``fidelity`` (the package version), ``data`` (the digest of
        the observations) and every measurement option of the grid (its fields that are
        not in :data:`GRID_AXES`), as plain JSON values.
    """
    parts: dict[str, Any] = {
        "store_format": STORE_FORMAT,
        "fidelity": __version__,
        "data": data if data is not None else data_digest(observations),
    }
    for f in fields(grid):
        if f.name not in GRID_AXES:
            parts[f.name] = _plain(getattr(grid, f.name))
    return parts


def fingerprint_digest(parts: dict[str, Any]) -> str:
    """The key of a fingerprint: SHA-256 (first 16 hex digits) of its canonical JSON."""
    text = json.dumps(_plain(parts), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> str:
    """What differs between two fingerprints, in words (one line)."""
    changes = []
    for key in sorted(set(old) | set(new), key=lambda k: (k != "data", k)):
        if old.get(key) == new.get(key):
            continue
        if key == "data":
            changes.append(
                f"the data changed (digest {str(old.get(key))[:8]} -> {str(new.get(key))[:8]})"
            )
        elif key == "fidelity":
            changes.append(f"the fidelity version changed ({old.get(key)} -> {new.get(key)})")
        elif key not in old:
            changes.append(f"{key} is new (set to {_show(new[key])})")
        elif key not in new:
            changes.append(f"{key} is no longer an option (was {_show(old[key])})")
        else:
            changes.append(f"{key} changed ({_show(old[key])} -> {_show(new[key])})")
    return "; ".join(changes) if changes else "nothing"
