"""The options of the ``fidelity`` command: the shared data options, loading, and checks.

Every command shares the data options; without ``--data`` the built-in synthetic data are
used. :func:`check_args` runs before any work: it refuses bad values of every option in
one line (naming the flag) and warns once about each option given where it does not apply.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from fidelity._validation import (
    check_fraction,
    check_output_dir,
    check_positive_int,
    check_success,
    warn,
)
from fidelity.attacks import ATTACKS, get_attack
from fidelity.data import (
    keep_top_items,
    load_interactions,
    load_mssd,
    load_sessions,
    make_sessions,
    paper_filter,
)
from fidelity.data.io import positional_names
from fidelity.data.tables import Sessions
from fidelity.evaluation.session_curve import check_session_grid, check_tolerance
from fidelity.experiment import SweepGrid
from fidelity.mitigations import parse_mitigation
from fidelity.recommenders import RECOMMENDERS
from fidelity.scenario import Scenario, check_seed
from fidelity.split import MODES

__all__ = [
    "FORMATS",
    "K_DEFAULT",
    "N_JOBS_DEFAULT",
    "TIME_UNITS",
    "UsageError",
    "add_data_options",
    "attack_flags",
    "check_args",
    "check_data_options",
    "data_label",
    "dest",
    "load_data",
]

FORMATS = ("mssd", "sessions", "interactions")
#: Defaults of ``reproduce --n-jobs`` and ``attack --k`` (a warning when given where they
#: do not apply compares with them).
N_JOBS_DEFAULT = 2
K_DEFAULT = 10
TIME_UNITS = ("s", "ms", "us", "ns", "none")

#: Data options that apply to some formats only: destination -> (flag, formats).
_APPLIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "session_col": ("--session-col", ("sessions",)),
    "item_col": ("--item-col", ("sessions", "interactions")),
    "user_col": ("--user-col", ("sessions", "interactions")),
    "time_col": ("--time-col", ("interactions",)),
    "order_col": ("--order-col", ("sessions",)),
    "timing_cols": ("--timing-cols", ("sessions", "interactions")),
    "session_gap": ("--session-gap", ("interactions",)),
    "time_unit": ("--time-unit", ("interactions",)),
    "names": ("--names", ("sessions", "interactions")),
    "no_header": ("--no-header", ("sessions", "interactions")),
    "sep": ("--sep", FORMATS),
}
_ESCAPES = {"\\t": "\t", "tab": "\t", "\\s+": r"\s+"}


class UsageError(ValueError):
    """Bad command-line input (reported in one line, exit code 2)."""


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """Add the shared data options to ``parser``."""
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
        "--timing-cols",
        metavar="C[,C...]",
        default=None,
        help="timing feature columns (sessions; extra numeric columns for interactions)",
    )
    g.add_argument(
        "--session-gap",
        metavar="SECONDS",
        type=float,
        default=None,
        help="cut a user's events into sessions at gaps longer than this (interactions)",
    )
    g.add_argument(
        "--time-unit",
        choices=TIME_UNITS,
        default=None,
        help="unit of a numeric time column counted from the Unix epoch (interactions; "
        "default s; none: plain numbers, --session-gap in the same units)",
    )
    g.add_argument(
        "--sep",
        metavar="SEP",
        default=None,
        help="field separator of text files (default: sniffed; '\\t' or tab for a tab)",
    )
    g.add_argument(
        "--names",
        metavar="C[,C...]",
        default=None,
        help="names of all the columns of a text file without a header row, in file "
        "order (e.g. user,item,rating,time for MovieLens u.data)",
    )
    g.add_argument(
        "--no-header",
        action="store_true",
        help="the text file has no header row; without --names its columns are named "
        "by position: 0, 1, 2, ... (e.g. --user-col 0 --item-col 1 --time-col 3)",
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
    g.add_argument("--seed", type=int, default=0, help="random seed")


def _columns(text: str | None, flag: str) -> tuple[str, ...]:
    if text is None:
        return ()
    cols = tuple(c.strip() for c in text.split(","))
    if not all(cols):
        raise UsageError(f"{flag} must be column names separated by commas; got {text!r}")
    repeated = sorted({c for c in cols if cols.count(c) > 1})
    if repeated:
        raise UsageError(f"{flag} names column(s) {repeated} more than once; got {text!r}")
    return cols


def _given(args: argparse.Namespace, dest: str) -> bool:
    value = getattr(args, dest, None)
    return value is not None and value is not False


def _sep(args: argparse.Namespace) -> str | None:
    if args.sep is None:
        return None
    if args.sep == "":
        raise UsageError("--sep must not be empty; give the field separator, e.g. ',' or '\\t'")
    return _ESCAPES.get(args.sep, args.sep)


def check_data_options(args: argparse.Namespace) -> None:
    """Check the data options before any work: errors for bad values, warnings for options
    that do not apply (each names the flag)."""
    check_seed("--seed", args.seed)
    if args.sessions is not None:
        check_positive_int("--sessions", args.sessions)
    if args.n_items is not None:
        check_positive_int("--n-items", args.n_items)
    if args.session_gap is not None and not (
        math.isfinite(args.session_gap) and args.session_gap > 0
    ):
        raise UsageError(
            f"--session-gap must be a positive number of seconds; got {args.session_gap}"
        )
    _columns(args.timing_cols, "--timing-cols")
    names = _columns(args.names, "--names")
    _sep(args)
    if args.data is None:
        if args.format is not None:
            raise UsageError("--format needs --data")
        for dest, (flag, _) in _APPLIES.items():
            if _given(args, dest):
                warn(f"{flag} applies to --data only (the synthetic data have no file); ignored")
        if args.paper_filter:
            warn("--paper-filter applies to MSSD data (--data) only; ignored")
        return
    if args.sessions is not None:
        warn("--sessions applies to the synthetic data only (without --data); ignored")
    fmt = args.format or "mssd"
    for dest, (flag, formats) in _APPLIES.items():
        if fmt not in formats and _given(args, dest):
            extra = " (the MSSD format has its own timing columns)" if dest == "timing_cols" else ""
            warn(f"{flag} does not apply to --format {fmt}{extra}; ignored")
    if fmt == "mssd":
        return
    if fmt == "sessions":
        needed = ["session_col", "item_col"]
    else:
        needed = ["user_col", "item_col", "time_col"]
    missing = [_APPLIES[n][0] for n in needed if getattr(args, n) is None]
    if missing:
        raise UsageError(f"--format {fmt} needs {', '.join(missing)}")
    column_flags = [
        (flag, getattr(args, dest))
        for dest, (flag, formats) in _APPLIES.items()
        if dest in ("session_col", "item_col", "user_col", "time_col", "order_col")
        and fmt in formats
        and getattr(args, dest) is not None
    ]
    if args.no_header and not names:
        for flag, col in column_flags:
            if not col.isdigit():
                raise UsageError(
                    f"{flag} {col!r}: with --no-header and no --names the columns are named "
                    "by position (0, 1, 2, ...); give a position or name every column with "
                    "--names"
                )
    if names:
        used = [
            (flag, getattr(args, dest))
            for dest, (flag, _) in _APPLIES.items()
            if dest in ("session_col", "item_col", "user_col", "time_col", "order_col")
            and fmt in _APPLIES[dest][1]
            and getattr(args, dest) is not None
        ]
        used += [("--timing-cols", c) for c in _columns(args.timing_cols, "--timing-cols")]
        for flag, col in used:
            if col not in names:
                raise UsageError(f"{flag} {col!r} is not one of --names {list(names)}")


def load_data(args: argparse.Namespace) -> Sessions:
    """Load (and filter) the data the options describe; returns ``Sessions``."""
    if args.data is None:
        kwargs = {} if args.sessions is None else {"n_sessions": args.sessions}
        sessions = make_sessions(random_state=args.seed, **kwargs)
    else:
        fmt = args.format or "mssd"
        sep = _sep(args)
        timing = _columns(args.timing_cols, "--timing-cols")
        names: Any = _columns(args.names, "--names") or None
        if names is None and args.no_header and fmt != "mssd":
            names = positional_names(args.data, sep=sep)
        if fmt == "mssd":
            sessions = load_mssd(args.data, sep=sep)
        elif fmt == "sessions":
            sessions = load_sessions(
                args.data,
                session_col=args.session_col,
                item_col=args.item_col,
                order_col=args.order_col,
                timing_cols=timing,
                user_col=args.user_col,
                sep=sep,
                names=names,
            )
        else:
            unit: dict[str, Any] = {}
            if args.time_unit is not None:
                unit["time_unit"] = None if args.time_unit == "none" else args.time_unit
            sessions = load_interactions(
                args.data,
                user_col=args.user_col,
                item_col=args.item_col,
                time_col=args.time_col,
                session_gap=args.session_gap,
                sep=sep,
                names=names,
                timing_cols=timing,
                **unit,
            )
    if args.paper_filter:
        sessions = paper_filter(sessions, n_items=args.n_items or 229)
    elif args.n_items is not None:
        sessions = keep_top_items(sessions, args.n_items)
    return sessions


def data_label(args: argparse.Namespace) -> str:
    """How reports name the data of these options (synthetic: its calibration said too)."""
    if args.data is None:
        return (
            "synthetic default (make_sessions), calibrated on the MSSD aidl sample's leakage "
            "(see fidelity.data.calibration_table())"
        )
    return str(args.data)


# ----------------------------------------------------------------------------- commands
def attack_flags() -> dict[str, tuple[Any, list[str]]]:
    """Command-line flags of the registered attacks' options: flag -> (option, attacks)."""
    flags: dict[str, tuple[Any, list[str]]] = {}
    for name, spec in ATTACKS.items():
        for option in spec.options:
            if option.cli:
                flags.setdefault(option.cli_flag, (option, []))[1].append(name)
    return flags


