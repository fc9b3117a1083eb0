"""The ``fidelity`` command: a thin layer over the public API.

Every command shares the data options (``--data`` ... ``--n-items``); without
``--data`` the built-in synthetic data are used. Bad input exits with code 2 and a
one-line message (the traceback only with ``--verbose``).

Start-up is kept fast: this module imports no numerical library. The modules that define
a command's options and run it (:mod:`fidelity.cli.commands`,
:mod:`fidelity.cli.safe_session`, :mod:`fidelity.cli.options`) are loaded by name from the
:data:`COMMANDS` table only for the command being run (the same lazy loading as the
package's public names), so ``fidelity --help`` and ``fidelity --version`` do not load
scikit-learn, numba or pandas.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import lzma
import os
import sys
import warnings
import zlib
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass
from types import ModuleType

from fidelity import __version__
from fidelity._memory import keep_freed_memory
from fidelity._warnings import FidelityWarning, OnceFilter

logger = logging.getLogger("fidelity")

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


@dataclass(frozen=True)
class _Command:
    """One subcommand: its help, and where its options and its code live."""

    help: str
    description: str
    epilog: str
    module: str
    add_arguments: str
    run: str

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)


_EXAMPLES = {
    "reproduce": r"""examples:
  fidelity reproduce --out results/
  fidelity reproduce --data mssd_logs/ --paper-filter --n-items 229 --n-jobs 2
  fidelity reproduce --quick --out /tmp/quick""",
    "safe-session": r"""examples:
  fidelity safe-session --target-size 500
  fidelity safe-session --data plays.csv --format sessions --session-col user_id \
      --item-col song_id --timing-cols skipped --n-items 229 --json
  fidelity safe-session --attacks match,reference --grid 1,2,5,10 --tolerance 0.05""",
    "info": r"""examples:
  fidelity info
  fidelity info --data u.data --format interactions --no-header --sep '\t' \
      --user-col 0 --item-col 1 --time-col 3 --session-gap 3600""",
    "attack": r"""examples:
  fidelity attack --attack reference --threat scores --target-size 500
  fidelity attack --attack rmia --threat scores --references 4 --json""",
    "synth": r"""examples:
  fidelity synth --sessions 6000000 --out data/""",
}

#: The subcommands, in the order of ``fidelity --help``.
COMMANDS: dict[str, _Command] = {
    "reproduce": _Command(
        epilog=_EXAMPLES["reproduce"],
        help="the paper's experiment, figures and HTML report",
        description=(
            "Sweep overlap x target size (x recommender x seed), write "
            "results, figures (PNG, SVG), report.html and results.json."
        ),
        module="fidelity.cli.commands",
        add_arguments="add_reproduce_arguments",
        run="run_reproduce",
    ),
    "safe-session": _Command(
        epilog=_EXAMPLES["safe-session"],
        help="the attack-validated safe session size (and the paper's Fano reading)",
        description=(
            "Fit the scenario's target, run every attack of the threat model on "
            "the adversary's view cut into pseudo-users of at most N observations for a grid of "
            "N, and report the largest N whose advantage (upper confidence bound) stays at or "
            "below the tolerance for every attack; then the paper's data-only Fano bound of "
            "MI(H;O)."
        ),
        module="fidelity.cli.safe_session",
        add_arguments="add_safe_session_arguments",
        run="run_safe_session",
    ),
    "info": _Command(
        epilog=_EXAMPLES["info"],
        help="summary of the data after loading and filtering",
        description=("Counts and listening statistics of the data."),
        module="fidelity.cli.commands",
        add_arguments="add_info_arguments",
        run="run_info",
    ),
    "attack": _Command(
        epilog=_EXAMPLES["attack"],
        help="run one membership-inference attack",
        description=(
            "Split providers, fit the target, attack; user-level AUC, "
            "TPR at low FPR and attacker advantage with bootstrap CIs."
        ),
        module="fidelity.cli.commands",
        add_arguments="add_attack_arguments",
        run="run_attack",
    ),
    "synth": _Command(
        epilog=_EXAMPLES["synth"],
        help="write synthetic MSSD-format Parquet partitions",
        description=(
            "Write a synthetic data set of any size in the MSSD log "
            "format, as Parquet partitions (for tests and benchmarks)."
        ),
        module="fidelity.cli.commands",
        add_arguments="add_synth_arguments",
        run="run_synth",
    ),
}


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors that are the input's fault: one line on stderr and exit code 2.

    OSError covers unreadable or unwritable paths; EOFError, zlib.error and LZMAError
    truncated or corrupt compressed files; ArrowException corrupt Parquet files.
    """
    import pyarrow as pa  # loaded only once an error has to be classified

    return (
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


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (exit code 2)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Help that shows every option's default (unless its text says it) and keeps the
    examples' line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default in (None, False, "", argparse.SUPPRESS)
            or action.option_strings == []
        ):
            return text
        return f"{text} (default: {default})"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of the ``fidelity`` command.

    Parameters
    ----------
    only : str, optional
        Build the options of this subcommand only (the others are listed with their help
        but have no options). ``None`` builds every subcommand's options; ``""`` none.
    """
    parser = _Parser(
        prog="fidelity",
        description="Measure fidelity leakage of recommender systems: how long a user's "
        "linkable history may be before membership inference breaks it (the "
        "attack-validated safe session size), membership-inference attacks, MI(H;O) and "
        "the paper's Fano bound.",
        epilog="Run 'fidelity COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"fidelity {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        p = sub.add_parser(
            name,
            help=command.help,
            description=command.description,
            epilog=command.epilog,
            formatter_class=_Formatter,
        )
        if only is None or only == name:
            module = command.load()
            getattr(module, command.add_arguments)(p)
            p.set_defaults(func=getattr(module, command.run))
    return parser


def _command_of(argv: Sequence[str]) -> str:
    """The subcommand named in ``argv`` (``""`` when there is none)."""
    for token in argv:
        if token in COMMANDS:
            return token
        if not token.startswith("-"):
            return ""
    return ""


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
    if hasattr(err, "n_saved"):  # a SweepInterrupted
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
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=_command_of(words))
    try:
        args = parser.parse_args(words)
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
            importlib.import_module("fidelity.cli.options").check_args(args)
            code = int(args.func(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
            return code
    except KeyboardInterrupt as err:
        print(_interrupted_message(err), file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _stdout_gone()
        return EXIT_BROKEN_PIPE
    except (BrokenExecutor, MemoryError) as err:
        if args.verbose:
            raise
        print(f"fidelity {args.command}: error: {_message(err)}", file=sys.stderr)
        return 1
    except Exception as err:
        if args.verbose or not isinstance(err, _user_errors()):
            raise
        print(f"fidelity {args.command}: error: {_message(err)}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        handler.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["build_parser", "main"]
