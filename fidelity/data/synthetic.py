"""Synthetic listening sessions: the embedded default data of fidelity.

:func:`make_sessions` generates MSSD-like sessions (users with latent tastes, a
Zipf-like song popularity, taste-dependent transitions, per-user habits and
timing features) calibrated against the MSSD aidl sample; see its docstring.
"""

from __future__ import annotations

import numpy as np

from fidelity._validation import (
    RandomStateLike,
    check_fraction,
    check_positive_int,
    check_random_state,
)
from fidelity.data.tables import TIMING_DTYPE, Sessions

TIMING_NAMES: tuple[str, ...] = ("skip", "pause", "hour_of_day")
"""Names of the timing columns of :func:`make_sessions`."""

_SKIP_LOGIT_MEAN = -1.7  # per-user skip propensity (logit) ~ Normal(mean, sd) for taste songs
_SKIP_LOGIT_SD = 0.7
_SUCCESSOR_DECAY = 0.6  # weight of successor slot j is proportional to 0.6 ** j
_SUCCESSOR_TEMPER = 0.6  # successors are drawn ∝ P ** 0.6 (spreads the songs' in-degree)
_HABIT_TEMPER = 0.3  # personal chains are drawn ∝ P_taste ** 0.3 (favourites are often niche)
_SKIP_OFF_TASTE = 1.6  # added to the skip logit for songs outside the user's taste
_SKIP_HABIT = -1.5  # added to the skip logit for songs of the user's personal chain
_PAUSE_BETA = (2.0, 8.0)  # per-user pause rate ~ Beta(a, b) (mean 0.2)
_SKIP_JUMP_SHARPEN = 2.0  # after a skip, jumps are drawn ∝ P_taste ** 2 (the taste's hits)
_HOUR_SD = 1.5  # session start hour ~ preferred hour + Normal(0, sd), rounded
_MINUTES_PER_PLAY = 3.5  # the hour of a play advances with its position


