"""Every bad input is a clear error (issue 16): a table of bad inputs, CLI and API.

CLI cases go through :func:`fidelity.cli.main` in-process and must end with exit code 2,
exactly one line on standard error (``fidelity ...: error: ...`` naming the problem), no
traceback, and no output file left behind as if the run were complete (files that were
there before are unchanged). API cases must raise the named exception with a message
naming the parameter. Cases are grouped in classes (the ``klass`` field); the counts are
checked at the end so the suite cannot shrink unnoticed.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import re
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fidelity._validation import check_output_dir, check_success
from fidelity.cli import main
from fidelity.data import load_interactions, load_mssd, load_sessions
from fidelity.data.synthetic import make_sessions
from fidelity.experiment import ResumeError, SweepGrid, run_sweep
from fidelity.experiment.store import MANIFEST
from fidelity.pipeline import reproduce

# ----------------------------------------------------------------------------- files
PLAYS = "s,i\n1,10\n1,11\n1,12\n2,3\n2,4\n"
EVENTS = "u,i,t\n1,10,100\n1,11,200\n2,3,100\n2,4,300\n"
TINY_GRID = (
    'overlaps = [0.0, 1.0]\ntarget_sizes = [50]\nrecommenders = ["markov"]\n'
    "n_permutations = 2\nn_bootstrap = 2\n"
)
#: Files whose presence would pass a run off as complete.
COMPLETE = ("results.csv", "results.parquet", "results.json", "report.html")


def _big_csv() -> bytes:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"s": rng.integers(0, 5000, 60_000), "i": rng.integers(0, 10**9, 60_000)}
    ).sort_values("s")
    return frame.to_csv(index=False).encode()


def _corrupt_middle(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64]) + data[middle + 64 :]


def _parquet_bytes(frame: pd.DataFrame, tmp: Path) -> bytes:
    path = tmp / ".tmp.parquet"
    frame.to_parquet(path)
    data = path.read_bytes()
    path.unlink()
    return data


def write(tmp: Path, name: str, content: str | bytes) -> str:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return str(path)


FILES: dict[str, Callable[[Path], str | bytes]] = {
    "empty.csv": lambda t: b"",
    "blank.csv": lambda t: "   \n\n  \n",
    "junk.csv": lambda t: b"\x00\x01\x02garbage\xff\xfe",
    "parquet_named.csv": lambda t: _parquet_bytes(pd.DataFrame({"s": [1], "i": [2]}), t),
    "text_named.parquet": lambda t: PLAYS,
    "not_gzip.csv.gz": lambda t: PLAYS,
    "truncated.csv.gz": lambda t: (lambda d: d[: len(d) * 3 // 5])(gzip.compress(_big_csv())),
    "corrupt.csv.gz": lambda t: _corrupt_middle(gzip.compress(_big_csv())),
    "truncated.csv.xz": lambda t: (lambda d: d[: len(d) * 3 // 5])(lzma.compress(_big_csv())),
    "truncated.csv.bz2": lambda t: (lambda d: d[: len(d) * 3 // 5])(bz2.compress(_big_csv())),
    "latin1.csv": lambda t: "s,i\n1,caf\xe9\n1,na\xefve\n".encode("latin-1") * 3000,
    "header_only.csv": lambda t: "s,i\n",
    "corrupt.parquet": lambda t: (lambda d: d[:12] + b"\x00" * 40 + d[-8:])(
        _parquet_bytes(pd.DataFrame({"s": range(50), "i": range(50)}), t)
    ),
    "plays.csv": lambda t: PLAYS,
    "plays_headed.tsv": lambda t: PLAYS.replace(",", "\t"),
    "events.csv": lambda t: EVENTS,
    "events_ms.csv": lambda t: "u,i,t\n1,10,1600000000000\n1,11,1600000360000\n",
    "events_badtime.csv": lambda t: "u,i,t\n1,10,yesterday\n1,11,today\n",
    "events_noid.csv": lambda t: "u,i,t\n1,10,100\n,11,200\n",
    "two_users.csv": lambda t: "s,i,u\n1,10,a\n1,11,b\n",
    "text_timing.csv": lambda t: "s,i,x\n1,10,fast\n1,11,slow\n",
    "mssd_missing.csv": lambda t: "session_id,track_id_clean\na,t1\n",
    "grid_invalid.toml": lambda t: "overlaps = [\n",
    "grid_unknown.toml": lambda t: "overlapz = [0.5]\n",
    "grid_overlap.toml": lambda t: "overlaps = [2.0]\n",
    "grid_recommender.toml": lambda t: 'recommenders = ["nope"]\n',
    "grid_seed_true.toml": lambda t: "seeds = [true]\n",
    "grid_seed_float.toml": lambda t: "seeds = [1.7]\n",
    "grid_seed_negative.toml": lambda t: "seeds = [-1]\n",
    "grid_threat.toml": lambda t: 'threats = ["nope"]\n',
    "grid_params.toml": lambda t: "[recommender_params.random_forest]\nn_estimatorz = 3\n",
    "grid_size.toml": lambda t: "target_sizes = [0]\n",
    "grid_big.toml": lambda t: TINY_GRID.replace("[50]", "[5000]"),
    "grid.toml": lambda t: TINY_GRID,
    "grid_boot3.toml": lambda t: TINY_GRID.replace("n_bootstrap = 2", "n_bootstrap = 3"),
    "a_file": lambda t: "not a folder\n",
    "junkdir/notes.md": lambda t: "no table here\n",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("bad-inputs")
    paths = {name: write(root, name, make(root)) for name, make in FILES.items()}
    (root / "emptydir").mkdir()
    paths["emptydir"] = str(root / "emptydir")
    paths["junkdir"] = str(root / "junkdir")
    paths["root"] = str(root)
    return paths


# ----------------------------------------------------------------------------- stores
def _store(out: Path, *, seed: int = 0, damage: str | None = None) -> None:
    """A finished sweep of the tiny grid on 300 synthetic sessions (seed ``seed``)."""
    observations = make_sessions(n_sessions=300, random_state=seed).observations()
    grid = SweepGrid(
        overlaps=(0.0, 1.0),
        target_sizes=(50,),
        recommenders=("markov",),
        n_permutations=2,
        n_bootstrap=2,
    )
    run_sweep(observations, grid, out=out, show_progress=False)
    rows = sorted((out / "rows").glob("*.parquet"))
    if damage == "empty-row":
        rows[0].write_bytes(b"")
    elif damage == "copied-row":
        shutil.copyfile(rows[0], rows[1])
    elif damage == "no-manifest":
        (out / "rows" / MANIFEST).unlink()
    elif damage == "bad-manifest":
        (out / "rows" / MANIFEST).write_text("{not json")


# ----------------------------------------------------------------------------- CLI table
@dataclass(frozen=True)
class CliCase:
    id: str
    klass: str
    argv: Callable[[dict[str, str], Path], list[str]]
    says: str  # a piece of the one-line message
    store: dict[str, Any] | None = None  # a finished sweep in <tmp>/run first


def A(*argv: str) -> Callable[[dict[str, str], Path], list[str]]:
    """Fixed arguments; ``<name>`` is a file of FILES, ``<out>`` the case's output folder."""

    def build(paths: dict[str, str], tmp: Path) -> list[str]:
        known = {**paths, "out": str(tmp / "run")}
        return [re.sub(r"<([^<>]+)>", lambda m: known[m.group(1)], a) for a in argv]

    return build


