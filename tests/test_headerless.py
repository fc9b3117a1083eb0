"""Headerless files, time units and duplicates (issue 16, defects 3 and 6).

The README's MovieLens example gives the right numbers; a header row read as data is
refused; epoch times in the wrong unit are caught; duplicated rows and options that do not
apply are named in a warning, printed once.
"""

from __future__ import annotations

import json
import re
import shlex
import warnings
from pathlib import Path

import pandas as pd
import pytest

from fidelity import FidelityWarning
from fidelity._validation import warn
from fidelity.cli import commands, main
from fidelity.data import load_interactions, load_sessions

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_info_command() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    joined = "\n".join(blocks).replace("\\\n", " ")
    (line,) = [ln for ln in joined.splitlines() if ln.startswith("fidelity info --data u.data")]
    return shlex.split(line)[1:]


def _sessions(capsys, argv: list[str]) -> dict:
    code = main([*argv, "--json", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


@pytest.mark.realdata
def test_readme_movielens_example_gives_2692_sessions(shared_data, capsys):
    path = shared_data / "movielens-100k" / "u.data"
    argv = [str(path) if a == "u.data" else a for a in _readme_info_command()]
    assert "--session-gap" in argv and argv[argv.index("--session-gap") + 1] == "3600"
    summary = _sessions(capsys, argv)
    raw = pd.read_csv(path, sep="\t", header=None, names=["u", "i", "r", "t"])
    raw = raw.sort_values(["u", "t"], kind="stable")
    expected = int((raw.u.ne(raw.u.shift()) | (raw.t.diff() > 3600)).sum())
    assert summary["sessions"]["sessions"] == expected == 2692
    assert summary["sessions"]["users"] == 943
    assert summary["sessions"]["plays"] == 100_000
    # the same by column position
    positions = ["--user-col", "0", "--item-col", "1", "--time-col", "3", "--session-gap", "3600"]
    by_position = _sessions(
        capsys, ["info", "--data", str(path), "--format", "interactions", "--no-header", *positions]
    )
    assert by_position["sessions"] == summary["sessions"]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


UDATA = "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t377\t1\t878887116\n"
UDATA_WITH_HEADER = "user\titem\trating\ttime\n" + UDATA


def test_names_read_a_headerless_file(tmp_path):
    path = _write(tmp_path / "u.data", UDATA)
    s = load_interactions(
        path, user_col="user", item_col="item", time_col="time", names=["user", "item", "r", "time"]
    )
    assert s.n_plays == 3 and s.n_users == 2


@pytest.mark.parametrize("names", [["user", "item", "rating", "time"], ["0", "1", "2", "3"]])
def test_a_header_row_read_as_data_is_refused(tmp_path, names):
    path = _write(tmp_path / "u.tsv", UDATA_WITH_HEADER)
    user, item, time = names[0], names[1], names[3]
    with pytest.raises(ValueError, match=r"the first row .* looks like a header"):
        load_interactions(path, user_col=user, item_col=item, time_col=time, names=names)


def test_a_header_row_read_as_data_is_refused_for_sessions(tmp_path):
    path = _write(tmp_path / "plays.csv", "session,song,pos\n1,10,0\n1,11,1\n2,10,0\n")
    with pytest.raises(ValueError, match="looks like a header"):
        load_sessions(
            path,
            session_col="session",
            item_col="song",
            order_col="pos",
            names=["session", "song", "pos"],
        )


def test_string_ids_without_header_are_not_taken_for_a_header(tmp_path):
    path = _write(tmp_path / "plays.csv", "s1,song_a\ns1,song_b\ns2,song_a\n")
    s = load_sessions(path, session_col="s", item_col="i", names=["s", "i"])
    assert s.n_plays == 3


MS = "1,10,1600000000000\n1,11,1600000360000\n2,10,1600000000000\n"


def test_millisecond_epochs_read_as_seconds_are_refused_naming_the_unit(tmp_path):
    path = _write(tmp_path / "ms.csv", MS)
    kw = dict(user_col="u", item_col="i", time_col="t", names=["u", "i", "t"])
    with pytest.raises(ValueError, match=r"time_col='t'.*year 52671.*time_unit='ms'"):
        load_interactions(path, **kw)
    s = load_interactions(path, time_unit="ms", session_gap=60, **kw)
    assert s.n_sessions == 3  # 6 minutes apart: two sessions for user 1


def test_second_epochs_read_as_milliseconds_warn(tmp_path):
    path = _write(tmp_path / "s.csv", "1,10,1600000000\n1,11,1600000360\n")
    with pytest.warns(FidelityWarning, match=r"January 1970.*time_unit='s'"):
        load_interactions(
            path, user_col="u", item_col="i", time_col="t", names=["u", "i", "t"], time_unit="ms"
        )


def test_bad_time_unit_is_named(tmp_path):
    path = _write(tmp_path / "s.csv", "1,10,1600000000\n")
    with pytest.raises(ValueError, match=r"time_unit must be one of .*; got 'days'"):
        load_interactions(
            path, user_col="u", item_col="i", time_col="t", names=["u", "i", "t"], time_unit="days"
        )


def test_cli_time_unit(tmp_path, capsys):
    path = _write(tmp_path / "ms.csv", "u,i,t\n" + MS)
    base = ["info", "--data", str(path), "--format", "interactions"]
    base += ["--user-col", "u", "--item-col", "i", "--time-col", "t", "--session-gap", "600"]
    assert main([*base, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "time_unit='ms'" in err
    assert _sessions(capsys, [*base, "--time-unit", "ms"])["sessions"]["sessions"] == 2


def test_duplicated_events_warn_with_their_count(tmp_path):
    path = _write(tmp_path / "d.csv", "u,i,t\n1,10,5\n1,10,5\n1,11,9\n1,11,9\n2,3,1\n")
    with pytest.warns(FidelityWarning, match=r"load_interactions: 2 row\(s\) repeat the user"):
        s = load_interactions(path, user_col="u", item_col="i", time_col="t", time_unit=None)
    assert s.n_plays == 5  # kept, not dropped silently


def test_duplicated_plays_warn_with_their_count(tmp_path):
    path = _write(tmp_path / "p.csv", "s,i,o\n1,10,0\n1,11,1\n1,11,1\n2,3,0\n")
    with pytest.warns(FidelityWarning, match=r"load_sessions: 1 row\(s\) repeat the values"):
        load_sessions(path, session_col="s", item_col="i", order_col="o")
    # a tie on the order with another song is not a duplicate
    tie = _write(tmp_path / "tie.csv", "s,i,o\n1,10,0\n1,11,0\n2,3,0\n2,4,1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_sessions(tie, session_col="s", item_col="i", order_col="o")


def test_a_file_given_twice_in_a_folder_warns(tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    _write(folder / "a.csv", "s,i\n1,10\n1,11\n")
    _write(folder / "b.csv", "s,i\n1,10\n1,11\n")
    with pytest.warns(FidelityWarning, match=r"b.csv has the same content as .*a.csv"):
        load_sessions(folder, session_col="s", item_col="i")


def test_no_warning_for_clean_data(tmp_path):
    path = _write(tmp_path / "ok.csv", "u,i,t\n1,10,5\n1,11,9\n2,3,1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_interactions(path, user_col="u", item_col="i", time_col="t", time_unit=None)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--session-gap", "60"], "--session-gap does not apply to --format sessions"),
        (["--time-col", "t"], "--time-col does not apply to --format sessions"),
        (["--sessions", "50"], "--sessions applies to the synthetic data only"),
    ],
)
def test_options_that_do_not_apply_warn_once(tmp_path, capsys, extra, named):
    path = _write(tmp_path / "p.csv", "s,i\n1,10\n1,11\n1,12\n2,3\n2,4\n")
    argv = ["info", "--data", str(path), "--format", "sessions", "--session-col", "s"]
    argv += ["--item-col", "i", *extra, "--json"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count(named) == 1, err


def test_timing_cols_with_mssd_warn_once(capsys, shared_data):
    path = shared_data / "mssd-mini-partial" / "from-christiansprecher" / "very_small.csv"
    assert main(["info", "--data", str(path), "--timing-cols", "skip_1", "--json"]) == 0
    err = capsys.readouterr().err
    assert err.count("--timing-cols does not apply to --format mssd") == 1, err


@pytest.mark.parametrize("verbose", [False, True])
def test_a_warning_repeated_by_the_library_is_printed_once(monkeypatch, capsys, verbose):
    real = commands.calibration_stats

    def stats_that_warn_twice(sessions):
        warn("the same warning, twice")
        warn("the same warning, twice")
        return real(sessions)

    monkeypatch.setattr(commands, "calibration_stats", stats_that_warn_twice)
    argv = ["info", "--sessions", "50", "--json", *(["--verbose"] if verbose else [])]
    assert main(argv) == 0
    assert capsys.readouterr().err.count("the same warning, twice") == 1
