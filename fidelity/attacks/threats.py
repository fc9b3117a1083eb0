"""Threat models and what the adversary learns of a model's answers under each.

Every attack against a fitted recommender sees the target's answer to a query
(s, t) only through one **threat model**:

- ``label``: the top-1 song (the paper's setting);
- ``topk``: a ranked list of ``k`` songs;
- ``scores``: a probability for every song.

An attack's registry entry (:class:`fidelity.attacks.registry.AttackSpec`) lists the threat
models it accepts; :func:`check_threat` raises a ``ValueError`` naming the threat model
otherwise. The threat models are ordered
(``scores`` reveals everything ``topk`` does, which reveals everything ``label`` does).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from fidelity._validation import (
    check_choice,
    check_positive_int,
)
from fidelity.data.tables import Observations
from fidelity.recommenders import Recommender, make_recommender
from fidelity.recommenders._queries import rank_of
from fidelity.recommenders.base import MAX_DENSE_CELLS

THREATS = ("label", "topk", "scores")
"""Threat models: what the adversary sees of the target's answer."""

LEVEL = {"label": 0, "topk": 1, "scores": 2}
_TINY = np.finfo(np.float64).tiny


def check_threat(attack: str, threat: str, allowed: tuple[str, ...] = THREATS) -> str:
    """Validate ``threat`` for ``attack``; the error names the attack and what it accepts."""
    check_choice("threat", threat, THREATS)
    if threat not in allowed:
        raise ValueError(
            f"the {attack} attack needs threat model one of {allowed!r}; got threat={threat!r}"
        )
    return threat


def check_list_length(threat: str, k: int) -> int:
    """``k`` used under ``threat``: 1 for ``label``, a positive int otherwise."""
    return 1 if threat == "label" else check_positive_int("k", k)


def as_template(recommender: str | Recommender, params: dict[str, Any] | None) -> Recommender:
    """The unfitted model a name stands for (built with ``params``), or the template given."""
    if isinstance(recommender, str):
        return make_recommender(recommender, **(params or {}))
    return recommender


def log_prob(p: np.ndarray) -> np.ndarray:
    """``log(max(p, tiny))``: finite log-likelihoods of probabilities."""
    return np.log(np.maximum(p, _TINY))


@dataclass(frozen=True)
class ModelOutputs:
    """What the adversary learns about each observation under one threat model.

    Attributes
    ----------
    hit : ndarray of bool
        The true next song is the top-1 answer (``label``) or in the top-``k`` list.
    rank : ndarray of float64 or None
        0-based rank of the true next song, clipped at ``k`` (``topk``; ``scores``: not
        clipped). ``None`` under ``label``.
    log_p : ndarray of float64 or None
        Log-probability of the true next song (``scores`` only).
    entropy : ndarray of float64 or None
        Entropy (nats) of the answer distribution (``scores`` only, with ``entropy=True``).
    """

    hit: np.ndarray
    rank: np.ndarray | None = None
    log_p: np.ndarray | None = None
    entropy: np.ndarray | None = None


def distinct_queries(obs: Observations) -> tuple[np.ndarray, np.ndarray]:
    """Indices of distinct (item, timing) rows and the inverse index.

    The same arrays as ``np.unique(keys, axis=0, return_index=True,
    return_inverse=True)`` on the float64 rows (item, timing...): the rows in
    lexicographic order (a stable sort, so each distinct row's first occurrence), found
    with ``np.lexsort`` on the columns, which is about ten times faster than sorting the
    rows as structured records.
    """
    keys = np.column_stack([obs.item.astype(np.float64), obs.timing.astype(np.float64)])
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    order = np.lexsort(keys.T[::-1])  # first column primary; stable
    ordered = keys[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.any(ordered[1:] != ordered[:-1], axis=1, out=new[1:])
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


def model_outputs(
    model: Any, obs: Observations, threat: str, k: int, *, entropy: bool = False
) -> ModelOutputs:
    """Query ``model`` on every observation of ``obs`` and keep what ``threat`` reveals."""
    if threat == "label":
        recs = model.recommend(obs.item, obs.timing, k=1)
        return ModelOutputs(hit=recs[:, 0] == obs.next_item)
    if threat == "scores" and isinstance(model, Recommender):
        first, inverse = distinct_queries(obs)
        if len(first) * model.n_items_ <= MAX_DENSE_CELLS:
            return _dense_score_outputs(model, obs, first, inverse, k, entropy)
    rank = model.rank_next(obs.item, obs.timing, obs.next_item).astype(np.float64)
    hit = rank < k
    if threat == "topk":
        return ModelOutputs(hit=hit, rank=np.minimum(rank, k))
    log_p = log_prob(model.score_next(obs.item, obs.timing, obs.next_item))
    ent = None
    if entropy:
        first, inverse = distinct_queries(obs)
        probs = model.score(obs.item[first], obs.timing[first])
        ent = -(probs * log_prob(probs)).sum(axis=1)[inverse]
    return ModelOutputs(hit=hit, rank=rank, log_p=log_p, entropy=ent)


def with_entropy(model: Any, obs: Observations, outputs: ModelOutputs) -> ModelOutputs:
    """``outputs`` (``scores``, computed without entropy) with the answers' entropy added.

    The same numbers as ``model_outputs(model, obs, "scores", k, entropy=True)``, without
    computing the ranks and log-probabilities again.
    """
    first, inverse = distinct_queries(obs)
    probs = model.score(obs.item[first], obs.timing[first])
    return replace(outputs, entropy=-(probs * log_prob(probs)).sum(axis=1)[inverse])


def _dense_score_outputs(
    model: Recommender,
    obs: Observations,
    first: np.ndarray,
    inverse: np.ndarray,
    k: int,
    entropy: bool,
) -> ModelOutputs:
    """The ``scores`` outputs from one dense pass over the distinct queries.

    The same numbers as ``rank_next``, ``score_next`` and ``score`` (which each evaluate
    the model again): the ranks of the distinct (query, next song) pairs are computed
    block by block with the recommenders' tie rule.
    """
    probs = model.score(obs.item[first], obs.timing[first])
    n_items = probs.shape[1]
    pairs, pair_of_obs = np.unique(inverse * n_items + obs.next_item, return_inverse=True)
    query, nxt = np.divmod(pairs, n_items)
    rank_pairs = np.empty(len(pairs), dtype=np.float64)
    step = max(1, 2**22 // n_items)
    for start in range(0, len(pairs), step):
        stop = min(start + step, len(pairs))
        rank_pairs[start:stop] = rank_of(
            probs[query[start:stop]], nxt[start:stop], model.popularity_rank_
        )
    pair_of_obs = pair_of_obs.reshape(-1)
    rank = rank_pairs[pair_of_obs]
    log_p = log_prob(probs[query, nxt])[pair_of_obs]
    ent = -(probs * log_prob(probs)).sum(axis=1)[inverse] if entropy else None
    return ModelOutputs(hit=rank < k, rank=rank, log_p=log_p, entropy=ent)