SESSIONS = ("--format", "sessions", "--session-col", "s", "--item-col", "i")
EVENTS_OPTS = ("--format", "interactions", "--user-col", "u", "--item-col", "i", "--time-col", "t")
TINY = ("--sessions", "300", "--grid", "<grid.toml>", "--n-jobs", "1", "--out", "<out>")

CLI_CASES = [
    # usage: the parser's own errors, one line
    CliCase("no-command", "usage", A(), "required: COMMAND"),
    CliCase("unknown-command", "usage", A("frobnicate"), "invalid choice: 'frobnicate'"),
    CliCase("unknown-option", "usage", A("info", "--bogus"), "unrecognized arguments: --bogus"),
    CliCase("seed-true", "usage", A("info", "--seed", "true"), "--seed: invalid int value"),
    CliCase("seed-float", "usage", A("info", "--seed", "1.7"), "--seed: invalid int value"),
    CliCase("format-choice", "usage", A("info", "--format", "xls"), "--format: invalid choice"),
    CliCase("attack-choice", "usage", A("attack", "--attack", "nope"), "--attack: invalid"),
    CliCase("threat-choice", "usage", A("attack", "--threat", "nope"), "--threat: invalid"),
    CliCase("rec-choice", "usage", A("attack", "--recommender", "nope"), "--recommender: inv"),
    CliCase("unit-choice", "usage", A("info", "--time-unit", "days"), "--time-unit: invalid"),
    CliCase("synth-required", "usage", A("synth"), "required: --sessions, --out"),
    CliCase("overlap-text", "usage", A("attack", "--overlap", "abc"), "--overlap: invalid float"),
    CliCase("missing-value", "usage", A("info", "--data"), "--data: expected one argument"),
    CliCase("n-jobs-text", "usage", A("reproduce", "--n-jobs", "two"), "--n-jobs: invalid int"),
    CliCase("gap-text", "usage", A("info", "--session-gap", "soon"), "--session-gap: invalid"),
    # range: values checked before any work, naming the flag
    CliCase("seed-negative", "range", A("info", "--seed", "-1"), "--seed must be a non-negative"),
    CliCase("sessions-zero", "range", A("info", "--sessions", "0"), "--sessions must be an int"),
    CliCase("sessions-neg", "range", A("info", "--sessions", "-5"), "--sessions must be an int"),
    CliCase("n-items-zero", "range", A("info", "--n-items", "0"), "--n-items must be an integer"),
    CliCase("gap-zero", "range", A("info", "--session-gap", "0"), "--session-gap must be a pos"),
    CliCase("gap-neg", "range", A("info", "--session-gap", "-3"), "--session-gap must be a pos"),
    CliCase("gap-inf", "range", A("info", "--session-gap", "inf"), "--session-gap must be a pos"),
    CliCase("gap-nan", "range", A("info", "--session-gap", "nan"), "--session-gap must be a pos"),
    CliCase("success-3", "range", A("reproduce", "--success", "3", "--out", "<out>"), "(0.5, 1]"),
    CliCase("success-half", "range", A("reproduce", "--success", "0.5", "--out", "<out>"), "--suc"),
    CliCase("success-neg", "range", A("reproduce", "--success", "-1", "--out", "<out>"), "--succ"),
    CliCase("ss-success", "range", A("safe-session", "--success", "1.5"), "--success must be a"),
    CliCase("n-jobs-zero", "range", A("reproduce", "--n-jobs", "0", "--out", "<out>"), "--n-jobs"),
    CliCase("repeats-zero", "range", A("safe-session", "--repeats", "0"), "--repeats must be an"),
    CliCase("perm-neg", "range", A("safe-session", "--permutations", "-1"), "--permutations must"),
    CliCase("overlap-2", "range", A("attack", "--overlap", "2"), "--overlap must be in [0.0, 1.0]"),
    CliCase("overlap-neg", "range", A("attack", "--overlap", "-0.1"), "--overlap must be in"),
    CliCase("overlap-nan", "range", A("attack", "--overlap", "nan"), "--overlap must be in"),
    CliCase("target-zero", "range", A("attack", "--target-size", "0"), "--target-size must be"),
    CliCase("k-zero", "range", A("attack", "--k", "0"), "--k must be an integer >= 1"),
    CliCase("bootstrap-neg", "range", A("attack", "--bootstrap", "-1"), "--bootstrap must be"),
    CliCase(
        "synth-sessions", "range", A("synth", "--sessions", "0", "--out", "<out>"), "--sessions"
    ),
    CliCase(
        "synth-partition",
        "range",
        A("synth", "--sessions", "10", "--partition-size", "0", "--out", "<out>"),
        "--partition-size must be",
    ),
    CliCase(
        "synth-items",
        "range",
        A("synth", "--sessions", "10", "--n-items", "1", "--out", "<out>"),
        "--n-items must be an integer >= 2",
    ),
    CliCase(
        "synth-seed",
        "range",
        A("synth", "--sessions", "10", "--seed", "-2", "--out", "<out>"),
        "--seed must be a non-negative",
    ),
    # combination: options that need or exclude others
    CliCase(
        "format-no-data", "combination", A("info", "--format", "mssd"), "--format needs --data"
    ),
    CliCase(
        "sessions-no-cols",
        "combination",
        A("info", "--data", "<plays.csv>", "--format", "sessions"),
        "--format sessions needs --session-col, --item-col",
    ),
    CliCase(
        "events-no-time",
        "combination",
        A("info", "--data", "<events.csv>", "--format", "interactions", "--user-col", "u"),
        "needs --item-col, --time-col",
    ),
    CliCase(
        "option-other-attack",
        "combination",
        A("attack", "--attack", "match", "--shadows", "3"),
        "--shadows applies to --attack",
    ),
    CliCase(
        "names-empty",
        "combination",
        A("info", "--data", "<plays.csv>", *SESSIONS, "--names", "s,,i"),
        "--names must be column names separated by commas",
    ),
    CliCase(
        "names-repeated",
        "combination",
        A("info", "--data", "<plays.csv>", *SESSIONS, "--names", "s,i,s"),
        "--names names column(s) ['s'] more than once",
    ),
    CliCase(
        "col-not-in-names",
        "combination",
        A("info", "--data", "<events.csv>", *EVENTS_OPTS, "--names", "u,i,time"),
        "--time-col 't' is not one of --names",
    ),
    CliCase(
        "no-header-by-name",
        "combination",
        A("info", "--data", "<events.csv>", *EVENTS_OPTS, "--no-header"),
        "with --no-header and no --names the columns are named by position",
    ),
    CliCase(
        "sep-empty",
        "combination",
        A("info", "--data", "<plays.csv>", *SESSIONS, "--sep", ""),
        "--sep must not be empty",
    ),
    CliCase(
        "timing-empty",
        "combination",
        A("info", "--data", "<plays.csv>", *SESSIONS, "--timing-cols", "x,,y"),
        "--timing-cols must be column names",
    ),
    # missing: paths that are not there
    CliCase("data-missing", "missing", A("info", "--data", "/nonexistent/x.csv"), "no such file"),
    CliCase("data-glob", "missing", A("info", "--data", "<root>/nomatch-*.csv"), "matches no file"),
    CliCase("data-emptydir", "missing", A("info", "--data", "<emptydir>"), "holds no CSV/TSV"),
    CliCase("data-junkdir", "missing", A("info", "--data", "<junkdir>"), "holds no CSV/TSV"),
    CliCase("data-under-file", "missing", A("info", "--data", "<a_file>/x.csv"), "no such file"),
    CliCase(
        "grid-missing",
        "missing",
        A("reproduce", "--grid", "/nonexistent.toml", "--out", "<out>"),
        "grid file '/nonexistent.toml' does not exist",
    ),
    # content: files that are not what they claim, or not usable
    *[
        CliCase(f"content-{name}", "content", A("info", "--data", f"<{name}>", *SESSIONS), says)
        for name, says in [
            ("empty.csv", "the file is empty (0 bytes)"),
            ("blank.csv", "the file is empty (no text)"),
            ("junk.csv", "binary content"),
            ("parquet_named.csv", "is a Parquet file but its name"),
            ("text_named.parquet", "named as Parquet"),
            ("not_gzip.csv.gz", "named .gz but is not .gz-compressed"),
            ("truncated.csv.gz", "cannot parse as a text table"),
            ("corrupt.csv.gz", "corrupt.csv.gz"),
            ("truncated.csv.xz", "truncated.csv.xz"),
            ("truncated.csv.bz2", "truncated.csv.bz2"),
            ("latin1.csv", "not UTF-8 text"),
            ("header_only.csv", "the table has a header but no data rows"),
            ("corrupt.parquet", "corrupt.parquet"),
        ]
    ],
    CliCase(
        "mssd-columns",
        "content",
        A("info", "--data", "<mssd_missing.csv>"),
        "column(s) ['session_position'",
    ),
    CliCase(
        "header-as-data",
        "content",
        A("info", "--data", "<plays.csv>", *SESSIONS, "--names", "s,i"),
        "looks like a header",
    ),
    CliCase(
        "header-as-data-positions",
        "content",
        A(
            "info",
            "--data",
            "<plays_headed.tsv>",
            "--format",
            "sessions",
            "--no-header",
            "--session-col",
            "0",
            "--item-col",
            "1",
        ),
        "looks like a header",
    ),
    CliCase(
        "ms-as-seconds",
        "content",
        A("info", "--data", "<events_ms.csv>", *EVENTS_OPTS),
        "are they in ms (time_unit='ms')",
    ),
    CliCase(
        "bad-times",
        "content",
        A("info", "--data", "<events_badtime.csv>", *EVENTS_OPTS),
        "time_col='t' must hold numbers",
    ),
    CliCase(
        "missing-ids",
        "content",
        A("info", "--data", "<events_noid.csv>", *EVENTS_OPTS),
        "1 row(s) of column 'u' have no id",
    ),
    CliCase(
        "session-two-users",
        "content",
        A("info", "--data", "<two_users.csv>", *SESSIONS, "--user-col", "u"),
        "have plays of more than one user",
    ),
    CliCase(
        "text-timing",
        "content",
        A("info", "--data", "<text_timing.csv>", *SESSIONS, "--timing-cols", "x"),
        "timing column 'x' must hold numbers",
    ),
    # grid: a bad grid file, refused before any data are loaded
    *[
        CliCase(f"grid-{name}", "grid", A("reproduce", "--grid", f"<{name}>", "--out", "<out>"), x)
        for name, x in [
            ("grid_invalid.toml", "is not valid TOML"),
            ("grid_unknown.toml", "unknown key(s) ['overlapz']"),
            ("grid_overlap.toml", "overlaps must be in [0.0, 1.0]; got 2.0"),
            ("grid_recommender.toml", "recommenders must be one of"),
            ("grid_seed_true.toml", "seeds must be a non-negative integer; got True"),
            ("grid_seed_float.toml", "seeds must be a non-negative integer; got 1.7"),
            ("grid_seed_negative.toml", "seeds must be a non-negative integer; got -1"),
            ("grid_threat.toml", "threats must be one of"),
            ("grid_params.toml", "recommender_params['random_forest']: "),
            ("grid_size.toml", "target_sizes must be an integer >= 1; got 0"),
        ]
    ],
    # output: --out that cannot be a folder
    CliCase("out-file", "output", A("reproduce", "--out", "<a_file>"), "is a file, not a folder"),
    CliCase(
        "out-under-file", "output", A("reproduce", "--out", "<a_file>/run"), "is a file, not a"
    ),
    CliCase(
        "synth-out-file",
        "output",
        A("synth", "--sessions", "10", "--out", "<a_file>"),
        "is a file, not a folder",
    ),
    CliCase(
        "out-uncreatable",
        "output",
        A("reproduce", *TINY[:-1], "/proc/fidelity-cannot-be-here/run"),
        "cannot create the folder",
    ),
    # data: fine options that the data cannot satisfy
    CliCase(
        "target-too-big",
        "data",
        A("attack", "--sessions", "200", "--target-size", "500"),
        "target_size must be at most",
    ),
    CliCase("too-few-users", "data", A("safe-session", "--sessions", "5"), "at least 8 users"),
    CliCase(
        "grid-too-big",
        "data",
        A("reproduce", "--sessions", "300", "--grid", "<grid_big.toml>", "--out", "<out>"),
        "target_sizes [5000] exceed",
    ),
    # resume: an --out holding rows this run must not reuse
    CliCase(
        "resume-other-data",
        "resume",
        A("reproduce", *TINY, "--seed", "1"),
        "the data changed",
        store={},
    ),
    CliCase(
        "resume-other-options",
        "resume",
        A("reproduce", *TINY[:3], "<grid_boot3.toml>", *TINY[4:]),
        "n_bootstrap changed (2 -> 3)",
        store={},
    ),
    CliCase(
        "resume-empty-row",
        "resume",
        A("reproduce", *TINY),
        "not a readable row file",
        store={"damage": "empty-row"},
    ),
    CliCase(
        "resume-copied-row",
        "resume",
        A("reproduce", *TINY),
        "a row file copied or renamed?",
        store={"damage": "copied-row"},
    ),
    CliCase(
        "resume-no-manifest",
        "resume",
        A("reproduce", *TINY),
        "without a fingerprint",
        store={"damage": "no-manifest"},
    ),
    CliCase(
        "resume-bad-manifest",
        "resume",
        A("reproduce", *TINY),
        "not a readable fingerprint manifest",
        store={"damage": "bad-manifest"},
    ),
]


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_cli_bad_input(case: CliCase, files, tmp_path, capsys):
    if case.store is not None:
        _store(tmp_path / "run", **case.store)
    before = _snapshot(tmp_path)
    argv = case.argv(files, tmp_path)
    code = main([*argv, "--quiet"] if argv and argv[0] != "frobnicate" else argv)
    _, err = capsys.readouterr()
    assert code == 2, (code, err)
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("fidelity") and ": error: " in err, err
    assert "Traceback" not in err
    assert case.says in err, err
    after = _snapshot(tmp_path)
    changed = {k for k in before if after.get(k) != before[k]}
    assert not changed, changed  # nothing that was there was rewritten
    new = set(after) - set(before)
    assert not [p for p in new if Path(p).name in COMPLETE or p.endswith((".png", ".svg"))], new
    assert not [p for p in new if "part" in Path(p).name], new  # no synth partitions


