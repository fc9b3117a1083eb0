"""The ``fidelity`` commands other than ``safe-session``: their options and what they run."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

import numpy as np

from fidelity.attacks import ATTACKS, THREATS
from fidelity.cli.options import (
    K_DEFAULT,
    N_JOBS_DEFAULT,
    UsageError,
    add_scenario_options,
    attack_flags,
    common,
    data_label,
    dest,
    jsonable,
    load_data,
    scenario_from,
)
from fidelity.data import calibration_stats, calibration_table, write_mssd_parquet
from fidelity.evaluation import AttackRequest, evaluate
from fidelity.experiment import SweepGrid
from fidelity.pipeline import grid_for, reproduce

__all__ = [
    "add_attack_arguments",
    "add_info_arguments",
    "add_reproduce_arguments",
    "add_synth_arguments",
    "run_attack",
    "run_info",
    "run_reproduce",
    "run_synth",
]

_data_label = data_label
_attack_flags = attack_flags
_dest = dest


def add_reproduce_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``fidelity reproduce``."""
    common(p)
    p.add_argument("--grid", metavar="FILE", help="TOML file with the sweep grid")
    p.add_argument(
        "--quick",
        action="store_true",
        help="a small grid: overlaps 0, 0.5, 1 and the two smallest target sizes",
    )
    p.add_argument("--n-jobs", type=int, default=N_JOBS_DEFAULT, help="local worker processes")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address")
    p.add_argument("--out", default="fidelity-output", help="output folder")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="recompute every configuration, replacing the rows in --out (by default a "
        "rerun resumes, and refuses rows of other data or settings)",
    )
    p.add_argument(
        "--success",
        type=float,
        default=None,
        help="adversary success probability for the safe session size",
    )


def add_info_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``fidelity info``."""
    common(p)


def add_attack_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``fidelity attack``."""
    common(p)
    p.add_argument(
        "--attack", choices=tuple(ATTACKS), default="match", help="the registered attack to run"
    )
    p.add_argument(
        "--threat", choices=THREATS, default="label", help="what the adversary sees of an answer"
    )
    p.add_argument("--k", type=int, default=K_DEFAULT, help="list length for --threat topk")
    add_scenario_options(p)
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples for CIs")
    p.add_argument("--permutations", type=int, default=20, help="permutation-null size of MI(H;O)")
    for flag, (option, applies) in _attack_flags().items():
        p.add_argument(
            flag,
            dest=_dest(flag),
            type=option.type,
            choices=option.choices,
            default=None,
            help=f"{' / '.join(applies)} attack: {option.help}",
        )


def add_synth_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``fidelity synth``."""
    common(p, data=False)
    p.add_argument(
        "--sessions", dest="sessions_total", type=int, required=True, help="sessions in all"
    )
    p.add_argument("--partition-size", type=int, default=100_000, help="sessions per partition")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--n-items", type=int, default=229, help="songs in the catalogue")
    p.add_argument("--overwrite", action="store_true", help="replace existing partitions")


def run_info(args: argparse.Namespace) -> int:
    sessions = load_data(args)
    obs = sessions.observations()
    summary = {
        "data": _data_label(args),
        "sessions": sessions.summary(),
        "observations": obs.summary(),
        "statistics": _plain(calibration_stats(sessions)),
    }
    if args.json:
        print(json.dumps(summary, indent=2, default=float))
    else:
        print(f"data: {summary['data']}")
        for section in ("sessions", "observations", "statistics"):
            print(f"{section}:")
            for key, value in summary[section].items():
                print(
                    f"  {key:<28} {value:.4g}"
                    if isinstance(value, float)
                    else f"  {key:<28} {value}"
                )
    return 0


def _plain(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def run_attack(args: argparse.Namespace) -> int:
    obs = load_data(args).observations()
    options: dict[str, Any] = {}
    for flag, (option, applies) in _attack_flags().items():
        value = getattr(args, _dest(flag))
        if value is None:
            continue
        if args.attack not in applies:
            raise UsageError(f"{flag} applies to --attack {' or '.join(applies)} only")
        options[option.name] = value
    # the split and model of the sweep row with this scenario and seed
    scenario = scenario_from(args)
    evaluation = evaluate(
        obs,
        scenario,
        [AttackRequest(args.attack, args.threat, args.k, options)],
        attack_bootstrap=args.bootstrap,
        n_permutations=args.permutations,
        show_progress=not args.quiet,
    )
    result = evaluation.results[0]
    out = {
        "data": _data_label(args),
        "attack": args.attack,
        "threat": args.threat,
        "recommender": args.recommender,
        "overlap": args.overlap,
        "target_size": args.target_size,
        "seed": args.seed,
    }
    out.update(_plain(result.to_dict()))
    if result.roc is not None:
        out.update(_plain(result.roc.to_dict()))
    # the data-only reading beside it: MI(H;O), estimator, null, p-value, timing attribution
    out.update({k: _plain(v) for k, v in evaluation.information.row().items()})
    out["mitigation"] = scenario.mitigation
    out["mode"] = scenario.mode
    if args.json:
        print(json.dumps(jsonable(out), indent=2))
    else:
        for key, value in out.items():
            print(f"{key:<24} {value:.4g}" if isinstance(value, float) else f"{key:<24} {value}")
    return 0


def run_reproduce(args: argparse.Namespace) -> int:
    sessions = load_data(args)
    observations = sessions.observations()
    grid = grid_for(observations, SweepGrid.from_toml(args.grid) if args.grid else None)
    if args.quick:
        grid = dataclasses.replace(
            grid,
            overlaps=(0.0, 0.5, 1.0),
            target_sizes=grid.target_sizes[:2],
            n_permutations=min(grid.n_permutations, 5),
            n_bootstrap=min(grid.n_bootstrap, 5),
        )
    outcome = reproduce(
        observations,
        grid,
        out=args.out,
        n_jobs=args.n_jobs,
        scheduler=args.scheduler,
        data_label=_data_label(args),
        success=args.success,
        random_state=args.seed,
        show_progress=not args.quiet,
        overwrite=args.overwrite,
        calibration=calibration_table() if args.data is None else None,
    )
    if args.json:
        print(json.dumps(_plain(outcome.to_dict()), indent=2, default=float))
    else:
        curve = outcome.session_curve
        paper = outcome.safe_session.safe_session_size
        print(f"attack-validated safe session size: {curve.validated.label} observations")
        print(f"  {curve.summary()}")
        print(
            "paper's self-evaluation (Fano bound of the extrapolated MI): "
            + ("no bound" if paper is None else f"{paper} observations")
        )
        print(f"data: {_data_label(args)}")
        print(f"report: {outcome.report_path}")
    return 0


def run_synth(args: argparse.Namespace) -> int:
    paths = write_mssd_parquet(
        args.out,
        n_sessions=args.sessions_total,
        partition_size=args.partition_size,
        random_state=args.seed,
        show_progress=not args.quiet,
        n_items=args.n_items,
        overwrite=args.overwrite,
    )
    print(f"wrote {len(paths)} partition(s) to {args.out}")
    return 0
