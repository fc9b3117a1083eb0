"""Start-up time of the ``fidelity`` command (issue: ``fidelity --help`` under 1 s warm).

Runs each command line several times in fresh processes (the first run warms the OS file
cache and numba's cache and is not counted) and prints the best and median wall time, and
the ratio to a bare ``python -c pass`` measured in the same run.

    .venv/bin/python benchmarks/bench_cli_startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
CASES = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "fidelity --version": [str(BIN / "fidelity"), "--version"],
    "fidelity --help": [str(BIN / "fidelity"), "--help"],
    "fidelity info --help": [str(BIN / "fidelity"), "info", "--help"],
    "fidelity attack --help": [str(BIN / "fidelity"), "attack", "--help"],
}


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per command line")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    results = {}
    for name, cmd in CASES.items():
        _time(cmd)  # warm-up
        runs = [_time(cmd) for _ in range(args.repeat)]
        results[name] = (min(runs), statistics.median(runs))
    base = results["python -c pass (baseline)"][0]
    print(f"{'command':<28} {'best s':>8} {'median s':>9} {'x python':>9}")
    for name, (best, med) in results.items():
        print(f"{name:<28} {best:8.3f} {med:9.3f} {best / base:9.1f}")
    slow = results["fidelity --help"][0] >= 1.0
    print("fidelity --help under 1 s warm:", "no" if slow else "yes")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
