"""The paper's preprocessing: full-length, mostly listened sessions over the most played songs.

Every step reports how many plays and sessions it removed with a
:class:`~fidelity.FidelityWarning` (which is also logged on the ``fidelity`` logger); nothing
is dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fidelity._validation import check_positive_int, logger, warn
from fidelity.data.loaders import MSSD_CATEGORIES
from fidelity.data.tables import Sessions

__all__ = ["keep_top_items", "paper_filter"]


def _require_timing(timing_names: Sequence[str], name: str, why: str) -> int:
    """Index of timing column ``name``; the error says ``why`` it is needed."""
    if name not in timing_names:
        raise ValueError(
            f"{why} needs the timing column {name!r}; the sessions have {list(timing_names)!r}"
        )
    return list(timing_names).index(name)


def _timing_column(sessions: Sessions, name: str, why: str) -> np.ndarray:
    return sessions.timing[:, _require_timing(sessions.timing_names, name, why)]


def _check_session_steps(
    session_length: int, min_listened: int, n_items: int
) -> tuple[int, int, int]:
    """Validated ``session_length``, ``min_listened`` and ``n_items`` of the paper filter."""
    session_length = check_positive_int("session_length", session_length)
    min_listened = check_positive_int("min_listened", min_listened, minimum=0)
    if min_listened > session_length:
        raise ValueError(
            f"min_listened must be <= session_length ({session_length}); got {min_listened}"
        )
    return session_length, min_listened, check_positive_int("n_items", n_items)


def _context_codes(
    contexts: Sequence[str] | str, context_vocabulary: Sequence[str] | None
) -> tuple[list[str], np.ndarray]:
    """The contexts kept (as a list) and their ``context_type`` codes (float64)."""
    vocab = list(
        MSSD_CATEGORIES["context_type"] if context_vocabulary is None else context_vocabulary
    )
    contexts = [contexts] if isinstance(contexts, str) else list(contexts)
    unknown = [c for c in contexts if c not in vocab]
    if unknown:
        raise ValueError(f"contexts must be values of {vocab!r}; got unknown {unknown!r}")
    return contexts, np.array([vocab.index(c) for c in contexts], dtype=np.float64)


def _step_names(session_length: int, min_listened: int, contexts: list[str] | None) -> list[str]:
    """Names of the paper filter's session steps, as its reports give them."""
    names = [
        f"session length == {session_length}",
        f">= {min_listened} plays with not_skipped == 1",
    ]
    if contexts is not None:
        names.append(f"context_type in {contexts!r}")
    return names


def _report_step(name: str, before: tuple[int, int], after: tuple[int, int]) -> None:
    """Report one session step: (sessions, plays) ``before`` and ``after`` it."""
    (s0, p0), (s1, p1) = before, after
    warn(
        f"paper_filter: {name}: removed {s0 - s1} of {s0} session(s) and {p0 - p1} of {p0} "
        f"play(s); {s1} session(s) and {p1} play(s) left",
        stacklevel=4,
    )


