"""The ``fidelity`` command: a thin layer over the public API.

Every command shares the data options (``--data`` ... ``--n-items``); without
``--data`` the built-in synthetic data are used. Bad input exits with code 2 and a
one-line message (the traceback only with ``--verbose``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from fidelity import __version__

logger = logging.getLogger("fidelity")

FORMATS = ("mssd", "sessions", "interactions")


class UsageError(ValueError):
    """Bad command-line input (reported in one line, exit code 2)."""


# ----------------------------------------------------------------------------- data options
def _add_data_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("data options (default: the built-in synthetic data)")
    g.add_argument("--data", metavar="PATH", help="file, directory or glob of the data")
    g.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="mssd: Spotify MSSD log; sessions: plays in session order; "
        "interactions: timestamped user-item events (default: mssd)",
    )
    g.add_argument("--session-col", metavar="C", help="session column (--format sessions)")
    g.add_argument("--item-col", metavar="C", help="item/song column (sessions, interactions)")
    g.add_argument(
        "--user-col", metavar="C", help="user column (interactions; optional for sessions)"
    )
    g.add_argument("--time-col", metavar="C", help="timestamp column (interactions)")
    g.add_argument("--order-col", metavar="C", help="play order column (sessions, optional)")
    g.add_argument(
        "--timing-cols", metavar="C[,C...]", default="", help="timing feature columns (sessions)"
    )
    g.add_argument(
        "--session-gap",
        metavar="SECONDS",
        type=float,
        default=None,
        help="cut a user's events into sessions at gaps longer than this (interactions)",
    )
    g.add_argument(
        "--time-since-previous",
        action="store_true",
        help="derive the timing feature time_since_previous (interactions; off by default: "
        "a continuous time lets a model recognise its training rows)",
    )
    g.add_argument(
        "--hour-of-day",
        action="store_true",
        help="derive the timing feature hour_of_day from a calendar time (interactions)",
    )
    g.add_argument("--sep", metavar="SEP", default=None, help="field separator of text files")
    g.add_argument(
        "--no-header",
        action="store_true",
        help="the text file has no header row: name the columns in the order "
        "given by --user-col/--session-col, --item-col, --time-col/--order-col "
        "and --timing-cols (e.g. MovieLens u.data)",
    )
    g.add_argument(
        "--paper-filter",
        action="store_true",
        help="apply the paper's filter (full sessions of 20 plays, >= 16 listened "
        "entirely) before --n-items (mssd)",
    )
    g.add_argument(
        "--n-items",
        metavar="N",
        type=int,
        default=None,
        help="keep the N most played songs and the transitions among them",
    )
    g.add_argument(
        "--sessions",
        metavar="N",
        type=int,
        default=None,
        help="number of synthetic sessions when --data is not given",
    )
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def _columns(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _require(args: argparse.Namespace, *names: str) -> None:
    missing = [n for n in names if getattr(args, n.replace("-", "_")) is None]
    if missing:
        flags = ", ".join(f"--{n}" for n in missing)
        raise UsageError(f"--format {args.format} needs {flags}")


def load_data(args: argparse.Namespace):
    """Load (and filter) the data the options describe; returns ``Sessions``."""
    from fidelity.data import (
        keep_top_items,
        load_interactions,
        load_mssd,
        load_sessions,
        make_sessions,
        paper_filter,
    )

    if args.data is None:
        if args.format is not None:
            raise UsageError("--format needs --data")
        kwargs = {} if args.sessions is None else {"n_sessions": args.sessions}
        sessions = make_sessions(random_state=args.seed, **kwargs)
    else:
        fmt = args.format or "mssd"
        timing = _columns(args.timing_cols)
        if fmt == "mssd":
            sessions = load_mssd(args.data)
        elif fmt == "sessions":
            _require(args, "session-col", "item-col")
            names = None
            if args.no_header:
                names = [
                    args.session_col,
                    args.item_col,
                    *([args.order_col] if args.order_col else []),
                    *timing,
                ]
            sessions = load_sessions(
                args.data,
                session_col=args.session_col,
                item_col=args.item_col,
                order_col=args.order_col,
                timing_cols=timing,
                user_col=args.user_col,
                sep=args.sep,
                names=names,
            )
        else:
            _require(args, "user-col", "item-col", "time-col")
            names = [args.user_col, args.item_col, args.time_col] if args.no_header else None
            sessions = load_interactions(
                args.data,
                user_col=args.user_col,
                item_col=args.item_col,
                time_col=args.time_col,
                session_gap=args.session_gap,
                sep=args.sep,
                names=names,
                time_since_previous=args.time_since_previous,
                hour_of_day=args.hour_of_day,
            )
    if args.paper_filter:
        sessions = paper_filter(sessions, n_items=args.n_items or 229)
    elif args.n_items is not None:
        sessions = keep_top_items(sessions, args.n_items)
    return sessions


def _data_label(args: argparse.Namespace) -> str:
    return "synthetic default (make_sessions)" if args.data is None else str(args.data)


# ----------------------------------------------------------------------------- commands
def _cmd_info(args: argparse.Namespace) -> int:
    from fidelity.data import calibration_stats

    sessions = load_data(args)
    obs = sessions.observations()
    summary = {
        "data": _data_label(args),
        "sessions": sessions.summary(),
        "observations": obs.summary(),
        "statistics": _plain(calibration_stats(sessions)),
    }
    if args.json:
        print(json.dumps(summary, indent=2, default=float))
    else:
        print(f"data: {summary['data']}")
        for section in ("sessions", "observations", "statistics"):
            print(f"{section}:")
            for key, value in summary[section].items():
                print(
                    f"  {key:<28} {value:.4g}"
                    if isinstance(value, float)
                    else f"  {key:<28} {value}"
                )
    return 0


def _plain(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _cmd_safe_session(args: argparse.Namespace) -> int:
    from fidelity.safe_session import estimate_safe_session_size

    obs = load_data(args).observations()
    est = estimate_safe_session_size(
        obs,
        n_repeats=args.repeats,
        n_permutations=args.permutations,
        success=args.success,
        random_state=args.seed,
        show_progress=not args.quiet,
    )
    if args.json:
        print(json.dumps(_plain(est.to_dict()), indent=2))
    else:
        print(
            f"safe session size: {est.safe_session_size} observations "
            f"({int(est.confidence * 100)}% CI {est.safe_session_size_low}"
            f"-{est.safe_session_size_high})"
        )
        print(
            f"from MI(H;O) = {est.mi_full:.4g} bits extrapolated to {est.full_size} users "
            f"(CI {est.mi_full_low:.4g}-{est.mi_full_high:.4g}); fit MI ~ n^{est.slope:.3f}"
        )
    return 0


#: Attack-specific options of ``fidelity attack``: (argparse dest, attack option, attacks).
_ATTACK_OPTIONS = (
    ("user_score", "user_score", ("match",)),
    ("references", "n_references", ("reference",)),
    ("shadows", "n_shadows", ("shadow", "mimic")),
    ("mimic", "mimic", ("mimic",)),
)


def _cmd_attack(args: argparse.Namespace) -> int:
    from fidelity.attacks import run_attack
    from fidelity.experiment import SweepConfig
    from fidelity.target import fit_target

    obs = load_data(args).observations()
    # the split and model of the sweep row with this overlap, target size and seed
    config = SweepConfig(
        overlap=args.overlap,
        target_size=args.target_size,
        recommender=args.recommender,
        seed=args.seed,
    )
    fitted = fit_target(obs, config)
    split, model = fitted.split, fitted.model
    options: dict[str, Any] = {}
    for dest, option, applies in _ATTACK_OPTIONS:
        value = getattr(args, dest)
        if value is None:
            continue
        if args.attack not in applies:
            flag = "--" + dest.replace("_", "-")
            raise UsageError(f"{flag} applies to --attack {' or '.join(applies)} only")
        options[option] = value
    result = run_attack(
        args.attack,
        split,
        model,
        threat=args.threat,
        k=args.k,
        recommender=args.recommender,
        n_bootstrap=args.bootstrap,
        random_state=fitted.attack_seed,
        **options,
    )
    out = {
        "attack": args.attack,
        "threat": args.threat,
        "recommender": args.recommender,
        "overlap": args.overlap,
        "target_size": args.target_size,
        "seed": args.seed,
    }
    out.update(_plain(result.to_dict()))
    if result.roc is not None:
        out.update(_plain(result.roc.to_dict()))
    if args.json:
        print(json.dumps(out, indent=2, default=float))
    else:
        for key, value in out.items():
            print(f"{key:<24} {value:.4g}" if isinstance(value, float) else f"{key:<24} {value}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from fidelity.experiment import SweepGrid
    from fidelity.pipeline import grid_for, reproduce

    sessions = load_data(args)
    observations = sessions.observations()
    grid = grid_for(observations, SweepGrid.from_toml(args.grid) if args.grid else None)
    if args.quick:
        grid = replace(
            grid,
            overlaps=(0.0, 0.5, 1.0),
            target_sizes=grid.target_sizes[:2],
            n_permutations=min(grid.n_permutations, 5),
            n_bootstrap=min(grid.n_bootstrap, 5),
        )
    outcome = reproduce(
        observations,
        grid,
        out=args.out,
        n_jobs=args.n_jobs,
        scheduler=args.scheduler,
        data_label=_data_label(args),
        success=args.success,
        random_state=args.seed,
        show_progress=not args.quiet,
    )
    if args.json:
        print(json.dumps(_plain(outcome.to_dict()), indent=2, default=float))
    else:
        print(f"safe session size: {outcome.safe_session.safe_session_size} observations")
        print(f"report: {outcome.report_path}")
    return 0


def _cmd_synth(args: argparse.Namespace) -> int:
    from fidelity.data import write_mssd_parquet

    paths = write_mssd_parquet(
        args.out,
        n_sessions=args.sessions_total,
        partition_size=args.partition_size,
        random_state=args.seed,
        show_progress=not args.quiet,
        n_items=args.n_items,
        overwrite=args.overwrite,
    )
    print(f"wrote {len(paths)} partition(s) to {args.out}")
    return 0


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fidelity`` command."""
    from fidelity.attacks import ATTACKS, THREATS
    from fidelity.recommenders import RECOMMENDERS

    parser = argparse.ArgumentParser(
        prog="fidelity",
        description="Measure fidelity leakage of recommender systems: membership inference, "
        "MI(H;O) and the safe session size.",
    )
    parser.add_argument("--version", action="version", version=f"fidelity {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser, *, data: bool = True) -> None:
        if data:
            _add_data_options(p)
        p.add_argument("--json", action="store_true", help="print a machine-readable result")
        p.add_argument("--quiet", action="store_true", help="no progress bars or log messages")
        p.add_argument("--verbose", action="store_true", help="debug logging, full tracebacks")

    p = sub.add_parser(
        "reproduce",
        help="the paper's experiment, figures and HTML report",
        description="Sweep overlap x target size (x recommender x seed), write "
        "results, figures (PNG, SVG), report.html and results.json.",
    )
    common(p)
    p.add_argument("--grid", metavar="FILE", help="TOML file with the sweep grid")
    p.add_argument(
        "--quick",
        action="store_true",
        help="a small grid: overlaps 0, 0.5, 1 and the two smallest target sizes",
    )
    p.add_argument("--n-jobs", type=int, default=2, help="local worker processes (default 2)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address")
    p.add_argument("--out", default="fidelity-output", help="output folder")
    p.add_argument(
        "--success",
        type=float,
        default=None,
        help="adversary success probability for the safe session size",
    )
    p.set_defaults(func=_cmd_reproduce)

    p = sub.add_parser(
        "safe-session",
        help="estimate the largest safe session size",
        description="Emulate A and T from the data at increasing sizes, fit how "
        "MI(H;O) falls, extrapolate, apply the Fano bound.",
    )
    common(p)
    p.add_argument(
        "--success",
        type=float,
        default=None,
        help="adversary success probability (default: the 1/MI bound)",
    )
    p.add_argument("--repeats", type=int, default=5, help="random splits per size")
    p.add_argument("--permutations", type=int, default=10, help="permutation-null size")
    p.set_defaults(func=_cmd_safe_session)

    p = sub.add_parser(
        "info",
        help="summary of the data after loading and filtering",
        description="Counts and listening statistics of the data.",
    )
    common(p)
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser(
        "attack",
        help="run one membership-inference attack",
        description="Split providers, fit the target, attack; user-level AUC, "
        "TPR at low FPR and attacker advantage with bootstrap CIs.",
    )
    common(p)
    p.add_argument("--attack", choices=ATTACKS, default="match")
    p.add_argument("--threat", choices=THREATS, default="label")
    p.add_argument("--k", type=int, default=10, help="list length for --threat topk")
    p.add_argument("--recommender", choices=RECOMMENDERS, default="random_forest")
    p.add_argument("--overlap", type=float, default=0.5)
    p.add_argument("--target-size", type=int, default=None)
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples for CIs")
    p.add_argument(
        "--user-score", default=None, help="match attack: user aggregation (e.g. hit_count)"
    )
    p.add_argument("--references", type=int, default=None, help="reference attack: models R")
    p.add_argument("--shadows", type=int, default=None, help="shadow/mimic attack: models S")
    p.add_argument(
        "--mimic", choices=RECOMMENDERS, default=None, help="mimic attack: the mimic's algorithm"
    )
    p.set_defaults(func=_cmd_attack)

    p = sub.add_parser(
        "synth",
        help="write synthetic MSSD-format Parquet partitions",
        description="Write a synthetic data set of any size in the MSSD log "
        "format, as Parquet partitions (for tests and benchmarks).",
    )
    common(p, data=False)
    p.add_argument(
        "--sessions", dest="sessions_total", type=int, required=True, help="sessions in all"
    )
    p.add_argument("--partition-size", type=int, default=100_000, help="sessions per partition")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-items", type=int, default=229, help="songs in the catalogue")
    p.add_argument("--overwrite", action="store_true", help="replace existing partitions")
    p.set_defaults(func=_cmd_synth)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fidelity`` console script.

    Run as the script (``argv`` None), the process is fidelity's own, so freed memory
    is kept for reuse (:func:`fidelity._memory.keep_freed_memory`); called from Python
    with an ``argv`` list, the caller's process is left as it is.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if argv is None:
        from fidelity._memory import keep_freed_memory

        keep_freed_memory()
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="fidelity: %(message)s")
    if not args.verbose:
        warnings.simplefilter("ignore")  # warnings are logged by the fidelity logger
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, TypeError, KeyError) as err:
        if args.verbose:
            raise
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"fidelity {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["build_parser", "main"]
