"""Ground-truth simulation of the MI(H;O) estimators: bias, RMSE and interval coverage.

A and T are drawn from listening populations whose MI is known exactly
(``tests/mi_ground_truth.py``: 229 songs, sessions of 20 plays = 19 dependent
transitions, one session = one user, 40 listener types; T's population moves ``delta`` of
its weight to one type). For each size (sessions per holder), true MI and repetition,
one draw of A and T gives every estimator, with the same user-level permutations
(the null) and the same stratified user-level bootstrap resamples (the interval), as
:func:`fidelity.information.mutual_information` computes them; the default estimator is
checked against that function on the first repetition of each cell.

Intervals (95 %): ``normal`` is the library's (estimate +- z * bootstrap sd, clipped at
0); for the plug-in the former ``percentile`` interval and the ``basic`` (reverse
percentile) one are shown too. ``covers`` counts ``low <= true MI <= high``; ``has est``
counts intervals that contain their own point estimate. ``above null`` is the fraction of
repetitions where the plug-in MI is above its permutation null (p < 0.05): the test's
size when the true MI is 0, its power otherwise.

Command (19 min on 2 cores with ``--reps 200``, the run recorded in benchmarks/README.md)::

    .venv/bin/python benchmarks/bench_mi_estimators.py [--reps 100] [--sizes 500 1000 2000 4000]

``--roc`` instead checks the percentile bootstrap intervals of
:func:`fidelity.metrics.roc_summary` the same way: member scores N(0.8, 1), non-member
scores N(0, 1), 500 of each, whose AUC, advantage and TPR at low FPR are known exactly.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from mi_ground_truth import (
    make_population,
    sample_observations,
    shifted_weights,
    true_mi,
)

from fidelity.core import mi_from_counts
from fidelity.histograms import encode_features
from fidelity.information import DEFAULT_ESTIMATOR, ESTIMATORS, mutual_information
from fidelity.mi_estimators import (
    COUNT_ESTIMATORS,
    estimate_from_counts,
    sample_coverage,
)
from fidelity.mi_resampling import UserUnits

N_CLUSTERS = 40
Z = float(stats.norm.ppf(0.975))


def one_draw(pop, w_a, w_t, n_sessions, seed, n_perm, n_boot):
    """Point estimates and bootstrap replicates of every estimator for one draw."""
    rng = np.random.default_rng(seed)
    a = sample_observations(pop, w_a, n_sessions, rng)
    t = sample_observations(pop, w_t, n_sessions, rng, first_user=n_sessions)
    keys_a, keys_t = encode_features(a, t).keys(compact=True)
    units = UserUnits.build(keys_a, keys_t, a.user, t.user)
    ca, ct = units.counts()
    plugin = max(mi_from_counts(ca, ct, 0.5), 0.0)
    coverage = sample_coverage(ca + ct)
    gen_perm, gen_boot = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    null = np.array(
        [max(mi_from_counts(*units.permuted_counts(gen_perm), 0.5), 0.0) for _ in range(n_perm)]
    )
    null_mean = null.mean()

    def values(c_a, c_t):
        p = max(mi_from_counts(c_a, c_t, 0.5), 0.0)
        out = {e: estimate_from_counts(c_a, c_t, 0.5, e) for e in COUNT_ESTIMATORS}
        out["null-corrected"] = p - null_mean
        out["coverage-adjusted"] = (p - null_mean) / coverage
        return out

    point = values(ca, ct)
    boot = {e: np.empty(n_boot) for e in ESTIMATORS}
    for r in range(n_boot):
        c = units.counts(units.bootstrap_weights(gen_boot))
        for e, v in values(c[0], c[1]).items():
            boot[e][r] = v
    p_value = (1 + np.sum(null >= plugin)) / (1 + n_perm)
    return point, boot, bool(p_value < 0.05 and plugin > null_mean), (a, t)


def roc_check(reps: int, n_boot: int = 100, d: float = 0.8, n: int = 500) -> None:
    """Coverage of roc_summary's percentile intervals against the exact binormal values."""
    from fidelity.metrics import roc_summary

    truth = {
        "auc": stats.norm.cdf(d / np.sqrt(2)),
        "advantage": 2 * stats.norm.cdf(d / 2) - 1,
        "tpr_at_1pct_fpr": 1 - stats.norm.cdf(stats.norm.ppf(0.99) - d),
        "tpr_at_0.1pct_fpr": 1 - stats.norm.cdf(stats.norm.ppf(0.999) - d),
    }
    rows: dict[str, list] = {k: [] for k in truth}
    member = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    for rep in range(reps):
        rng = np.random.default_rng(rep)
        scores = np.r_[rng.normal(d, 1, n), rng.normal(0, 1, n)]
        out = roc_summary(scores, member, n_bootstrap=n_boot, random_state=rep).to_dict()
        for k, true in truth.items():
            low, high, point = out[f"{k}_ci_low"], out[f"{k}_ci_high"], out[k]
            rows[k].append((low <= true <= high, low <= point <= high, point - true))
    print(f"roc_summary, {reps} reps, {n_boot} bootstrap resamples, {n} + {n} users\n")
    print("| statistic | true value | bias | covers (percentile) | has est |")
    print("|---|---|---|---|---|")
    for k, true in truth.items():
        arr = np.array(rows[k], dtype=float)
        print(
            f"| {k} | {true:.4f} | {arr[:, 2].mean():+.4f} | {arr[:, 0].mean():.2f} | "
            f"{arr[:, 1].mean():.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000, 4000])
    parser.add_argument("--deltas", type=float, nargs="+", default=[0.0, 0.1, 0.2])
    parser.add_argument("--permutations", type=int, default=50)
    parser.add_argument("--bootstrap", type=int, default=50)
    parser.add_argument("--roc", action="store_true", help="check roc_summary's intervals")
    args = parser.parse_args()
    if args.roc:
        roc_check(args.reps)
        return
    pop = make_population(n_clusters=N_CLUSTERS, beta=0.7, gamma=0.98, seed=0)
    print(
        f"reps={args.reps} permutations={args.permutations} bootstrap={args.bootstrap} "
        f"default estimator={DEFAULT_ESTIMATOR}\n"
    )
    print(
        "| sessions | true MI | estimator | mean | bias | RMSE | covers (normal) | "
        "mean width | has est | covers (percentile / basic) | has est (percentile) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    start = time.perf_counter()
    for n_sessions in args.sizes:
        for delta in args.deltas:
            w_a, w_t = shifted_weights(N_CLUSTERS, delta)
            truth = true_mi(pop.pair_law(w_a), pop.pair_law(w_t))
            rows = {e: [] for e in ESTIMATORS}
            above = []
            for rep in range(args.reps):
                seed = 10_000 * n_sessions + 100 * round(100 * delta) + rep
                point, boot, is_above, (a, t) = one_draw(
                    pop, w_a, w_t, n_sessions, seed, args.permutations, args.bootstrap
                )
                above.append(is_above)
                if rep == 0:  # the simulation computes what the library computes
                    lib = mutual_information(
                        a, t, n_permutations=args.permutations, n_bootstrap=args.bootstrap,
                        random_state=seed,
                    )  # fmt: skip
                    assert np.isclose(lib.raw, point[DEFAULT_ESTIMATOR]), (lib.raw, point)
                    assert np.isclose(lib.standard_error, boot[DEFAULT_ESTIMATOR].std(ddof=1))
                for e in ESTIMATORS:
                    mi = max(point[e], 0.0)
                    sd = boot[e].std(ddof=1)
                    low, high = max(mi - Z * sd, 0.0), mi + Z * sd
                    q_lo, q_hi = np.quantile(boot[e], [0.025, 0.975])
                    rows[e].append(
                        (mi, low <= truth <= high, high - low, q_lo <= truth <= q_hi,
                         2 * mi - q_hi <= truth <= 2 * mi - q_lo, q_lo <= mi <= q_hi,
                         low <= mi <= high)
                    )  # fmt: skip
            for e in ESTIMATORS:
                arr = np.array(rows[e], dtype=float)
                mi = arr[:, 0]
                extra = (
                    f"{arr[:, 3].mean():.2f} / {arr[:, 4].mean():.2f} | {arr[:, 5].mean():.2f}"
                    if e == "plugin"
                    else " | "
                )
                print(
                    f"| {n_sessions} | {truth:.4f} | {e} | {mi.mean():.4f} | "
                    f"{mi.mean() - truth:+.4f} | {np.sqrt(np.mean((mi - truth) ** 2)):.4f} | "
                    f"{arr[:, 1].mean():.2f} | {arr[:, 2].mean():.4f} | {arr[:, 6].mean():.2f} | "
                    f"{extra} |",
                    flush=True,
                )
            print(
                f"| {n_sessions} | {truth:.4f} | (plug-in above its null) | "
                f"{np.mean(above):.2f} | | | | | | | |",
                flush=True,
            )
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