def dest(flag: str) -> str:
    """The argparse destination of ``flag``."""
    return flag.lstrip("-").replace("-", "_")


def _check_reproduce(args: argparse.Namespace) -> None:
    check_positive_int("--n-jobs", args.n_jobs)
    check_success("--success", args.success)
    check_output_dir("--out", args.out, create=False)
    if args.grid:
        SweepGrid.from_toml(args.grid)
    if args.scheduler is not None and args.n_jobs != N_JOBS_DEFAULT:
        warn(
            "--n-jobs does not apply with --scheduler (the Dask cluster's workers run the "
            "sweep); ignored"
        )


def common(p: argparse.ArgumentParser, *, data: bool = True) -> None:
    """The data options (unless ``data=False``) and --json / --quiet / --verbose."""
    if data:
        add_data_options(p)
    p.add_argument("--json", action="store_true", help="print a machine-readable result")
    p.add_argument("--quiet", action="store_true", help="no progress bars or log messages")
    p.add_argument("--verbose", action="store_true", help="debug logging, full tracebacks")


# ----------------------------------------------------------------------------- scenario
def add_scenario_options(parser: argparse.ArgumentParser) -> None:
    """How the providers and the target are emulated (``attack`` and ``safe-session``)."""
    g = parser.add_argument_group("scenario (how the providers and the target are emulated)")
    g.add_argument(
        "--recommender", choices=tuple(RECOMMENDERS), default="random_forest",
        help="the target's algorithm (default: random_forest)",
    )  # fmt: skip
    g.add_argument(
        "--overlap", type=float, default=0.5,
        help="fraction of A's users that T also has (default: 0.5)",
    )  # fmt: skip
    g.add_argument(
        "--target-size", type=int, default=None,
        help="users training the target (default: all of T's pool)",
    )  # fmt: skip
    g.add_argument(
        "--mode", choices=MODES, default="shared",
        help="provider split: shared (the paper's) or split-history (default: shared)",
    )  # fmt: skip
    g.add_argument(
        "--mitigation", default="none",
        help="none, chunk:N, topk:K, noise:L or train:F (default: none)",
    )  # fmt: skip


