"""The generative model behind :func:`fidelity.data.synthetic.make_sessions`.

Private: the song graph, the vectorised walk of all sessions, the timing features and
the cut of sessions at plays outside the catalog. Every function takes the generator
``rng`` and draws from it in a fixed order, so one seed gives one data set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Song graph
SUCCESSOR_DECAY = 0.4  # weight of successor slot j is proportional to 0.4 ** j
SUCCESSOR_TEMPER = 0.6  # successors are drawn ∝ P ** 0.6 (spreads the songs' in-degree)
HABIT_TEMPER = 0.3  # personal chains are drawn ∝ P_taste ** 0.3 (favourites are often niche)
SKIP_JUMP_SHARPEN = 1.2  # after a skip, jumps are drawn ∝ P_taste ** 1.2 (the taste's hits)
# Skip: logit = user + song + off-taste + in-chain terms
SKIP_LOGIT_MEAN = -1.7
SKIP_USER_SD = 1.5
SKIP_SONG_SD = 0.3
SKIP_OFF_TASTE = 1.6
SKIP_HABIT = -1.5
# Pause before play: logit = user + song terms
PAUSE_LOGIT_MEAN = -1.5
PAUSE_USER_SD = 0.5
PAUSE_SONG_SD = 0.3
# Hour of day (only when asked for)
HOUR_SD = 1.5  # hour_of_day="user": session start ~ preferred hour + Normal(0, sd), rounded
MINUTES_PER_PLAY = 3.5  # the hour of a play advances with its position


@dataclass(frozen=True)
class SongGraph:
    """Songs' popularity, genres, canonical and taste successors, timing effects."""

    genre: np.ndarray  # (n_items,)
    taste_cdf: np.ndarray  # (n_tastes, n_items) jump distribution P_k, cumulative
    hits_cdf: np.ndarray  # (n_tastes, n_items) P_k ** sharpen, cumulative (jumps after a skip)
    taste_pop: np.ndarray  # (n_tastes, n_items) P_k
    canonical: np.ndarray  # (n_items,) canonical successor (the album-like order)
    strength: np.ndarray  # (n_items,) probability of following the order at a song
    succ: np.ndarray  # (n_tastes, n_items, n_successors)
    succ_cdf: np.ndarray  # (n_successors,) slot weights, cumulative
    skip_song: np.ndarray  # (n_items,) song term of the skip logit
    pause_song: np.ndarray  # (n_items,) song term of the pause logit


def song_graph(
    rng: np.random.Generator,
    *,
    n_items: int,
    n_tastes: int,
    n_successors: int,
    shared_successors: float,
    popularity_exponent: float,
    popularity_offset: float,
    taste_boost: float,
    canonical_prob: float,
    canonical_concentration: float,
) -> SongGraph:
    """Draw the songs (see the Notes of ``make_sessions``)."""
    rank = rng.permutation(n_items) + 1.0
    pop = (rank + popularity_offset) ** -popularity_exponent
    pop /= pop.sum()
    genre = rng.integers(0, n_tastes, n_items)
    own = genre[None, :] == np.arange(n_tastes)[:, None]  # (n_tastes, n_items)
    taste_pop = pop[None, :] * np.where(own, taste_boost, 1.0)
    taste_pop /= taste_pop.sum(axis=1, keepdims=True)
    hits = taste_pop**SKIP_JUMP_SHARPEN
    # canonical successor: one cycle through all songs, grouped by genre (album-like order)
    order = np.lexsort((rng.random(n_items), genre))
    canonical = np.empty(n_items, dtype=np.int64)
    canonical[order] = np.roll(order, -1)
    strength = rng.beta(
        canonical_prob * canonical_concentration,
        (1.0 - canonical_prob) * canonical_concentration,
        n_items,
    )
    no_self = np.eye(n_items, dtype=bool)
    glob = top_k_without_replacement(
        rng, SUCCESSOR_TEMPER * np.log(taste_pop[genre]), no_self, n_successors
    )
    succ = np.empty((n_tastes, n_items, n_successors), dtype=np.int64)
    for k in range(n_tastes):
        own_k = top_k_without_replacement(
            rng, SUCCESSOR_TEMPER * np.log(taste_pop[k])[None, :], no_self, n_successors
        )
        keep = rng.random((n_items, n_successors)) < shared_successors
        succ[k] = np.where(keep, glob, own_k)
    weights = SUCCESSOR_DECAY ** np.arange(n_successors)
    return SongGraph(
        genre=genre,
        taste_cdf=np.cumsum(taste_pop, axis=1),
        hits_cdf=np.cumsum(hits / hits.sum(axis=1, keepdims=True), axis=1),
        taste_pop=taste_pop,
        canonical=canonical,
        strength=strength,
        succ=succ,
        succ_cdf=np.cumsum(weights / weights.sum()),
        skip_song=rng.normal(0.0, SKIP_SONG_SD, n_items),
        pause_song=rng.normal(0.0, PAUSE_SONG_SD, n_items),
    )