# ----------------------------------------------------------------------------- API table
@dataclass(frozen=True)
class ApiCase:
    id: str
    klass: str
    call: Callable[[dict[str, str], Path], Any]
    raises: type[BaseException]
    says: str  # a regex the message matches
    store: dict[str, Any] | None = None  # a finished sweep in <tmp>/run first


@pytest.fixture(scope="module")
def obs():
    return make_sessions(n_sessions=300, random_state=0).observations()


def G(**kw: Any) -> Callable[[dict[str, str], Path], Any]:
    base = dict(overlaps=(0.0, 1.0), target_sizes=(50,), recommenders=("markov",))
    return lambda f, t: SweepGrid(**{**base, **kw})


def _tiny() -> SweepGrid:
    return SweepGrid(
        overlaps=(0.0, 1.0),
        target_sizes=(50,),
        recommenders=("markov",),
        n_permutations=2,
        n_bootstrap=2,
    )


def _sweep(tmp: Path, *, seed: int = 0, grid: SweepGrid | None = None, **kw: Any) -> Any:
    observations = make_sessions(n_sessions=300, random_state=seed).observations()
    return run_sweep(observations, grid or _tiny(), show_progress=False, **kw)


def _resume(*, seed: int = 0, grid: SweepGrid | None = None):
    """Resume the sweep of ``_store`` into its folder (with other data or another grid)."""
    return lambda f, tmp: _sweep(tmp, seed=seed, grid=grid, out=tmp / "run")


