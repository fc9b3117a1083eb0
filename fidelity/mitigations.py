"""Mitigations of fidelity leakage: what a provider can change in the data or the served model.

A mitigation is named by a string ``"<kind>"`` or ``"<kind>:<value>"``:

- ``"none"``: nothing;
- ``"chunk:N"`` (the paper's countermeasure, session chunking): no more than ``N``
  observations may be linked to one user. Every user's observations (in play order)
  are cut into pseudo-users of at most ``N`` consecutive observations **before** the
  provider split, so both providers (the adversary included) see only pseudo-users:
  the service, not a provider, enforces the cap (e.g. by rotating pseudonyms every ``N``
  plays). The cut rule is :func:`fidelity.split.chunk_users`, the one the
  session-length curve applies to the adversary's view *after* the split (there the
  target trains on whole users; here it trains on pseudo-users, and a common user's
  chunks may fall on either side). Membership is then per pseudo-user (a pseudo-user of A
  is a member iff it is in the target's training data), consistently for every attack.
  The target model is unchanged by the chunking itself (models ignore user ids);
  ``target_size`` counts users, so it is scaled by the number of pseudo-users per user to
  keep the target's number of training observations about the same;
- ``"topk:K"``: the target's score outputs are truncated to its top ``K`` songs
  (renormalised; other songs get probability 0). Rankings and top-1 answers are
  unchanged, so this only limits the ``scores`` threat;
- ``"noise:L"`` (output noise / popularity randomisation): the target's scores are
  mixed, ``(1 - L) p + L g``, with a random distribution ``g`` drawn per query from a
  popularity-shaped Dirichlet, seeded by the query, so that the same query always gets
  the same answer; large ``L`` replaces answers by random popular songs;
- ``"train:F"``: a larger training set, ``F`` times ``target_size`` users (capped at all
  of T's users).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone

from fidelity._validation import RandomStateLike, int_seed
from fidelity.data.tables import Observations
from fidelity.recommenders._queries import top_k
from fidelity.recommenders.base import Recommender
from fidelity.split import chunk_users, provider_pool_size

MITIGATIONS = ("none", "chunk", "topk", "noise", "train")
"""Kinds of mitigation (see the module docstring)."""


@dataclass(frozen=True)
class Mitigation:
    """A parsed mitigation setting: ``kind`` and its ``value`` (None for ``"none"``)."""

    kind: str
    value: float | None = None

    @property
    def name(self) -> str:
        """Canonical string form (``"chunk:5"``, ``"noise:0.5"`` ...)."""
        if self.value is None:
            return self.kind
        value = int(self.value) if self.kind in ("chunk", "topk") else self.value
        return f"{self.kind}:{value:g}" if isinstance(value, float) else f"{self.kind}:{value}"

    def prepare(
        self, observations: Observations, target_size: int | None, mode: str = "shared"
    ) -> tuple[Observations, int | None]:
        """Data and target size the provider split (in ``mode``) is made from."""
        if self.kind == "chunk":
            chunked = chunk_users(observations, int(self.value))
            if target_size is not None:
                ratio = chunked.n_users / max(observations.n_users, 1)
                target_size = min(
                    max(1, round(target_size * ratio)), provider_pool_size(chunked, mode)
                )
            return chunked, target_size
        if self.kind == "train" and target_size is not None:
            larger = round(target_size * float(self.value))
            return observations, min(larger, provider_pool_size(observations, mode))
        return observations, target_size

    def wrap(self, model: Recommender, random_state: RandomStateLike = None) -> Recommender:
        """The (unfitted) recommender the target serves under this mitigation."""
        if self.kind == "topk":
            return TopKOutput(base=model, k=int(self.value))
        if self.kind == "noise":
            return NoisyOutput(base=model, strength=float(self.value), random_state=random_state)
        return model


def parse_mitigation(text: str | Mitigation) -> Mitigation:
    """Parse ``"none"``, ``"chunk:N"``, ``"topk:K"``, ``"noise:L"`` or ``"train:F"``.

    Raises
    ------
    ValueError
        Unknown kind, missing or bad value (the message gives the expected form).
    """
    if isinstance(text, Mitigation):
        return text
    if not isinstance(text, str):
        raise TypeError(f"mitigation must be a string like 'chunk:5'; got {text!r}")
    kind, _, raw = text.strip().partition(":")
    forms = "'none', 'chunk:N' (int >= 1), 'topk:K' (int >= 1), 'noise:L' (0 <= L <= 1), "
    forms += "'train:F' (F >= 1)"
    if kind not in MITIGATIONS:
        raise ValueError(f"mitigation must be one of {forms}; got {text!r}")
    if kind == "none":
        if raw:
            raise ValueError(f"mitigation 'none' takes no value; got {text!r}")
        return Mitigation("none")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"mitigation must be one of {forms}; got {text!r}") from None
    ok = {
        "chunk": value >= 1 and value == int(value),
        "topk": value >= 1 and value == int(value),
        "noise": 0.0 <= value <= 1.0,
        "train": value >= 1.0 and math.isfinite(value),
    }[kind]
    if not ok:
        raise ValueError(f"mitigation must be one of {forms}; got {text!r}")
    return Mitigation(kind, value)


class _OutputWrapper(Recommender):
    """A recommender that serves a transformed version of a base model's scores."""

    def _uses_timing(self) -> bool:
        return self.base_._uses_timing()

    def _fit(self, observations: Observations) -> None:
        self.base_ = clone(self.base).fit(observations)

    def _score_rows(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        return self.base_._score_rows(items, timing)

    def _scores(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        # the transform also applies to the popularity fallback of unseen songs
        return self._transform(super()._scores(items, timing), items, timing)

    def _transform(self, scores: np.ndarray, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class TopKOutput(_OutputWrapper):
    """Serve only the base model's top-``k`` scores (renormalised, others 0).

    The ``k`` songs kept are the base model's top-``k`` list (ties broken by popularity),
    so top-1 answers and lists up to ``k`` are unchanged.

    Parameters
    ----------
    base : Recommender
        Unfitted model, cloned and fitted by :meth:`fit`.
    k : int, default 10
    """

    def __init__(self, base: Recommender | None = None, k: int = 10) -> None:
        self.base = base
        self.k = k

    def _transform(self, scores: np.ndarray, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        k = min(int(self.k), scores.shape[1])
        keep = top_k(scores, k, self.popular_items_)  # ties broken by popularity, as served
        out = np.zeros_like(scores)
        rows = np.arange(len(scores))[:, None]
        out[rows, keep] = scores[rows, keep]
        out /= out.sum(axis=1, keepdims=True)  # > 0: the top-1 score of a distribution
        return out


class NoisyOutput(_OutputWrapper):
    """Mix the base model's scores with popularity-shaped noise seeded by the query.

    ``scores = (1 - strength) * p + strength * g`` with ``g ~ Dirichlet(n_items * popularity_)``
    drawn from a generator seeded by ``(random_state, item, timing row)``, so a query
    always gets the same answer (whatever the batching or deduplication).

    Parameters
    ----------
    base : Recommender
    strength : float in [0, 1], default 0.5
    random_state : int, Generator, SeedSequence or None
        Normalised once at fit to an int seed.
    """

    def __init__(
        self,
        base: Recommender | None = None,
        strength: float = 0.5,
        random_state: RandomStateLike = None,
    ) -> None:
        self.base = base
        self.strength = strength
        self.random_state = random_state

    def _fit(self, observations: Observations) -> None:
        if not 0.0 <= float(self.strength) <= 1.0:
            raise ValueError(f"strength must be in [0, 1]; got {self.strength!r}")
        super()._fit(observations)
        self.seed_ = int_seed(self.random_state)

    def _transform(self, scores: np.ndarray, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        alpha = self.popularity_ * self.n_items_
        lam = float(self.strength)
        for i in range(len(items)):
            words = np.frombuffer(np.ascontiguousarray(timing[i]).tobytes(), dtype=np.uint32)
            rng = np.random.default_rng([self.seed_, int(items[i]), *words.tolist()])
            scores[i] = (1.0 - lam) * scores[i] + lam * rng.dirichlet(alpha)
        return scores