def _check_scenario(args: argparse.Namespace) -> None:
    check_fraction("--overlap", args.overlap)
    if args.target_size is not None:
        check_positive_int("--target-size", args.target_size)
    try:
        parse_mitigation(args.mitigation)
    except ValueError as err:
        raise UsageError(f"--mitigation: {err}") from None


def scenario_from(args: argparse.Namespace) -> Scenario:
    """The :class:`~fidelity.scenario.Scenario` the scenario options describe."""
    return Scenario(
        overlap=args.overlap,
        target_size=args.target_size,
        recommender=args.recommender,
        seed=args.seed,
        mode=args.mode,
        mitigation=args.mitigation,
    )


def parse_grid(text: str | None) -> tuple[int, ...] | None:
    """``--grid 1,2,5,10`` as session sizes (None when not given)."""
    if text is None:
        return None
    sizes = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            sizes.append(int(part))
        except ValueError:
            raise UsageError(
                f"--grid must list integers >= 1 separated by commas (e.g. 1,2,5,10); got {text!r}"
            ) from None
    return check_session_grid(sizes)


def attack_list(text: str) -> tuple[str, ...]:
    """``--attacks match,reference`` as registered names (empty: the default)."""
    names = tuple(c.strip() for c in text.split(",") if c.strip())
    for name in names:
        get_attack(name)
    return names