EV = dict(user_col="u", item_col="i", time_col="t")

API_CASES = [
    # grid: SweepGrid checks every name, seed and option when built
    ApiCase("overlap-2", "grid", G(overlaps=(2.0,)), ValueError, r"overlaps must be in"),
    ApiCase("overlap-text", "grid", G(overlaps=("a",)), TypeError, r"overlaps must be a number"),
    ApiCase("overlap-bool", "grid", G(overlaps=True), TypeError, r"overlaps must hold numbers"),
    ApiCase(
        "overlap-empty", "grid", G(overlaps=()), ValueError, r"grid overlaps must not be empty"
    ),
    ApiCase("size-zero", "grid", G(target_sizes=(0,)), ValueError, r"target_sizes must be an int"),
    ApiCase("size-float", "grid", G(target_sizes=(1.5,)), TypeError, r"target_sizes must be an"),
    ApiCase("size-bool", "grid", G(target_sizes=(True,)), TypeError, r"target_sizes must be an"),
    ApiCase("recommender", "grid", G(recommenders=("nope",)), ValueError, r"recommenders must be"),
    ApiCase("seed-true", "grid", G(seeds=(True,)), ValueError, r"seeds must be a non-neg.*True"),
    ApiCase("seed-float", "grid", G(seeds=(1.7,)), ValueError, r"seeds must be a non-neg.*1\.7"),
    ApiCase("seed-neg", "grid", G(seeds=(-1,)), ValueError, r"seeds must be a non-neg.*-1"),
    ApiCase("seed-text", "grid", G(seeds=("0",)), ValueError, r"seeds must be a non-negative"),
    ApiCase("attack", "grid", G(attacks=("nope",)), ValueError, r"attacks must be one of"),
    ApiCase("threat", "grid", G(threats=("nope",)), ValueError, r"threats must be one of"),
    ApiCase("k-zero", "grid", G(k=0), ValueError, r"k must be an integer >= 1"),
    ApiCase("k-bool", "grid", G(k=True), TypeError, r"k must be an integer"),
    ApiCase("mode", "grid", G(mode="both"), ValueError, r"mode must be one of"),
    ApiCase("mitigation", "grid", G(mitigations=("bogus",)), ValueError, r"mitigation must be"),
    ApiCase("perm-neg", "grid", G(n_permutations=-1), ValueError, r"n_permutations must be"),
    ApiCase("boot-float", "grid", G(n_bootstrap=1.5), TypeError, r"n_bootstrap must be an int"),
    ApiCase("params-list", "grid", G(recommender_params=[1]), TypeError, r"recommender_params"),
    ApiCase(
        "params-name", "grid", G(recommender_params={"nope": {}}), ValueError, "recommender_params"
    ),
    ApiCase(
        "params-unknown",
        "grid",
        G(recommender_params={"random_forest": {"n_estimatorz": 3}}),
        TypeError,
        r"recommender_params\['random_forest'\].*n_estimatorz",
    ),
    ApiCase(
        "params-scalar",
        "grid",
        G(recommender_params={"markov": 3}),
        TypeError,
        r"recommender_params\['markov'\] must map",
    ),
    # sweep: run_sweep's arguments
    ApiCase(
        "obs-frame",
        "sweep",
        lambda f, t: run_sweep(pd.DataFrame({"a": [1]}), _tiny()),
        TypeError,
        r"observations must be fidelity Observations; got DataFrame",
    ),
    ApiCase(
        "obs-sessions",
        "sweep",
        lambda f, t: run_sweep(make_sessions(n_sessions=50, random_state=0), _tiny()),
        TypeError,
        r"call \.observations\(\) on Sessions",
    ),
    ApiCase(
        "grid-text",
        "sweep",
        lambda f, t: _sweep(t, grid="paper"),  # type: ignore[arg-type]
        TypeError,
        r"grid must be a SweepGrid or None; got str",
    ),
    ApiCase("n-jobs-zero", "sweep", lambda f, t: _sweep(t, n_jobs=0), ValueError, r"n_jobs must"),
    ApiCase("n-jobs-float", "sweep", lambda f, t: _sweep(t, n_jobs=1.5), TypeError, r"n_jobs mu"),
    ApiCase(
        "target-too-big",
        "sweep",
        lambda f, t: _sweep(t, grid=SweepGrid(target_sizes=(5000,)), out=t / "run"),
        ValueError,
        r"target_sizes \[5000\] exceed",
    ),
    ApiCase(
        "out-file",
        "sweep",
        lambda f, t: _sweep(t, out=f["a_file"]),
        NotADirectoryError,
        r"out=.* is a file, not a folder",
    ),
    ApiCase(
        "out-under-file",
        "sweep",
        lambda f, t: _sweep(t, out=Path(f["a_file"]) / "run"),
        NotADirectoryError,
        r"is a file, not a folder",
    ),
    ApiCase("out-int", "sweep", lambda f, t: _sweep(t, out=123), TypeError, r"out must be a fol"),
    # resume: the row store refuses what it must not reuse
    ApiCase("other-data", "resume", _resume(seed=1), ResumeError, r"the data changed", {}),
    ApiCase(
        "other-option",
        "resume",
        _resume(grid=SweepGrid(**{**_tiny().to_dict(), "n_bootstrap": 3})),
        ResumeError,
        r"n_bootstrap changed \(2 -> 3\)",
        {},
    ),
    *[
        ApiCase(damage, "resume", _resume(), ResumeError, says, {"damage": damage})
        for damage, says in [
            ("empty-row", r"not a readable row file"),
            ("copied-row", r"a row file copied or renamed\?"),
            ("bad-manifest", r"not a readable fingerprint manifest"),
            ("no-manifest", r"2 row\(s\) without a fingerprint"),
        ]
    ],
    # pipeline: reproduce checks its options before the sweep
    ApiCase(
        "success-3",
        "pipeline",
        lambda f, t: reproduce(make_sessions(n_sessions=300), _tiny(), out=t / "run", success=3),
        ValueError,
        r"success must be a probability in \(0.5, 1\]; got 3",
    ),
    ApiCase(
        "success-half",
        "pipeline",
        lambda f, t: reproduce(make_sessions(n_sessions=300), _tiny(), out=t / "run", success=0.5),
        ValueError,
        r"success must be a probability",
    ),
    ApiCase(
        "reproduce-out-file",
        "pipeline",
        lambda f, t: reproduce(make_sessions(n_sessions=300), _tiny(), out=f["a_file"]),
        NotADirectoryError,
        r"out=.* is a file",
    ),
    # data: loaders name the file, the column or the parameter
    ApiCase(
        "path-missing",
        "data",
        lambda f, t: load_interactions("/nonexistent.csv", **EV),
        FileNotFoundError,
        r"no such file or directory: '/nonexistent.csv'",
    ),
    ApiCase(
        "time-unit",
        "data",
        lambda f, t: load_interactions(f["events.csv"], time_unit="days", **EV),
        ValueError,
        r"time_unit must be one of .*got 'days'",
    ),
    ApiCase(
        "ms-as-s",
        "data",
        lambda f, t: load_interactions(f["events_ms.csv"], **EV),
        ValueError,
        r"time_col='t'.*time_unit='ms'",
    ),
    ApiCase(
        "header-as-data",
        "data",
        lambda f, t: load_interactions(f["events.csv"], names=["u", "i", "t"], **EV),
        ValueError,
        r"looks like a header",
    ),
    ApiCase(
        "missing-column",
        "data",
        lambda f, t: load_interactions(f["plays.csv"], **EV),
        ValueError,
        r"column\(s\) \['u', 't'\] not found",
    ),
    ApiCase(
        "truncated-gz",
        "data",
        lambda f, t: load_sessions(f["truncated.csv.gz"], session_col="s", item_col="i"),
        ValueError,
        r"truncated\.csv\.gz: cannot parse",
    ),
    ApiCase(
        "corrupt-gz",
        "data",
        lambda f, t: load_sessions(f["corrupt.csv.gz"], session_col="s", item_col="i"),
        ValueError,
        r"corrupt\.csv\.gz",
    ),
    ApiCase(
        "truncated-xz",
        "data",
        lambda f, t: load_sessions(f["truncated.csv.xz"], session_col="s", item_col="i"),
        ValueError,
        r"truncated\.csv\.xz",
    ),
    ApiCase(
        "corrupt-parquet",
        "data",
        lambda f, t: load_sessions(f["corrupt.parquet"], session_col="s", item_col="i"),
        ValueError,
        r"corrupt\.parquet: cannot read the Parquet",
    ),
    ApiCase(
        "empty-file",
        "data",
        lambda f, t: load_sessions(f["empty.csv"], session_col="s", item_col="i"),
        ValueError,
        r"the file is empty",
    ),
    ApiCase(
        "timing-str",
        "data",
        lambda f, t: load_sessions(f["plays.csv"], session_col="s", item_col="i", timing_cols="x"),
        TypeError,
        r"timing_cols must be a sequence of column names, not a str",
    ),
    ApiCase(
        "mssd-junk",
        "data",
        lambda f, t: load_mssd(f["junk.csv"]),
        ValueError,
        r"binary content",
    ),
    ApiCase(
        "gap-negative",
        "data",
        lambda f, t: load_interactions(f["events.csv"], session_gap=-1, **EV),
        ValueError,
        r"session_gap must be a positive duration",
    ),
    ApiCase(
        "gap-text",
        "data",
        lambda f, t: load_interactions(f["events.csv"], session_gap="soon", **EV),
        ValueError,
        r"session_gap must be seconds",
    ),
    # validation helpers shared by the API
    ApiCase(
        "success-bool",
        "validation",
        lambda f, t: check_success("success", True),
        ValueError,
        r"success must be a probability",
    ),
    ApiCase(
        "out-empty",
        "validation",
        lambda f, t: check_output_dir("out", ""),
        ValueError,
        r"out must be a non-empty folder path",
    ),
]


