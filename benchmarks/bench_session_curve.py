"""Cost of the session-length curve against one attack run and against one run per N.

Usage: .venv/bin/python benchmarks/bench_session_curve.py [--data synthetic mssd]
       [--repeat 3] [--naive-repeat 1] [--with-mi] [--quick]

On one scenario (overlap 0.5, target 500 users, random forest, seed 0) and in the same run:

(a) ``fidelity attack --attack reference --threat scores`` (the console script's own entry,
    ``fidelity.cli.main()`` with ``sys.argv`` set, in a fresh interpreter);
(b) the whole curve: ``session_curve`` with 8 values of N, the attacks match, reference and
    shadow under ``scores``, the default bootstrap (200), ``measure_mi=False``;
(c) the naive baseline: for each N, ``cut_adversary(split, N)`` and ``run_attack`` of each
    of the three attacks in full (each fits its own references or shadows), same bootstrap.

Each measurement runs in its own fresh interpreter (this script with ``--worker``) and is
timed twice: the whole command as the parent sees it (interpreter start, imports, data
loading, target fit, attacks: what a user waits for), and the worker's work alone (data
loading + target fit + attacks, without interpreter start and imports). (a) and (b) are run
alternately ``--repeat`` times and the best time is kept; (c) ``--naive-repeat`` times.
The ratios (b)/(a) and (c)/(b) are printed for both timings, with the load average before
and after, and (b) and (c) are checked to agree: at every N, each attack's AUC on the curve
against the AUC of its full run on the cut data (both with their bootstrap intervals).

Data: ``synthetic`` is ``make_sessions(random_state=0)``; ``mssd`` is the MSSD aidl sample
(``../shared/data/mssd-aidl-sessions-sample``, skipped when absent) restricted to its 229
most played songs, loaded by ``load_sessions(path, session_col="user_id",
item_col="song_id", timing_cols=("skipped",))`` and ``keep_top_items`` (the CLI reads it
with the same calls). ``--with-mi`` also times the curve with its default information
readings (``measure_mi=True``: MI(H;O) and I(M; S) with their permutation nulls), which
are not part of the curve itself. ``--quick``: 2,000 synthetic sessions, 20 bootstrap
resamples, one run of each (a smoke run of the harness, not a measurement to record).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

_T0 = time.perf_counter()

HERE = Path(__file__).resolve().parent
SHARED_DATA = HERE.parent.parent / "shared" / "data"
MSSD_AIDL = Path("mssd-aidl-sessions-sample") / "mini-spotify-data.csv"
ATTACKS = ("match", "reference", "shadow")
THREAT = "scores"
K = 10
OVERLAP, TARGET_SIZE, RECOMMENDER, SEED = 0.5, 500, "random_forest", 0
N_POINTS = 8


def session_grid(longest: int, n_points: int = N_POINTS) -> tuple[int, ...]:
    """``n_points`` distinct, roughly geometric sizes from 1 to ``longest`` (fewer if short)."""
    import numpy as np

    n_points = min(n_points, longest)
    m = n_points
    while True:
        grid = np.unique(np.round(np.geomspace(1, longest, m)).astype(int))
        if len(grid) >= n_points:
            return tuple(int(n) for n in grid)
        m += 1


def cli_argv(dataset: str, quick: bool, bootstrap: int, shared_data: Path) -> list[str]:
    """``fidelity attack`` arguments of the benchmark's scenario on ``dataset``."""
    if dataset == "mssd":
        data = ["--data", str(shared_data / MSSD_AIDL), "--format", "sessions"]
        data += ["--session-col", "user_id"]
        data += ["--item-col", "song_id", "--timing-cols", "skipped", "--n-items", "229"]
    else:
        data = ["--sessions", "2000"] if quick else []
    return [
        "attack",
        *data,
        "--attack",
        "reference",
        "--threat",
        THREAT,
        "--k",
        str(K),
        "--overlap",
        str(OVERLAP),
        "--target-size",
        str(TARGET_SIZE),
        "--recommender",
        RECOMMENDER,
        "--seed",
        str(SEED),
        "--bootstrap",
        str(bootstrap),
        "--quiet",
        "--json",
    ]


