"""Sparse histograms of observation values, per holder, that merge across partitions.

An observation value is a tuple of feature codes (by default the pair (s, s');
optionally timing bins), packed into one 64-bit key (:func:`fidelity.core.pack_columns`).
:class:`ObservationHistogram` holds the sorted distinct keys with the counts of the
adversary (A) and the target (T); histograms of partitions of the data merge exactly
(sparse counts add), so MI over data that do not fit in memory needs memory
proportional to the number of distinct values only.

Timing features (``timing_bins``):

- ``None``: the column must hold non-negative integer values (flags, hour of day),
  used as codes; the radix is ``max + 1`` over the data seen (merge re-packs keys when
  partitions saw different maxima).
- an int ``b``: ``b`` equal-width bins over the pooled [min, max] of the tables given
  (data-dependent: for partitioned data pass explicit edges instead).
- a sequence of increasing edges ``e``: code ``searchsorted(e, x, side="right")`` in
  ``[0, len(e)]`` (as ``numpy.digitize``).
- a dict mapping a timing name to one of the above (missing names: ``None``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fidelity.core import (
    check_radices,
    code_range,
    joint_counts,
    joint_counts_columns,
    joint_counts_with_runs,
    merge_counts,
    pack_columns,
    unpack_columns,
)
from fidelity.data.tables import Observations
from fidelity.mi_estimators import mutual_information_from_counts

DEFAULT_FEATURES = ("item", "next_item")
ITEM_FEATURES = ("item", "next_item")

BinSpec = int | Sequence[float] | None


@dataclass(frozen=True, eq=False)
class EncodedFeatures:
    """Feature codes of one or more tables with shared radices (see module notes)."""

    features: tuple[str, ...]
    radices: tuple[int, ...]
    bin_edges: tuple[tuple[float, ...] | None, ...]
    columns: tuple[tuple[np.ndarray, ...] | None, ...]

    def keys(self, *, compact: bool = False) -> tuple[np.ndarray | None, ...]:
        """Packed keys of each table (None where the table was None).

        ``uint64``, or ``uint32`` with ``compact=True`` when the key space allows it.
        """
        return tuple(
            None if cols is None else pack_columns(cols, self.radices, compact=compact)
            for cols in self.columns
        )

    def joint_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sorted distinct packed keys and the counts of the first two tables (A, T).

        Packing, the range check of every code against its radix and the counting share
        one pass (:func:`fidelity.core.joint_counts_columns`); a missing table counts 0.

        Raises
        ------
        ValueError
            When a code lies outside ``[0, radix)``.
        """
        return joint_counts_columns(*self._holder_columns(), self.radices)

    def joint_counts_with_runs(self, units_a: np.ndarray, units_t: np.ndarray) -> tuple:
        """:meth:`joint_counts` and the run values of each holder's unit codes, one pass.

        See :func:`fidelity.core.joint_counts_with_runs`: ``(keys, counts_a, counts_t,
        (is_sorted_a, values_a), (is_sorted_t, values_t))``.
        """
        return joint_counts_with_runs(*self._holder_columns(), self.radices, units_a, units_t)

    def _holder_columns(self) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        empty = tuple(np.zeros(0, dtype=np.int64) for _ in self.radices)
        cols_a, cols_t = (empty if c is None else c for c in self.columns[:2])
        return cols_a, cols_t


def _check_features(features: Sequence[str], tables: list[Observations]) -> tuple[str, ...]:
    if isinstance(features, str) or not isinstance(features, Sequence) or not features:
        raise ValueError(f"features must be a non-empty sequence of column names; got {features!r}")
    feats = tuple(features)
    if len(set(feats)) != len(feats):
        raise ValueError(f"features must not repeat a column; got {feats!r}")
    timing = set.intersection(*(set(t.timing_names) for t in tables))
    allowed = list(ITEM_FEATURES) + sorted(timing)
    for f in feats:
        if f not in allowed:
            raise ValueError(f"features: {f!r} is not an observation column; allowed: {allowed!r}")
    return feats


def _bin_spec(name: str, timing_bins) -> BinSpec:
    if isinstance(timing_bins, Mapping):
        return timing_bins.get(name)
    return timing_bins


