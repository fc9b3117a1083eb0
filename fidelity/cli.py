"""The ``fidelity`` command: a thin layer over the public API.

Every command shares the data options (``--data`` ... ``--n-items``); without
``--data`` the built-in synthetic data are used. Bad input exits with code 2 and a
one-line message (the traceback only with ``--verbose``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from fidelity import __version__
from fidelity._memory import keep_freed_memory
from fidelity.attacks import ATTACKS, THREATS
from fidelity.data import (
    calibration_stats,
    keep_top_items,
    load_interactions,
    load_mssd,
    load_sessions,
    make_sessions,
    paper_filter,
    write_mssd_parquet,
)
from fidelity.evaluation import DEFAULT_TOLERANCE, AttackRequest, evaluate, session_curve
from fidelity.evaluation.session_curve import check_session_grid, check_tolerance
from fidelity.experiment import SweepGrid
from fidelity.pipeline import grid_for, reproduce
from fidelity.recommenders import RECOMMENDERS
from fidelity.safe_session import estimate_safe_session_size
from fidelity.scenario import Scenario
from fidelity.split import MODES

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


def _parse_grid(text: str | None) -> tuple[int, ...] | None:
    """``--grid 1,2,5,10`` as session sizes (validated by the curve's own check)."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    sizes = []
    for part in parts:
        try:
            sizes.append(int(part))
        except ValueError:
            raise UsageError(
                f"--grid must list integers >= 1 separated by commas (e.g. 1,2,5,10); got {text!r}"
            ) from None
    return check_session_grid(sizes)


def _scenario(args: argparse.Namespace) -> Scenario:
    return Scenario(
        overlap=args.overlap,
        target_size=args.target_size,
        recommender=args.recommender,
        seed=args.seed,
        mode=args.mode,
        mitigation=args.mitigation,
    )


def _cmd_safe_session(args: argparse.Namespace) -> int:
    tolerance = check_tolerance(args.tolerance)
    grid = _parse_grid(args.grid)
    requests = None
    if args.attacks:
        requests = [AttackRequest(name, args.threat, args.k) for name in _columns(args.attacks)]
    scenario = _scenario(args)
    obs = load_data(args).observations()
    curve = session_curve(
        obs,
        scenario,
        requests,
        threat=args.threat,
        k=args.k,
        grid=grid,
        tolerance=tolerance,
        n_bootstrap=args.bootstrap,
        n_permutations=args.permutations,
        show_progress=not args.quiet,
    )
    paper = None
    if not args.no_extrapolation:
        paper = estimate_safe_session_size(
            obs,
            n_repeats=args.repeats,
            n_permutations=args.permutations,
            success=args.success,
            random_state=args.seed,
            show_progress=not args.quiet,
        )
    if args.json:
        out = {
            "validated": curve.validated.to_dict(),
            "verdict": curve.summary(),
            "scenario": scenario.to_dict(),
            "data_only": None if curve.information is None else curve.information.to_dict(),
            "timing_attribution": None
            if curve.information is None or curve.information.attribution is None
            else curve.information.attribution.to_dict(),
            "model_aware": [info.to_dict() for info in curve.signal_information],
            "paper_extrapolation": None if paper is None else paper.to_dict(),
            "curve": curve.curve.to_dict(orient="records"),
        }
        print(json.dumps(_plain(out), indent=2, default=_json_value))
        return 0
    v = curve.validated
    print(f"attack-validated safe session size: {v.label} observations per user")
    print(f"  {curve.summary()}")
    info = curve.information
    if info is not None:
        est = info.estimate
        null = (
            f"null mean {est.null_mean:.4g}, p = {est.p_value:.3g}, above null: {est.above_null}"
            if est.null_mean is not None
            else "no permutation null"
        )
        print(
            "paper's data-only reading (Fano bound of MI(H;O) between the two providers): "
            + (f"{info.fano.size} observations" if info.fano.size is not None else "no bound")
        )
        print(
            f"  MI(H;O) = {est.mi:.4g} bits ({est.estimator}; plug-in {est.plugin:.4g}; {null};"
            f" over {'+'.join(est.features)})"
        )
        if info.attribution is not None:
            att = info.attribution
            print(
                f"  timing channel: MI(s, s') = {att.items.mi:.4g}, MI(s, s', t) = "
                f"{att.with_timing.mi:.4g}, difference {att.difference:.4g} bits "
                f"(p = {_num(att.difference_p_value)})"
            )
        if info.fano.no_bound:
            print(f"  {info.fano.no_bound}")
    if paper is not None:
        size = "no bound" if paper.safe_session_size is None else paper.safe_session_size
        print(
            f"paper's self-evaluation (MI extrapolated to {paper.full_size} users): {size}"
            f" (fit MI ~ n^{paper.slope:.3f})"
        )
    for sig in curve.signal_information:
        print(f"model-aware reading: {sig.summary()}")
    return 0


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def _json_value(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return float(obj) if isinstance(obj, (int, float)) else str(obj)


def _attack_flags() -> dict[str, tuple[Any, list[str]]]:
    """Command-line flags of the registered attacks' options: flag -> (option, attacks)."""
    flags: dict[str, tuple[Any, list[str]]] = {}
    for name, spec in ATTACKS.items():
        for option in spec.options:
            if option.cli:
                flags.setdefault(option.cli_flag, (option, []))[1].append(name)
    return flags


def _cmd_attack(args: argparse.Namespace) -> int:
    obs = load_data(args).observations()
    options: dict[str, Any] = {}
    for flag, (option, applies) in _attack_flags().items():
        value = getattr(args, _dest(flag))
        if value is None:
            continue
        if args.attack not in applies:
            raise UsageError(f"{flag} applies to --attack {' or '.join(applies)} only")
        options[option.name] = value
    # the split and model of the sweep row with this overlap, target size and seed
    scenario = _scenario(args)
    evaluation = evaluate(
        obs,
        scenario,
        [AttackRequest(args.attack, args.threat, args.k, options)],
        attack_bootstrap=args.bootstrap,
        measure_mi=False,
        show_progress=not args.quiet,
    )
    result = evaluation.results[0]
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


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _cmd_reproduce(args: argparse.Namespace) -> int:
    sessions = load_data(args)
    observations = sessions.observations()
    grid = grid_for(observations, SweepGrid.from_toml(args.grid) if args.grid else None)
    if args.quick:
        grid = dataclasses.replace(
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
def _add_scenario_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("scenario (how the providers and the target are emulated)")
    g.add_argument("--recommender", choices=RECOMMENDERS, default="random_forest")
    g.add_argument("--overlap", type=float, default=0.5, help="fraction of A's users at T")
    g.add_argument("--target-size", type=int, default=None, help="users training the target")
    g.add_argument("--mode", choices=MODES, default="shared", help="provider split mode")
    g.add_argument("--mitigation", default="none", help="e.g. none, chunk:5, noise:0.5")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fidelity`` command."""
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
        help="the attack-validated safe session size (and the paper's Fano reading)",
        description="Fit the scenario's target, run every attack of the threat model on "
        "the adversary's view cut into pseudo-users of at most N observations for a grid of "
        "N, and report the largest N whose advantage (upper confidence bound) stays at or "
        "below the tolerance for every attack; then the paper's data-only Fano bound of "
        "MI(H;O).",
    )
    common(p)
    _add_scenario_options(p)
    p.add_argument(
        "--attacks",
        metavar="A[,A...]",
        default="",
        help="attacks of the curve (default: every registered attack of the threat model)",
    )
    p.add_argument("--threat", choices=THREATS, default="scores", help="threat model")
    p.add_argument("--k", type=int, default=10, help="list length (topk and scores hits)")
    p.add_argument("--grid", metavar="N[,N...]", default=None, help="session sizes N")
    p.add_argument(
        "--tolerance", type=float, default=DEFAULT_TOLERANCE, help="tolerance on the advantage"
    )
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples per N")
    p.add_argument(
        "--success",
        type=float,
        default=None,
        help="adversary success probability of the paper's Fano bound (default: 1/MI)",
    )
    p.add_argument(
        "--repeats", type=int, default=5, help="paper's self-evaluation: splits per size"
    )
    p.add_argument("--permutations", type=int, default=20, help="permutation-null size of MI")
    p.add_argument(
        "--no-extrapolation",
        action="store_true",
        help="skip the paper's self-evaluation (MI extrapolated to the full size)",
    )
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
    p.add_argument("--attack", choices=tuple(ATTACKS), default="match")
    p.add_argument("--threat", choices=THREATS, default="label")
    p.add_argument("--k", type=int, default=10, help="list length for --threat topk")
    _add_scenario_options(p)
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples for CIs")
    for flag, (option, applies) in _attack_flags().items():
        p.add_argument(
            flag,
            dest=_dest(flag),
            type=option.type,
            choices=option.choices,
            default=None,
            help=f"{' / '.join(applies)} attack: {option.help}",
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