# ----------------------------------------------------------------------------- workers
def _load(dataset: str, quick: bool, shared_data: Path):
    """The benchmark's observations (the same calls as the CLI's loader)."""
    import warnings

    from fidelity._validation import FidelityWarning
    from fidelity.data import keep_top_items, load_sessions, make_sessions

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        if dataset == "mssd":
            sessions = load_sessions(
                shared_data / MSSD_AIDL,
                session_col="user_id",
                item_col="song_id",
                timing_cols=("skipped",),
            )
            sessions = keep_top_items(sessions, 229)
        else:
            kwargs = {"n_sessions": 2000} if quick else {}
            sessions = make_sessions(random_state=SEED, **kwargs)
        return sessions.observations()


def _worker_attack(args) -> dict:
    import fidelity.cli

    imported = time.perf_counter()
    sys.argv = ["fidelity", *cli_argv(args.dataset, args.quick, args.bootstrap, args.shared_data)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = fidelity.cli.main()  # argv None: exactly the console script
    done = time.perf_counter()
    if code:
        raise SystemExit(f"fidelity attack exited {code}")
    result = json.loads(out.getvalue())
    return {
        "import_s": imported - _T0,
        "work_s": done - imported,
        "auc": result["auc"],
        "auc_ci_low": result.get("auc_ci_low"),
        "auc_ci_high": result.get("auc_ci_high"),
    }


def _fitted(args) -> tuple:
    """What both timed workers do before their attacks: load, split and fit the target.

    Returns ``(observations, scenario, fitted, longest, marks)``: ``longest`` is the most
    observations one adversary-side user has, ``marks`` the clock after the imports,
    the load and the fit (for :func:`_phases`).
    """
    import numpy as np

    from fidelity._memory import keep_freed_memory
    from fidelity.scenario import Scenario, fit_target

    imported = time.perf_counter()
    keep_freed_memory()  # as the console script does in (a)
    obs = _load(args.dataset, args.quick, args.shared_data)
    loaded = time.perf_counter()
    scenario = Scenario(OVERLAP, TARGET_SIZE, RECOMMENDER, seed=SEED)
    fitted = fit_target(obs, scenario)
    fit = time.perf_counter()
    user = fitted.split.adversary.user
    longest = int(np.bincount(np.unique(user, return_inverse=True)[1]).max())
    return obs, scenario, fitted, longest, (imported, loaded, fit)


def _phases(marks: tuple[float, float, float], done: float) -> dict:
    """Seconds spent importing, loading, fitting and attacking, from :func:`_fitted`'s marks."""
    imported, loaded, fit = marks
    return {
        "import_s": imported - _T0,
        "load_s": loaded - imported,
        "fit_s": fit - loaded,
        "attacks_s": done - fit,
        "work_s": done - imported,
    }


def _worker_curve(args) -> dict:
    from fidelity.evaluation import AttackRequest, session_curve

    obs, scenario, fitted, longest, marks = _fitted(args)
    grid = session_grid(longest)
    curve = session_curve(
        obs,
        scenario,
        [AttackRequest(name, THREAT, K) for name in ATTACKS],
        grid=grid,
        n_bootstrap=args.bootstrap,
        measure_mi=args.with_mi,
        fitted=fitted,
    )
    done = time.perf_counter()
    rows = curve.curve[curve.curve.on_grid]
    return {
        **_phases(marks, done),
        "grid": list(grid),
        "n_evaluated": int(curve.curve.n.nunique()),
        "validated": curve.validated.label,
        "rows": [
            {k: _plain(r[k]) for k in ("attack", "n", "auc", "auc_ci_low", "auc_ci_high")}
            for _, r in rows.iterrows()
        ],
    }


def _worker_naive(args) -> dict:
    from fidelity.attacks import run_attack
    from fidelity.evaluation import AttackRequest
    from fidelity.evaluation.evaluate import default_options
    from fidelity.split import cut_adversary

    obs, scenario, fitted, longest, marks = _fitted(args)
    split = fitted.split
    rows, per_n = [], []
    for n in session_grid(longest):
        start = time.perf_counter()
        cut = cut_adversary(split, n)
        for name in ATTACKS:
            request = AttackRequest(name, THREAT, K)
            result = run_attack(
                name,
                cut,
                fitted.model,
                threat=THREAT,
                k=K,
                recommender=scenario.recommender,
                recommender_params=dict(scenario.recommender_params),
                n_bootstrap=args.bootstrap,
                random_state=fitted.attack_seed,
                **default_options(request, obs, fitted),
            )
            roc = result.roc
            rows.append(
                {
                    "attack": name,
                    "n": n,
                    "auc": None if roc is None else float(roc.auc),
                    "auc_ci_low": None if roc is None else _plain(roc.to_dict()["auc_ci_low"]),
                    "auc_ci_high": None if roc is None else _plain(roc.to_dict()["auc_ci_high"]),
                }
            )
        per_n.append(time.perf_counter() - start)
    done = time.perf_counter()
    return {
        **_phases(marks, done),
        "per_n_s": per_n,
        "rows": rows,
    }


def _plain(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


WORKERS = {"attack": _worker_attack, "curve": _worker_curve, "naive": _worker_naive}


# ----------------------------------------------------------------------------- parent
def _load_average() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _spawn(kind: str, dataset: str, args) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--dataset", dataset]
    cmd += ["--bootstrap", str(args.bootstrap), "--shared-data", str(args.shared_data)]
    if args.quick:
        cmd.append("--quick")
    if kind == "curve" and args.with_mi_run:
        cmd.append("--with-mi")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=HERE.parent)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"worker {kind} on {dataset} failed with exit {proc.returncode}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    out = json.loads(line[len("RESULT ") :])
    out["command_s"] = wall
    return out


def _best(runs: list[dict], key: str) -> float:
    return min(r[key] for r in runs)


def _agreement(curve: dict, naive: dict) -> tuple[int, int, int, list[str]]:
    """(pairs, naive AUC in the curve's interval, intervals overlap, table lines)."""
    by_key = {(r["attack"], r["n"]): r for r in curve["rows"]}
    inside = overlap = pairs = 0
    lines = [f"  {'attack':>9} {'N':>3} {'curve AUC [CI]':>24} {'full run AUC [CI]':>24}  ok"]
    for r in naive["rows"]:
        c = by_key.get((r["attack"], r["n"]))
        if c is None or c["auc"] is None or r["auc"] is None:
            continue
        pairs += 1
        lo_c, hi_c = c["auc_ci_low"], c["auc_ci_high"]
        lo_r, hi_r = r["auc_ci_low"], r["auc_ci_high"]
        is_in = lo_c <= r["auc"] <= hi_c or lo_r <= c["auc"] <= hi_r
        does_overlap = max(lo_c, lo_r) <= min(hi_c, hi_r)
        inside += is_in
        overlap += does_overlap
        lines.append(
            f"  {r['attack']:>9} {r['n']:>3} {c['auc']:.3f} [{lo_c:.3f}, {hi_c:.3f}]"
            f"     {r['auc']:.3f} [{lo_r:.3f}, {hi_r:.3f}]  "
            f"{'yes' if is_in else 'overlap' if does_overlap else 'NO'}"
        )
    return pairs, inside, overlap, lines


def _bench(dataset: str, args) -> None:
    print(f"\n# {dataset}: load average before {_load_average()}", flush=True)
    attack_runs, curve_runs = [], []
    args.with_mi_run = False
    for i in range(args.repeat):
        attack_runs.append(_spawn("attack", dataset, args))
        curve_runs.append(_spawn("curve", dataset, args))
        a, c = attack_runs[-1], curve_runs[-1]
        print(
            f"  run {i + 1}: (a) attack {a['command_s']:.2f} s (work {a['work_s']:.2f}), "
            f"(b) curve {c['command_s']:.2f} s (work {c['work_s']:.2f}: load {c['load_s']:.2f}"
            f" + fit {c['fit_s']:.2f} + curve {c['attacks_s']:.2f}), load {_load_average()}",
            flush=True,
        )
    naive_runs = []
    for i in range(args.naive_repeat):
        naive_runs.append(_spawn("naive", dataset, args))
        nv = naive_runs[-1]
        per_n = ", ".join(f"{t:.1f}" for t in nv["per_n_s"])
        print(
            f"  naive run {i + 1}: (c) {nv['command_s']:.2f} s (work {nv['work_s']:.2f}: load "
            f"{nv['load_s']:.2f} + fit {nv['fit_s']:.2f} + attacks {nv['attacks_s']:.2f}; per N"
            f" {per_n}), load {_load_average()}",
            flush=True,
        )
    mi_run = None
    if args.with_mi:
        args.with_mi_run = True
        mi_run = _spawn("curve", dataset, args)
        args.with_mi_run = False

    curve = curve_runs[0]
    print(
        f"  grid {curve['grid']} ({len(curve['grid'])} values; {curve['n_evaluated']} sizes "
        f"evaluated with the validated size's search), validated size {curve['validated']}"
    )
    print(f"  {'':<34} {'command_s':>10} {'work_s':>8}")
    for label, runs in (
        ("(a) fidelity attack reference", attack_runs),
        ("(b) session_curve, 3 attacks", curve_runs),
        ("(c) 3 attacks once per N", naive_runs),
    ):
        print(f"  {label:<34} {_best(runs, 'command_s'):>10.2f} {_best(runs, 'work_s'):>8.2f}")
    if mi_run is not None:
        print(
            f"  {'(b) + MI(H;O) and I(M;S) readings':<34} {mi_run['command_s']:>10.2f} "
            f"{mi_run['work_s']:>8.2f}  (one run)"
        )
    for key, what in (("command_s", "whole command"), ("work_s", "work only")):
        a, b, c = (_best(r, key) for r in (attack_runs, curve_runs, naive_runs))
        print(
            f"  {what:<14} (b)/(a) = {b / a:.2f} (target <= 1.5)   "
            f"(c)/(b) = {c / b:.2f} (target >= 5)"
        )
    pairs, inside, overlap, lines = _agreement(curve, naive_runs[0])
    print(
        f"  agreement: {inside}/{pairs} (attack, N) pairs have one AUC inside the other's "
        f"interval, {overlap}/{pairs} intervals overlap"
    )
    if args.verbose or inside < pairs:
        print("\n".join(lines))
    print(f"  load average after {_load_average()}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", nargs="+", choices=("synthetic", "mssd"), default=None)
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a) and (b); best kept")
    parser.add_argument("--naive-repeat", type=int, default=1, help="runs of (c)")
    parser.add_argument("--bootstrap", type=int, default=None, help="default 200 (quick: 20)")
    parser.add_argument("--with-mi", action="store_true", help="also time measure_mi=True")
    parser.add_argument("--quick", action="store_true", help="smoke run: small data, one run")
    parser.add_argument("--shared-data", type=Path, default=SHARED_DATA)
    parser.add_argument("--verbose", action="store_true", help="print the agreement table")
    parser.add_argument("--worker", choices=tuple(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--dataset", choices=("synthetic", "mssd"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bootstrap is None:
        args.bootstrap = 20 if args.quick else 200
    if args.worker:
        print("RESULT " + json.dumps(WORKERS[args.worker](args)), flush=True)
        return 0
    if args.quick:
        args.repeat, args.naive_repeat = 1, 1
        data = args.data or ["synthetic"]
    else:
        data = args.data or ["synthetic", "mssd"]
    if "mssd" in data and not (args.shared_data / MSSD_AIDL).is_file():
        print(f"# mssd: {args.shared_data / MSSD_AIDL} not found; skipped")
        data = [d for d in data if d != "mssd"]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python "
        f"{platform.python_version()}; scenario: overlap {OVERLAP}, target {TARGET_SIZE} "
        f"users, {RECOMMENDER}, seed {SEED}; threat {THREAT}, k {K}, bootstrap {args.bootstrap}"
    )
    for dataset in data:
        _bench(dataset, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