@dataclass(frozen=True)
class Users:
    """Per-user taste, personal chain, habit strength and timing habits."""

    taste: np.ndarray  # (n_users,)
    chain: np.ndarray  # (n_users, habit_length) distinct songs
    order: np.ndarray  # (n_users,) how much the user listens in order (vs shuffle)
    skip_user: np.ndarray  # (n_users,) user term of the skip logit
    pause_user: np.ndarray  # (n_users,) user term of the pause logit
    outside: np.ndarray  # (n_users,) share of plays outside the catalog
    pref_hour: np.ndarray  # (n_users,) preferred hour (used by hour_of_day="user")


def users(
    rng: np.random.Generator,
    graph: SongGraph,
    *,
    n_users: int,
    n_tastes: int,
    habit_length: int,
    order_prob: float,
    order_concentration: float,
    outside_share: float,
    outside_concentration: float,
) -> Users:
    """Draw the users (see the Notes of ``make_sessions``)."""
    n_items = len(graph.genre)
    taste = rng.integers(0, n_tastes, n_users)
    chain = top_k_without_replacement(
        rng,
        HABIT_TEMPER * np.log(graph.taste_pop[taste]),
        np.zeros((1, n_items), dtype=bool),
        habit_length,
    )
    return Users(
        taste=taste,
        chain=chain,
        order=beta_around(rng, order_prob, order_concentration, n_users),
        skip_user=rng.normal(SKIP_LOGIT_MEAN, SKIP_USER_SD, n_users),
        pause_user=rng.normal(PAUSE_LOGIT_MEAN, PAUSE_USER_SD, n_users),
        outside=beta_around(rng, outside_share, outside_concentration, n_users),
        pref_hour=rng.integers(0, 24, n_users),
    )


