"""Workers die with their parent; Ctrl-C and a closed pipe end cleanly (issue 16, defect 2).

The signal tests run real processes: a parent that starts two sweep workers (through the
sweep's executor) whose task spins in pure Python, holding the GIL, so only the kernel can
stop them; then the parent is killed.
"""

from __future__ import annotations

import os
import platform
import re
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import BrokenExecutor
from pathlib import Path

import pandas as pd
import pytest

from fidelity import _memory
from fidelity.data.synthetic import make_sessions
from fidelity.experiment import SweepGrid, executors
from fidelity.experiment.executors import execute

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")

PROBE = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path

    def spin(observations, scenario, configs, grid):
        Path(os.environ["PROBE_DIR"], f"{os.getpid()}.started").write_text("")
        x = 0
        while True:  # pure Python: holds the GIL, never returns
            x += 1

    if __name__ == "__main__":
        from fidelity.data.synthetic import make_sessions
        from fidelity.experiment import SweepGrid
        from fidelity.experiment.executors import execute

        observations = make_sessions(n_sessions=200, random_state=0).observations()
        grid = SweepGrid(overlaps=(0.0, 1.0), target_sizes=(20,), recommenders=("markov",))
        for _ in execute(observations, grid, grid.scenarios(), spin, n_jobs=2, scheduler=None):
            pass
    """
)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _wait_for(predicate, timeout: float, step: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def _start_spinning_workers(tmp_path: Path) -> tuple[subprocess.Popen, list[int]]:
    (tmp_path / "probe.py").write_text(PROBE)
    env = {**os.environ, "PROBE_DIR": str(tmp_path), "PYTHONPATH": str(tmp_path)}
    parent = subprocess.Popen([sys.executable, str(tmp_path / "probe.py")], env=env)
    started = _wait_for(lambda: len(list(tmp_path.glob("*.started"))) == 2, timeout=240)
    if not started:
        parent.kill()
        pytest.fail("the two workers did not start within 240 s")
    workers = [int(p.name.split(".")[0]) for p in tmp_path.glob("*.started")]
    assert all(_parent_of(w) == parent.pid for w in workers)
    return parent, workers


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_busy_workers_are_gone_within_seconds_of_their_parents_death(tmp_path, sig):
    parent, workers = _start_spinning_workers(tmp_path)
    assert all(_alive(w) for w in workers)
    os.kill(parent.pid, sig)
    parent.wait(timeout=30)
    try:
        assert _wait_for(lambda: not any(_alive(w) for w in workers), timeout=5), [
            w for w in workers if _alive(w)
        ]
    finally:
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)


def test_die_with_parent_uses_the_kernel_on_linux():
    code = (
        "import os; from fidelity.experiment.executors import die_with_parent; "
        "print(die_with_parent(os.getppid()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "pdeathsig"


def test_die_with_parent_exits_at_once_when_the_parent_is_already_gone():
    code = "from fidelity.experiment.executors import die_with_parent; die_with_parent(1); print(1)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and out.stdout == ""


def _probe(observations, scenario, configs, grid):
    return [{"pid": os.getpid(), "keeps_freed_memory": _memory._applied, "n": len(configs)}]


def test_workers_keep_freed_memory_and_are_other_processes():
    observations = make_sessions(n_sessions=200, random_state=0).observations()
    grid = SweepGrid(overlaps=(0.0, 1.0), target_sizes=(20,), recommenders=("markov",))
    rows = [
        row
        for task_rows in execute(
            observations, grid, grid.scenarios(), _probe, n_jobs=2, scheduler=None
        )
        for row in task_rows
    ]
    assert len(rows) == 2
    assert all(r["pid"] != os.getpid() for r in rows)
    # the worker memory setting still applies (glibc only; see fidelity._memory)
    expected = (
        platform.libc_ver()[0] == "glibc"
        and os.environ.get("FIDELITY_KEEP_FREED_MEMORY", "1").strip() != "0"
    )
    assert all(r["keeps_freed_memory"] is expected for r in rows)


def _dies(observations, scenario, configs, grid):
    os._exit(3)  # a worker killed from outside (out of memory, ...)


def test_a_worker_that_dies_fails_the_sweep_and_takes_the_others_down():
    observations = make_sessions(n_sessions=200, random_state=0).observations()
    grid = SweepGrid(overlaps=(0.0, 0.5, 1.0), target_sizes=(20,), recommenders=("markov",))
    before = set(_children(os.getpid()))
    with pytest.raises(BrokenExecutor):
        for _ in execute(observations, grid, grid.scenarios(), _dies, n_jobs=2, scheduler=None):
            pass
    assert _wait_for(lambda: not (set(_children(os.getpid())) - before), timeout=10)


def _children(pid: int) -> list[int]:
    """Live worker processes of ``pid`` (not the resource trackers, which outlive a pool)."""
    found = []
    for p in Path("/proc").iterdir():
        if not (p.name.isdigit() and _safe_parent(int(p.name)) == pid and _alive(int(p.name))):
            continue
        try:
            cmdline = (p / "cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:
            found.append(int(p.name))
    return found


INTERRUPTED = re.compile(
    r"^interrupted: (\d+) of (\d+) configurations saved; rerun the same command to resume$"
)


@pytest.mark.slow
def test_ctrl_c_prints_one_line_exits_130_and_the_rerun_resumes(tmp_path):
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "fidelity", "reproduce", "--sessions", "1500", "--quick"]
    argv += ["--n-jobs", "2", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, start_new_session=True)
    rows = out / "rows"
    if not _wait_for(lambda: len(list(rows.glob("*.parquet"))) >= 1, timeout=400, step=0.2):
        proc.kill()
        pytest.fail("no row within 400 s")
    workers = _children(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C: the whole group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    match = INTERRUPTED.match(lines[0])
    assert match, lines[0]
    n_saved, n_total = map(int, match.groups())
    assert n_total == 6 and 1 <= n_saved < n_total
    assert len(list(rows.glob("*.parquet"))) == n_saved
    assert not (out / "results.csv").exists() and not (out / "report.html").exists()
    assert _wait_for(lambda: not any(_alive(w) for w in workers), timeout=5)

    rerun = subprocess.run(argv, capture_output=True, text=True, timeout=1200)
    assert rerun.returncode == 0, rerun.stderr
    assert len(pd.read_csv(out / "results.csv")) == n_total


def _safe_parent(pid: int) -> int | None:
    try:
        return _parent_of(pid)
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def test_a_closed_stdout_exits_141_without_a_traceback():
    proc = subprocess.Popen(
        [sys.executable, "-m", "fidelity", "info", "--sessions", "200", "--json", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # like `| head -0`: the reader is gone before anything is written
    err = proc.stderr.read()
    proc.wait(timeout=300)
    assert proc.returncode == 141, err
    assert err == ""


def test_the_resource_tracker_starts_quiet_and_the_environment_is_restored(monkeypatch):
    for before in (None, "default"):
        if before is None:
            monkeypatch.delenv("PYTHONWARNINGS", raising=False)
        else:
            monkeypatch.setenv("PYTHONWARNINGS", before)
        with executors._quiet_resource_tracker():
            inside = os.environ["PYTHONWARNINGS"].split(",")
            assert inside[-1] == "ignore:resource_tracker:UserWarning"
            assert inside[:-1] == ([] if before is None else [before])
        assert os.environ.get("PYTHONWARNINGS") == before