@pytest.mark.parametrize("case", API_CASES, ids=[c.id for c in API_CASES])
def test_api_bad_input(case: ApiCase, files, tmp_path):
    if case.store is not None:
        _store(tmp_path / "run", **case.store)
    before = _snapshot(tmp_path)
    with pytest.raises(case.raises, match=case.says) as err:
        case.call(files, tmp_path)
    assert "\n" not in str(err.value).strip(), str(err.value)
    after = _snapshot(tmp_path)
    changed = {k for k in before if after.get(k) != before[k]}
    assert not changed, changed  # a refused resume leaves the store as it was
    new = set(after) - set(before)
    # and nothing new passes for a finished run
    assert not [p for p in new if Path(p).name in COMPLETE or p.endswith(".png")], new


def test_the_suite_covers_enough_inputs_and_classes():
    cli, api = Counter(c.klass for c in CLI_CASES), Counter(c.klass for c in API_CASES)
    assert len(CLI_CASES) >= 60 and len(API_CASES) >= 40, (len(CLI_CASES), len(API_CASES))
    assert len({c.id for c in CLI_CASES}) == len(CLI_CASES)
    assert len({c.id for c in API_CASES}) == len(API_CASES)
    assert len(cli) >= 9 and len(api) >= 6, (cli, api)


# ----------------------------------------------------------------------------- as root
# The suite runs as root in CI, where no folder or file is unwritable or unreadable; these
# two inputs are made by refusing the permission where the code asks for it.
def test_an_unwritable_out_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    import fidelity._validation as validation

    monkeypatch.setattr(validation.os, "access", lambda path, mode: False)
    code = main(["reproduce", "--out", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "--out=" in err and "no permission to write in" in err
    assert not (tmp_path / "run").exists()


def test_an_unreadable_data_file_is_one_line(tmp_path, capsys, monkeypatch):
    import fidelity.cli.commands as commands  # where the info command loads its data

    def unreadable(args):
        raise PermissionError(13, "Permission denied", args.data)

    monkeypatch.setattr(commands, "load_data", unreadable)
    code = main(["info", "--data", str(tmp_path / "plays.csv"), "--format", "mssd", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"fidelity info: error: Permission denied: '{tmp_path / 'plays.csv'}'\n"