def _encode_timing(name: str, values: list[np.ndarray], spec: BinSpec):
    pooled = np.concatenate([v for v in values]) if values else np.zeros(0)
    if not np.isfinite(pooled).all():
        raise ValueError(f"timing feature {name!r} holds NaN or infinite values")
    if spec is None:
        if pooled.size and ((pooled < 0).any() or (pooled != np.round(pooled)).any()):
            raise ValueError(
                f"timing feature {name!r} is not integer-valued and >= 0; pass timing_bins "
                f"(an int number of bins, a sequence of edges or a dict {{{name!r}: ...}})"
            )
        radix = int(pooled.max()) + 1 if pooled.size else 1
        return [v.astype(np.int64) for v in values], radix, None
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        if spec < 1:
            raise ValueError(f"timing_bins for {name!r} must be >= 1 bins; got {spec!r}")
        low = float(pooled.min()) if pooled.size else 0.0
        high = float(pooled.max()) if pooled.size else 1.0
        edges = np.linspace(low, high, int(spec) + 1)[1:-1]
    else:
        edges = np.asarray(spec, dtype=np.float64)
        if edges.ndim != 1 or not np.isfinite(edges).all() or (np.diff(edges) <= 0).any():
            raise ValueError(
                f"timing_bins for {name!r} must be an int or strictly increasing finite edges; "
                f"got {spec!r}"
            )
    codes = [np.searchsorted(edges, v, side="right").astype(np.int64) for v in values]
    return codes, len(edges) + 1, tuple(float(e) for e in edges)


def encode_features(
    *tables: Observations | None,
    features: Sequence[str] = DEFAULT_FEATURES,
    timing_bins: BinSpec | Mapping[str, BinSpec] = None,
) -> EncodedFeatures:
    """Integer codes and shared radices of ``features`` for each table (None kept).

    Raises
    ------
    ValueError
        Naming the feature when a column is unknown, item codes are negative, or a
        timing column needs ``timing_bins``; naming ``features`` when the key space
        does not fit in 64 bits.
    """
    return _encode(tables, features, timing_bins, scan_items=True)


def _encode(tables, features, timing_bins, *, scan_items: bool) -> EncodedFeatures:
    """:func:`encode_features`; ``scan_items=False`` takes the item radix from the vocabulary.

    Without the scan, item codes are not checked: the caller must range-check them (the
    counting pass of :meth:`EncodedFeatures.joint_counts` does).
    """
    present = [t for t in tables if t is not None]
    if not present:
        raise ValueError("at least one Observations table is needed; got only None")
    feats = _check_features(features, present)
    per_table: list[list[np.ndarray]] = [[] for _ in present]
    radices: list[int] = []
    edges_all: list[tuple[float, ...] | None] = []
    for f in feats:
        if f in ITEM_FEATURES:
            cols = [getattr(t, f) for t in present]
            low, high = code_range(cols) if scan_items else (0, -1)
            if low < 0:
                raise ValueError(f"features: column {f!r} holds negative item codes ({low})")
            radix = max(max(t.n_items for t in present), high + 1, 1)
            edges = None
        else:
            values = [t.timing[:, t.timing_names.index(f)] for t in present]
            cols, radix, edges = _encode_timing(f, values, _bin_spec(f, timing_bins))
        for j, c in enumerate(cols):
            per_table[j].append(c)
        radices.append(int(radix))
        edges_all.append(edges)
    check_radices(radices, name="features")
    it = iter(per_table)
    columns = tuple(None if t is None else tuple(next(it)) for t in tables)
    return EncodedFeatures(feats, tuple(radices), tuple(edges_all), columns)


