"""Loader and filter speed on the real samples, against plain pandas.read_csv in the same run.

Usage: .venv/bin/python benchmarks/bench_loaders.py [--repeat 5]

Needs ../shared/data (skipped otherwise). Prints the best-of-N time of each step and its ratio
to reading the same file with ``pandas.read_csv`` alone.
"""

from __future__ import annotations

import argparse
import logging
import warnings
from pathlib import Path

import pandas as pd
from _timing import best

from fidelity._validation import FidelityWarning
from fidelity.data.filters import keep_top_items
from fidelity.data.loaders import MOVIELENS_100K_NAMES, load_interactions, load_sessions

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent")
        return
    warnings.simplefilter("ignore", FidelityWarning)
    logging.getLogger("fidelity").setLevel(logging.ERROR)
    aidl = DATA / "mssd-aidl-sessions-sample" / "mini-spotify-data.csv"
    ml = DATA / "movielens-100k" / "u.data"
    kw = {"session_col": "user_id", "item_col": "song_id", "timing_cols": ("skipped",)}
    sessions = load_sessions(aidl, **kw)
    rows = [
        ("aidl: pandas.read_csv", best(lambda: pd.read_csv(aidl), args.repeat), "aidl"),
        ("aidl: load_sessions", best(lambda: load_sessions(aidl, **kw), args.repeat), "aidl"),
        (
            "aidl: keep_top_items(229)",
            best(lambda: keep_top_items(sessions, 229), args.repeat),
            "aidl",
        ),
        (
            "u.data: pandas.read_csv",
            best(lambda: pd.read_csv(ml, sep="\t", header=None), args.repeat),
            "ml",
        ),
        (
            "u.data: load_interactions(gap=1h)",
            best(
                lambda: load_interactions(
                    ml,
                    user_col="user_id",
                    item_col="item_id",
                    time_col="timestamp",
                    names=MOVIELENS_100K_NAMES,
                    session_gap="1h",
                ),
                args.repeat,
            ),
            "ml",
        ),
    ]
    base = {key: t for name, t, key in rows if "pandas" in name}
    print(f"{'step':40s} {'seconds':>8s} {'x read_csv':>10s}")
    for name, t, key in rows:
        print(f"{name:40s} {t:8.4f} {t / base[key]:10.2f}")


if __name__ == "__main__":
    main()
