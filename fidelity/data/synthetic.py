"""Synthetic listening sessions: the embedded default data of fidelity.

:func:`make_sessions` generates MSSD-like sessions (listeners with latent tastes, some
listening in an album-like order and others shuffling, a Zipf-like song popularity,
taste-dependent transitions, personal habits, skip and pause flags, plays outside the
catalog). Its defaults are calibrated on what fidelity measures, against the MSSD aidl
sample restricted to its 229 most played songs: the random forest's accuracy, the
leakage of the match and reference attacks and the MI(H;O) curve
(:func:`calibration_table`, measured by ``benchmarks/calibrate_synthetic.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from fidelity._display import DisplayMixin
from fidelity._validation import (
    RandomStateLike,
    check_choice,
    check_fraction,
    check_positive_int,
    check_random_state,
)
from fidelity.data import _synthetic_model as _model
from fidelity.data.tables import TIMING_DTYPE, Sessions

TIMING_NAMES: tuple[str, ...] = ("skip", "pause")
"""Timing columns of :func:`make_sessions` (``"hour_of_day"`` follows when asked for)."""

HOUR_MODES: tuple[str, ...] = ("none", "session", "user")
"""Values of ``make_sessions(hour_of_day=...)``."""

CALIBRATION_COMMAND = ".venv/bin/python benchmarks/calibrate_synthetic.py"
"""The command that measured :data:`CALIBRATION` (seed 0, full size)."""


@dataclass(frozen=True)
class CalibrationFigure(DisplayMixin):
    """One figure of the calibration of :func:`make_sessions` against MSSD.

    Attributes
    ----------
    figure : str
        What is measured (the scenario: overlap 0.5, shared mode, random forest with
        20 trees; reference attack with 4 reference models).
    synthetic, mssd : float
        The figure on ``make_sessions(random_state=0)`` and on the MSSD aidl sample
        (229 most played songs), seed 0.
    tolerance : float
        Allowed difference: absolute, or relative to ``mssd`` when ``relative``.
    relative : bool
    """

    figure: str
    synthetic: float
    mssd: float
    tolerance: float
    relative: bool = False

    @property
    def within(self) -> bool:
        """Whether ``synthetic`` is within ``tolerance`` of ``mssd``."""
        allowed = self.tolerance * abs(self.mssd) if self.relative else self.tolerance
        return bool(abs(self.synthetic - self.mssd) <= allowed + 1e-12)

    def summary(self) -> str:
        """One sentence: the synthetic figure against MSSD's, within tolerance or not."""
        allowed = f"{self.tolerance:.0%}" if self.relative else f"{self.tolerance:g}"
        verdict = "within" if self.within else "outside"
        return (
            f"{self.figure}: {self.synthetic:.4g} on the synthetic data against "
            f"{self.mssd:.4g} on MSSD, {verdict} the tolerance of {allowed}."
        )

    def to_dict(self) -> dict[str, object]:
        """Plain-data form, with ``within``."""
        return {**asdict(self), "within": self.within}


def _figures(rows: tuple[tuple[str, float, float], ...]) -> tuple[CalibrationFigure, ...]:
    out = []
    for figure, synthetic, mssd in rows:
        relative = figure.startswith("mi")
        out.append(CalibrationFigure(figure, synthetic, mssd, 0.2 if relative else 0.05, relative))
    return tuple(out)


CALIBRATION: tuple[CalibrationFigure, ...] = _figures(
    (
        ("accuracy: RF k-fold", 0.48, 0.465),
        ("accuracy: RF in-sample", 0.483, 0.471),
        ("auc: match label, target 500", 0.621, 0.629),
        ("auc: match label, target 2000", 0.517, 0.527),
        ("auc: reference scores, target 500", 0.968, 0.954),
        ("auc: reference scores, target 2000", 0.86, 0.86),
        ("mi: plug-in, target 500", 0.161, 0.178),
        ("mi: plug-in, target 1000", 0.12, 0.128),
        ("mi: plug-in, target 2000", 0.088, 0.09),
        ("mi: plug-in, target 4000", 0.06, 0.054),
    )
)
"""The calibration table of the default :func:`make_sessions` (see its Notes)."""


def calibration_table() -> pd.DataFrame:
    """The documented calibration of :func:`make_sessions` against the MSSD aidl sample.

    One row per figure of :data:`CALIBRATION`: ``figure``, ``synthetic``, ``mssd``,
    ``tolerance``, ``relative``, ``within``. Measured by :data:`CALIBRATION_COMMAND`
    (seed 0); ``tests/test_synthetic_calibration.py`` re-measures the synthetic column and, when
    the MSSD sample is at hand, both at a reduced size.
    """
    return pd.DataFrame([f.to_dict() for f in CALIBRATION])