def _per_session(sessions: Sessions, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` per session code (length = session vocabulary)."""
    return np.bincount(sessions.session, weights=values, minlength=len(sessions.session_ids))


def _keep_sessions(sessions: Sessions, keep_session: np.ndarray, step: str) -> Sessions:
    """Keep the plays of sessions where ``keep_session[code]``; report what goes."""
    rows = keep_session[sessions.session]
    present = np.unique(sessions.session)
    n_gone = int((~keep_session[present]).sum())
    out = sessions.take(rows)
    _report_step(step, (len(present), len(rows)), (len(present) - n_gone, int(rows.sum())))
    return out


def paper_filter(
    sessions: Sessions,
    *,
    session_length: int = 20,
    min_listened: int = 16,
    contexts: Sequence[str] | None = None,
    n_items: int = 229,
    context_vocabulary: Sequence[str] | None = None,
    split_sessions: bool = True,
) -> Sessions:
    """Apply the paper's preprocessing to MSSD-style sessions.

    Steps, in order, each reporting the sessions and plays it removes:

    1. keep sessions of exactly ``session_length`` plays;
    2. keep sessions with at least ``min_listened`` plays listened entirely
       (timing column ``not_skipped == 1``);
    3. when ``contexts`` is given, keep sessions all of whose plays have a ``context_type``
       (decoded through ``context_vocabulary``) in ``contexts``;
    4. :func:`keep_top_items` with ``n_items`` (and ``split_sessions``).

    Parameters
    ----------
    sessions : Sessions
        Plays with a ``not_skipped`` timing column (and ``context_type`` when ``contexts``
        is given), e.g. from :func:`~fidelity.data.loaders.load_mssd`.
    session_length : int, default 20
        Number of plays of a full session.
    min_listened : int, default 16
        Minimum number of fully listened plays, in ``[0, session_length]``.
    contexts : sequence of str, optional
        Context types to keep, e.g. ``("user_collection",)``.
    n_items : int, default 229
        Number of most played songs kept.
    context_vocabulary : sequence of str, optional
        Vocabulary of the ``context_type`` codes; defaults to
        ``MSSD_CATEGORIES["context_type"]`` (that of :func:`load_mssd`).
    split_sessions : bool, default True
        See :func:`keep_top_items`.

    Returns
    -------
    Sessions

    Raises
    ------
    ValueError
        When a needed timing column is missing (named, with the columns present), a
        parameter is out of range, or a context is not in the vocabulary.
    """
    session_length, min_listened, n_items = _check_session_steps(
        session_length, min_listened, n_items
    )
    _timing_column(sessions, "not_skipped", "paper_filter(min_listened=...)")
    if contexts is not None:
        contexts, allowed = _context_codes(contexts, context_vocabulary)
        _timing_column(sessions, "context_type", "paper_filter(contexts=...)")
    names = _step_names(session_length, min_listened, contexts)

    lengths = np.bincount(sessions.session, minlength=len(sessions.session_ids))
    out = _keep_sessions(sessions, lengths == session_length, names[0])

    listened = _timing_column(out, "not_skipped", "paper_filter")
    n_listened = _per_session(out, (listened == 1).astype(np.float64))
    out = _keep_sessions(out, n_listened >= min_listened, names[1])

    if contexts is not None:
        ctx = _timing_column(out, "context_type", "paper_filter")
        n_bad = _per_session(out, (~np.isin(ctx, allowed)).astype(np.float64))
        out = _keep_sessions(out, n_bad == 0, names[2])

    return keep_top_items(out, n_items, split_sessions=split_sessions)


def keep_top_items(sessions: Sessions, n_items: int, *, split_sessions: bool = True) -> Sessions:
    """Keep the ``n_items`` most played songs and the transitions among them.

    Songs are ranked by number of plays in ``sessions``, ties broken by the smaller item
    code; songs never played are not kept. ``n_items`` larger than the number of songs
    played keeps them all. Plays of the other songs are removed.

    Parameters
    ----------
    sessions : Sessions
        Any plays (timing columns are not needed).
    n_items : int
        Number of songs to keep (>= 1).
    split_sessions : bool, default True
        When True, a session is cut where a play was removed, so that no transition
        s -> s' is created between two kept songs that were not consecutive: the
        observations of the result are exactly the original transitions whose two songs
        are both kept. The first run of a session keeps its session code; each further run
        gets a new code appended to the session vocabulary, with id ``"<session id>#<k>"``
        (k = 1, 2, ...), and belongs to the same user as the original session.
        When False, the remaining plays of a session are simply chained (session codes
        unchanged), which adds transitions between songs that were separated by removed
        plays (reported as "bridged").

    Returns
    -------
    Sessions
        Items re-coded to ``0..k-1`` in popularity order (code 0 is the most played song);
        ``item_ids`` holds the original ids of the kept songs in that order. Users,
        timing columns and the remaining session codes are unchanged.

    Notes
    -----
    On the MSSD aidl sample (193,693 plays, 10,000 sessions) with ``n_items=229``, the
    kept songs carry 151,534 plays. ``split_sessions=True`` gives 129,116 observations
    (original transitions between two kept songs); ``split_sessions=False`` gives the
    141,644 transitions over 9,812 sessions of the plain-pandas calibration count, 12,528
    of which bridge removed plays.
    """
    n_items = check_positive_int("n_items", n_items)
    counts = np.bincount(sessions.item, minlength=sessions.n_items)
    ranked = np.lexsort((np.arange(len(counts)), -counts))
    top = ranked[: min(n_items, int((counts > 0).sum()))]
    new_code = np.full(len(counts), -1, dtype=np.int64)
    new_code[top] = np.arange(len(top))
    code = new_code[sessions.item]
    keep = code >= 0
    n = len(keep)

    same = np.zeros(n, dtype=bool)  # row i continues the session of row i-1
    if n:
        same[1:] = sessions.session[1:] == sessions.session[:-1]
    n_before = int(same.sum())
    n_pairs_kept = int((same[1:] & keep[1:] & keep[:-1]).sum()) if n else 0

    session = sessions.session.copy()
    session_ids, session_user = sessions.session_ids, sessions.session_user
    n_new_runs = 0
    if split_sessions and n:
        # a kept row starts a new run if the previous row is another session or was removed
        starts = keep & ~(same & np.r_[False, keep[:-1]])
        run_in_session = np.cumsum(starts) - np.maximum.accumulate(
            np.where(~same, np.cumsum(starts) - starts, 0)
        )
        later = starts & (run_in_session > 1)  # runs after the first of their session
        n_new_runs = int(later.sum())
        if n_new_runs:
            run_code = np.full(n, -1, dtype=np.int64)
            run_code[later] = len(session_ids) + np.arange(n_new_runs)
            # forward-fill the code of the latest run start (or session start: -1)
            marker = later | ~same
            last = np.maximum.accumulate(np.where(marker, np.arange(n), 0))
            session = np.where(run_code[last] >= 0, run_code[last], session)
            parent = sessions.session[later]
            new_ids = (
                pd.Series(sessions.session_ids[parent]).astype(str)
                + "#"
                + pd.Series(run_in_session[later] - 1).astype(str)
            ).to_numpy(dtype=object)
            session_ids = np.concatenate([np.asarray(session_ids, dtype=object), new_ids])
            session_user = np.concatenate([session_user, session_user[parent]])

    kept_session = session[keep]
    out = Sessions.from_codes(
        kept_session,
        code[keep],
        sessions.timing[keep],
        sessions.timing_names,
        session_user=session_user,
        item_ids=sessions.item_ids[top],
        session_ids=session_ids,
        user_ids=sessions.user_ids,
    )
    present_before = np.unique(sessions.session)
    n_sessions_gone = len(present_before) - len(np.unique(sessions.session[keep]))
    n_after = len(out.item) - len(np.unique(kept_session)) if len(kept_session) else 0
    msg = (
        f"keep_top_items: kept {len(top)} of {int((counts > 0).sum())} songs played; removed "
        f"{int((~keep).sum())} of {n} play(s), {n_sessions_gone} of {len(present_before)} "
        f"session(s) left without any play; transitions {n_before} -> {n_after}"
    )
    if split_sessions:
        msg += f" ({n_new_runs} extra session run(s) from splitting at removed plays)"
    else:
        msg += f" ({n_after - n_pairs_kept} bridged over removed plays)"
    warn(msg)
    logger.info("keep_top_items: %r", out)
    return out