@dataclass(frozen=True, eq=False)
class ObservationHistogram:
    """Sparse joint histogram of observation values for the adversary (A) and target (T).

    Attributes
    ----------
    keys : ndarray of uint64, shape (m,)
        Sorted distinct packed values (mixed radix ``radices`` over ``features``).
    counts_a, counts_t : ndarray of int64, shape (m,)
        Occurrences of each value in D_A and D_T.
    features : tuple of str
    radices : tuple of int
    bin_edges : tuple
        Per feature: the timing bin edges used, or None (item codes or integer timing).
    """

    keys: np.ndarray
    counts_a: np.ndarray
    counts_t: np.ndarray
    features: tuple[str, ...]
    radices: tuple[int, ...]
    bin_edges: tuple[tuple[float, ...] | None, ...]

    @classmethod
    def from_observations(
        cls,
        adversary: Observations | None = None,
        target: Observations | None = None,
        *,
        features: Sequence[str] = DEFAULT_FEATURES,
        timing_bins: BinSpec | Mapping[str, BinSpec] = None,
    ) -> ObservationHistogram:
        """Count the observation values of A and/or T (a missing holder counts 0).

        Parameters
        ----------
        adversary, target : Observations or None
            One partition (or all) of D_A and D_T.
        features, timing_bins
            See the module notes.
        """
        return cls._counted(adversary, target, features, timing_bins)[0]

    @classmethod
    def with_unit_runs(
        cls,
        adversary: Observations,
        target: Observations,
        unit: str = "user",
        *,
        features: Sequence[str] = DEFAULT_FEATURES,
        timing_bins: BinSpec | Mapping[str, BinSpec] = None,
    ) -> tuple[ObservationHistogram, tuple[bool, np.ndarray], tuple[bool, np.ndarray]]:
        """The histogram of :meth:`from_observations` and each holder's run of units.

        The units (``"user"`` or ``"session"`` codes of the rows) are read in the
        counting pass (:func:`fidelity.core.joint_counts_with_runs`); for rows grouped by
        unit their run values are the sorted distinct units present.

        Returns
        -------
        (histogram, (is_sorted_a, units_a), (is_sorted_t, units_t))
        """
        if unit not in ("user", "session"):
            raise ValueError(f"unit must be 'user' or 'session'; got {unit!r}")
        units = (getattr(adversary, unit), getattr(target, unit))
        return cls._counted(adversary, target, features, timing_bins, units)

    @classmethod
    def _counted(cls, adversary, target, features, timing_bins, units=None) -> tuple:
        # Item codes are nearly always within the vocabulary: take the radix from it and
        # let the counting pass check the codes, instead of scanning the columns first.
        def count(enc: EncodedFeatures) -> tuple:
            return enc.joint_counts() if units is None else enc.joint_counts_with_runs(*units)

        enc = _encode((adversary, target), features, timing_bins, scan_items=False)
        try:
            keys, ca, ct, *runs = count(enc)
        except ValueError:
            # an item code outside [0, n_items): the scanning encoder names a negative
            # code or widens the radix to the largest code, as encode_features does
            enc = encode_features(adversary, target, features=features, timing_bins=timing_bins)
            keys, ca, ct, *runs = count(enc)
        return (cls(keys, ca, ct, enc.features, enc.radices, enc.bin_edges), *runs)

    # --------------------------------------------------------------- merging
    def _repacked(self, radices: tuple[int, ...]) -> np.ndarray:
        if radices == self.radices:
            return self.keys
        # mixed radix keeps tuple order, so re-packed keys stay sorted and unique
        return pack_columns(unpack_columns(self.keys, self.radices), radices)

    def merge(self, *others: ObservationHistogram) -> ObservationHistogram:
        """Histogram of the union of the data (counts add); partitions may differ in radices."""
        parts = (self, *others)
        for o in others:
            if not isinstance(o, ObservationHistogram):
                raise TypeError(f"can only merge ObservationHistogram; got {type(o).__name__}")
            if o.features != self.features or o.bin_edges != self.bin_edges:
                raise ValueError(
                    "can only merge histograms with the same features and timing bin edges; "
                    f"got {self.features}/{self.bin_edges} and {o.features}/{o.bin_edges}"
                )
        radices = tuple(max(p.radices[j] for p in parts) for j in range(len(self.features)))
        check_radices(radices, name="features")
        if len(parts) == 2:
            keys, ca, ct = merge_counts(
                self._repacked(radices),
                self.counts_a,
                self.counts_t,
                others[0]._repacked(radices),
                others[0].counts_a,
                others[0].counts_t,
            )
        else:
            all_keys = np.concatenate([p._repacked(radices) for p in parts])
            keys, ca, ct = joint_counts(
                all_keys,
                all_keys,
                np.concatenate([p.counts_a for p in parts]),
                np.concatenate([p.counts_t for p in parts]),
            )
        return ObservationHistogram(keys, ca, ct, self.features, radices, self.bin_edges)

    # ---------------------------------------------------------------- output
    @property
    def n_adversary(self) -> int:
        """Observations of A counted."""
        return int(self.counts_a.sum())

    @property
    def n_target(self) -> int:
        """Observations of T counted."""
        return int(self.counts_t.sum())

    @property
    def n_values(self) -> int:
        """Distinct observation values present."""
        return len(self.keys)

    def values(self) -> np.ndarray:
        """Decoded feature codes, int64 of shape (n_values, n_features)."""
        return unpack_columns(self.keys, self.radices).T

    def to_frame(self) -> pd.DataFrame:
        """One row per value: the feature codes, ``count_adversary`` and ``count_target``."""
        frame = pd.DataFrame(self.values(), columns=list(self.features))
        frame["count_adversary"] = self.counts_a
        frame["count_target"] = self.counts_t
        return frame

    def mutual_information(
        self,
        *,
        prior: float = 0.5,
        estimator: str | None = None,
        correction: str | None = None,
    ) -> float:
        """MI(H;O) in bits from the counts (plug-in by default).

        See :func:`fidelity.mi_estimators.mutual_information_from_counts` (a histogram has
        no users, so only the count-based estimators apply).
        """
        return mutual_information_from_counts(
            self.counts_a, self.counts_t, prior=prior, estimator=estimator, correction=correction
        )
