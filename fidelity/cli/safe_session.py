"""``fidelity safe-session``: the attack-validated size first, then the paper's Fano readings."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from fidelity.attacks import THREATS
from fidelity.cli.options import (
    K_DEFAULT,
    add_scenario_options,
    attack_list,
    common,
    data_label,
    jsonable,
    load_data,
    parse_grid,
    scenario_from,
)
from fidelity.evaluation import DEFAULT_TOLERANCE, AttackRequest, SessionCurve, session_curve
from fidelity.safe_session import (
    SafeSessionEstimate,
    default_sizes,
    estimate_safe_session_size,
)

__all__ = ["add_safe_session_arguments", "run_safe_session"]


def add_safe_session_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``fidelity safe-session``."""
    common(p)
    add_scenario_options(p)
    p.add_argument(
        "--attacks",
        metavar="A[,A...]",
        default="",
        help="attacks of the curve (default: every registered attack of the threat model)",
    )
    p.add_argument("--threat", choices=THREATS, default="scores", help="threat model")
    p.add_argument("--k", type=int, default=K_DEFAULT, help="list length (topk, scores hits)")
    p.add_argument("--grid", metavar="N[,N...]", default=None, help="session sizes N")
    p.add_argument(
        "--tolerance", type=float, default=DEFAULT_TOLERANCE, help="tolerance on the advantage"
    )
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples per N")
    p.add_argument(
        "--success",
        type=float,
        default=None,
        help="adversary success probability of the paper's Fano bound (default: 1/MI)",
    )
    p.add_argument(
        "--repeats", type=int, default=5, help="paper's self-evaluation: splits per size"
    )
    p.add_argument("--permutations", type=int, default=20, help="permutation-null size of MI")
    p.add_argument(
        "--no-extrapolation",
        action="store_true",
        help="skip the paper's self-evaluation (MI extrapolated to the full size)",
    )


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def _payload(curve: SessionCurve, paper: SafeSessionEstimate | None, data: str) -> dict[str, Any]:
    info = curve.information
    return {
        "data": data,
        "validated": curve.validated.to_dict(),
        "verdict": curve.summary(),
        "scenario": curve.scenario.to_dict(),
        "data_only": None if info is None else info.to_dict(),
        "timing_attribution": None
        if info is None or info.attribution is None
        else info.attribution.to_dict(),
        "model_aware": [s.to_dict() for s in curve.signal_information],
        "paper_extrapolation": None if paper is None else paper.to_dict(),
        "curve": curve.curve.to_dict(orient="records"),
    }


def _print_text(curve: SessionCurve, paper: SafeSessionEstimate | None, data: str) -> None:
    v = curve.validated
    print(f"attack-validated safe session size: {v.label} observations per user")
    print(f"  {curve.summary()}")
    print(f"  data: {data}")
    info = curve.information
    if info is not None:
        est = info.estimate
        null = (
            f"null mean {est.null_mean:.4g}, p = {est.p_value:.3g}, above null: {est.above_null}"
            if est.null_mean is not None
            else "no permutation null"
        )
        size = f"{info.fano.size} observations" if info.fano.size is not None else "no bound"
        print(f"paper's data-only reading (Fano bound of MI(H;O) of the two providers): {size}")
        print(
            f"  MI(H;O) = {est.mi:.4g} bits ({est.estimator}; plug-in {est.plugin:.4g}; {null}; "
            f"over {'+'.join(est.features)})"
        )
        if info.attribution is not None:
            att = info.attribution
            print(
                f"  timing channel: MI(s, s') = {att.items.mi:.4g}, MI(s, s', t) = "
                f"{att.with_timing.mi:.4g}, difference {att.difference:.4g} bits "
                f"(p = {_num(att.difference_p_value)})"
            )
        if info.fano.no_bound:
            print(f"  {info.fano.no_bound}")
    if paper is not None:
        size = "no bound" if paper.safe_session_size is None else paper.safe_session_size
        fit = f"fit MI ~ n^{paper.slope:.3f}" if math.isfinite(paper.slope) else "no fit"
        print(
            f"paper's self-evaluation (MI extrapolated to {paper.full_size} users): {size} ({fit})"
        )
    for sig in curve.signal_information:
        print(f"model-aware reading: {sig.summary()}")


def run_safe_session(args: argparse.Namespace) -> int:
    """The ``safe-session`` command (options already checked by ``check_args``)."""
    names = attack_list(args.attacks)
    scenario = scenario_from(args)
    obs = load_data(args).observations()
    k = min(args.k, max(obs.n_items, 1))  # a list no longer than the catalogue
    requests = [AttackRequest(n, args.threat, k) for n in names] if names else None
    if not args.no_extrapolation:
        default_sizes(obs.n_users)  # enough users for the self-evaluation, before any work
    curve = session_curve(
        obs,
        scenario,
        requests,
        threat=args.threat,
        k=k,
        grid=parse_grid(args.grid),
        tolerance=args.tolerance,
        n_bootstrap=args.bootstrap,
        n_permutations=args.permutations,
        show_progress=not args.quiet,
    )
    paper = None
    if not args.no_extrapolation:
        paper = estimate_safe_session_size(
            obs,
            n_repeats=args.repeats,
            n_permutations=args.permutations,
            success=args.success,
            random_state=args.seed,
            show_progress=not args.quiet,
        )
    data = data_label(args)
    if args.json:
        print(json.dumps(jsonable(_payload(curve, paper, data)), indent=2))
    else:
        _print_text(curve, paper, data)
    return 0
