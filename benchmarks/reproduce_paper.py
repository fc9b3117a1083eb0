"""The paper's full sweep, end to end: fidelity's ``run_sweep`` vs a plain pandas + sklearn loop.

Usage::

    .venv/bin/python benchmarks/reproduce_paper.py [--data-only synthetic|mssd|both]
        [--n-jobs 2] [--quick]

For each data set (the MSSD aidl sample with its 229 most played songs, when
``../shared/data`` is present, and the synthetic default ``make_sessions(random_state=0)``)
it runs the default :class:`fidelity.experiment.SweepGrid` (5 overlaps x target sizes
500, 1000, 2000, 4000, random forest with its default settings, MI with a 20-user
permutation null and 20 bootstrap resamples) with ``run_sweep(n_jobs=N)``, then the
same 20 configurations with a straightforward single-process baseline written here
with pandas, NumPy and scikit-learn only (no query deduplication, no numba, no
fidelity code in the timed loop):

* split: the users are shuffled with NumPy exactly as docs/concepts.md describes;
* target model: ``sklearn.ensemble.RandomForestClassifier`` fitted on the columns
  (item, timing...) of the target rows, ``predict`` called on every adversary row,
  every target row (in-sample accuracy) and every non-member row (hold-out accuracy);
* rates: TP/FP/TN/FN counted with a pandas ``groupby``; user-level hit rates with a
  pandas ``groupby``; AUC, advantage and TPR at low FPR with ``sklearn.metrics``;
* MI(H;O): pandas ``value_counts`` of (s, s') per holder, the plug-in formula, the
  Miller-Madow term, and the same numbers of user-level permutations and bootstrap
  resamples, each recounted with pandas.

What is compared (the script fails with exit code 1 on a mismatch). The baseline uses
the same seed plumbing as ``run_config`` (``SeedSequence(seed).spawn(4)`` for split,
model, MI and attack streams), so it draws the same user shuffle, fits a forest with the
same ``random_state`` on the same rows in the same order, and draws the same
permutations and bootstrap resamples. Therefore:

* exactly equal: split sizes (users, members, observations);
* equal to 1e-9 (float summation order only): plug-in MI, Miller-Madow MI, null mean,
  null std, p-value, bootstrap interval, Fano bound, safe session size;
* equal to a tolerance (``PRED_ATOL`` = 0.01 absolute): everything that depends on the
  forest's top-1 answer (tp, fp, tn, fn, tpr, fpr, precision, accuracies, AUC, ...):
  sklearn's ``predict`` breaks ties between equally probable songs by the smaller class
  code, and predicts from the forest for songs never seen as the playing song in
  training, whereas fidelity breaks ties by training popularity and answers unseen songs
  with the most popular one (its documented fallback). The share of adversary rows where
  the two top-1 answers differ is printed.

Prints the wall time of both and the ratio baseline / fidelity (target >= 5x with
``--n-jobs 2``). ``--quick`` runs a reduced grid (3 overlaps x 2 sizes, 5 permutations
and resamples) as a smoke test.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score, roc_curve

from fidelity.data import keep_top_items, load_sessions, make_sessions
from fidelity.experiment import SweepGrid, run_sweep
from fidelity.recommenders import RandomForestRecommender

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MSSD = SHARED_DATA / "mssd-aidl-sessions-sample" / "mini-spotify-data.csv"
TARGET_RATIO = 5.0
PRED_ATOL = 0.01
EXACT = ("n_adversary_users", "n_target_users", "n_members", "n_adversary_obs", "n_target_obs")
SEEDED = (
    "mi",
    "mi_corrected",
    "mi_null_mean",
    "mi_null_std",
    "mi_p_value",
    "mi_ci_low",
    "mi_ci_high",
    "fano_bound",
    "safe_session_size",
)
PREDICTED = (
    "tp",
    "fp",
    "tn",
    "fn",
    "tpr",
    "fpr",
    "precision",
    "accuracy",
    "accuracy_holdout",
    "auc",
    "advantage",
)
FPR_LEVELS = (0.001, 0.01)


# ----------------------------------------------------------------------------- data
def load_mssd():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the filters report their counts; not needed here
        sessions = load_sessions(
            MSSD, session_col="user_id", item_col="song_id", timing_cols=("skipped",)
        )
        return keep_top_items(sessions, 229).observations()


def load_synthetic():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_sessions(random_state=0).observations()


# ------------------------------------------------------------------------- baseline
def plugin_mi(ca: np.ndarray, ct: np.ndarray) -> float:
    """The plug-in formula with Pr[h] = 1/2: 1 + sum_h Pr[h] sum_o Pr[o|h] log2 Pr[h|o]."""
    pa, pt = ca / ca.sum(), ct / ct.sum()
    po = 0.5 * pa + 0.5 * pt
    total = 1.0
    for p in (pa, pt):
        nz = p > 0
        total += 0.5 * np.sum(p[nz] * np.log2(0.5 * p[nz] / po[nz]))
    return max(total, 0.0)


def miller_madow(ca: np.ndarray, ct: np.ndarray) -> float:
    na, nt = ca.sum(), ct.sum()
    m_a, m_t, m_o = (ca > 0).sum(), (ct > 0).sum(), ((ca + ct) > 0).sum()
    bias = (m_o - 1) / (2 * (na + nt)) - 0.5 * (m_a - 1) / (2 * na) - 0.5 * (m_t - 1) / (2 * nt)
    return bias / math.log(2)


def counts_by_holder(frame: pd.DataFrame, holder: str, weight: str | None) -> tuple:
    """Aligned counts of each (s, s') value for holder 0 (A) and 1 (T), with pandas."""
    if weight is None:
        table = frame.value_counts([holder, "item", "next_item"]).unstack(holder, fill_value=0)
    else:
        table = frame.groupby([holder, "item", "next_item"])[weight].sum()
        table = table.unstack(holder, fill_value=0)
    table = table.reindex(columns=[0, 1], fill_value=0)
    table = table[(table[0] + table[1]) > 0]
    return table[0].to_numpy(np.float64), table[1].to_numpy(np.float64)


def baseline_mi(adv: pd.DataFrame, tgt: pd.DataFrame, grid: SweepGrid, mi_seed) -> dict:
    """Plug-in MI with its user-level permutation null and bootstrap CI; Miller-Madow beside it.

    As in ``run_config``: the null and the interval are those of the plug-in estimate (the
    ``mi`` column).
    """
    gen_perm, gen_boot = (np.random.default_rng(s) for s in mi_seed.spawn(2))
    a_users, a_unit = np.unique(adv["user"].to_numpy(), return_inverse=True)
    t_users, t_unit = np.unique(tgt["user"].to_numpy(), return_inverse=True)
    n_ua, n_ut = len(a_users), len(t_users)
    pooled = pd.concat([adv[["item", "next_item"]], tgt[["item", "next_item"]]], ignore_index=True)
    unit = np.concatenate([a_unit, t_unit + n_ua])
    unit_holder = np.repeat([0, 1], [n_ua, n_ut])
    pooled["holder"] = unit_holder[unit]

    estimate = plugin_mi
    ca, ct = counts_by_holder(pooled, "holder", None)
    plugin = plugin_mi(ca, ct)
    corrected = plugin + miller_madow(ca, ct)
    null = []
    for _ in range(grid.n_permutations):
        pooled["perm"] = gen_perm.permutation(unit_holder)[unit]
        null.append(estimate(*counts_by_holder(pooled, "perm", None)))
    boot = []
    for _ in range(grid.n_bootstrap):
        w = np.concatenate(
            [
                np.bincount(gen_boot.integers(0, n_ua, n_ua), minlength=n_ua),
                np.bincount(gen_boot.integers(0, n_ut, n_ut), minlength=n_ut),
            ]
        )
        pooled["w"] = w[unit]
        boot.append(estimate(*counts_by_holder(pooled, "holder", "w")))
    null, boot = np.array(null), np.array(boot)
    out = {"mi": plugin, "mi_corrected": corrected}
    if len(null):
        out.update(
            mi_null_mean=null.mean(),
            mi_null_std=null.std(ddof=1) if len(null) > 1 else 0.0,
            mi_p_value=(1 + np.sum(null >= plugin)) / (1 + len(null)),
        )
    if len(boot):
        out.update(mi_ci_low=np.quantile(boot, 0.025), mi_ci_high=np.quantile(boot, 0.975))
    bound = 1.0 / plugin if plugin > 0 else math.inf
    out.update(fano_bound=bound, safe_session_size=max(math.ceil(bound) - 1, 0))
    return out


def baseline_config(frame: pd.DataFrame, features: list[str], config, grid: SweepGrid) -> dict:
    """One configuration with pandas, NumPy and scikit-learn only."""
    split_seed, model_seed, mi_seed, _ = np.random.SeedSequence(config.seed).spawn(4)
    # split (docs/concepts.md): shuffle users, A gets half, `overlap` of A shared, T filled up
    rng = np.random.default_rng(split_seed)
    shuffled = rng.permutation(np.unique(frame["user"].to_numpy()))
    n_a = len(shuffled) // 2
    a_users, rest = shuffled[:n_a], shuffled[n_a:]
    n_common = round(config.overlap * n_a)
    t_order = rng.permutation(np.concatenate([a_users[:n_common], rest[: n_a - n_common]]))
    t_users = t_order[: config.target_size]
    adv = frame[frame["user"].isin(a_users)].copy()
    tgt = frame[frame["user"].isin(t_users)]
    adv["member"] = adv["user"].isin(tgt["user"].unique())

    # target model: sklearn random forest, the paper's settings, predict every row
    params = RandomForestRecommender().get_params()
    rf_seed = int(
        np.random.default_rng(int(model_seed.generate_state(1)[0] >> 1)).integers(0, 2**31 - 1)
    )
    forest = RandomForestClassifier(
        n_estimators=params["n_estimators"],
        max_depth=params["max_depth"],
        min_samples_leaf=params["min_samples_leaf"],
        max_features=params["max_features"],
        n_jobs=1,
        random_state=rf_seed,
    )
    forest.fit(tgt[features].to_numpy(np.float32), tgt["next_item"].to_numpy())
    adv["pred"] = forest.predict(adv[features].to_numpy(np.float32))
    adv["hit"] = adv["pred"] == adv["next_item"]
    accuracy = np.mean(forest.predict(tgt[features].to_numpy(np.float32)) == tgt["next_item"])
    holdout = adv[~adv["member"]]
    accuracy_holdout = (
        np.mean(forest.predict(holdout[features].to_numpy(np.float32)) == holdout["next_item"])
        if len(holdout)
        else np.nan
    )

    # observation-level rates, paper convention (fractions of all adversary rows) and standard
    n = len(adv)
    cells = adv.groupby(["hit", "member"]).size()
    tp, fp = cells.get((True, True), 0), cells.get((True, False), 0)
    tn, fn = cells.get((False, False), 0), cells.get((False, True), 0)
    row = {
        "n_adversary_users": n_a,
        "n_target_users": len(t_users),
        "n_members": int(adv.groupby("user")["member"].first().sum()),
        "n_adversary_obs": n,
        "n_target_obs": len(tgt),
        "accuracy": accuracy,
        "accuracy_holdout": accuracy_holdout,
        "tp": tp / n,
        "fp": fp / n,
        "tn": tn / n,
        "fn": fn / n,
        "tpr": tp / (tp + fn) if tp + fn else np.nan,
        "fpr": fp / (fp + tn) if fp + tn else np.nan,
        "precision": tp / (tp + fp) if tp + fp else np.nan,
    }
    # user level: hit rate per user, ROC with sklearn
    users = adv.groupby("user").agg(score=("hit", "mean"), member=("member", "first"))
    if 0 < users["member"].sum() < len(users):
        fpr, tpr, _ = roc_curve(users["member"], users["score"], drop_intermediate=False)
        row["auc"] = roc_auc_score(users["member"], users["score"])
        row["advantage"] = np.max(tpr - fpr)
        for level in FPR_LEVELS:
            row[f"tpr_at_{level * 100:g}pct_fpr"] = tpr[fpr <= level].max()
    else:
        row["auc"] = row["advantage"] = np.nan
    row.update(baseline_mi(adv, tgt, grid, mi_seed))
    row["_pred"] = adv["pred"].to_numpy()
    return row


def baseline_sweep(observations, grid: SweepGrid) -> tuple[pd.DataFrame, list[np.ndarray]]:
    frame = observations.to_frame()
    features = ["item", *observations.timing_names]
    rows, preds = [], []
    for config in grid.configs():
        row = baseline_config(frame, features, config, grid)
        preds.append(row.pop("_pred"))
        rows.append(row)
    return pd.DataFrame(rows), preds


# --------------------------------------------------------------------------- checks
def fidelity_top1(observations, config) -> np.ndarray:
    """fidelity's top-1 answers on the adversary rows of one configuration (untimed)."""
    from fidelity.scenario import fit_target

    fitted = fit_target(observations, config.scenario())
    adversary = fitted.split.adversary
    return fitted.model.recommend(adversary.item, adversary.timing, k=1)[:, 0]


def compare(observations, grid, fid: pd.DataFrame, base: pd.DataFrame, preds) -> bool:
    ok = True
    for col in EXACT:
        if not (fid[col].to_numpy() == base[col].to_numpy()).all():
            print(f"  MISMATCH {col}: not identical")
            ok = False
    for col in SEEDED:
        f, b = fid[col].to_numpy(np.float64), base[col].to_numpy(np.float64)
        if not np.allclose(f, b, rtol=1e-9, atol=1e-12, equal_nan=True):
            print(f"  MISMATCH {col}: max |diff| {np.nanmax(np.abs(f - b)):.3g} (tol 1e-9)")
            ok = False
    worst = {}
    for col in PREDICTED:
        f, b = fid[col].to_numpy(np.float64), base[col].to_numpy(np.float64)
        worst[col] = float(np.nanmax(np.abs(f - b))) if np.isfinite(f).any() else 0.0
        if (np.isnan(f) != np.isnan(b)).any() or worst[col] > PRED_ATOL:
            print(f"  MISMATCH {col}: max |diff| {worst[col]:.3g} (tol {PRED_ATOL})")
            ok = False
    print(
        f"  identical: {', '.join(EXACT)}\n"
        f"  equal to 1e-9 (same seeds): {', '.join(SEEDED)}\n"
        "  prediction-dependent, max |fidelity - baseline| over configurations: "
        + ", ".join(f"{c} {v:.1e}" for c, v in worst.items())
    )
    # where the top-1 answers differ (ties / unseen songs), for the record
    differ = [
        float(np.mean(fidelity_top1(observations, c) != p))
        for c, p in zip(grid.configs(), preds, strict=True)
    ]
    print(
        f"  share of adversary rows whose top-1 differs (ties, unseen songs): "
        f"mean {np.mean(differ):.2e}, max {np.max(differ):.2e}"
    )
    return ok


# ----------------------------------------------------------------------------- main
def run_dataset(name: str, observations, grid: SweepGrid, n_jobs: int) -> bool:
    print(f"\n== {name}: {observations!r}")
    print(f"   load average before the run (other processes on the machine): {os.getloadavg()}")
    print(
        f"   grid: {len(grid.configs())} configurations, overlaps {grid.overlaps}, "
        f"target sizes {grid.target_sizes}, {grid.n_permutations} permutations, "
        f"{grid.n_bootstrap} bootstrap resamples"
    )
    t = time.perf_counter()
    fid = run_sweep(observations, grid, n_jobs=n_jobs, show_progress=False)
    t_fid = time.perf_counter() - t
    t = time.perf_counter()
    base, preds = baseline_sweep(observations, grid)
    t_base = time.perf_counter() - t
    print(
        fid[["overlap", "target_size", "tp", "fp", "accuracy", "auc", "mi", "mi_null_mean"]]
        .round(4)
        .to_string(index=False)
    )
    ratio = t_base / t_fid
    print(
        f"   fidelity run_sweep(n_jobs={n_jobs}): {t_fid:7.2f} s "
        f"(sum of per-configuration times {fid['elapsed_s'].sum():.2f} s)"
    )
    print(f"   pandas + sklearn baseline (1 process): {t_base:7.2f} s")
    verdict = "OK" if ratio >= TARGET_RATIO else "BELOW TARGET"
    print(f"   ratio baseline / fidelity: {ratio:.2f}x (target >= {TARGET_RATIO:g}x) -> {verdict}")
    print("   agreement with the baseline:")
    ok = compare(observations, grid, fid, base, preds)
    print(f"   agreement: {'OK' if ok else 'FAILED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-only", choices=("synthetic", "mssd", "both"), default="both")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="reduced grid (smoke test)")
    args = parser.parse_args()
    grid = (
        SweepGrid(
            overlaps=(0.0, 0.5, 1.0), target_sizes=(500, 2000), n_permutations=5, n_bootstrap=5
        )
        if args.quick
        else SweepGrid()
    )
    ok = True
    if args.data_only in ("mssd", "both"):
        if MSSD.is_file():
            ok &= run_dataset("MSSD aidl sample, 229 songs", load_mssd(), grid, args.n_jobs)
        else:
            print(f"MSSD aidl sample not found at {MSSD}: skipping it")
    if args.data_only in ("synthetic", "both"):
        ok &= run_dataset("synthetic default", load_synthetic(), grid, args.n_jobs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
