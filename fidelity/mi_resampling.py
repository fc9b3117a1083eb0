"""Whole-user resampling for MI(H;O): the permutation null and the bootstrap weights.

Units are (holder, user) blocks of observations: unit ``u < n_units_a`` is a user of the
adversary's table, the others users of the target's. A user code found in both tables is
a **common** user (overlap): it has one unit in each holder.

Permutation null (exact under the scenario's null, i.e. when a user's observations do not
depend on which holder(s) have it). One of three constructions is used, chosen from the
tables themselves:

- ``"exclusive"`` (both tables have users the other lacks): the common users stay in both
  holders with their own observations; the holder labels of the exclusive users are
  permuted, keeping the number of exclusive users of each holder. Given which users are
  common and their data, every such relabelling is equally likely under the null, so the
  permutation distribution is exact (conditional on the common users).
- ``"subset"`` (one table's users are all in the other, as when ``target_size`` keeps part
  of a pool the adversary entirely holds, and each common user has the same observations
  in both tables): the larger table stays as it is and the smaller one is re-drawn as a
  random set of the same number of the larger table's users, with their observations.
  Exact when the smaller table's users are a random subset of the larger's, which is what
  the provider split makes; nothing is permuted when common users' observations differ
  between the tables (split histories), see ``"none"``.
- ``"none"``: no unit can be exchanged (both tables hold exactly the same users, or the
  ``"subset"`` condition fails). The null is the observed value itself and gives p = 1.

Bootstrap: users are resampled with replacement within three strata, the users only in A,
those only in T and the common users; a common user's weight applies to both its units,
so the resample keeps the overlap structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fidelity.core import unique_inverse, unit_counts

__all__ = ["NULL_CONSTRUCTIONS", "UserUnits"]

NULL_CONSTRUCTIONS = ("exclusive", "subset", "none")


@dataclass(frozen=True, eq=False)
class UserUnits:
    """Observations of A and T grouped into whole-user units over dense value indices."""

    key_index: np.ndarray
    obs_unit: np.ndarray
    unit_holder: np.ndarray
    n_values: int
    n_units_a: int
    n_units_t: int
    common_a: np.ndarray
    common_t: np.ndarray
    construction: str

    @property
    def n_common(self) -> int:
        """Users found in both tables."""
        return len(self.common_a)

    @classmethod
    def build(
        cls, keys_a: np.ndarray, keys_t: np.ndarray, users_a: np.ndarray, users_t: np.ndarray
    ) -> UserUnits:
        """Units of the users (or sessions) ``users_a`` / ``users_t`` of each row."""
        codes_a, unit_a = unique_inverse(users_a)
        codes_t, unit_t = unique_inverse(users_t)
        n_a, n_t = len(codes_a), len(codes_t)
        uniq, key_index = unique_inverse(np.concatenate([keys_a, keys_t]))
        _, common_a, common_t = np.intersect1d(
            codes_a, codes_t, assume_unique=True, return_indices=True
        )
        common_a = common_a.astype(np.int64)
        common_t = common_t.astype(np.int64) + n_a
        obs_unit = np.concatenate([unit_a, unit_t + n_a])
        holder = np.repeat(np.array([0, 1], dtype=np.int64), [n_a, n_t])
        n_c = len(common_a)
        if n_c < n_a and n_c < n_t:
            construction = "exclusive"
        elif n_c == n_a == n_t:
            construction = "none"
        elif _same_common_observations(key_index, obs_unit, common_a, common_t, n_a):
            construction = "subset"
        else:
            construction = "none"
        return cls(
            key_index=key_index,
            obs_unit=obs_unit,
            unit_holder=holder,
            n_values=len(uniq),
            n_units_a=n_a,
            n_units_t=n_t,
            common_a=common_a,
            common_t=common_t,
            construction=construction,
        )

    # ------------------------------------------------------------------ counts
    def counts(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Counts (2, n_values) of A and T with per-unit weights (default 1)."""
        w = np.ones(len(self.unit_holder), dtype=np.int64) if weights is None else weights
        return unit_counts(self.key_index, self.obs_unit, self.unit_holder, w, self.n_values)

    def permuted_counts(self, gen: np.random.Generator) -> np.ndarray:
        """Counts of one draw of the permutation null (see the module notes)."""
        n_units = len(self.unit_holder)
        if self.construction == "exclusive":
            exclusive = np.ones(n_units, dtype=bool)
            exclusive[self.common_a] = False
            exclusive[self.common_t] = False
            holder = self.unit_holder.copy()
            holder[exclusive] = gen.permutation(holder[exclusive])
            ones = np.ones(n_units, dtype=np.int64)
            return unit_counts(self.key_index, self.obs_unit, holder, ones, self.n_values)
        if self.construction == "subset":
            big = 0 if self.n_units_a > self.n_units_t else 1
            lo, hi = (0, self.n_units_a) if big == 0 else (self.n_units_a, n_units)
            chosen = lo + gen.choice(hi - lo, self.n_common, replace=False)
            weights = np.zeros(n_units, dtype=np.int64)
            weights[chosen] = 1
            redrawn = unit_counts(
                self.key_index,
                self.obs_unit,
                np.full(n_units, 1 - big, dtype=np.int64),
                weights,
                self.n_values,
            )
            fixed = self.counts()
            out = np.empty_like(fixed)
            out[big] = fixed[big]
            out[1 - big] = redrawn[1 - big]
            return out
        return self.counts()

    def bootstrap_weights(self, gen: np.random.Generator) -> np.ndarray:
        """Per-unit weights of one stratified user-level bootstrap resample."""
        n_units = len(self.unit_holder)
        weights = np.zeros(n_units, dtype=np.int64)
        common = np.zeros(n_units, dtype=bool)
        common[self.common_a] = True
        common[self.common_t] = True
        for lo, hi in ((0, self.n_units_a), (self.n_units_a, n_units)):
            only = np.flatnonzero(~common[lo:hi]) + lo
            if len(only):
                weights[only] = np.bincount(
                    gen.integers(0, len(only), len(only)), minlength=len(only)
                )
        if self.n_common:
            w = np.bincount(gen.integers(0, self.n_common, self.n_common), minlength=self.n_common)
            weights[self.common_a] = w
            weights[self.common_t] = w
        return weights


def _same_common_observations(key_index, obs_unit, common_a, common_t, n_a) -> bool:
    """True when every common user has the same multiset of values in A and in T."""
    n_units = int(obs_unit.max()) + 1 if len(obs_unit) else 0
    pair_id = np.full(n_units, -1, dtype=np.int64)
    pair_id[common_a] = np.arange(len(common_a))
    pair_id[common_t] = np.arange(len(common_t))
    in_pair = pair_id[obs_unit] >= 0
    is_a = obs_unit < n_a
    m = int(key_index.max()) + 1 if len(key_index) else 1
    code = pair_id[obs_unit] * m + key_index
    side_a = np.sort(code[in_pair & is_a])
    side_t = np.sort(code[in_pair & ~is_a])
    return len(side_a) == len(side_t) and bool(np.array_equal(side_a, side_t))
