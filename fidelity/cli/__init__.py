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
import lzma
import os
import sys
import warnings
import zlib
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor
from typing import Any

import numpy as np
import pyarrow as pa

from fidelity import __version__
from fidelity._memory import keep_freed_memory
from fidelity._validation import FidelityWarning, OnceFilter
from fidelity.attacks import ATTACKS, THREATS
from fidelity.cli import options as _cli_options
from fidelity.cli.options import (
    K_DEFAULT,
    N_JOBS_DEFAULT,
    UsageError,
    add_data_options,
    add_scenario_options,
    attack_flags,
    check_args,
    dest,
    jsonable,
    scenario_from,
)
from fidelity.cli.safe_session import run_safe_session
from fidelity.data import calibration_stats, calibration_table, write_mssd_parquet
from fidelity.evaluation import DEFAULT_TOLERANCE, AttackRequest, evaluate
from fidelity.experiment import SweepGrid, SweepInterrupted
from fidelity.pipeline import grid_for, reproduce

logger = logging.getLogger("fidelity")

#: Errors that are the input's fault: one line on stderr and exit code 2. OSError covers
#: unreadable or unwritable paths; EOFError, zlib.error and LZMAError truncated or corrupt
#: compressed files; ArrowException corrupt Parquet files.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    KeyError,
    OSError,
    EOFError,
    ImportError,
    zlib.error,
    lzma.LZMAError,
    pa.ArrowException,
)
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

# used by the commands below
load_data = _cli_options.load_data
_data_label = _cli_options.data_label
_attack_flags = attack_flags
_dest = dest


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
    # the split and model of the sweep row with this scenario and seed
    scenario = scenario_from(args)
    evaluation = evaluate(
        obs,
        scenario,
        [AttackRequest(args.attack, args.threat, args.k, options)],
        attack_bootstrap=args.bootstrap,
        n_permutations=args.permutations,
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
    # the data-only reading beside it: MI(H;O), estimator, null, p-value, timing attribution
    out.update({k: _plain(v) for k, v in evaluation.information.row().items()})
    out["mitigation"] = scenario.mitigation
    out["mode"] = scenario.mode
    if args.json:
        print(json.dumps(jsonable(out), indent=2))
    else:
        for key, value in out.items():
            print(f"{key:<24} {value:.4g}" if isinstance(value, float) else f"{key:<24} {value}")
    return 0


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
        overwrite=args.overwrite,
        calibration=calibration_table() if args.data is None else None,
    )
    if args.json:
        print(json.dumps(_plain(outcome.to_dict()), indent=2, default=float))
    else:
        curve = outcome.session_curve
        paper = outcome.safe_session.safe_session_size
        print(f"attack-validated safe session size: {curve.validated.label} observations")
        print(f"  {curve.summary()}")
        print(
            "paper's self-evaluation (Fano bound of the extrapolated MI): "
            + ("no bound" if paper is None else f"{paper} observations")
        )
        print(f"data: {_data_label(args)}")
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
class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (exit code 2)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fidelity`` command."""
    parser = _Parser(
        prog="fidelity",
        description="Measure fidelity leakage of recommender systems: membership inference, "
        "MI(H;O) and the safe session size.",
    )
    parser.add_argument("--version", action="version", version=f"fidelity {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser, *, data: bool = True) -> None:
        if data:
            add_data_options(p)
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
    p.add_argument(
        "--n-jobs", type=int, default=N_JOBS_DEFAULT, help="local worker processes (default 2)"
    )
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address")
    p.add_argument("--out", default="fidelity-output", help="output folder")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="recompute every configuration, replacing the rows in --out (by default a "
        "rerun resumes, and refuses rows of other data or settings)",
    )
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
    add_scenario_options(p)
    p.add_argument(
        "--attacks",
        metavar="A[,A...]",
        default="",
        help="attacks of the curve (default: every registered attack of the threat model)",
    )
    p.add_argument("--threat", choices=THREATS, default="scores", help="threat model")
    p.add_argument("--k", type=int, default=K_DEFAULT, help="list length (topk, scores hits)")
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
    p.set_defaults(func=run_safe_session)

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
    p.add_argument("--k", type=int, default=K_DEFAULT, help="list length for --threat topk")
    add_scenario_options(p)
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples for CIs")
    p.add_argument("--permutations", type=int, default=20, help="permutation-null size of MI(H;O)")
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


def _message(err: BaseException) -> str:
    """The first line of what ``err`` says (an OSError: what failed and on which path)."""
    if isinstance(err, OSError) and err.strerror and err.filename is not None:
        text = f"{err.strerror}: {os.fsdecode(err.filename)!r}"
        if err.filename2 is not None:
            text += f" -> {os.fsdecode(err.filename2)!r}"
    elif isinstance(err, KeyError) and len(err.args) == 1:
        text = str(err.args[0])
    elif isinstance(err, (zlib.error, lzma.LZMAError, EOFError)):
        text = f"corrupt or truncated compressed data ({err})"
    else:
        text = str(err)
    text = text.strip()
    return text.splitlines()[0] if text else type(err).__name__


def _stdout_gone() -> None:
    """After a broken pipe (``fidelity info | head -1``): no second error at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _interrupted_message(err: KeyboardInterrupt) -> str:
    if isinstance(err, SweepInterrupted):
        return (
            f"interrupted: {err.n_saved} of {err.n_total} configurations saved; "
            "rerun the same command to resume"
        )
    return "interrupted"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fidelity`` console script.

    Run as the script (``argv`` None), the process is fidelity's own, so freed memory
    is kept for reuse (:func:`fidelity._memory.keep_freed_memory`); called from Python
    with an ``argv`` list, the caller's process is left as it is.

    Exit codes: 0 done; 2 bad input (one line on stderr: usage errors, validation errors,
    unreadable or unwritable paths, corrupt files); 130 interrupted (Ctrl-C: one line,
    finished sweep rows kept); 141 standard output closed early (a broken pipe); 1 a
    worker process died or memory ran out (one line), or an unexpected error (with its
    traceback). ``--verbose`` shows every traceback.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors: one line, exit 2 (--help and --version: 0)
        if exc.code in (0, None):
            raise
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    if argv is None:
        keep_freed_memory()
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("fidelity: %(message)s"))
    handler.addFilter(OnceFilter())  # each message (each warning) printed once
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            # fidelity's warnings are printed through its logger (once each); others
            # only with --verbose
            warnings.simplefilter("ignore", FidelityWarning)
            if not args.verbose:
                warnings.simplefilter("ignore")
            check_args(args)
            code = int(args.func(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
            return code
    except KeyboardInterrupt as err:
        print(_interrupted_message(err), file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _stdout_gone()
        return EXIT_BROKEN_PIPE
    except USER_ERRORS as err:
        if args.verbose:
            raise
        print(f"fidelity {args.command}: error: {_message(err)}", file=sys.stderr)
        return EXIT_USAGE
    except (BrokenExecutor, MemoryError) as err:
        if args.verbose:
            raise
        print(f"fidelity {args.command}: error: {_message(err)}", file=sys.stderr)
        return 1
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        handler.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["build_parser", "main"]
