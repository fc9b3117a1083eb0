"""The ``fidelity`` command, through its entry point (``main``) and ``python -m fidelity``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fidelity.cli import main
from fidelity.data import make_sessions


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_command_has_help(capsys):
    for command in ("reproduce", "safe-session", "info", "attack", "synth"):
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0
        assert f"usage: fidelity {command}" in capsys.readouterr().out


def test_info_json_on_synthetic_data(capsys):
    code, out, _ = run(capsys, "info", "--sessions", "300", "--json", "--quiet")
    assert code == 0
    summary = json.loads(out)
    # 300 listening sessions drawn; the catalog cut splits some and empties a few
    assert 250 < summary["sessions"]["users"] <= 300 <= summary["sessions"]["sessions"]
    sessions = summary["sessions"]
    assert summary["observations"]["observations"] == sessions["plays"] - sessions["sessions"]
    assert 0 < summary["statistics"]["markov_top1"] < 1


def test_info_reads_a_sessions_file_and_keeps_top_items(capsys, tmp_path):
    frame = make_sessions(n_sessions=200, random_state=1).to_frame(original_ids=True)
    path = tmp_path / "plays.csv"
    frame.rename(columns={"session": "sid", "item": "song"}).to_csv(path, index=False)
    code, out, _ = run(
        capsys, "info", "--data", str(path), "--format", "sessions", "--session-col", "sid",
        "--item-col", "song", "--timing-cols", "skip,pause", "--n-items", "50", "--json",
        "--quiet",
    )  # fmt: skip
    assert code == 0
    summary = json.loads(out)
    assert summary["sessions"]["item_vocabulary"] == 50
    assert summary["sessions"]["timing_features"] == 2


def test_safe_session_json_has_the_key(capsys):
    code, out, _ = run(
        capsys, "safe-session", "--sessions", "400", "--repeats", "2", "--permutations", "0",
        "--recommender", "markov", "--grid", "1,5", "--bootstrap", "20", "--json", "--quiet",
    )  # fmt: skip
    assert code == 0
    # the validated size leads; the paper's extrapolated Fano size follows
    assert isinstance(json.loads(out)["validated"]["validated_safe_size"], int)
    result = json.loads(out)["paper_extrapolation"]
    assert isinstance(result["safe_session_size"], int)
    assert result["safe_session_size_low"] <= result["safe_session_size"]
    assert result["safe_session_size"] <= result["safe_session_size_high"]


def test_attack_json_has_the_user_level_numbers(capsys):
    code, out, _ = run(
        capsys, "attack", "--sessions", "600", "--target-size", "60", "--recommender",
        "markov", "--bootstrap", "20", "--json", "--quiet",
    )  # fmt: skip
    assert code == 0
    result = json.loads(out)
    for key in ("auc", "tpr_at_1pct_fpr", "tpr_at_0.1pct_fpr", "advantage"):
        assert 0 <= result[key] <= 1
        assert result[f"{key}_ci_low"] <= result[key] + 1e-12
        assert result[f"{key}_ci_high"] >= result[key] - 1e-12


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["info", "--data", "/nonexistent/plays.csv"], "no such file or directory"),
        (["info", "--data", "x.csv", "--format", "sessions"], "--session-col, --item-col"),
        (["info", "--format", "mssd"], "--format needs --data"),
        (["info", "--sessions", "0"], "--sessions must be an integer >= 1"),
        (["attack", "--sessions", "200", "--overlap", "2"], "--overlap must be in [0.0, 1.0]"),
        (["attack", "--sessions", "200", "--target-size", "500"], "target_size must be at most"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, _, err = run(capsys, *argv, "--quiet")
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_bad_file_format_names_the_problem(capsys, tmp_path):
    junk = tmp_path / "log.csv"
    junk.write_bytes(b"\x00\x01\x02garbage\xff\xfe")
    code, _, err = run(capsys, "info", "--data", str(junk), "--quiet")
    assert code == 2
    assert err.startswith("fidelity info: error:")


def test_python_dash_m_entry_point_reports_bad_input():
    proc = subprocess.run(
        [sys.executable, "-m", "fidelity", "info", "--data", "/nonexistent.csv", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "no such file or directory" in proc.stderr


@pytest.mark.slow
def test_reproduce_writes_results_figures_report_and_json(capsys, tmp_path):
    out = tmp_path / "run"
    code, stdout, _ = run(
        capsys, "reproduce", "--sessions", "800", "--quick", "--n-jobs", "1", "--out",
        str(out), "--quiet", "--json",
    )  # fmt: skip
    assert code == 0
    summary = json.loads(stdout)
    assert (out / "report.html").is_file()
    assert (out / "results.csv").is_file() and (out / "results.parquet").is_file()
    payload = json.loads((out / "results.json").read_text())
    assert (
        payload["safe_session"]["safe_session_size"] == summary["safe_session"]["safe_session_size"]
    )
    assert len(payload["results"]) == 3 * 2
    for name, paths in summary["figures"].items():
        assert {p.rsplit(".", 1)[1] for p in paths} == {"png", "svg"}, name
    assert {"tp_rate", "fp_rate", "mi", "roc", "safe_session"} <= set(summary["figures"])


def test_synth_writes_partitions_that_load_mssd_reads(capsys, tmp_path):
    from fidelity.data import load_mssd

    out = tmp_path / "mssd"
    argv = ["synth", "--sessions", "250", "--partition-size", "100", "--out", str(out)]
    code, stdout, _ = run(capsys, *argv, "--n-items", "40", "--quiet")
    assert code == 0 and "wrote 3 partition(s)" in stdout
    sessions = load_mssd(out)
    assert sessions.n_sessions == 250
    assert sessions.n_items <= 3 * 40
    # a second run into the same folder is refused unless --overwrite
    code, _, err = run(capsys, *argv, "--quiet")
    assert code == 2 and "overwrite" in err
    assert run(capsys, *argv, "--overwrite", "--quiet")[0] == 0
