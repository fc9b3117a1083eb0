"""Run every benchmark in turn (``make bench``); each prints its own ratios.

``--quick`` passes each script its smallest setting (a smoke run of the harness, not a
measurement to record). Results worth keeping go to ``benchmarks/README.md`` by hand, with
the command and the machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SCRIPTS = {
    "bench_synthetic.py": ([], ["--repeat", "1"]),
    "bench_loaders.py": ([], ["--repeat", "1"]),
    "bench_core.py": ([], ["--quick"]),
    "bench_recommenders.py": ([], ["--scales", "1", "--models", "markov", "random_forest"]),
    "reproduce_paper.py": ([], ["--quick", "--data-only", "synthetic"]),
    "bench_scale.py": ([], ["--sizes", "1e5", "1e6"]),
    "bench_cli_startup.py": ([], ["--repeat", "2"]),
    "bench_session_curve.py": ([], ["--quick"]),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smallest setting of each script")
    parser.add_argument("only", nargs="*", help="run only these scripts")
    args = parser.parse_args()
    failed = []
    for script, (full, quick) in SCRIPTS.items():
        if args.only and script not in args.only:
            continue
        cmd = [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        print(f"\n=== {' '.join(cmd[1:])}", flush=True)
        start = time.perf_counter()
        code = subprocess.call(cmd, cwd=HERE.parent)
        print(f"=== {script}: exit {code} after {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(script)
    if failed:
        print(f"failed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