def make_sessions(
    n_sessions: int = 11_156,
    session_length: int = 20,
    n_items: int = 229,
    *,
    n_users: int | None = None,
    min_session_length: int | None = None,
    full_session_share: float = 0.79,
    outside_share: float = 0.22,
    outside_concentration: float = 1.2,
    n_tastes: int = 8,
    n_successors: int = 6,
    shared_successors: float = 0.7,
    popularity_exponent: float = 3.25,
    popularity_offset: float = 26.0,
    taste_boost: float = 3.0,
    order_prob: float = 0.5,
    order_concentration: float = 0.17,
    canonical_prob: float = 0.98,
    canonical_concentration: float = 10.0,
    successor_prob: float = 0.85,
    skip_factor: float = 1.0,
    repeat_prob: float = 0.03,
    habit_length: int = 4,
    habit_prob: float = 0.72,
    habit_entry_prob: float = 0.14,
    hour_of_day: str = "none",
    random_state: RandomStateLike = None,
) -> Sessions:
    """Generate synthetic listening sessions that leak like MSSD at the paper's scale.

    Parameters
    ----------
    n_sessions : int, default 11,156
        Number of listening sessions drawn (the paper's size). Sessions whose plays
        all fall outside the catalog give no data (see ``outside_share``).
    session_length : int, default 20
        Plays of a full session (>= 2).
    n_items : int, default 229
        Number of songs in the catalog (>= 2), named ``"song_000"``, ``"song_001"``, ...
    n_users : int or None, default None
        ``None``: one user per listening session (MSSD-style unlinkable sessions). An int
        in ``[1, n_sessions]``: every user owns at least one session and the others go
        to users drawn with a log-normal activity, so that some users own many sessions
        (for ``mode="split-history"``). The sessions of a user share its taste, order,
        habits and timing habits.
    min_session_length : int or None, default None
        Shortest session (``2 <= min_session_length <= session_length``); None: three
        quarters of ``session_length`` rounded up (15 for 20).
    full_session_share : float, default 0.79
        Share of sessions of ``session_length`` plays; the others have a length uniform
        in ``[min_session_length, session_length - 1]`` (the aidl sample: 79 % of its
        sessions have 20 plays, the others 15 to 19).
    outside_share : float, default 0.22
        Mean probability that a play is of a song outside the catalog, in ``[0, 0.99]``
        (22 % of the aidl sample's plays are outside its 229 most played songs). Such
        plays are removed and cut their session, as
        :func:`~fidelity.data.keep_top_items` does to real data: each run of kept plays
        becomes a session of the same user. Plays with no kept neighbour (they give no
        transition) are removed too. 0 (with ``full_session_share=1``) gives every
        session all its plays.
    outside_concentration : float, default 1.2
        Concentration (> 0) of the per-user Beta law of that probability: small values
        make it U-shaped (many sessions wholly in the catalog, some mostly outside).
    n_tastes : int, default 8
        Number of taste clusters (``1 <= n_tastes <= n_items``); every song belongs to one
        (its genre) and every user has one.
    n_successors : int, default 6
        Likely successors of each song for each taste (``1 <= n_successors < n_items``),
        with weights proportional to 0.4 ** slot.
    shared_successors : float, default 0.7
        Probability that a successor slot of a song is the same for all tastes;
        otherwise it is drawn for each taste, which makes the transitions
        taste-dependent.
    popularity_exponent, popularity_offset : float, default 3.25 and 26.0
        Base popularity of the song of popularity rank r is ``(r + offset) ** -exponent``
        (a Zipf-Mandelbrot law: flat head, steep tail); jumps follow it.
    taste_boost : float, default 3.0
        Factor (>= 1) on the base popularity of a taste's own songs in that taste's jump
        distribution.
    order_prob : float, default 0.5
        Mean, over users, of how much a user listens in order: the probability of
        considering the next song of the album-like order at each step (the others
        shuffle). In ``[0, 1]``.
    order_concentration : float, default 0.17
        Concentration (> 0) of the per-user Beta law of that probability; the small
        default makes it U-shaped (listeners either follow the order or shuffle), which
        reproduces the real users' bimodal predictability (see Notes).
    canonical_prob : float, default 0.98
        Mean, over songs, of the probability of going to the song's canonical successor
        (its next song in the order) when the user considers it; in ``(0, 1)``.
    canonical_concentration : float, default 10.0
        Concentration (> 0) of the per-song Beta law of that probability.
    successor_prob : float, default 0.85
        Probability of going to one of the song's taste successors when not following
        the order; the rest are jumps.
    skip_factor : float, default 1.0
        After a skipped song the probability of following the order is multiplied by
        this factor (in ``[0, 1]``). At 1, a skip only changes jumps, which go to the
        taste's hits: as in the aidl sample, the skip flag tells little about the next
        song (the forest's accuracy gains about 0.005 from it there).
    repeat_prob : float, default 0.03
        Probability of playing a listened (not skipped) song again.
    habit_length : int, default 4
        Length of each user's personal cycle of songs (``2 <= habit_length <= n_items``).
    habit_prob : float, default 0.72
        Probability that a user at a song of its cycle plays the next song of the cycle
        (from the last back to the first). This per-user idiosyncrasy is what a model
        that memorises its training users can exploit; 0 (with ``habit_entry_prob=0``)
        turns it off.
    habit_entry_prob : float, default 0.14
        Probability that a session starts, or a jump goes, at the first song of the
        user's cycle.
    hour_of_day : {"none", "session", "user"}, default "none"
        Whether to add a third timing column ``hour_of_day`` (0..23; the hour advances
        by 3.5 minutes per play from a uniform start minute). ``"none"``: no hour (the
        calibration sample has none). ``"session"``: each session starts at an hour
        drawn uniformly, independently of its user's other sessions. ``"user"``: around
        the user's preferred hour (uniform over 0..23) plus a rounded Normal(0, 1.5)
        per session. Both are **planted leakage**: with one user per session the hour
        is constant within a user, so a random forest memorises users by it (see
        Notes); they are not calibrated. The songs and flags do not depend on this
        option (same seed, same songs).
    random_state : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Seed; same seed, same sessions.

    Returns
    -------
    Sessions
        Item codes ``0..n_items-1``; one session per run of kept plays (codes and ids
        ``0..n_runs-1``, runs of a listening session consecutive), ``session_user``
        mapping them to users; user codes ``0..`` over the users with at least one kept
        play, ``user_ids`` their index among the drawn users. Float32 timing columns
        :data:`TIMING_NAMES` ``("skip", "pause")`` (0/1), then ``"hour_of_day"`` when
        asked for.

    Raises
    ------
    ValueError
        If a parameter is out of range (the message names it and the value received),
        or no play is kept.
    TypeError
        If an integer parameter is not an integer or a real one not a number.

    Notes
    -----
    **Songs.** Each song gets a random popularity rank r, a base popularity
    ``pop ∝ (r + offset)^-exponent`` and a random genre (taste cluster). Taste k jumps
    to song i with probability ``P_k(i) ∝ pop_i * (taste_boost if genre(i) = k else 1)``.
    Each song has a *canonical successor* (one cycle through all songs, grouped by genre:
    an album-like order) taken with a per-song probability ``c_s ~ Beta(canonical_prob *
    conc, (1 - canonical_prob) * conc)``, and ``n_successors`` distinct *successors* per
    taste (never itself): a slot is shared by all tastes with probability
    ``shared_successors`` (drawn without replacement ∝ ``P_genre(s)^0.6``), else drawn
    ∝ ``P_k^0.6``. Each song also has a skip and a pause term (Normal(0, 0.3) logits).

    **Users.** Each user has a taste k_u (uniform), an order propensity ``o_u ~
    Beta(order_prob * conc, (1 - order_prob) * conc)``, a personal cycle of
    ``habit_length`` distinct songs drawn ∝ ``P_{k_u}^0.3`` without replacement
    (favourites are often niche), a skip logit ~ Normal(-1.7, 1.5), a pause logit ~
    Normal(-1.5, 0.5), a probability of plays outside the catalog ~ Beta(outside_share
    * conc, (1 - outside_share) * conc) and a preferred hour (uniform over 0..23, used
    only by ``hour_of_day="user"``).

    **Sessions.** A session starts with a jump. From song s:

    1. if s is in the user's cycle, with probability ``habit_prob`` the next song is
       the next one of the cycle; otherwise
    2. if s was listened, repeat s with probability ``repeat_prob``; otherwise
    3. go to s's canonical successor with probability ``o_u * c_s`` (times
       ``skip_factor`` if s was skipped); otherwise
    4. go to one of s's taste-k_u successors with probability ``successor_prob``
       (slot j with weight ∝ 0.4^j); otherwise
    5. jump: to the first song of the cycle with probability ``habit_entry_prob``,
       else to a song drawn from ``P_{k_u}``, or from ``∝ P_{k_u}^1.2`` if s was skipped.

    **Timing** of each play: ``skip`` ~ Bernoulli(sigmoid(user logit + song term + 1.6
    if the song is outside the user's taste - 1.5 if it is in the user's cycle));
    ``pause`` ~ Bernoulli(sigmoid(user logit + song term)). Then plays outside the
    catalog and beyond the session's length are cut (``outside_share``). Generation is
    vectorised over sessions: the default takes about 0.5 s.

    **Calibration on what fidelity measures.** The same scenarios on the default
    (``random_state=0``) and on the MSSD aidl sample restricted to its 229 most played
    songs (``load_sessions(..., timing_cols=("skipped",))`` then
    ``keep_top_items(229)``), with tolerances AUC and accuracy +-0.05, MI +-20 %; all
    with seed 0, overlap 0.5, shared mode, the random forest with 20 trees, the
    reference attack with 4 reference models (:data:`CALIBRATION`)::

        figure                                    synthetic   MSSD aidl   tolerance
        random forest, 10-fold accuracy           0.480       0.465       +-0.05
        random forest, in-sample accuracy         0.483       0.471       +-0.05
        match AUC (label), target 500             0.621       0.629       +-0.05
        match AUC (label), target 2000            0.517       0.527       +-0.05
        reference AUC (scores), target 500        0.968       0.954       +-0.05
        reference AUC (scores), target 2000       0.860       0.860       +-0.05
        plug-in MI(H;O), target 500               0.161       0.178       +-20 %
        plug-in MI(H;O), target 1000              0.120       0.128       +-20 %
        plug-in MI(H;O), target 2000              0.088       0.090       +-20 %
        plug-in MI(H;O), target 4000              0.060       0.054       +-20 %

    Measured by ``.venv/bin/python benchmarks/calibrate_synthetic.py``; ``--seed 1``
    and ``--seed 2`` give the same picture, every figure within tolerance (match AUC at
    target 500: 0.589 and 0.591 against 0.607 and 0.603; reference AUC: 0.963 and 0.968
    against 0.972 and 0.955; MI at target 500: 0.160 and 0.164 against 0.197 and 0.194,
    the closest to its tolerance: the synthetic MI falls more slowly with the target
    size than the sample's). The previous default, with a per-user preferred hour and
    full 20-play sessions, gave a match AUC of 0.999 at target 500. That case is
    ``hour_of_day="user"``: with today's defaults it gives a match AUC of 0.981 and a
    reference AUC of 0.974 at target 500 (0.841 and 0.943 at 2,000);
    ``hour_of_day="session"`` gives 0.974 and 0.972.

    What makes the leakage realistic: (a) users as unequally predictable as the real
    ones: their hit rates under a first-order Markov model are bimodal (share of users
    with at least 10 observations per fifth of hit rate: synthetic 29, 19, 9, 15, 27 %;
    sample 34, 10, 11, 15, 30 %); (b) 13.6 observations per user after the catalog cut,
    as in the sample; (c) timing flags with strong per-user and weak per-song terms
    that tell little about the next song; (d) no hour.

    **Sequence statistics** of the default, by :func:`~fidelity.data.calibration_stats`
    on the same data, next to the aidl sample through the same calls (sessions cut at
    removed plays, so the per-session figures are per run)::

        statistic                                 synthetic   MSSD aidl
        transitions (observations)                140,012     129,116
        users with a play (with an observation)   10,324      9,890 (9,517)
        observations per user                     13.6        13.6
        repeat rate                               0.017       0.016
        distinct ratio (per run)                  0.95        0.94
        Markov top-1 (in-sample)                  0.482       0.465
        popularity top-1                          0.022       0.024
        popularity slope (200 ranks)              -0.64       -0.86
        skip rate, pause rate                     0.40, 0.19  (no such flags)

    Over seeds 1-3 the Markov top-1 is 0.47, the slope -0.61 to -0.70. The
    calibration on leakage costs some of the earlier fit of sequence statistics: songs
    are played more evenly (popularity slope -0.64 against -0.86) and a song's most
    frequent successor takes 0.60 of its transitions on average (real: 0.43; the second
    one 0.11, real 0.12), because the in-order listeners all follow one order.

    Examples
    --------
    >>> from fidelity.data.synthetic import make_sessions
    >>> s = make_sessions(200, 10, 50, outside_share=0.0, full_session_share=1.0,
    ...                   random_state=0)
    >>> s.n_plays, s.n_sessions, s.n_items, s.timing_names
    (2000, 200, 50, ('skip', 'pause'))
    """
    n_sessions = check_positive_int("n_sessions", n_sessions, minimum=1)
    session_length = check_positive_int("session_length", session_length, minimum=2)
    n_items = check_positive_int("n_items", n_items, minimum=2)
    if min_session_length is None:
        min_session_length = max(2, -(-3 * session_length // 4))
    min_session_length = check_positive_int("min_session_length", min_session_length, minimum=2)
    if min_session_length > session_length:
        raise ValueError(
            f"min_session_length must be <= session_length ({session_length}); got "
            f"{min_session_length}"
        )
    full_session_share = check_fraction("full_session_share", full_session_share)
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
    canonical_concentration = _check_concentration(
        "canonical_concentration", canonical_concentration
    )
    habit_prob = check_fraction("habit_prob", habit_prob)
    order_prob = check_fraction("order_prob", order_prob)
    order_concentration = _check_concentration("order_concentration", order_concentration)
    habit_entry_prob = check_fraction("habit_entry_prob", habit_entry_prob)
    outside_share = check_fraction("outside_share", outside_share, high=0.99)
    outside_concentration = _check_concentration("outside_concentration", outside_concentration)
    check_choice("hour_of_day", hour_of_day, HOUR_MODES)
    rng = check_random_state(random_state)

    graph = _model.song_graph(
        rng,
        n_items=n_items,
        n_tastes=n_tastes,
        n_successors=n_successors,
        shared_successors=shared_successors,
        popularity_exponent=popularity_exponent,
        popularity_offset=popularity_offset,
        taste_boost=taste_boost,
        canonical_prob=canonical_prob,
        canonical_concentration=canonical_concentration,
    )
    if one_user_per_session:
        session_user = np.arange(n_sessions, dtype=np.int64)
    else:
        session_user = _model.assign_sessions(rng, n_users, n_sessions)
    people = _model.users(
        rng,
        graph,
        n_users=n_users,
        n_tastes=n_tastes,
        habit_length=habit_length,
        order_prob=order_prob,
        order_concentration=order_concentration,
        outside_share=outside_share,
        outside_concentration=outside_concentration,
    )
    items, skips, pauses = _model.walk(
        rng,
        graph,
        people,
        session_user,
        session_length=session_length,
        skip_factor=skip_factor,
        repeat_prob=repeat_prob,
        habit_prob=habit_prob,
        habit_entry_prob=habit_entry_prob,
        successor_prob=successor_prob,
    )
    hour = _model.hours(rng, people, session_user, session_length, hour_of_day)
    keep = _model.catalog_runs(
        rng,
        people,
        session_user,
        session_length=session_length,
        min_session_length=min_session_length,
        full_session_share=full_session_share,
    )
    columns = [skips, pauses] + ([hour] if hour_of_day != "none" else [])
    names = TIMING_NAMES + (("hour_of_day",) if hour_of_day != "none" else ())
    timing = np.stack([c[keep] for c in columns], axis=1).astype(TIMING_DTYPE)
    # a run of kept plays starts where the previous play of the session was not kept
    before = np.zeros_like(keep)
    before[:, 1:] = keep[:, :-1]
    starts = (keep & ~before)[keep]
    run = np.cumsum(starts) - 1
    run_session = np.broadcast_to(np.arange(n_sessions)[:, None], keep.shape)[keep][starts]
    run_user = session_user[run_session]
    used = np.unique(run_user)
    if not len(used):
        raise ValueError(
            f"no play is kept: every session fell outside the catalog (outside_share="
            f"{outside_share}); use a lower outside_share or more sessions"
        )
    width = max(3, len(str(n_items - 1)))
    return Sessions.from_codes(
        run,
        items[keep],
        timing,
        names,
        session_user=np.searchsorted(used, run_user),
        item_ids=np.array([f"song_{i:0{width}d}" for i in range(n_items)]),
        session_ids=np.arange(len(run_user), dtype=np.int64),
        user_ids=used,
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


def _check_concentration(name: str, value: float) -> float:
    """A Beta concentration: a finite real number > 0."""
    v = _check_real(name, value, low=0.0)
    if v == 0.0:
        raise ValueError(f"{name} must be > 0; got {value!r}")
    return v
