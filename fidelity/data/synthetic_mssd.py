"""Synthetic data of any size in the MSSD log format, as Parquet partitions.

:func:`write_mssd_parquet` writes the 21 columns of the Spotify MSSD log
(:data:`~fidelity.data.loaders.MSSD_COLUMNS`), partition by partition, from the plays and
timing of :func:`~fidelity.data.synthetic.make_sessions`. It is meant for tests and scale
benchmarks of the partitioned path (:func:`~fidelity.data.lazy.scan_mssd`,
``fidelity synth --sessions N --out DIR``); the files are also readable by
:func:`~fidelity.data.load_mssd`.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from fidelity._validation import RandomStateLike, check_positive_int, logger, seed_sequence
from fidelity.data.io import PathLike
from fidelity.data.loaders import MSSD_CATEGORIES, MSSD_COLUMNS
from fidelity.data.synthetic import make_sessions

__all__ = ["write_mssd_parquet"]

_MAX_LENGTH = 20  # MSSD sessions have 10 to 20 plays
_MIN_LENGTH = 10
_FULL_LENGTH_SHARE = 0.5  # share of sessions of the full 20 plays; the rest uniform 10..19
_CONTEXT_P = (0.15, 0.05, 0.3, 0.15, 0.05, 0.3)  # over MSSD_CATEGORIES["context_type"]
_START_FIRST = ("clickrow", "playbtn", "appload", "trackdone", "remote")
_START_FIRST_P = (0.35, 0.25, 0.15, 0.15, 0.1)
_DAYS = np.datetime64("2018-07-15") + np.arange(66)  # the MSSD log's dates


def _track_ids(n_items: int) -> np.ndarray:
    return np.array(
        [f"t_{uuid.uuid5(uuid.NAMESPACE_URL, f'fidelity-song-{i}')}" for i in range(n_items)],
        dtype=object,
    )


def _session_ids(rng: np.random.Generator, index: int, n: int) -> list[str]:
    words = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64)
    out = []
    for a, b in words:
        h = f"{int(a):016x}{int(b):016x}"
        out.append(f"{index}_{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def _partition_table(index: int, n: int, seed: np.random.SeedSequence, tracks, n_items: int):
    """The MSSD table of one partition (a pyarrow.Table)."""
    import pyarrow as pa

    play_seed, column_seed = seed.spawn(2)
    # whole sessions of 20 plays (cut below to MSSD lengths) with an hour of day per session
    s = make_sessions(
        n,
        _MAX_LENGTH,
        n_items,
        outside_share=0.0,
        full_session_share=1.0,
        hour_of_day="session",
        random_state=play_seed,
    )
    rng = np.random.default_rng(column_seed)
    length = np.where(
        rng.random(n) < _FULL_LENGTH_SHARE,
        _MAX_LENGTH,
        rng.integers(_MIN_LENGTH, _MAX_LENGTH, n),
    )
    pos = s.position.astype(np.int64)
    keep = pos < length[s.session]
    sess, pos, item = s.session[keep], pos[keep], s.item[keep]
    skip, pause, hour = (s.timing[keep, j] for j in range(3))
    skip, pause = skip == 1, pause == 1
    m = len(sess)
    last = pos == length[sess] - 1
    stage = rng.choice(3, m, p=(0.4, 0.3, 0.3)) + 1  # how early a skipped play was skipped
    long_pause = rng.random(m) < 0.3
    prev_skip = np.r_[False, skip[:-1]] & (pos > 0)
    first_reason = rng.choice(np.array(_START_FIRST, dtype=object), m, p=_START_FIRST_P)
    start = np.where(pos == 0, first_reason, np.where(prev_skip, "fwdbtn", "trackdone"))
    back = rng.random(m) < 0.1
    end = np.where(skip, np.where(back, "backbtn", "fwdbtn"), "trackdone")
    end = np.where(last & ~skip & (rng.random(m) < 0.3), "endplay", end)
    contexts = np.array(MSSD_CATEGORIES["context_type"], dtype=object)
    day = _DAYS[rng.integers(0, len(_DAYS), n)].astype(str)
    per_session = {
        "shuffle": rng.random(n) < 0.3,
        "premium": rng.random(n) < 0.8,
        "context": rng.choice(contexts, n, p=_CONTEXT_P),
    }
    ids = pa.array(_session_ids(rng, index, n), type=pa.string())
    columns = {
        "session_id": ids.take(pa.array(sess)),
        "session_position": pos + 1,
        "session_length": length[sess].astype(np.int64),
        "track_id_clean": pa.array(tracks, type=pa.string()).take(pa.array(item)),
        "skip_1": skip & (stage <= 1),
        "skip_2": skip & (stage <= 2),
        "skip_3": skip.copy(),
        "not_skipped": ~skip,
        "context_switch": ((pos > 0) & (rng.random(m) < 0.02)).astype(np.int64),
        "no_pause_before_play": (~pause).astype(np.int64),
        "short_pause_before_play": (pause & ~long_pause).astype(np.int64),
        "long_pause_before_play": (pause & long_pause).astype(np.int64),
        "hist_user_behavior_n_seekfwd": (rng.poisson(0.1, m) * skip).astype(np.int64),
        "hist_user_behavior_n_seekback": rng.poisson(0.05, m).astype(np.int64),
        "hist_user_behavior_is_shuffle": per_session["shuffle"][sess],
        "hour_of_day": hour.astype(np.int64),
        "date": pa.array(day, type=pa.string()).take(pa.array(sess)),
        "premium": per_session["premium"][sess],
        "context_type": pa.array(per_session["context"][sess], type=pa.string()),
        "hist_user_behavior_reason_start": pa.array(start, type=pa.string()),
        "hist_user_behavior_reason_end": pa.array(end, type=pa.string()),
    }
    return pa.table({name: columns[name] for name in MSSD_COLUMNS})


def write_mssd_parquet(
    out: PathLike,
    *,
    n_sessions: int,
    partition_size: int = 100_000,
    random_state: RandomStateLike = None,
    show_progress: bool = True,
    n_items: int = 229,
    overwrite: bool = False,
) -> list[Path]:
    """Write synthetic sessions in the MSSD log format as Parquet partitions.

    Partition ``i`` (``part-00000.parquet``, ...) holds ``partition_size`` sessions (the
    last one the rest) generated by :func:`~fidelity.data.synthetic.make_sessions` with
    its own seed, spawned from ``random_state``: the files depend only on the seed and the
    sizes, and the memory used is bounded by one partition. Each file is written to a
    hidden temporary name and renamed when complete, so no partial file is left behind.

    Columns (all 21 of :data:`~fidelity.data.loaders.MSSD_COLUMNS`): ``session_id``
    ``"<partition>_<uuid>"``; ``session_position`` 1-based; ``session_length`` 20 for half
    of the sessions, else uniform in 10..19 (the session is cut to it); ``track_id_clean``
    ``"t_<uuid>"`` of the song code; ``skip_1/2/3`` cumulative flags of a skipped play
    (the synthetic ``skip``), ``not_skipped`` its negation; the three pause flags from the
    synthetic ``pause`` (30 % of pauses long); seek counts (Poisson), ``context_switch``
    (2 % of later plays); per session ``hist_user_behavior_is_shuffle``, ``premium``,
    ``date`` (2018-07-15 to 2018-09-18) and ``context_type``; ``hour_of_day`` from
    ``make_sessions(hour_of_day="session")`` (a uniform start hour per session: as
    session-constant as in the real log, so a model can recognise sessions by it);
    reasons from :data:`~fidelity.data.loaders.MSSD_CATEGORIES` (``fwdbtn``/``backbtn``
    after a skip, ``trackdone`` otherwise).

    Parameters
    ----------
    out : str or path-like
        Folder to write (created).
    n_sessions : int
        Total number of sessions (about 15 plays each).
    partition_size : int, default 100,000
        Sessions per partition (file).
    random_state : int, SeedSequence, Generator or None
        Seed; the same seed and sizes give the same files.
    show_progress : bool, default True
        Progress bar over partitions.
    n_items : int, default 229
        Songs in the catalog.
    overwrite : bool, default False
        Replace the ``part-*.parquet`` files of an earlier run in ``out``; otherwise a
        folder that already holds table files is an error.

    Returns
    -------
    list of Path
        The partition files, in order.

    Notes
    -----
    Each partition is an independent draw of the generator: its own song graph and users
    over the same song names, so the data are a mixture of ``ceil(n_sessions /
    partition_size)`` populations. That is what scale tests need (sizes, formats,
    realistic value ranges), not a calibrated single population: use
    :func:`~fidelity.data.synthetic.make_sessions` for that.
    """
    n_sessions = check_positive_int("n_sessions", n_sessions)
    partition_size = check_positive_int("partition_size", partition_size)
    n_items = check_positive_int("n_items", n_items, minimum=2)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out must be a folder; {str(out)!r} is a file")
    out.mkdir(parents=True, exist_ok=True)
    existing = sorted(out.glob("part-*.parquet"))
    others = [p for p in out.iterdir() if p.suffix in (".parquet", ".csv") and p not in existing]
    if (existing and not overwrite) or others:
        raise ValueError(
            f"out={str(out)!r} already holds table files ({[p.name for p in existing + others][:5]}"
            f"...); pass overwrite=True to replace part-*.parquet, or use an "
            f"empty folder"
        )
    for p in existing:
        p.unlink()
    n_parts = -(-n_sessions // partition_size)
    seeds = seed_sequence(random_state).spawn(n_parts)
    tracks = _track_ids(n_items)
    import pyarrow.parquet as pq

    paths = []
    for i in tqdm(range(n_parts), desc="synth", unit="partition", disable=not show_progress):
        n = min(partition_size, n_sessions - i * partition_size)
        table = _partition_table(i, n, seeds[i], tracks, n_items)
        path = out / f"part-{i:05d}.parquet"
        tmp = out / f".part-{i:05d}.parquet.tmp"
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        paths.append(path)
        del table
    logger.info(
        "write_mssd_parquet: %d sessions in %d partition(s) at %s", n_sessions, n_parts, out
    )
    return paths
