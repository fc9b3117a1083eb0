"""Typed, columnar session data: :class:`Sessions` (plays) and :class:`Observations` (transitions).

Both hold plain NumPy arrays (one per column) plus the vocabularies that map
integer codes back to the original ids. Codes are global: subsetting keeps the
codes and the vocabularies, so that the adversary's and the target's tables
still agree on who is who and which song is which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fidelity._validation import warn

TIMING_DTYPE = np.float32


def _empty_timing(n: int) -> np.ndarray:
    return np.zeros((n, 0), dtype=TIMING_DTYPE)


def _check_timing(timing: np.ndarray, names: tuple[str, ...], n: int, what: str) -> np.ndarray:
    timing = np.asarray(timing, dtype=TIMING_DTYPE)
    if timing.ndim != 2 or timing.shape != (n, len(names)):
        raise ValueError(
            f"{what}.timing must have shape (n_rows, len(timing_names)) = ({n}, {len(names)}); "
            f"got {timing.shape}"
        )
    return np.ascontiguousarray(timing)


@dataclass(frozen=True, eq=False, repr=False)
class Observations:
    """Transitions o = (s, s', t), one row per observation.

    Parameters
    ----------
    user : ndarray of int64, shape (n,)
        User code of each observation (index into ``user_ids``). In MSSD-style data,
        where sessions are unlinkable, one session is one user.
    session : ndarray of int64, shape (n,)
        Session code of each observation (index into ``session_ids``).
    item : ndarray of int64, shape (n,)
        Code of the song s that was playing.
    next_item : ndarray of int64, shape (n,)
        Code of the next song s'.
    timing : ndarray of float32, shape (n, n_timing)
        Timing features t of the play of s (skip flags, pause flags, hour, ...).
    timing_names : tuple of str
        Column names of ``timing``.
    item_ids, user_ids, session_ids : ndarray
        Vocabularies mapping codes back to the original ids.

    Notes
    -----
    Rows are grouped by user (and by session within a user) in play order.
    ``n_items``/``n_users`` are vocabulary sizes, not counts of what is present.
    """

    user: np.ndarray
    session: np.ndarray
    item: np.ndarray
    next_item: np.ndarray
    timing: np.ndarray
    timing_names: tuple[str, ...]
    item_ids: np.ndarray
    user_ids: np.ndarray
    session_ids: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        n = len(self.item)
        for name in ("user", "session", "next_item"):
            col = getattr(self, name)
            if col is None and name == "session":
                continue
            if len(col) != n:
                raise ValueError(
                    f"Observations.{name} has length {len(col)}, expected {n} (len(item))"
                )
        if self.session is None:
            object.__setattr__(self, "session", np.asarray(self.user, dtype=np.int64).copy())
        if self.session_ids is None:
            object.__setattr__(self, "session_ids", np.asarray(self.user_ids).copy())
        for name in ("user", "session", "item", "next_item"):
            object.__setattr__(
                self, name, np.ascontiguousarray(np.asarray(getattr(self, name)), dtype=np.int64)
            )
        object.__setattr__(self, "timing_names", tuple(self.timing_names))
        object.__setattr__(
            self, "timing", _check_timing(self.timing, self.timing_names, n, "Observations")
        )

    # ------------------------------------------------------------------ sizes
    def __len__(self) -> int:
        return len(self.item)

    @property
    def n_observations(self) -> int:
        """Number of transitions."""
        return len(self.item)

    @property
    def n_items(self) -> int:
        """Size of the song vocabulary (codes are in ``[0, n_items)``)."""
        return len(self.item_ids)

    @property
    def n_timing(self) -> int:
        """Number of timing features."""
        return len(self.timing_names)

    def users(self) -> np.ndarray:
        """Sorted codes of the users present."""
        return np.unique(self.user)

    def sessions(self) -> np.ndarray:
        """Sorted codes of the sessions present."""
        return np.unique(self.session)

    @property
    def n_users(self) -> int:
        """Number of distinct users present."""
        return len(self.users())

    @property
    def n_sessions(self) -> int:
        """Number of distinct sessions present."""
        return len(self.sessions())

    # ------------------------------------------------------------- subsetting
    def take(self, rows: np.ndarray) -> Observations:
        """Return the observations at ``rows`` (a boolean mask or integer indices)."""
        rows = np.asarray(rows)
        return Observations(
            user=self.user[rows],
            session=self.session[rows],
            item=self.item[rows],
            next_item=self.next_item[rows],
            timing=self.timing[rows],
            timing_names=self.timing_names,
            item_ids=self.item_ids,
            user_ids=self.user_ids,
            session_ids=self.session_ids,
        )

    def select_users(self, users: np.ndarray) -> Observations:
        """Return the observations of the given user codes (order of rows kept)."""
        return self.take(np.isin(self.user, np.asarray(users, dtype=np.int64)))

    def select_sessions(self, sessions: np.ndarray) -> Observations:
        """Return the observations of the given session codes (order of rows kept)."""
        return self.take(np.isin(self.session, np.asarray(sessions, dtype=np.int64)))

    def concat(self, other: Observations) -> Observations:
        """Concatenate with ``other`` (same vocabularies and timing columns)."""
        if self.timing_names != other.timing_names or self.n_items != other.n_items:
            raise ValueError("can only concatenate Observations with the same vocabularies")
        return Observations(
            user=np.concatenate([self.user, other.user]),
            session=np.concatenate([self.session, other.session]),
            item=np.concatenate([self.item, other.item]),
            next_item=np.concatenate([self.next_item, other.next_item]),
            timing=np.concatenate([self.timing, other.timing]),
            timing_names=self.timing_names,
            item_ids=self.item_ids,
            user_ids=self.user_ids,
            session_ids=self.session_ids,
        )

    # ----------------------------------------------------------------- output
    def to_frame(self, *, original_ids: bool = False) -> pd.DataFrame:
        """Return a tidy DataFrame: user, session, item, next_item and one column per timing."""
        if original_ids:
            data = {
                "user": self.user_ids[self.user],
                "session": self.session_ids[self.session],
                "item": self.item_ids[self.item],
                "next_item": self.item_ids[self.next_item],
            }
        else:
            data = {
                "user": self.user,
                "session": self.session,
                "item": self.item,
                "next_item": self.next_item,
            }
        frame = pd.DataFrame(data)
        for j, name in enumerate(self.timing_names):
            frame[name] = self.timing[:, j]
        return frame

    def summary(self) -> dict[str, int | float]:
        """Counts that describe the table (observations, users, sessions, items)."""
        n = len(self)
        return {
            "observations": n,
            "users": self.n_users,
            "sessions": self.n_sessions,
            "items_present": len(np.unique(np.concatenate([self.item, self.next_item]))),
            "item_vocabulary": self.n_items,
            "timing_features": self.n_timing,
            "observations_per_user": float(n / max(self.n_users, 1)),
        }

    def __repr__(self) -> str:
        return (
            f"Observations(n={len(self)}, users={self.n_users}, items={self.n_items}, "
            f"timing={list(self.timing_names)})"
        )


@dataclass(frozen=True, eq=False, repr=False)
class Sessions:
    """Plays in order, one row per play.

    Parameters
    ----------
    session : ndarray of int64, shape (n_plays,)
        Session code of each play; rows of one session are contiguous and in play order.
    position : ndarray of int32, shape (n_plays,)
        0-based position of the play in its session.
    item : ndarray of int64, shape (n_plays,)
        Song code of each play (index into ``item_ids``).
    timing : ndarray of float32, shape (n_plays, n_timing)
        Timing features of each play.
    timing_names : tuple of str
        Names of the ``timing`` columns.
    session_user : ndarray of int64, shape (n_session_vocab,)
        User code of each session code; for MSSD-style data ``session_user[i] == i``.
    item_ids, session_ids, user_ids : ndarray
        Vocabularies mapping codes back to the original ids.
    """

    session: np.ndarray
    position: np.ndarray
    item: np.ndarray
    timing: np.ndarray
    timing_names: tuple[str, ...]
    session_user: np.ndarray
    item_ids: np.ndarray
    session_ids: np.ndarray
    user_ids: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.item)
        for name in ("session", "position"):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"Sessions.{name} has length {len(getattr(self, name))}, expected {n}"
                )
        object.__setattr__(self, "session", np.ascontiguousarray(self.session, dtype=np.int64))
        object.__setattr__(self, "position", np.ascontiguousarray(self.position, dtype=np.int32))
        object.__setattr__(self, "item", np.ascontiguousarray(self.item, dtype=np.int64))
        object.__setattr__(
            self, "session_user", np.ascontiguousarray(self.session_user, dtype=np.int64)
        )
        if len(self.session_user) != len(self.session_ids):
            raise ValueError(
                f"Sessions.session_user has length {len(self.session_user)}, expected "
                f"{len(self.session_ids)} (len(session_ids))"
            )
        object.__setattr__(self, "timing_names", tuple(self.timing_names))
        object.__setattr__(
            self, "timing", _check_timing(self.timing, self.timing_names, n, "Sessions")
        )

    # ----------------------------------------------------------- constructors
    @classmethod
    def from_codes(
        cls,
        session: np.ndarray,
        item: np.ndarray,
        timing: np.ndarray | None = None,
        timing_names: Sequence[str] = (),
        *,
        session_user: np.ndarray | None = None,
        item_ids: np.ndarray | None = None,
        session_ids: np.ndarray | None = None,
        user_ids: np.ndarray | None = None,
    ) -> Sessions:
        """Build from integer codes already grouped by session in play order.

        Positions are derived from the row order. Missing vocabularies default to
        ``arange`` of the needed size; ``session_user`` defaults to one user per session.
        """
        session = np.asarray(session, dtype=np.int64)
        item = np.asarray(item, dtype=np.int64)
        n = len(item)
        n_sessions = int(session.max()) + 1 if n else 0
        if session_ids is None:
            session_ids = np.arange(n_sessions)
        if session_user is None:
            session_user = np.arange(len(session_ids))
        if user_ids is None:
            user_ids = np.arange(int(session_user.max()) + 1 if len(session_user) else 0)
        if item_ids is None:
            item_ids = np.arange(int(item.max()) + 1 if n else 0)
        if timing is None:
            timing = _empty_timing(n)
            timing_names = ()
        return cls(
            session=session,
            position=_positions(session),
            item=item,
            timing=timing,
            timing_names=tuple(timing_names),
            session_user=session_user,
            item_ids=np.asarray(item_ids),
            session_ids=np.asarray(session_ids),
            user_ids=np.asarray(user_ids),
        )

    # ------------------------------------------------------------------ sizes
    def __len__(self) -> int:
        return len(self.item)

    @property
    def n_plays(self) -> int:
        """Number of plays (rows)."""
        return len(self.item)

    @property
    def n_sessions(self) -> int:
        """Number of distinct sessions present."""
        return len(np.unique(self.session))

    @property
    def n_users(self) -> int:
        """Number of distinct users present."""
        return len(np.unique(self.session_user[np.unique(self.session)]))

    @property
    def n_items(self) -> int:
        """Size of the song vocabulary."""
        return len(self.item_ids)

    def session_lengths(self) -> np.ndarray:
        """Number of plays of each present session, in session-code order."""
        _, counts = np.unique(self.session, return_counts=True)
        return counts

    def take(self, rows: np.ndarray) -> Sessions:
        """Return the plays at ``rows`` (mask or indices); vocabularies are kept."""
        rows = np.asarray(rows)
        session = self.session[rows]
        return Sessions(
            session=session,
            position=_positions(session),
            item=self.item[rows],
            timing=self.timing[rows],
            timing_names=self.timing_names,
            session_user=self.session_user,
            item_ids=self.item_ids,
            session_ids=self.session_ids,
            user_ids=self.user_ids,
        )

    # ----------------------------------------------------------- transitions
    def observations(self) -> Observations:
        """Return one observation per consecutive pair of plays within a session.

        The timing of an observation is the timing of its first play s. Sessions of a
        single play have no transition; they are counted and reported with a
        :class:`~fidelity.FidelityWarning`.
        """
        n = len(self.item)
        if n:
            same = self.session[1:] == self.session[:-1]
        else:
            same = np.zeros(0, dtype=bool)
        first = np.flatnonzero(same)
        lengths = self.session_lengths()
        n_single = int((lengths == 1).sum())
        if n_single:
            warn(
                f"{n_single} session(s) of a single play have no transition and give no "
                f"observation ({n_single} play(s) unused)"
            )
        session = self.session[first]
        return Observations(
            user=self.session_user[session],
            session=session,
            item=self.item[first],
            next_item=self.item[first + 1],
            timing=self.timing[first],
            timing_names=self.timing_names,
            item_ids=self.item_ids,
            user_ids=self.user_ids,
            session_ids=self.session_ids,
        )

    def to_frame(self, *, original_ids: bool = False) -> pd.DataFrame:
        """Return a tidy DataFrame: user, session, position, item and the timing columns."""
        user = self.session_user[self.session]
        frame = pd.DataFrame(
            {
                "user": self.user_ids[user] if original_ids else user,
                "session": self.session_ids[self.session] if original_ids else self.session,
                "position": self.position,
                "item": self.item_ids[self.item] if original_ids else self.item,
            }
        )
        for j, name in enumerate(self.timing_names):
            frame[name] = self.timing[:, j]
        return frame

    def summary(self) -> dict[str, int | float]:
        """Counts that describe the plays (plays, sessions, users, items, lengths)."""
        lengths = self.session_lengths()
        return {
            "plays": self.n_plays,
            "sessions": self.n_sessions,
            "users": self.n_users,
            "items_present": len(np.unique(self.item)),
            "item_vocabulary": self.n_items,
            "mean_session_length": float(lengths.mean()) if len(lengths) else 0.0,
            "timing_features": len(self.timing_names),
        }

    def __repr__(self) -> str:
        return (
            f"Sessions(plays={self.n_plays}, sessions={self.n_sessions}, users={self.n_users}, "
            f"items={self.n_items}, timing={list(self.timing_names)})"
        )


def _positions(session: np.ndarray) -> np.ndarray:
    """0-based position of each row within its run of equal session codes."""
    n = len(session)
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    return (np.arange(n) - run_start).astype(np.int32)
