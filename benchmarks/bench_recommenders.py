"""Fit and query time of every recommender, deduplicated query path vs the naive per-row path.

Usage: .venv/bin/python benchmarks/bench_recommenders.py [--scales 1 10] [--naive-cap 250000]

For each scale (1 = the synthetic default, 11,156 sessions x 20 plays over 229 songs; 10 = ten
times the sessions) and each model of the registry: the time of ``fit`` on all observations,
then of ``recommend(k=1)`` and ``score_next`` for every observation (the match attack's and
the likelihood attacks' query loads), once with ``dedup=True`` (each distinct (song, timing)
query evaluated once) and once with ``dedup=False`` (every row evaluated, in blocks). The
ratio naive / dedup is measured in the same run. When a scale has more observations than
``--naive-cap``, the naive path runs on the first ``--naive-cap`` rows and its time is
extrapolated linearly to all rows (marked "extrapolated"; both paths are linear in rows).
Results of the two paths are checked to be equal on the rows both computed.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from functools import partial

import numpy as np

from fidelity.data.synthetic import make_sessions
from fidelity.recommenders import make_recommender

MODELS = {
    "popularity": {},
    "markov": {},
    "random_forest": {"random_state": 0},
    "als": {"random_state": 0},
    "bpr": {"random_state": 0},
}


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def query(model, method: str, obs, stop: int, dedup: bool) -> np.ndarray:
    """Run ``method`` on the first ``stop`` observations."""
    items, timing = obs.item[:stop], obs.timing[:stop]
    if method == "recommend":
        return model.recommend(items, timing, k=1, dedup=dedup)
    return model.score_next(items, timing, obs.next_item[:stop], dedup=dedup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--naive-cap", type=int, default=250_000)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    print(
        f"{'scale':>5} {'model':>13} {'n_obs':>9} {'fit_s':>7} | {'method':>10} "
        f"{'dedup_s':>8} {'naive_s':>8} {'naive/dedup':>11}  note"
    )
    for scale in args.scales:
        obs = make_sessions(n_sessions=11_156 * scale, random_state=0).observations()
        n = len(obs)
        distinct = len(np.unique(np.column_stack([obs.item, obs.timing]), axis=0))
        print(f"# scale {scale}: {n} observations, {distinct} distinct (song, timing) queries")
        cap = min(n, args.naive_cap)
        note = "" if cap == n else f"naive on {cap} rows, extrapolated x{n / cap:.1f}"
        for name in args.models:
            t = time.perf_counter()
            model = make_recommender(name, **MODELS[name]).fit(obs)
            fit_s = time.perf_counter() - t
            for method in ("recommend", "score_next"):
                # warm-up on a few rows: both paths then time the work, not the one-off
                # loading of numba kernels from the on-disk cache
                query(model, method, obs, 64, True)
                query(model, method, obs, 64, False)
                fast, dedup_s = timed(partial(query, model, method, obs, n, True))
                naive, naive_s = timed(partial(query, model, method, obs, cap, False))
                assert np.array_equal(fast[:cap], naive), (name, method)
                naive_s *= n / cap
                print(
                    f"{scale:>5} {name:>13} {n:>9} {fit_s:>7.2f} | {method:>10} "
                    f"{dedup_s:>8.3f} {naive_s:>8.2f} {naive_s / dedup_s:>11.1f}  {note}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