def make_sessions(
    n_sessions: int = 11_156,
    session_length: int = 20,
    n_items: int = 229,
    *,
    n_users: int | None = None,
    n_tastes: int = 8,
    n_successors: int = 4,
    shared_successors: float = 0.7,
    popularity_exponent: float = 3.0,
    popularity_offset: float = 30.0,
    taste_boost: float = 4.0,
    canonical_prob: float = 0.62,
    canonical_concentration: float = 1.0,
    successor_prob: float = 0.8,
    skip_factor: float = 0.1,
    repeat_prob: float = 0.035,
    habit_length: int = 4,
    habit_prob: float = 0.6,
    habit_entry_prob: float = 0.1,
    random_state: RandomStateLike = None,
) -> Sessions:
    """Generate synthetic listening sessions that look like MSSD at the paper's scale.

    Parameters
    ----------
    n_sessions : int, default 11,156
        Number of sessions (the paper's size).
    session_length : int, default 20
        Plays per session (>= 2).
    n_items : int, default 229
        Number of songs (>= 2), named ``"song_000"``, ``"song_001"``, ...
    n_users : int or None, default None
        ``None``: one user per session (MSSD-style unlinkable sessions,
        ``session_user == arange(n_sessions)``). An int in ``[1, n_sessions]``: every
        user owns at least one session and the others go to users drawn with a
        log-normal activity, so that some users own many sessions (for
        ``mode="split-history"``). The sessions of a user share its taste, habits and
        timing habits; session codes are sorted by user.
    n_tastes : int, default 8
        Number of taste clusters (``1 <= n_tastes <= n_items``); every song belongs to one
        (its genre) and every user has one.
    n_successors : int, default 4
        Likely successors of each song for each taste (``1 <= n_successors < n_items``),
        with weights proportional to 0.6 ** slot.
    shared_successors : float, default 0.7
        Probability that a successor slot of a song is the same for all tastes;
        otherwise it is drawn for each taste, which makes the transitions
        taste-dependent.
    popularity_exponent, popularity_offset : float, default 3.0 and 30.0
        Base popularity of the song of popularity rank r is ``(r + offset) ** -exponent``
        (a Zipf-Mandelbrot law: flat head, steep tail). The measured play counts are
        much flatter than this base law (log-log slope about -0.8) because the
        canonical order and the tempered successor draws spread the plays (see Notes).
    taste_boost : float, default 4.0
        Factor (>= 1) on the base popularity of a taste's own songs in that taste's jump
        distribution.
    canonical_prob : float, default 0.62
        Mean, over songs, of the probability of going to the song's canonical successor
        (album-like order); in ``(0, 1)``.
    canonical_concentration : float, default 1.0
        Concentration (> 0) of the Beta law of that per-song probability; small values
        make it U-shaped (some songs almost always lead to the same song, others rarely),
        as in the real data.
    successor_prob : float, default 0.8
        Probability of going to one of the song's taste successors when not going to
        its canonical successor; the rest are jumps.
    skip_factor : float, default 0.1
        After a skipped song the canonical probability is multiplied by this factor, and
        jumps go to the taste's hits: the next song is then rarely the usual successor,
        so the ``skip`` feature is informative for the next song (a first-order Markov
        model conditioned on ``skip`` gains about 0.05 in held-out top-1 accuracy).
    repeat_prob : float, default 0.035
        Probability of playing a listened (not skipped) song again.
    habit_length : int, default 4
        Length of each user's personal chain of songs (``2 <= habit_length <= n_items``).
    habit_prob : float, default 0.6
        Probability that a user at a song of its chain (but the last) plays the next song
        of its chain. This per-user idiosyncrasy is what a model that memorises its
        training users can exploit; 0 (with ``habit_entry_prob=0``) turns it off.
    habit_entry_prob : float, default 0.1
        Probability that a session starts, or a jump goes, at the first song of the
        user's chain.
    random_state : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Seed; same seed, same sessions.

    Returns
    -------
    Sessions
        ``n_sessions * session_length`` plays; item codes ``0..n_items-1``, session codes
        and ids ``0..n_sessions-1``, user codes and ids ``0..n_users-1`` (``n_users =
        n_sessions`` when None); float32 timing columns ``("skip", "pause",
        "hour_of_day")``: skip 0/1, pause before play 0/1, hour 0..23.

    Raises
    ------
    ValueError
        If a parameter is out of range (the message names it and the value received).
    TypeError
        If an integer parameter is not an integer or a real one not a number.

    Notes
    -----
    **Songs.** Each song gets a random popularity rank r, a base popularity
    ``pop ∝ (r + offset)^-exponent`` and a random genre (taste cluster). Taste k jumps
    to song i with probability ``P_k(i) ∝ pop_i * (taste_boost if genre(i) = k else 1)``.
    Each song has a *canonical successor* (one cycle through all songs, grouped by genre:
    an album-like order, so following it never loops quickly) taken with a per-song
    probability ``c_s ~ Beta(canonical_prob * conc, (1 - canonical_prob) * conc)``,
    and ``n_successors`` distinct *successors* per taste (never itself): a slot is
    shared by all tastes with probability ``shared_successors`` (drawn without
    replacement ∝ ``P_genre(s)^0.6``), else drawn ∝ ``P_k^0.6``.

    **Users.** Each user has a taste k_u (uniform), a personal chain of ``habit_length``
    distinct songs drawn ∝ ``P_{k_u}^0.3`` without replacement (favourites are often
    niche), a skip propensity (logit ~ Normal(-1.7, 0.7)), a pause rate ~ Beta(2, 8)
    and a preferred hour (uniform over 0..23).

    **Sessions.** A session starts with a jump. From song s:

    1. if s is in the user's chain (but last), with probability ``habit_prob`` the next
       song is the next one of the chain; otherwise
    2. if s was listened, repeat s with probability ``repeat_prob``; otherwise
    3. go to s's canonical successor with probability ``c_s`` (``skip_factor * c_s``
       if s was skipped); otherwise
    4. go to one of s's taste-k_u successors with probability ``successor_prob``
       (slot j with weight ∝ 0.6^j); otherwise
    5. jump: to the first song of the chain with probability ``habit_entry_prob``,
       else to a song drawn from ``P_{k_u}``, or from the taste's hits
       ``∝ P_{k_u}^2`` if s was skipped.

    **Timing** of each play: ``skip`` ~ Bernoulli(sigmoid(user logit + 1.6 if the song
    is outside the user's taste - 1.5 if it is in the user's chain)); ``pause`` ~
    Bernoulli(user pause rate); ``hour_of_day`` = (preferred hour + round(Normal(0,
    1.5)) + elapsed minutes // 60) mod 24, with a uniform start minute and 3.5 minutes
    per play. Generation is vectorised over sessions (one step of all sessions at a
    time): the default takes about 0.2 s.

    **Measured statistics** of the default with ``random_state=0``, by
    :func:`fidelity.data.stats.calibration_stats`, next to the MSSD aidl sample
    restricted to the plays of its 229 most played songs (measured with plain pandas)::

        statistic                       synthetic   MSSD aidl
        transitions per session         19          14.4
        repeat rate                     0.023       0.025
        distinct ratio                  0.88        0.85
        Markov top-1 (in-sample)        0.42        0.43
        popularity top-1                0.031       0.024
        popularity slope (200 ranks)    -0.79       -0.80
        Markov fit on 500 sessions,
          in-sample minus held-out      0.013       0.025
        skip rate, pause rate           0.37, 0.20

    Over seeds 0-3 the Markov top-1 ranges 0.41-0.43, the slope -0.79 to -0.89, the
    popularity top-1 0.028-0.032 and the 500-session gap 0.007-0.027. The successor
    distributions have the real shape too: the mean shares of a song's five most
    frequent next songs are 0.42, 0.13, 0.08, 0.05, 0.04 (real: 0.43, 0.12, 0.06, 0.04,
    0.03). With several sessions per user, a personal model (a user's own most frequent
    successor, seen at least twice in its other sessions) beats the population Markov
    model only because of the habits (``tests/data/test_synthetic.py``).
    Measured by::

        .venv/bin/python -c "from fidelity.data.synthetic import make_sessions; \\
        from fidelity.data.stats import calibration_stats; \\
        print(calibration_stats(make_sessions(random_state=0)))"

    Examples
    --------
    >>> from fidelity.data.synthetic import make_sessions
    >>> s = make_sessions(200, 10, 50, random_state=0)
    >>> s.n_plays, s.n_sessions, s.n_items
    (2000, 200, 50)
    """
    n_sessions = check_positive_int("n_sessions", n_sessions, minimum=1)
    session_length = check_positive_int("session_length", session_length, minimum=2)
    n_items = check_positive_int("n_items", n_items, minimum=2)
    if n_users is None:
        one_user_per_session = True
        n_users = n_sessions
    else:
        one_user_per_session = False
        n_users = check_positive_int("n_users", n_users, minimum=1)
        if n_users > n_sessions:
            raise ValueError(f"n_users must be <= n_sessions ({n_sessions}) or None; got {n_users}")
    n_tastes = check_positive_int("n_tastes", n_tastes, minimum=1)
    if n_tastes > n_items:
        raise ValueError(f"n_tastes must be <= n_items ({n_items}); got {n_tastes}")
    n_successors = check_positive_int("n_successors", n_successors, minimum=1)
    if n_successors >= n_items:
        raise ValueError(f"n_successors must be < n_items ({n_items}); got {n_successors}")
    habit_length = check_positive_int("habit_length", habit_length, minimum=2)
    if habit_length > n_items:
        raise ValueError(f"habit_length must be <= n_items ({n_items}); got {habit_length}")
    popularity_exponent = _check_real("popularity_exponent", popularity_exponent, low=0.0)
    popularity_offset = _check_real("popularity_offset", popularity_offset, low=0.0)
    taste_boost = _check_real("taste_boost", taste_boost, low=1.0)
    canonical_prob = check_fraction("canonical_prob", canonical_prob)
    successor_prob = check_fraction("successor_prob", successor_prob)
    shared_successors = check_fraction("shared_successors", shared_successors)
    skip_factor = check_fraction("skip_factor", skip_factor)
    repeat_prob = check_fraction("repeat_prob", repeat_prob)
    if not 0.0 < canonical_prob < 1.0:
        raise ValueError(f"canonical_prob must be in (0, 1); got {canonical_prob!r}")
    canonical_concentration = _check_real(
        "canonical_concentration", canonical_concentration, low=0.0
    )
    if canonical_concentration == 0.0:
        raise ValueError("canonical_concentration must be > 0; got 0.0")
    habit_prob = check_fraction("habit_prob", habit_prob)
    habit_entry_prob = check_fraction("habit_entry_prob", habit_entry_prob)
    rng = check_random_state(random_state)

    # ------------------------------------------------------------- the songs
    rank = rng.permutation(n_items) + 1.0
    pop = (rank + popularity_offset) ** -popularity_exponent
    pop /= pop.sum()
    genre = rng.integers(0, n_tastes, n_items)
    own = genre[None, :] == np.arange(n_tastes)[:, None]  # (n_tastes, n_items)
    taste_pop = pop[None, :] * np.where(own, taste_boost, 1.0)
    taste_pop /= taste_pop.sum(axis=1, keepdims=True)
    taste_cdf = np.cumsum(taste_pop, axis=1)
    # after a skip, jumps go to the taste's hits: P_k sharpened
    hits = taste_pop**_SKIP_JUMP_SHARPEN
    hits_cdf = np.cumsum(hits / hits.sum(axis=1, keepdims=True), axis=1)
    # canonical successor: one cycle through all songs, grouped by genre (album-like order)
    order = np.lexsort((rng.random(n_items), genre))
    canonical = np.empty(n_items, dtype=np.int64)
    canonical[order] = np.roll(order, -1)
    # how strongly each song leads to its canonical successor (U-shaped Beta when the
    # concentration is small: some songs almost always, others rarely)
    strength = rng.beta(
        canonical_prob * canonical_concentration,
        (1.0 - canonical_prob) * canonical_concentration,
        n_items,
    )
    # successors: n_successors distinct songs per song, each slot shared by all tastes
    # with probability shared_successors, else drawn for each taste from P_taste
    no_self = np.eye(n_items, dtype=bool)
    glob = _top_k_without_replacement(
        rng, _SUCCESSOR_TEMPER * np.log(taste_pop[genre]), no_self, n_successors
    )
    succ = np.empty((n_tastes, n_items, n_successors), dtype=np.int64)
    for k in range(n_tastes):
        own_k = _top_k_without_replacement(
            rng, _SUCCESSOR_TEMPER * np.log(taste_pop[k])[None, :], no_self, n_successors
        )
        keep = rng.random((n_items, n_successors)) < shared_successors
        succ[k] = np.where(keep, glob, own_k)
    weights = _SUCCESSOR_DECAY ** np.arange(n_successors)
    succ_cdf = np.cumsum(weights / weights.sum())

    # ------------------------------------------------------------- the users
    if one_user_per_session:
        session_user = np.arange(n_sessions, dtype=np.int64)
    else:
        activity = rng.lognormal(0.0, 1.0, n_users)
        extra = rng.choice(n_users, n_sessions - n_users, p=activity / activity.sum())
        session_user = np.sort(np.concatenate([np.arange(n_users), extra]))
    taste = rng.integers(0, n_tastes, n_users)
    chain = _top_k_without_replacement(
        rng,
        _HABIT_TEMPER * np.log(taste_pop[taste]),
        np.zeros((1, n_items), dtype=bool),
        habit_length,
    )  # (n_users, habit_length), distinct songs
    skip_logit = rng.normal(_SKIP_LOGIT_MEAN, _SKIP_LOGIT_SD, n_users)
    pause_rate = rng.beta(*_PAUSE_BETA, n_users)
    pref_hour = rng.integers(0, 24, n_users)

    # ---------------------------------------------------------- the sessions
    u = session_user
    k_s = taste[u]
    chain_s = chain[u]
    cdf_s = taste_cdf[k_s]
    hits_cdf_s = hits_cdf[k_s]
    start_hour = pref_hour[u] + np.rint(rng.normal(0.0, _HOUR_SD, n_sessions)).astype(np.int64)
    start_minute = rng.uniform(0.0, 60.0, n_sessions)
    skip_logit_s = skip_logit[u]
    pause_rate_s = pause_rate[u]

    items = np.empty((n_sessions, session_length), dtype=np.int64)
    skips = np.empty((n_sessions, session_length), dtype=bool)
    pauses = rng.random((n_sessions, session_length)) < pause_rate_s[:, None]
    rows = np.arange(n_sessions)

    def jump(skipped: np.ndarray) -> np.ndarray:
        drawn = np.where(
            skipped,
            _draw_rows(hits_cdf_s, rng.random(n_sessions)),
            _draw_rows(cdf_s, rng.random(n_sessions)),
        )
        return np.where(rng.random(n_sessions) < habit_entry_prob, chain_s[:, 0], drawn)

    def play(current: np.ndarray) -> np.ndarray:
        logit = skip_logit_s + np.where(genre[current] != k_s, _SKIP_OFF_TASTE, 0.0)
        logit = logit + np.where((chain_s == current[:, None]).any(axis=1), _SKIP_HABIT, 0.0)
        return rng.random(n_sessions) < 1.0 / (1.0 + np.exp(-logit))

    current = jump(np.zeros(n_sessions, dtype=bool))
    items[:, 0] = current
    skips[:, 0] = play(current)
    for t in range(1, session_length):
        skipped = skips[:, t - 1]
        # 1. personal chain
        in_chain = chain_s[:, :-1] == current[:, None]
        has_habit = in_chain.any(axis=1)
        habit_next = chain_s[rows, np.minimum(in_chain.argmax(axis=1) + 1, habit_length - 1)]
        use_habit = has_habit & (rng.random(n_sessions) < habit_prob)
        # 2. repeat / canonical successor / taste successor / jump, depending on the skip flag
        factor = np.where(skipped, skip_factor, 1.0)
        repeat = ~skipped & (rng.random(n_sessions) < repeat_prob)
        to_canonical = rng.random(n_sessions) < factor * strength[current]
        to_successor = rng.random(n_sessions) < successor_prob
        slot = np.minimum(
            np.searchsorted(succ_cdf, rng.random(n_sessions), side="right"), n_successors - 1
        )
        nxt = np.where(
            repeat,
            current,
            np.where(
                to_canonical,
                canonical[current],
                np.where(to_successor, succ[k_s, current, slot], jump(skipped)),
            ),
        )
        current = np.where(use_habit, habit_next, nxt)
        items[:, t] = current
        skips[:, t] = play(current)

    minutes = start_minute[:, None] + _MINUTES_PER_PLAY * np.arange(session_length)[None, :]
    hours = (start_hour[:, None] + (minutes // 60).astype(np.int64)) % 24
    timing = np.stack([skips.ravel(), pauses.ravel(), hours.ravel()], axis=1).astype(TIMING_DTYPE)

    width = max(3, len(str(n_items - 1)))
    return Sessions.from_codes(
        np.repeat(np.arange(n_sessions, dtype=np.int64), session_length),
        items.ravel(),
        timing,
        TIMING_NAMES,
        session_user=session_user,
        item_ids=np.array([f"song_{i:0{width}d}" for i in range(n_items)]),
        session_ids=np.arange(n_sessions, dtype=np.int64),
        user_ids=np.arange(n_users, dtype=np.int64),
    )


def _check_real(name: str, value: float, *, low: float) -> float:
    """Check that ``value`` is a finite real number >= ``low``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number >= {low}; got {value!r}") from None
    if not np.isfinite(v) or v < low:
        raise ValueError(f"{name} must be a finite real number >= {low}; got {value!r}")
    return v


def _draw_rows(cdf: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Draw one category per row from row-wise cumulative probabilities ``cdf``."""
    idx = (cdf < uniform[:, None] * cdf[:, -1:]).sum(axis=1)
    return np.minimum(idx, cdf.shape[1] - 1)


def _top_k_without_replacement(
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