def _check_safe_session(args: argparse.Namespace) -> None:
    _check_scenario(args)
    check_success("--success", args.success)
    check_positive_int("--repeats", args.repeats)
    check_positive_int("--permutations", args.permutations, minimum=0)
    check_positive_int("--k", args.k)
    check_positive_int("--bootstrap", args.bootstrap, minimum=0)
    check_tolerance(args.tolerance)
    parse_grid(args.grid)
    for name in attack_list(args.attacks):
        if args.threat not in get_attack(name).threats:
            raise UsageError(
                f"--threat {args.threat} is not supported by the {name} attack; it supports "
                f"{list(get_attack(name).threats)}"
            )


def _check_attack(args: argparse.Namespace) -> None:
    _check_scenario(args)
    check_positive_int("--permutations", args.permutations, minimum=0)
    check_positive_int("--k", args.k)
    check_positive_int("--bootstrap", args.bootstrap, minimum=0)
    supported = get_attack(args.attack).threats
    if args.threat not in supported:
        raise UsageError(
            f"--threat {args.threat} is not supported by --attack {args.attack}; "
            f"it supports {list(supported)}"
        )
    if args.threat != "topk" and args.k != K_DEFAULT:
        warn(f"--k applies to --threat topk only; ignored with --threat {args.threat}")
    for flag, (_, applies) in attack_flags().items():
        if getattr(args, dest(flag)) is not None and args.attack not in applies:
            raise UsageError(f"{flag} applies to --attack {' or '.join(applies)} only")


def _check_synth(args: argparse.Namespace) -> None:
    check_positive_int("--sessions", args.sessions_total)
    check_positive_int("--partition-size", args.partition_size)
    check_positive_int("--n-items", args.n_items, minimum=2)
    check_seed("--seed", args.seed)
    check_output_dir("--out", args.out, create=False)


_CHECKS = {
    "reproduce": _check_reproduce,
    "safe-session": _check_safe_session,
    "attack": _check_attack,
    "synth": _check_synth,
}


def check_args(args: argparse.Namespace) -> None:
    """Check every option of the parsed command line before any work starts.

    Raises a ``ValueError``/``TypeError``/``OSError`` naming the flag for a bad value
    (exit code 2) and warns (:class:`~fidelity.FidelityWarning`) about options that do
    not apply.
    """
    if hasattr(args, "data"):
        check_data_options(args)
    check = _CHECKS.get(args.command)
    if check is not None:
        check(args)


def jsonable(obj: Any) -> Any:
    """Plain JSON values (NaN and infinities as null)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return str(obj)
