"""Out-of-core MI(H;O) over synthetic MSSD-format Parquet on a local Dask cluster.

For each data size (plays), the script writes synthetic MSSD Parquet partitions (once;
kept under ``--data-dir``, delete them with ``--cleanup``) and times
``partitioned_mutual_information(scan_mssd(dir), random_state=0)`` (observation value: the
pair (s, s'); provider split: a seeded hash of the session id) in several variants, each in
a fresh process with a fresh ``LocalCluster`` (processes, one thread per worker, Dask's
default worker settings), all in the same run:

- ``projected``: the code as it is: only the columns the MI needs are read (session id,
  position, song, ``session_length`` for the whole-sessions check), string columns
  straight from the Parquet dictionary;
- ``all-columns``: the same code made to read and convert all 16 default MSSD timing
  columns (the projection switched off, :meth:`LazySessions.with_frame`);
- ``rev:<git revision>`` (``--baseline-rev``): the package as it was at that revision
  (exported with ``git archive`` under ``--data-dir``), the full-column reading path
  before column projection;
- the in-memory path (``load_mssd`` + ``split_by_hash`` + ``mutual_information``) for
  sizes up to ``--eager-max`` plays.

Every variant's MI must equal the projected one exactly (asserted). Printed per variant:
seconds, plays/s, the peak resident memory of each worker (``ru_maxrss``), the CPU
seconds the workers and the client process (which hosts the scheduler of a
``LocalCluster``) spent (``getrusage``), and the ratio
of peak worker memory between consecutive sizes (flat = close to 1 while the data grow
10x). The load average is printed before and after each size: time on a quiet machine.

Usage::

    .venv/bin/python benchmarks/bench_scale.py                 # 10^6 and 10^7 plays
    .venv/bin/python benchmarks/bench_scale.py --sizes 1e7 1e8 --baseline-rev 456885e
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tarfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEAN_SESSION_LENGTH = 0.5 * 20 + 0.5 * 14.5  # write_mssd_parquet: half 20, half 10..19
PARTITION_SESSIONS = 20_000  # about 345,000 plays per partition, at every size


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


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
            show_progress=False,
            overwrite=True,
        )
        seconds = time.perf_counter() - start
        n = sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("part-*.parquet"))
        done.write_text(json.dumps({"plays": n, "write_s": seconds}))
    info = json.loads(done.read_text())
    return folder, int(info["plays"]), float(info["write_s"])


def _warm() -> None:
    """Imports and numba kernels (from the on-disk cache) loaded in a process before timing."""
    import dask.dataframe  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from fidelity.data.synthetic import make_sessions
    from fidelity.histograms import ObservationHistogram
    from fidelity.split import split_by_hash

    obs = make_sessions(20, 5, 10, random_state=0).observations()
    hist = ObservationHistogram.from_observations(*split_by_hash(obs, random_state=0))
    hist.merge(hist)
    hist.merge(hist, hist)


def run_partitioned(folder: Path, n_workers: int, all_columns: bool) -> dict:
    """One timed partitioned MI on a fresh LocalCluster (run in its own process)."""
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
        client.run(_warm)  # imports and numba kernels loaded in every worker before timing
        _warm()
        workers_cpu = sum(client.run(_cpu_s).values())
        client_cpu = _cpu_s()  # LocalCluster: the scheduler runs in this process
        start = time.perf_counter()
        lazy = scan_mssd(folder)
        if all_columns:
            lazy = lazy.with_frame(lazy.frame)  # an opaque frame: read every column
        est = partitioned_mutual_information(lazy, random_state=0)
        seconds = time.perf_counter() - start
        cpu = {
            "workers": sum(client.run(_cpu_s).values()) - workers_cpu,
            "client_scheduler": _cpu_s() - client_cpu,
        }
        peaks = client.run(_peak_rss_mb)
        return {
            "seconds": seconds,
            "mi": est.plugin,
            "n_values": est.n_values,
            "n_obs": est.n_adversary + est.n_target,
            "partitions": lazy.n_partitions,
            "worker_peak_mb": sorted(peaks.values()),
            "cpu_s": cpu,
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


def _last_json(cmd: list[str], env: dict | None = None) -> dict:
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_eager(folder: Path) -> dict:
    return _last_json([sys.executable, "-c", _EAGER, str(folder)])


def baseline_source(root: Path, rev: str) -> Path:
    """The package at git revision ``rev``, exported (once) under ``root``."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", rev],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE,
    ).stdout.strip()
    target = root / f"src-{sha}"
    if not (target / "fidelity").is_dir():
        archive = root / f"src-{sha}.tar"
        with open(archive, "wb") as fh:
            subprocess.run(
                ["git", "archive", sha, "fidelity"], stdout=fh, check=True, cwd=HERE.parent
            )
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
        archive.unlink()
    return target


