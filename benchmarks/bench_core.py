"""Benchmark of the numba core: MI(H;O) and match-hit counting against pandas and scikit-learn.

Every measurement runs in a fresh subprocess (``--worker``), so that its peak memory is
its own. Peak memory is the Linux peak resident set size (``VmHWM`` of
``/proc/self/status``), reset with ``/proc/self/clear_refs`` just before the timed
operation; "working memory" is that peak minus the resident size just before the
operation (the inputs are already resident), reported as a multiple of the input
arrays' bytes. tracemalloc is not used: it does not see numba's allocations.

MI (balanced: n/2 observations per holder, or ``--per-holder`` each, item codes skewed
towards popular songs, next item = item + a small offset whose distribution differs
slightly between A and T):

- ``fidelity``: ``pack_codes(compact=True)`` (uint32 keys when the key space allows) +
  ``joint_counts_sorting`` (dense tables for small key spaces, else an in-place sort of
  the packed keys; one merging pass) + ``mi_from_counts``: the core calls of the lean
  path of ``mutual_information``;
- ``fidelity-sort``: the same with ``method="sort"`` (the path before the dense tables);
- ``fidelity-fused``: ``joint_counts_columns`` (codes packed, range-checked and counted
  in one pass) + ``mi_from_counts``;
- ``fidelity-e2e``: ``fidelity.information.mutual_information(adversary, target)`` on
  ``Observations`` built from the same arrays plus user codes (rows grouped by user, 15
  per user, half of each holder's users also in the other), the public call without
  resampling (feature encoding, counting, MI, Miller-Madow, users of each holder and
  common users): it reads the two user columns as well, half as many bytes again;
- ``fidelity-hash``: ``pack_codes`` + the open-addressing hash count ``joint_counts``;
- ``bandwidth``: ``np.add.reduce`` of each of the four int64 input arrays (one read of
  the inputs: the memory-bandwidth reference, not an MI);
- ``bandwidth-e2e``: the same over the six arrays the public call reads (the four code
  columns and the two user columns);
- ``pandas-groupby``: DataFrame of (holder, item, next_item), ``groupby().size().unstack()``,
  MI with NumPy from the counts (the natural pandas implementation);
- ``pandas-value_counts``: keys packed with NumPy, ``Series.value_counts`` per holder,
  aligned, MI with NumPy (a stronger pandas baseline);
- ``sklearn``: ``mutual_info_score(holder, item * C + next_item) / ln 2``;
- ``pandas-e2e``: what the public call returns, with pandas: ``pandas-value_counts``, the
  users of each holder by ``pd.unique``, the common users by ``Index.intersection``.

Hit counting (top-k lists, ``--k``, default 1 as in the paper's match attack; about 30 % of
rows contain the next item; rows grouped by user as in ``Observations``, ~15 per user,
user codes spread up to 10^8):

- ``fidelity``: ``topk_hits`` + ``confusion_counts`` + per-user hit counts
  (``fidelity.metrics.user_scores``: one pass over grouped rows);
- ``pandas``: ``DataFrame(recs).eq(next, axis=0).any(axis=1)``, ``groupby(user).sum()``,
  confusion by ``value_counts`` of (hit, member);
- ``numpy``: ``(recs == next[:, None]).any(1)``, ``np.unique(return_inverse)``, ``bincount``.

Inputs are generated in chunks of 10^7 rows so that generation never holds more than
the inputs plus one chunk. Usage::

    python benchmarks/bench_core.py --sizes 1e6,1e7,1e8
    python benchmarks/bench_core.py --tasks mi --per-holder 1e7 --catalogs 229,1e4,1e6
    python benchmarks/bench_core.py --quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 10_000_000
K = int(os.environ.get("BENCH_CORE_K", "1"))


# ----------------------------------------------------------------------------- memory
def _status(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not found in /proc/self/status")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


# ----------------------------------------------------------------------------- data
def _skewed_items(rng: np.random.Generator, n: int, catalog: int) -> np.ndarray:
    out = np.empty(n, dtype=np.int64)
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        u = rng.random(stop - start)
        out[start:stop] = np.minimum((catalog * u**3).astype(np.int64), catalog - 1)
    return out


def _next_items(rng: np.random.Generator, item: np.ndarray, catalog: int, high: int) -> np.ndarray:
    out = np.empty_like(item)
    for start in range(0, len(item), CHUNK):
        stop = min(start + CHUNK, len(item))
        out[start:stop] = (item[start:stop] + rng.integers(1, high, stop - start)) % catalog
    return out


def mi_inputs(n: int, catalog: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    half = n // 2
    item_a = _skewed_items(rng, half, catalog)
    item_t = _skewed_items(rng, n - half, catalog)
    return {
        "item_a": item_a,
        "next_a": _next_items(rng, item_a, catalog, 20),
        "item_t": item_t,
        "next_t": _next_items(rng, item_t, catalog, 22),
    }


def hit_inputs(n: int, catalog: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    nxt = _skewed_items(rng, n, catalog)
    recs = np.empty((n, K), dtype=np.int64)
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        block = rng.integers(0, catalog, (stop - start, K))
        hit_rows = rng.random(stop - start) < 0.3
        pos = rng.integers(0, K, stop - start)
        block[hit_rows, pos[hit_rows]] = nxt[start:stop][hit_rows]
        recs[start:stop] = block
    n_users = max(n // 15, 1)  # ~15 observations per user, user codes spread up to 10^8
    user_codes = (
        np.sort(rng.choice(10**8, n_users, replace=False))
        if n_users <= 10**7
        else (np.arange(n_users, dtype=np.int64) * 7)
    )
    user = np.empty(n, dtype=np.int64)
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        user[start:stop] = user_codes[np.arange(start, stop) * n_users // n]
    member_user = rng.random(n_users) < 0.5
    member = member_user[np.arange(n) * n_users // n]
    return {"recs": recs, "next": nxt, "user": user, "member": member}


# ----------------------------------------------------------------------------- methods
def _mi_numpy(ca: np.ndarray, ct: np.ndarray) -> float:
    pa = 0.5 * ca / ca.sum()
    pt = 0.5 * ct / ct.sum()
    s = pa + pt
    with np.errstate(divide="ignore", invalid="ignore"):
        ta = np.where(pa > 0, pa * np.log2(pa / s), 0.0)
        tt = np.where(pt > 0, pt * np.log2(pt / s), 0.0)
    return float(1.0 + ta.sum() + tt.sum())


def mi_fidelity(d, catalog):
    from fidelity.core import joint_counts_sorting, mi_from_counts, pack_codes

    keys_a = pack_codes(d["item_a"], d["next_a"], n_items=catalog, compact=True)
    keys_t = pack_codes(d["item_t"], d["next_t"], n_items=catalog, compact=True)
    _, ca, ct = joint_counts_sorting(keys_a, keys_t, overwrite=True)
    return mi_from_counts(ca, ct, 0.5), len(ca)


def mi_fidelity_sort(d, catalog):
    from fidelity.core import joint_counts_sorting, mi_from_counts, pack_codes

    keys_a = pack_codes(d["item_a"], d["next_a"], n_items=catalog, compact=True)
    keys_t = pack_codes(d["item_t"], d["next_t"], n_items=catalog, compact=True)
    _, ca, ct = joint_counts_sorting(keys_a, keys_t, overwrite=True, method="sort")
    return mi_from_counts(ca, ct, 0.5), len(ca)


def mi_fidelity_fused(d, catalog):
    from fidelity.core import joint_counts_columns, mi_from_counts

    _, ca, ct = joint_counts_columns(
        (d["item_a"], d["next_a"]), (d["item_t"], d["next_t"]), (catalog, catalog)
    )
    return mi_from_counts(ca, ct, 0.5), len(ca)


def _users(n: int, offset: int) -> np.ndarray:
    """Grouped user codes, 15 rows per user, from ``offset`` on."""
    return np.arange(n, dtype=np.int64) // 15 + offset


def add_users(d: dict[str, np.ndarray]) -> None:
    """User codes of both holders; T's start halfway through A's, so half are common."""
    n_a = len(d["item_a"])
    d["user_a"] = _users(n_a, 0)
    d["user_t"] = _users(len(d["item_t"]), (n_a // 15) // 2)


def _observations(item: np.ndarray, next_item: np.ndarray, user: np.ndarray, catalog: int):
    from fidelity.data.tables import Observations

    n_users = int(user[-1]) + 1 if len(user) else 0
    return Observations(
        user=user,
        session=user,
        item=item,
        next_item=next_item,
        timing=np.zeros((len(item), 0), dtype=np.float32),
        timing_names=(),
        item_ids=np.arange(catalog),
        user_ids=np.arange(n_users),
    )


def mi_fidelity_e2e(d, catalog):
    from fidelity.information import mutual_information

    est = mutual_information(d["adversary"], d["target"], n_permutations=0, n_bootstrap=0)
    users = (est.n_users_adversary, est.n_users_target, est.n_common_users)
    return est.plugin, est.n_values, *users


def mi_bandwidth(d, catalog):
    return sum(int(np.add.reduce(d[k])) for k in ("item_a", "next_a", "item_t", "next_t")), -1


def mi_bandwidth_e2e(d, catalog):
    keys = ("item_a", "next_a", "item_t", "next_t", "user_a", "user_t")
    return sum(int(np.add.reduce(d[k])) for k in keys), -1


def mi_fidelity_hash(d, catalog):
    from fidelity.core import joint_counts, mi_from_counts, pack_codes

    keys_a = pack_codes(d["item_a"], d["next_a"], n_items=catalog)
    keys_t = pack_codes(d["item_t"], d["next_t"], n_items=catalog)
    _, ca, ct = joint_counts(keys_a, keys_t)
    return mi_from_counts(ca, ct, 0.5), len(ca)


def mi_pandas_groupby(d, catalog):
    import pandas as pd

    frame = pd.DataFrame(
        {
            "holder": np.repeat(
                np.array([0, 1], dtype=np.int8), [len(d["item_a"]), len(d["item_t"])]
            ),
            "item": np.concatenate([d["item_a"], d["item_t"]]),
            "next_item": np.concatenate([d["next_a"], d["next_t"]]),
        }
    )
    counts = frame.groupby(["item", "next_item", "holder"]).size().unstack(fill_value=0)
    return _mi_numpy(counts[0].to_numpy(float), counts[1].to_numpy(float)), len(counts)


def mi_pandas_value_counts(d, catalog):
    import pandas as pd

    vc_a = pd.Series(d["item_a"] * catalog + d["next_a"]).value_counts()
    vc_t = pd.Series(d["item_t"] * catalog + d["next_t"]).value_counts()
    both = pd.concat([vc_a, vc_t], axis=1).fillna(0)
    return _mi_numpy(both.iloc[:, 0].to_numpy(float), both.iloc[:, 1].to_numpy(float)), len(both)


def mi_pandas_e2e(d, catalog):
    import pandas as pd

    mi, n_values = mi_pandas_value_counts(d, catalog)
    users_a, users_t = pd.Index(pd.unique(d["user_a"])), pd.Index(pd.unique(d["user_t"]))
    return mi, n_values, len(users_a), len(users_t), len(users_a.intersection(users_t))


def mi_sklearn(d, catalog):
    from sklearn.metrics import mutual_info_score

    labels = np.repeat(np.array([0, 1], dtype=np.int8), [len(d["item_a"]), len(d["item_t"])])
    values = np.concatenate(
        [d["item_a"] * catalog + d["next_a"], d["item_t"] * catalog + d["next_t"]]
    )
    return mutual_info_score(labels, values) / math.log(2), -1


def hits_fidelity(d, catalog):
    from fidelity.core import confusion_counts, topk_hits
    from fidelity.metrics import user_scores

    hits = topk_hits(d["recs"], d["next"])
    conf = confusion_counts(hits, d["member"])
    _, per_user = user_scores(hits, d["user"], how="sum")
    return int(conf[0]), float(per_user.sum())


def hits_pandas(d, catalog):
    import pandas as pd

    hits = pd.DataFrame(d["recs"]).eq(pd.Series(d["next"]), axis=0).any(axis=1)
    frame = pd.DataFrame({"user": d["user"], "hit": hits.to_numpy(), "member": d["member"]})
    per_user = frame.groupby("user")["hit"].sum()
    conf = frame.value_counts(["hit", "member"])
    return int(conf.get((True, True), 0)), float(per_user.sum())


def hits_numpy(d, catalog):
    hits = (d["recs"] == d["next"][:, None]).any(axis=1)
    tp = int((hits & d["member"]).sum())
    users, inverse = np.unique(d["user"], return_inverse=True)
    per_user = np.bincount(inverse, weights=hits, minlength=len(users))
    return tp, float(per_user.sum())


METHODS = {
    ("mi", "fidelity"): mi_fidelity,
    ("mi", "fidelity-sort"): mi_fidelity_sort,
    ("mi", "fidelity-fused"): mi_fidelity_fused,
    ("mi", "fidelity-e2e"): mi_fidelity_e2e,
    ("mi", "fidelity-hash"): mi_fidelity_hash,
    ("mi", "bandwidth"): mi_bandwidth,
    ("mi", "bandwidth-e2e"): mi_bandwidth_e2e,
    ("mi", "pandas-e2e"): mi_pandas_e2e,
    ("mi", "pandas-groupby"): mi_pandas_groupby,
    ("mi", "pandas-value_counts"): mi_pandas_value_counts,
    ("mi", "sklearn"): mi_sklearn,
    ("hits", "fidelity"): hits_fidelity,
    ("hits", "pandas"): hits_pandas,
    ("hits", "numpy"): hits_numpy,
}


# ----------------------------------------------------------------------------- worker
E2E_IMPLS = ("fidelity-e2e", "bandwidth-e2e", "pandas-e2e")  # read the user columns too


def _with_tables(d: dict, catalog: int) -> None:
    """``Observations`` of A and T sharing the input arrays (no copies)."""
    if "user_a" not in d:
        add_users(d)
    d["adversary"] = _observations(d["item_a"], d["next_a"], d["user_a"], catalog)
    d["target"] = _observations(d["item_t"], d["next_t"], d["user_t"], catalog)


def worker(task: str, impl: str, n: int, catalog: int, repeats: int) -> dict:
    func = METHODS[(task, impl)]
    if impl.startswith("fidelity"):  # load the compiled kernels from the on-disk cache first
        for small_catalog in (10, 100):  # dense and sorted paths
            small = (mi_inputs if task == "mi" else hit_inputs)(1000, small_catalog)
            if impl == "fidelity-e2e":
                _with_tables(small, small_catalog)
            func(small, small_catalog)
    data = mi_inputs(n, catalog) if task == "mi" else hit_inputs(n, catalog)
    if impl in E2E_IMPLS:
        add_users(data)
    input_bytes = sum(a.nbytes for a in data.values())
    if impl == "fidelity-e2e":
        _with_tables(data, catalog)
    times = []
    cpu_times = []
    peak_extra = 0
    for _ in range(repeats):
        rss_before = _status("VmRSS")
        _reset_peak()
        start, cpu_start = time.perf_counter(), time.process_time()
        result = func(data, catalog)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
        peak_extra = max(peak_extra, _status("VmHWM") - rss_before)
        del result
    check = func(data, catalog)
    return {
        "task": task,
        "impl": impl,
        "n": n,
        "catalog": catalog,
        "seconds": min(times),
        "cpu_seconds": min(cpu_times),
        "input_bytes": input_bytes,
        "peak_extra_bytes": peak_extra,
        "peak_total_bytes": _status("VmHWM"),
        "check": check,
        "load": os.getloadavg()[0],
        "fidelity_source": str(Path(sys.modules["fidelity"].__file__).parent)
        if "fidelity" in sys.modules
        else None,
    }


def run_worker(task, impl, n, catalog, repeats, timeout, source=None) -> dict | None:
    """Measure one implementation in a fresh process (``source``: import fidelity from there)."""
    cmd = [sys.executable, __file__, "--worker", task, impl, str(n), str(catalog), str(repeats)]
    env = None
    if source is not None:
        env = {**os.environ, "PYTHONPATH": str(source)}
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, check=True, env=env
        )
    except subprocess.TimeoutExpired:
        print(f"  {task}/{impl} n={n:.0e}: timed out after {timeout} s", flush=True)
        return None
    except subprocess.CalledProcessError as exc:
        print(f"  {task}/{impl} n={n:.0e}: failed\n{exc.stderr[-2000:]}", flush=True)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def first_call(cold: bool) -> float:
    """Seconds for import + first MI and hit call in a fresh process (cold: empty numba cache)."""
    code = (
        "import time; t=time.perf_counter();"
        "import numpy as np; from fidelity.core import pack_codes, joint_counts_sorting,"
        " mi_from_counts, topk_hits, confusion_counts, unique_inverse, segment_sum;"
        "k=pack_codes(np.arange(100), np.arange(100)[::-1]);"
        "_,a,b=joint_counts_sorting(k,k[::-1]);"
        "mi_from_counts(a,b,0.5); h=topk_hits(np.zeros((5,3),np.int64), np.zeros(5,np.int64));"
        "confusion_counts(h,h); u,i=unique_inverse(np.arange(5)); segment_sum(h,i,5);"
        "print(time.perf_counter()-t)"
    )
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        if cold:
            env["NUMBA_CACHE_DIR"] = cache
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
    return float(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- report
def _fmt_bytes(b: float) -> str:
    return f"{b / 2**20:,.0f} MiB" if b < 2**30 else f"{b / 2**30:,.2f} GiB"


MI_IMPLS = (
    "fidelity",
    "fidelity-sort",
    "fidelity-fused",
    "fidelity-e2e",
    "fidelity-hash",
    "bandwidth",
    "bandwidth-e2e",
    "pandas-groupby",
    "pandas-value_counts",
    "pandas-e2e",
    "sklearn",
)
MI_BASELINES = (
    "pandas-value_counts",
    "pandas-groupby",
    "sklearn",
    "fidelity-sort",
    "fidelity-today",
    "fidelity-e2e-today",
)


def _mi_summary(n: int, catalog: int, results: dict[str, dict]) -> None:
    """One line per fidelity variant: its speed-up over each baseline, and / bandwidth."""
    half = n // 2
    for impl in ("fidelity", "fidelity-fused", "fidelity-e2e", "fidelity-sort"):
        res = results.get(impl)
        if res is None:
            continue
        parts = [
            f"{results[b]['seconds'] / res['seconds']:.1f}x {b}"
            for b in MI_BASELINES
            if b in results and b != impl
        ]
        if impl == "fidelity-e2e" and "pandas-e2e" in results:
            parts.append(f"{results['pandas-e2e']['seconds'] / res['seconds']:.1f}x pandas-e2e")
        for band_impl in (
            ("bandwidth", "bandwidth-e2e") if impl == "fidelity-e2e" else ("bandwidth",)
        ):
            band = results.get(band_impl)
            if band is not None:
                parts.append(f"{res['seconds'] / band['seconds']:.2f}x the {band_impl} time")
        print(
            f"summary  {half:.0e} per holder, catalog {catalog}: {impl:15s} "
            f"{res['seconds'] * 1e3:8.1f} ms = " + ", ".join(parts),
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="1e6,1e7,1e8",
        help="observation counts, comma separated (default 1e6,1e7,1e8)",
    )
    parser.add_argument(
        "--catalog", type=float, default=1e4, help="song catalog for the size runs (default 1e4)"
    )
    parser.add_argument(
        "--big-catalog",
        type=float,
        default=1e6,
        help="catalog of the large-catalog run (default 1e6)",
    )
    parser.add_argument(
        "--big-catalog-n",
        type=float,
        default=1e7,
        help="observations of the large-catalog run (default 1e7)",
    )
    parser.add_argument(
        "--baseline-max",
        type=float,
        default=1e8,
        help="largest size at which the baselines are run (default 1e8)",
    )
    parser.add_argument("--timeout", type=int, default=1800, help="per-measurement timeout (s)")
    parser.add_argument("--quick", action="store_true", help="sizes 1e5,1e6; one repeat")
    parser.add_argument(
        "--repeats", type=int, default=5, help="repeats below 10^8 (best kept; default 5)"
    )
    parser.add_argument(
        "--per-holder",
        type=float,
        default=0,
        help="MI only: this many observations per holder for each of --catalogs "
        "(instead of --sizes, which count both holders together)",
    )
    parser.add_argument(
        "--catalogs",
        default="229,1e4,1e6",
        help="catalogs of the --per-holder MI runs (default 229,1e4,1e6)",
    )
    parser.add_argument(
        "--mi-impls",
        default=",".join(MI_IMPLS),
        help=f"MI implementations to run (default {','.join(MI_IMPLS)})",
    )
    parser.add_argument(
        "--today",
        help="MI only: a source tree of an earlier fidelity (e.g. `git archive <commit> | tar -x "
        "-C DIR`); its `fidelity` and `fidelity-e2e` calls are measured in the same run as "
        "'fidelity-today' and 'fidelity-e2e-today'",
    )
    parser.add_argument("--k", type=int, default=1, help="length of recommendation lists")
    parser.add_argument("--tasks", default="mi,hits", help="tasks to run (default mi,hits)")
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        task, impl, n, catalog, repeats = args.worker
        print(json.dumps(worker(task, impl, int(n), int(catalog), int(repeats))))
        return

    os.environ["BENCH_CORE_K"] = str(args.k)  # read by the worker subprocesses
    global K
    K = args.k
    tasks = args.tasks.split(",")
    sizes = [int(float(s)) for s in ("1e5,1e6" if args.quick else args.sizes).split(",")]
    catalog = int(args.catalog)
    runs = [(n, catalog) for n in sizes]
    if not args.quick and args.big_catalog_n > 0:
        runs.append((int(args.big_catalog_n), int(args.big_catalog)))
    mi_runs = runs
    if args.per_holder > 0:
        per_holder = int(args.per_holder)
        mi_runs = [(2 * per_holder, int(float(c))) for c in args.catalogs.split(",")]
        runs = [r for r in runs if r[1] == catalog] if "hits" in tasks else []
    mi_impls = tuple(args.mi_impls.split(","))
    unknown = sorted(set(mi_impls) - set(MI_IMPLS))
    if unknown:
        parser.error(f"--mi-impls: unknown {unknown}; known: {list(MI_IMPLS)}")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, numpy {np.__version__}"
    )
    print(
        f"hit lists: k={args.k}; times are the best of the repeats, wall clock and process CPU "
        "time; 'load' = 1-min load average after the measurement (other processes share "
        "the cores)"
    )
    print(
        "memory: peak RSS (VmHWM) reset before the operation; 'extra' = peak - RSS before, "
        "as a multiple of the input arrays"
    )
    print(
        f"first call in a fresh process (import + compile/load + MI + hits on tiny data): "
        f"cold cache {first_call(True):.2f} s, warm on-disk cache {first_call(False):.2f} s"
    )
    print(f"load average before the runs: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = []
    plan = [("mi", n, cat, mi_impls) for n, cat in mi_runs if "mi" in tasks]
    plan += [
        ("hits", n, cat, ("fidelity", "pandas", "numpy"))
        for n, cat in runs
        if "hits" in tasks and cat == catalog  # hit counting does not depend on the catalog
    ]
    for task, n, cat, impls in plan:
        repeats = 1 if (args.quick or n >= 10**8) else args.repeats
        base = None
        results = {}
        if task == "mi" and args.today:
            impls = (*impls, *(f"{i}-today" for i in ("fidelity", "fidelity-e2e") if i in impls))
        for impl in impls:
            if not impl.startswith("fidelity") and n > args.baseline_max:
                continue
            if impl.endswith("-today"):  # the same call on the earlier code
                res = run_worker(
                    task, impl[: -len("-today")], n, cat, repeats, args.timeout, args.today
                )
                if res is not None:
                    res["impl"] = impl
            else:
                res = run_worker(task, impl, n, cat, repeats, args.timeout)
            if res is None:
                continue
            if impl == "fidelity":
                base = res
            ratio = res["seconds"] / base["seconds"] if base else float("nan")
            cpu_ratio = res["cpu_seconds"] / base["cpu_seconds"] if base else float("nan")
            label = f"{task} k={K}" if task == "hits" else task
            line = (
                f"{label:8s} n={n:.0e} catalog={cat:.0e} {impl:20s} "
                f"{res['seconds']:8.3f} s (cpu {res['cpu_seconds']:7.3f} s) "
                f"{n / res['seconds'] / 1e6:7.1f} M obs/s  "
                f"extra {_fmt_bytes(res['peak_extra_bytes']):>10s} "
                f"({res['peak_extra_bytes'] / res['input_bytes']:.2f}x input "
                f"{_fmt_bytes(res['input_bytes'])})  "
                f"fidelity {ratio:5.1f}x faster (cpu {cpu_ratio:5.1f}x)  "
                f"load {res['load']:.1f}  check={res['check']}"
            )
            print(line, flush=True)
            rows.append({**res, "speedup_of_fidelity": ratio, "cpu_speedup": cpu_ratio})
            results[impl] = res
        if task == "mi":
            _mi_summary(n, cat, results)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