def walk(
    rng: np.random.Generator,
    graph: SongGraph,
    people: Users,
    session_user: np.ndarray,
    *,
    session_length: int,
    skip_factor: float,
    repeat_prob: float,
    habit_prob: float,
    habit_entry_prob: float,
    successor_prob: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Songs, skip and pause flags of every session, shape (n_sessions, session_length)."""
    n_sessions = len(session_user)
    n_successors = graph.succ.shape[2]
    habit_length = people.chain.shape[1]
    k_s = people.taste[session_user]
    chain_s = people.chain[session_user]
    order_s = people.order[session_user]
    cdf_s = graph.taste_cdf[k_s]
    hits_cdf_s = graph.hits_cdf[k_s]
    skip_user_s = people.skip_user[session_user]
    pause_user_s = people.pause_user[session_user]
    items = np.empty((n_sessions, session_length), dtype=np.int64)
    skips = np.empty((n_sessions, session_length), dtype=bool)
    pauses = np.empty((n_sessions, session_length), dtype=bool)
    rows = np.arange(n_sessions)

    def jump(skipped: np.ndarray) -> np.ndarray:
        drawn = np.where(
            skipped,
            draw_rows(hits_cdf_s, rng.random(n_sessions)),
            draw_rows(cdf_s, rng.random(n_sessions)),
        )
        return np.where(rng.random(n_sessions) < habit_entry_prob, chain_s[:, 0], drawn)

    def play(t: int, current: np.ndarray) -> None:
        items[:, t] = current
        logit = skip_user_s + graph.skip_song[current]
        logit = logit + np.where(graph.genre[current] != k_s, SKIP_OFF_TASTE, 0.0)
        logit = logit + np.where((chain_s == current[:, None]).any(axis=1), SKIP_HABIT, 0.0)
        skips[:, t] = rng.random(n_sessions) < sigmoid(logit)
        pause_logit = pause_user_s + graph.pause_song[current]
        pauses[:, t] = rng.random(n_sessions) < sigmoid(pause_logit)

    current = jump(np.zeros(n_sessions, dtype=bool))
    play(0, current)
    for t in range(1, session_length):
        skipped = skips[:, t - 1]
        # 1. personal chain, a cycle: from its last song back to its first
        in_chain = chain_s == current[:, None]
        has_habit = in_chain.any(axis=1)
        habit_next = chain_s[rows, (in_chain.argmax(axis=1) + 1) % habit_length]
        use_habit = has_habit & (rng.random(n_sessions) < habit_prob)
        # 2. repeat / next song in the user's order / taste successor / jump
        factor = np.where(skipped, skip_factor, 1.0)
        repeat = ~skipped & (rng.random(n_sessions) < repeat_prob)
        follow = rng.random(n_sessions) < order_s * factor * graph.strength[current]
        to_successor = rng.random(n_sessions) < successor_prob
        slot = np.minimum(
            np.searchsorted(graph.succ_cdf, rng.random(n_sessions), side="right"),
            n_successors - 1,
        )
        in_order = graph.canonical[current]
        nxt = np.where(
            repeat,
            current,
            np.where(
                follow,
                in_order,
                np.where(to_successor, graph.succ[k_s, current, slot], jump(skipped)),
            ),
        )
        current = np.where(use_habit, habit_next, nxt)
        play(t, current)
    return items, skips, pauses


def hours(
    rng: np.random.Generator,
    people: Users,
    session_user: np.ndarray,
    session_length: int,
    mode: str,
) -> np.ndarray:
    """Hour of day of every play, shape (n_sessions, session_length), for ``mode``.

    The draws are made whatever the mode, so that the songs and flags of one seed do not
    depend on it.
    """
    n_sessions = len(session_user)
    jitter = np.rint(rng.normal(0.0, HOUR_SD, n_sessions)).astype(np.int64)
    uniform_start = rng.integers(0, 24, n_sessions)
    start_minute = rng.uniform(0.0, 60.0, n_sessions)
    start = people.pref_hour[session_user] + jitter if mode == "user" else uniform_start
    minutes = start_minute[:, None] + MINUTES_PER_PLAY * np.arange(session_length)[None, :]
    return (start[:, None] + (minutes // 60).astype(np.int64)) % 24


def catalog_runs(
    rng: np.random.Generator,
    people: Users,
    session_user: np.ndarray,
    *,
    session_length: int,
    min_session_length: int,
    full_session_share: float,
) -> np.ndarray:
    """Which plays are kept, shape (n_sessions, session_length).

    A session has ``session_length`` plays with probability ``full_session_share``, else a
    length uniform in ``[min_session_length, session_length - 1]``; each of its plays is
    of a song outside the catalog with the user's probability ``outside``. Plays outside
    the catalog, beyond the session's length, or with no kept neighbour (they would give
    no transition) are not kept.
    """
    n_sessions = len(session_user)
    span = session_length - min_session_length  # shorter lengths: min .. session_length - 1
    short = min_session_length + np.floor(rng.random(n_sessions) * span).astype(np.int64)
    length = np.where(rng.random(n_sessions) < full_session_share, session_length, short)
    inside = rng.random((n_sessions, session_length)) >= people.outside[session_user][:, None]
    keep = inside & (np.arange(session_length)[None, :] < length[:, None])
    before = np.zeros_like(keep)
    before[:, 1:] = keep[:, :-1]
    after = np.zeros_like(keep)
    after[:, :-1] = keep[:, 1:]
    return keep & (before | after)


def assign_sessions(rng: np.random.Generator, n_owners: int, n_sessions: int) -> np.ndarray:
    """Owner of each session, sorted: every owner has one, the others go by a log-normal
    activity (some owners have many)."""
    activity = rng.lognormal(0.0, 1.0, n_owners)
    extra = rng.choice(n_owners, n_sessions - n_owners, p=activity / activity.sum())
    return np.sort(np.concatenate([np.arange(n_owners), extra]))


def beta_around(rng: np.random.Generator, mean: float, concentration: float, n: int) -> np.ndarray:
    """``n`` draws of Beta(mean * c, (1 - mean) * c) (all ``mean`` when it is 0 or 1)."""
    if mean in (0.0, 1.0):
        rng.random(n)  # keep the stream aligned
        return np.full(n, mean)
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, n)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def draw_rows(cdf: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Draw one category per row from row-wise cumulative probabilities ``cdf``."""
    idx = (cdf < uniform[:, None] * cdf[:, -1:]).sum(axis=1)
    return np.minimum(idx, cdf.shape[1] - 1)


def top_k_without_replacement(
    rng: np.random.Generator, log_weights: np.ndarray, exclude: np.ndarray, k: int
) -> np.ndarray:
    """Sample ``k`` distinct columns per row ∝ exp(log_weights) (Gumbel top-k).

    ``log_weights`` and ``exclude`` broadcast to (n_rows, n_cols); excluded cells are
    never drawn. The k columns are returned in the order they would be drawn.
    """
    shape = np.broadcast_shapes(log_weights.shape, exclude.shape)
    keys = log_weights + rng.gumbel(size=shape)
    keys = np.where(exclude, -np.inf, keys)
    top = np.argpartition(-keys, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(keys, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)