def run_variant(variant: str, folder: Path, args: argparse.Namespace) -> dict:
    """Run one variant in a fresh process (the baseline revision on its PYTHONPATH)."""
    cmd = [sys.executable, __file__, "--one", str(folder), "--workers", str(args.workers)]
    env = dict(os.environ)
    if variant == "all-columns":
        cmd.append("--all-columns")
    elif variant.startswith("rev:"):
        source = baseline_source(Path(args.data_dir), variant[4:])
        env["PYTHONPATH"] = os.pathsep.join([str(source), env.get("PYTHONPATH", "")])
    return _last_json(cmd, env)


def _row_line(plays: int, name: str, part: dict) -> str:
    peaks = ", ".join(f"{m:.0f}" for m in part["worker_peak_mb"])
    cpu = part["cpu_s"]
    return (
        f"{plays:>12,d} plays  {name:>16s}  {part['partitions']:>3d} partitions  "
        f"{part['seconds']:7.1f} s  {plays / part['seconds']:>11,.0f} plays/s  "
        f"worker peak MB: {peaks}  CPU s: workers {cpu['workers']:.1f}, client+scheduler "
        f"{cpu['client_scheduler']:.1f}  MI={part['mi']:.6f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data-dir", default=str(HERE / "_data" / "scale"))
    parser.add_argument("--eager-max", type=float, default=1e7, help="largest in-memory baseline")
    parser.add_argument(
        "--no-all-columns", action="store_true", help="skip the all-columns variant"
    )
    parser.add_argument(
        "--baseline-rev", default=None, help="also time the package at this git revision"
    )
    parser.add_argument("--cleanup", action="store_true", help="delete the data afterwards")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--all-columns", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.one is not None:  # one variant, in this process
        import fidelity

        result = run_partitioned(Path(args.one), args.workers, args.all_columns)
        result["package"] = str(Path(fidelity.__file__).parent)
        print(json.dumps(result))
        return
    root = Path(args.data_dir)
    root.mkdir(parents=True, exist_ok=True)
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    print(f"workers: {args.workers} processes x 1 thread; data under {root}")
    variants = ["projected"] + ["all-columns"] * (not args.no_all_columns)
    if args.baseline_rev:
        variants.append(f"rev:{args.baseline_rev}")
    rows = []
    try:
        for size in args.sizes:
            folder, plays, write_s = ensure_data(root, int(size))
            print(f"load average before {plays:,d} plays: {_load()}", flush=True)
            row = {"plays": plays, "write_s": write_s, "variants": {}}
            for variant in variants:
                part = run_variant(variant, folder, args)
                part["plays_per_s"] = plays / part["seconds"]
                row["variants"][variant] = part
                print(_row_line(plays, variant, part) + f"  [{part['package']}]", flush=True)
                assert part["mi"] == row["variants"]["projected"]["mi"], variant  # exactly
            if size <= args.eager_max:
                eager = run_eager(folder)
                row["eager"] = eager
                assert eager["mi"] == row["variants"]["projected"]["mi"]  # exactly the same MI
                print(
                    f"{plays:>12,d} plays  {'in-memory':>16s}  {eager['seconds']:.1f} s  "
                    f"{plays / eager['seconds']:>11,.0f} plays/s  peak MB {eager['peak_mb']:.0f}",
                    flush=True,
                )
            print(f"load average after: {_load()}", flush=True)
            base = row["variants"]["projected"]["seconds"]
            ratios = ", ".join(
                f"{name} {part['seconds'] / base:.2f}x"
                for name, part in row["variants"].items()
                if name != "projected"
            )
            if "eager" in row:
                ratios += f", in-memory {row['eager']['seconds'] / base:.2f}x"
            if ratios:
                print(f"time relative to projected: {ratios}")
            rows.append(row)
        for a, b in itertools.pairwise(rows):
            grow = b["plays"] / a["plays"]
            for name in variants:
                pa, pb = a["variants"][name], b["variants"][name]
                ratio = max(pb["worker_peak_mb"]) / max(pa["worker_peak_mb"])
                print(
                    f"{name}: data x{grow:.1f}: max worker peak memory x{ratio:.2f}; "
                    f"throughput x{pb['plays_per_s'] / pa['plays_per_s']:.2f}"
                )
        print(json.dumps(rows, default=float))
    finally:
        if args.cleanup:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
