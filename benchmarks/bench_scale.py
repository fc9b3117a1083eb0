"""Out-of-core MI(H;O) over synthetic MSSD-format Parquet on a local Dask cluster.

For each data size (plays), the script writes synthetic MSSD Parquet partitions (once;
kept under ``--data-dir``), starts a fresh ``LocalCluster`` (processes, one thread per
worker), and times ``partitioned_mutual_information(scan_mssd(dir))`` (all 16 default
MSSD timing columns are read and converted; the observation value is the pair (s, s'),
the provider split a seeded hash of the session id). It prints plays/s and the peak
resident memory of each worker (``ru_maxrss`` of the worker process, fresh per size),
and the ratio of peak worker memory between consecutive sizes (flat = close to 1 while
the data grow 10x). As a baseline measured in the same run, the in-memory path
(``load_mssd`` + ``split_by_hash`` + ``mutual_information``) runs in a subprocess for
sizes up to ``--eager-max`` plays, with its own peak memory.

Usage::

    .venv/bin/python benchmarks/bench_scale.py                 # 10^6 and 10^7 plays
    .venv/bin/python benchmarks/bench_scale.py --sizes 1e7 1e8 # needs ~1 GB disk, long
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

MEAN_SESSION_LENGTH = 0.5 * 20 + 0.5 * 14.5  # write_mssd_parquet: half 20, half 10..19
PARTITION_SESSIONS = 20_000  # about 345,000 plays per partition, at every size


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def ensure_data(root: Path, plays: int) -> tuple[Path, int, float]:
    """Write (once) about ``plays`` plays; return the folder, exact plays, seconds taken."""
    import pyarrow.parquet as pq

    from fidelity.data import write_mssd_parquet

    folder = root / f"mssd-{plays:.0e}".replace("+", "")
    done = folder / "_DONE"
    seconds = 0.0
    if not done.exists():
        n_sessions = round(plays / MEAN_SESSION_LENGTH)
        start = time.perf_counter()
        write_mssd_parquet(
            folder,
            n_sessions=n_sessions,
            partition_size=PARTITION_SESSIONS,
            random_state=0,
            show_progress=True,
            overwrite=True,
        )
        seconds = time.perf_counter() - start
        n = sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("part-*.parquet"))
        done.write_text(json.dumps({"plays": n, "write_s": seconds}))
    info = json.loads(done.read_text())
    return folder, int(info["plays"]), float(info["write_s"])


def run_partitioned(folder: Path, n_workers: int) -> dict:
    from distributed import Client, LocalCluster

    from fidelity.data.lazy import scan_mssd
    from fidelity.partitioned import partitioned_mutual_information

    with (
        LocalCluster(
            n_workers=n_workers,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            memory_limit=0,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: __import__("fidelity.core"))  # numba kernels loaded before timing
        client.run(lambda: __import__("fidelity.partitioned"))
        start = time.perf_counter()
        lazy = scan_mssd(folder)
        est = partitioned_mutual_information(lazy, random_state=0)
        seconds = time.perf_counter() - start
        peaks = client.run(_peak_rss_mb)
        return {
            "seconds": seconds,
            "mi": est.plugin,
            "n_values": est.n_values,
            "n_obs": est.n_adversary + est.n_target,
            "partitions": lazy.n_partitions,
            "worker_peak_mb": sorted(peaks.values()),
        }


_EAGER = """
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
from fidelity.data import load_mssd
from fidelity.split import split_by_hash
from fidelity.information import mutual_information
start = time.perf_counter()
obs = load_mssd(sys.argv[1]).observations()
est = mutual_information(*split_by_hash(obs, random_state=0), n_permutations=0)  # plug-in, no null
print(json.dumps({"seconds": time.perf_counter() - start, "mi": est.plugin,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_eager(folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _EAGER, str(folder)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data-dir", default=str(Path(__file__).parent / "_data" / "scale"))
    parser.add_argument("--eager-max", type=float, default=1e7, help="largest in-memory baseline")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    root = Path(args.data_dir)
    root.mkdir(parents=True, exist_ok=True)
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, python {platform.python_version()}")
    print(f"workers: {args.workers} processes x 1 thread; data under {root}")
    rows = []
    for size in args.sizes:
        folder, plays, write_s = ensure_data(root, int(size))
        part = run_partitioned(folder, args.workers)
        row = {"plays": plays, "write_s": write_s, **part}
        row["plays_per_s"] = plays / part["seconds"]
        if size <= args.eager_max:
            eager = run_eager(folder)
            row["eager"] = eager
            assert eager["mi"] == part["mi"], (eager["mi"], part["mi"])  # exactly the same MI
        rows.append(row)
        peaks = ", ".join(f"{m:.0f}" for m in part["worker_peak_mb"])
        line = (
            f"{plays:>12,d} plays  {part['partitions']:>3d} partitions  {part['seconds']:7.1f} s  "
            f"{row['plays_per_s']:>12,.0f} plays/s  worker peak MB: {peaks}  "
            f"MI={part['mi']:.6f}  values={part['n_values']:,d}"
        )
        if "eager" in row:
            line += (
                f"  | in-memory: {row['eager']['seconds']:.1f} s, "
                f"peak {row['eager']['peak_mb']:.0f} MB"
            )
        print(line, flush=True)
    for a, b in itertools.pairwise(rows):
        grow = b["plays"] / a["plays"]
        ratio = max(b["worker_peak_mb"]) / max(a["worker_peak_mb"])
        msg = f"data x{grow:.1f}: max worker peak memory x{ratio:.2f}"
        if "eager" in a and "eager" in b:
            msg += f" (in-memory baseline x{b['eager']['peak_mb'] / a['eager']['peak_mb']:.2f})"
        msg += f"; throughput x{b['plays_per_s'] / a['plays_per_s']:.2f}"
        print(msg)
    print(json.dumps(rows, default=float))


if __name__ == "__main__":
    main()
